"""Which appearance encoder a run uses: :class:`EmbedConfig` (defined with the other stage configs in
:mod:`lgmot.config`), presets, :func:`make_encoder`."""
from __future__ import annotations

from dataclasses import replace

from ..config import EmbedConfig
from .base import Encoder
from .registry import ENCODERS

EMBED_PRESETS: dict[str, EmbedConfig] = {
    "mobilenetv2": EmbedConfig(),
    "osnet_x0_25": EmbedConfig("osnet_x0_25"),
    "osnet": EmbedConfig("osnet"),
    "torchreid": EmbedConfig("torchreid"),
    "fastreid": EmbedConfig("fastreid"),
    "clip": EmbedConfig("clip"),
}


def make_encoder(cfg: EmbedConfig = EmbedConfig()) -> Encoder:
    """The encoder ``cfg`` names (see :data:`lgmot.embed.registry.ENCODERS`)."""
    cfg.validate()
    return ENCODERS[cfg.encoder](cfg)


_BUILT: dict[EmbedConfig, Encoder] = {}


def encoder_for(cfg: EmbedConfig) -> Encoder:
    """:func:`make_encoder`, built once per process for each config and weights file."""
    from .registry import reid_weights

    key = replace(cfg, weights=reid_weights(cfg))
    if key not in _BUILT:
        _BUILT[key] = make_encoder(key)
    return _BUILT[key]


class DeferredEncoder:
    """The encoder for ``cfg``, built (weights loaded, torch imported) on first use: a tracker
    knows its encoder before it knows whether any sequence has frames to embed."""

    def __init__(self, cfg: EmbedConfig):
        self.config = cfg

    def __getattr__(self, name: str):
        if name == "config":  # not set yet (copy / unpickle): no recursion
            raise AttributeError(name)
        return getattr(self.build(), name)

    def build(self) -> Encoder:
        return encoder_for(self.config)

    def __repr__(self) -> str:
        return f"DeferredEncoder({self.config!r})"


def default_encoder() -> Encoder:
    """The default MobileNetV2 encoder, built once per process."""
    return encoder_for(EmbedConfig())
