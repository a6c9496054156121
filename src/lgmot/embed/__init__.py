"""Appearance embeddings of detections: an :class:`Encoder` protocol, the default MobileNetV2
(ImageNet, 1280-d) encoder, OSNet person re-identification (torchreid model-zoo weights), optional
torchreid / fast-reid / open_clip backends, an encoder registry, and :func:`embed_sequence` with an
``.npz`` cache."""
from .base import Encoder, TorchImageEncoder, box_pixels, crop, crops_of, pad_value
from .cache import cache_key, cache_path, default_cache_dir
from .config import EMBED_PRESETS, EmbedConfig, default_encoder, encoder_for, make_encoder
from .mobilenet import MobileNetV2Encoder, mobilenetv2_weights
from .optional import FastReIDEncoder, OpenClipEncoder, TorchreidEncoder
from .osnet import OSNET_WIDTHS, OSNet, OSNetEncoder, load_osnet
from .registry import ENCODERS, REID_ENV, check_encoder, encoder_record
from .sequence import embed_sequence

__all__ = ["Encoder", "TorchImageEncoder", "box_pixels", "crop", "crops_of", "pad_value",
           "cache_key", "cache_path", "default_cache_dir",
           "EmbedConfig", "EMBED_PRESETS", "default_encoder", "encoder_for", "make_encoder",
           "ENCODERS", "REID_ENV", "check_encoder", "encoder_record",
           "OSNet", "OSNetEncoder", "OSNET_WIDTHS", "load_osnet",
           "MobileNetV2Encoder", "mobilenetv2_weights",
           "TorchreidEncoder", "FastReIDEncoder", "OpenClipEncoder", "embed_sequence"]
