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
                   need_gt_ids: bool = False) -> SequenceInputs:
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

        app = embed_sequence(seq, dets, default_encoder(), cache_dir=cache_dir, progress=progress)
    gid = gt_identities(seq, dets) if need_gt_ids else None
    if need_gt_ids and gid is None:
        raise InputError(seq.root, f"sequence {seq.name} has no gt/gt.txt: --oracle needs ground truth")
    return SequenceInputs(seq, dets, app, gid)


def load_tracker(config: Config | None, model_path: str | Path | None, oracle: bool):
    """(Tracker, Config). Without ``model_path`` the shipped default model is used if present."""
    from ..track import Tracker

    if oracle:
        from ..config import preset

        return Tracker(config or preset("lgmot"), oracle=True), config or preset("lgmot")
    path = Path(model_path) if model_path else DEFAULT_MODEL
    if not path.exists():
        if model_path:
            raise InputError(path, "model checkpoint not found")
        raise InputError(path, "no default model is installed; pass --model CKPT (train one with `lgmot train`) or --oracle")
    from ..model.infer import load_inference_model

    model, ck_cfg = load_inference_model(path)  # numpy inference: tracking never imports torch
    cfg = _with_recipe_postprocessing(ck_cfg, path) if config is None else _merge_tracker(ck_cfg, config)
    return Tracker(cfg, model), cfg


def _with_recipe_postprocessing(cfg: Config, path: Path) -> Config:
    """A checkpoint written before the tracker had a smoother (no ``tracker.smooth`` in its stored
    config, e.g. the shipped model, trained by the CPU recipe) tracks with the CPU recipe's
    post-processing (``train.recipes.CPU_POSTPROCESSING``); a newer one with its own."""
    from dataclasses import replace

    from ..model import read_metadata
    from ..train.recipes import CPU_POSTPROCESSING

    if "smooth" in (read_metadata(path).get("config", {}).get("tracker") or {}):
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
