"""From a source on disk to result files: resolve sequences, detect, embed, track, write."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config
from ..data import Sequence, load_sequence, write_results
from ..data.sequence import IMAGE_EXTS, VIDEO_EXTS
from ..errors import InputError, named_path

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "models" / "lgmot_mot15.safetensors"


@dataclass
class SequenceInputs:
    seq: Sequence
    dets: pd.DataFrame
    app: np.ndarray | None  # (M, D) or None when the sequence has no images
    gt_ids: np.ndarray | None  # (M,) GT identity per detection, when GT exists


def is_sequence(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in VIDEO_EXTS
    if (path / "seqinfo.ini").is_file() or (path / "gt" / "gt.txt").is_file() or (path / "det" / "det.txt").is_file():
        return True
    if any(p.suffix.lower() in VIDEO_EXTS for p in path.iterdir() if p.is_file()):
        return True
    return any(p.suffix.lower() in IMAGE_EXTS for p in path.iterdir() if p.is_file())


def resolve_sources(source: str | Path, split: str | None = None, seqmap: str | Path | None = None) -> list[Sequence]:
    """A sequence folder, a video, an image folder, or a dataset root (with ``split`` or ``seqmap``)."""
    path = Path(source)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if split is None and seqmap is None and is_sequence(path):
        return [load_sequence(path)]
    from ..data.layouts import list_sequences

    return [load_sequence(p) for p in list_sequences(path, split=split, seqmap=seqmap)]


def gt_identities(seq: Sequence, dets: pd.DataFrame, min_iou: float = 0.5) -> np.ndarray | None:
    if seq.gt is None:
        return None
    from ..data.assign import assign_gt_ids

    return assign_gt_ids(dets, seq.gt, min_iou=min_iou)


def prepare_inputs(seq: Sequence, detections: str = "public", min_score: float | None = None,
                   appearance: bool = True, cache_dir: str | Path | None = None, progress: bool = True,
                   need_gt_ids: bool = False, encoder=None) -> SequenceInputs:
    """Detections (+ appearance from ``encoder``, default MobileNetV2, when the sequence has frames)."""
    from ..detect import DetectConfig, detect, detect_preset

    if detections in ("public", "gt", "builtin", "builtin-fast"):
        dcfg = detect_preset(detections)
    else:
        dcfg = DetectConfig(source=str(detections))
    if min_score is not None:
        from dataclasses import replace

        dcfg = replace(dcfg, min_score=min_score)
    dets = detect(seq, dcfg, progress=progress)
    app = None
    if appearance and seq.has_images and len(dets):
        from ..embed import default_encoder, embed_sequence

        app = embed_sequence(seq, dets, encoder or default_encoder(), cache_dir=cache_dir, progress=progress)
    gid = gt_identities(seq, dets) if need_gt_ids else None
    if need_gt_ids and gid is None:
        raise InputError(seq.root, f"sequence {seq.name} has no gt/gt.txt: --oracle needs ground truth")
    return SequenceInputs(seq, dets, app, gid)


def load_tracker(config: Config | None, model_path: str | Path | None, oracle: bool,
                 reid: str | Path | None = None, appearance: bool = True):
    """(Tracker, Config). Without ``model_path`` the shipped default model is used if present; with
    ``reid`` (a ReID weights file) and no ``model_path``, the shipped model trained with those weights.

    The tracker's ``encoder`` is the appearance encoder the model was trained with (None for a
    model trained without appearance); ``appearance_note`` says which, in words. A model trained
    with other appearance than ``reid`` (or ``$LGMOT_REID_WEIGHTS``) is refused (:class:`InputError`).
    ``appearance=False`` builds no encoder (the model then tracks without appearance).
    """
    from ..track import Tracker

    if oracle:
        from ..config import preset

        tracker = Tracker(config or preset("lgmot"), oracle=True)
        tracker.encoder, tracker.appearance_note = None, "oracle (no appearance)"
        return tracker, config or preset("lgmot")
    env_reid = _env_reid()
    if model_path is None and reid is not None:
        model_path = shipped_model_for(reid)
    path = Path(model_path) if model_path else DEFAULT_MODEL
    if model_path is None and env_reid is not None:  # a default location, not a demand: fall back quietly
        path = _find_shipped(env_reid) or DEFAULT_MODEL
    if not path.exists():
        if model_path:
            raise InputError(path, "model checkpoint not found")
        raise InputError(path, "no default model is installed; pass --model CKPT (train one with `lgmot train`) or --oracle")
    from ..model import read_metadata
    from ..model.infer import load_inference_model

    model, ck_cfg = load_inference_model(path)  # numpy inference: tracking never imports torch
    info = read_metadata(path)
    cfg = _with_recipe_postprocessing(ck_cfg, info) if config is None else _merge_tracker(ck_cfg, config)
    tracker = Tracker(cfg, model)
    tracker.encoder, tracker.appearance_note = None, "none (the model was trained without appearance)"
    if tracker.uses_appearance and appearance:
        record = info["extra"].get("appearance_encoder") or _legacy_record(ck_cfg)
        tracker.encoder, tracker.appearance_note = appearance_encoder(record, ck_cfg, path, reid, env_reid)
    elif reid is not None:
        tracker.appearance_note += f"; --reid {reid} ignored"
    return tracker, cfg


def _env_reid() -> Path | None:
    import os

    from ..embed.registry import REID_ENV

    v = os.environ.get(REID_ENV)
    return Path(v).expanduser() if v else None


def _legacy_record(cfg: Config) -> dict:
    """Checkpoints written before encoders were recorded: their config's encoder, weights unknown."""
    from ..embed.registry import crop_size_of, osnet_variant

    size = crop_size_of(cfg.embed)
    return {"encoder": osnet_variant(cfg.embed) or cfg.embed.encoder, "model_name": cfg.embed.model_name,
            "crop_size": list(size) if size else None, "weights_sha256": None, "weights_file": None}


def appearance_encoder(record: dict, cfg: Config, model_path: Path, reid: str | Path | None,
                       env_reid: Path | None):
    """(encoder, note) for a model trained with the encoder ``record`` describes: built from the
    checkpoint's embed config with the user's weights (``reid``, else ``$LGMOT_REID_WEIGHTS``),
    which must be the file the model was trained with (same SHA-256)."""
    from dataclasses import replace

    from ..embed import check_encoder
    from ..embed.config import DeferredEncoder
    from ..embed.registry import REID_ENV, describe, reid_config

    embed = replace(cfg.embed, weights=None, crop_size=tuple(record["crop_size"]) if record.get("crop_size") else None)
    if reid is not None:
        check_encoder(record, reid_config(reid), model_path)
        embed = replace(embed, weights=str(reid))
    elif record.get("weights_sha256") and record["encoder"] != "mobilenetv2":
        if env_reid is None:
            raise InputError(None, f"model {model_path} was trained with {describe(record)} appearance: pass "
                                   f"--reid PATH to that file or set {REID_ENV} (or track with --no-appearance)")
        check_encoder(record, reid_config(env_reid), model_path)
        embed = replace(embed, weights=str(env_reid))
    else:
        check_encoder(record, embed, model_path)
    embed.validate()
    return DeferredEncoder(embed), f"{record['encoder']}" + (f" ({Path(embed.weights).name})" if embed.weights else "")


def shipped_models() -> list[Path]:
    return sorted(DEFAULT_MODEL.parent.glob("*.safetensors"))


def _find_shipped(weights: str | Path) -> Path | None:
    from ..embed.registry import weights_sha256
    from ..model import read_metadata

    w = Path(weights).expanduser()
    if not w.is_file():
        raise InputError(w, "ReID weights file not found")
    sha = weights_sha256(w)
    for p in shipped_models():
        rec = read_metadata(p)["extra"].get("appearance_encoder") or {}
        if rec.get("weights_sha256") == sha:
            return p
    return None


def shipped_model_for(weights: str | Path) -> Path:
    """The shipped model trained with the ReID weights file ``weights`` (recognised by its SHA-256)."""
    from ..embed.registry import weights_sha256

    found = _find_shipped(weights)
    if found is None:
        raise InputError(weights, f"no shipped model was trained with these weights (sha256 "
                                  f"{weights_sha256(weights)[:12]}); pass --model CKPT trained with them "
                                  "(scripts/train_reid_model.py)")
    return found


def _with_recipe_postprocessing(cfg: Config, info: dict) -> Config:
    """A checkpoint written before the tracker had a smoother (no ``tracker.smooth`` in its stored
    config, e.g. the shipped model, trained by the CPU recipe) tracks with the CPU recipe's
    post-processing (``train.recipes.CPU_POSTPROCESSING``); a newer one with its own."""
    from dataclasses import replace

    from ..train.recipes import CPU_POSTPROCESSING

    if "smooth" in (info.get("config", {}).get("tracker") or {}):
        return cfg
    return replace(cfg, tracker=replace(cfg.tracker, **CPU_POSTPROCESSING))


def _merge_tracker(ck_cfg: Config, user: Config) -> Config:
    """The network comes from the checkpoint; tracking settings from the user's config."""
    from dataclasses import replace

    return replace(ck_cfg, tracker=user.tracker)


def track_sequence(tracker, inputs: SequenceInputs) -> pd.DataFrame:
    return tracker.track_detections(inputs.dets, inputs.seq.info.fps, appearance=inputs.app, gt_ids=inputs.gt_ids)


def write_sequence_results(out_dir: str | Path, seq: Sequence, tracks: pd.DataFrame) -> Path:
    return write_results(named_path(out_dir, seq.name, ".txt"), tracks)
