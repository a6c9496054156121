"""Appearance embeddings of detections: an :class:`Encoder` protocol, the default MobileNetV2
(ImageNet, 1280-d) encoder, OSNet person re-identification (torchreid model-zoo weights), optional
torchreid / fast-reid / open_clip backends, an encoder registry, and :func:`embed_sequence` with an
``.npz`` cache.

Names are imported on first use (PEP 562): the encoders import torch, which tracking without
appearance never needs."""
from __future__ import annotations

from ..lazy import lazy_exports

_MODULES = {
    "base": ("Encoder", "TorchImageEncoder", "box_pixels", "crop", "crops_of", "pad_value"),
    "cache": ("cache_key", "cache_path", "default_cache_dir"),
    "config": ("DeferredEncoder", "EMBED_PRESETS", "EmbedConfig", "default_encoder", "encoder_for", "make_encoder"),
    "mobilenet": ("MobileNetV2Encoder", "mobilenetv2_weights"),
    "optional": ("FastReIDEncoder", "OpenClipEncoder", "TorchreidEncoder"),
    "osnet": ("OSNET_WIDTHS", "OSNet", "OSNetEncoder", "load_osnet"),
    "registry": ("ENCODERS", "REID_ENV", "check_encoder", "encoder_record"),
    "sequence": ("embed_sequence",),
}
__all__ = [name for names in _MODULES.values() for name in names]
__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
