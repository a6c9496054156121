"""OSNet (Omni-Scale Network) person re-identification encoder, loading torchreid model-zoo weights.

The architecture follows "Omni-Scale Feature Learning for Person Re-Identification" (Zhou et al.,
ICCV 2019) and its TPAMI 2021 version:

* stem: 7x7 conv (stride 2) + BN + ReLU, 3x3 max-pool (stride 2);
* three stages of two omni-scale residual bottlenecks each; stages 1 and 2 end with a transition
  (1x1 conv + BN + ReLU, 2x2 average pool);
* a bottleneck (``OmniScaleBlock``) reduces channels 4x with a 1x1 conv, runs T = 4 streams of 1, 2,
  3 and 4 *lite 3x3* layers (1x1 pointwise conv, then 3x3 depthwise conv, BN, ReLU), so stream t
  sees a (2t + 1)-pixel receptive field, and fuses them with the *unified aggregation gate*: one
  channel-gate network shared by all streams (global average pool, 1x1 conv to C/16, ReLU, 1x1 conv
  back, sigmoid) whose per-stream channel weights scale each stream before they are summed; a
  linear 1x1 conv + BN restores the width and the input (projected when widths differ) is added
  before the final ReLU;
* a 1x1 conv (+ BN + ReLU), global average pool and the embedding layer: Linear -> 512, BN1d, ReLU.
  The embedding is that 512-d vector (the identity classifier after it is used for training only).

Width multipliers scale the stage widths (64, 256, 384, 512): x0.25 is (16, 64, 96, 128).

Module names are chosen so that torchreid state dicts (``conv1.conv.weight``,
``conv2.0.conv2b.1.conv2.weight``, ``conv2.2.0.conv.weight``, ``fc.0.weight``, ...) load unchanged;
every key and shape is checked. Files load with ``torch.load(..., weights_only=True)``: no code runs.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import InputError
from .base import TorchImageEncoder, file_digest, require_file
from .registry import OSNET_WIDTHS

#: stage widths of OSNet x1.0 (stem output, stages 1-3); the other widths scale them
BASE_WIDTHS = (64, 256, 384, 512)
EMBED_DIM = 512
BOTTLENECK_REDUCTION = 4
GATE_REDUCTION = 16
STREAMS = 4


class ConvBN(nn.Module):
    """conv (no bias) + BN, followed by ReLU unless ``relu=False``."""

    def __init__(self, cin: int, cout: int, k: int = 1, stride: int = 1, relu: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x):
        x = self.bn(self.conv(x))
        return torch.relu(x) if self.relu else x


class LiteConv3x3(nn.Module):
    """Pointwise 1x1 conv, depthwise 3x3 conv, BN, ReLU (the paper's Lite 3x3)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, groups=cout, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv2(self.conv1(x))))


class AggregationGate(nn.Module):
    """The unified aggregation gate: channel weights in (0, 1) from the globally pooled stream."""

    def __init__(self, channels: int):
        super().__init__()
        hidden = max(channels // GATE_REDUCTION, 1)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=True)

    def forward(self, x):
        w = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))
        return x * w


class OmniScaleBlock(nn.Module):
    """Residual bottleneck with T = 4 streams of 1..4 lite 3x3 layers fused by one shared gate."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        mid = cout // BOTTLENECK_REDUCTION
        self.conv1 = ConvBN(cin, mid)
        self.conv2a = LiteConv3x3(mid, mid)
        # torchreid's names: conv2b/c/d are Sequentials of 2/3/4 lite layers
        self.conv2b = nn.Sequential(*[LiteConv3x3(mid, mid) for _ in range(2)])
        self.conv2c = nn.Sequential(*[LiteConv3x3(mid, mid) for _ in range(3)])
        self.conv2d = nn.Sequential(*[LiteConv3x3(mid, mid) for _ in range(4)])
        self.gate = AggregationGate(mid)
        self.conv3 = ConvBN(mid, cout, relu=False)
        self.downsample = ConvBN(cin, cout, relu=False) if cin != cout else None

    def forward(self, x):
        h = self.conv1(x)
        streams = [self.conv2a(h), self.conv2b(h), self.conv2c(h), self.conv2d(h)]
        out = self.conv3(sum(self.gate(s) for s in streams))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + identity)


def _stage(cin: int, cout: int, blocks: int, transition: bool) -> nn.Sequential:
    layers: list[nn.Module] = [OmniScaleBlock(cin, cout)] + [OmniScaleBlock(cout, cout) for _ in range(blocks - 1)]
    if transition:
        layers.append(nn.Sequential(ConvBN(cout, cout), nn.AvgPool2d(2, stride=2)))
    return nn.Sequential(*layers)


def osnet_widths(width: float) -> tuple[int, int, int, int]:
    return tuple(int(round(c * width)) for c in BASE_WIDTHS)  # type: ignore[return-value]


class OSNet(nn.Module):
    """OSNet feature extractor: ``(N, 3, H, W)`` normalised RGB -> ``(N, 512)`` (before L2)."""

    def __init__(self, width: float = 1.0, blocks: tuple[int, int, int] = (2, 2, 2), embed_dim: int = EMBED_DIM):
        super().__init__()
        c0, c1, c2, c3 = osnet_widths(width)
        self.width = width
        self.conv1 = ConvBN(3, c0, 7, stride=2)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = _stage(c0, c1, blocks[0], transition=True)
        self.conv3 = _stage(c1, c2, blocks[1], transition=True)
        self.conv4 = _stage(c2, c3, blocks[2], transition=False)
        self.conv5 = ConvBN(c3, c3)
        self.fc = nn.Sequential(nn.Linear(c3, embed_dim), nn.BatchNorm1d(embed_dim), nn.ReLU())
        self.dim = embed_dim

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.conv4(self.conv3(self.conv2(x))))
        return self.fc(x.mean(dim=(2, 3)))


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A plain state dict from a torchreid-style ``.pth``/``.pt``: the file itself or its
    ``state_dict`` entry, ``module.`` prefixes (DataParallel) removed. Loading runs no code."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickles holding custom classes are refused by weights_only
        raise InputError(path, f"cannot read as a plain state dict ({type(e).__name__})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "does not hold a state dict of tensors")
    return {k[7:] if k.startswith("module.") else k: v for k, v in state.items()}


def load_osnet(path: str | Path, variant: str) -> OSNet:
    """An OSNet ``variant`` (``osnet_x0_25`` ...) with the weights of ``path`` (eval mode). Every key
    and shape of the network must be in the file; the file's classifier is ignored; any other extra
    key or any shape difference is a one-line :class:`InputError` naming the file."""
    if variant not in OSNET_WIDTHS:
        raise ValueError(f"unknown OSNet variant {variant!r}; choose from {sorted(OSNET_WIDTHS)}")
    path = Path(path)
    state = {k: v for k, v in read_state_dict(path).items() if not k.startswith("classifier.")}
    model = OSNet(OSNET_WIDTHS[variant])
    want = model.state_dict()
    missing = [k for k in want if k not in state]
    extra = [k for k in state if k not in want]
    wrong = [k for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if missing or extra or wrong:
        guess = guess_variant(state)
        hint = f" (its shapes fit {guess})" if guess and guess != variant else ""
        if wrong:
            k = wrong[0]
            what = (f"{len(wrong)} tensor shapes differ, first {k}: {tuple(state[k].shape)} in the file, "
                    f"{tuple(want[k].shape)} expected")
        elif missing:
            what = f"{len(missing)} tensors missing (first: {missing[0]})"
        else:
            what = f"{len(extra)} unexpected tensors (first: {extra[0]})"
        raise InputError(path, f"weights do not fit {variant}: {what}{hint}")
    model.load_state_dict({k: state[k].to(want[k].dtype) for k in want}, strict=True)
    return model.eval()


def guess_variant(state: dict[str, torch.Tensor]) -> str | None:
    """The OSNet variant whose stem width matches ``conv1.conv.weight``, if any."""
    w = state.get("conv1.conv.weight")
    if w is None or w.ndim != 4:
        return None
    for name, width in OSNET_WIDTHS.items():
        if osnet_widths(width)[0] == w.shape[0]:
            return name
    return None


class OSNetEncoder(TorchImageEncoder):
    """OSNet with torchreid model-zoo weights: 256x128 RGB crops, ImageNet normalisation (torchreid's
    convention), 512-d embedding, L2-normalised unless ``normalize=False``."""

    def __init__(self, weights: str | Path | None, variant: str = "osnet_x0_25",
                 crop_size: tuple[int, int] = (256, 128), batch_size: int = 32, normalize: bool = True,
                 num_threads: int | None = None):
        super().__init__(crop_size, batch_size, normalize, num_threads)
        hint = ("pass --reid PATH or set LGMOT_REID_WEIGHTS to a torchreid model-zoo file "
                f"(e.g. {variant}_msmt17.pth)")
        self.weights_path = require_file(weights, f"OSNet ({variant})", hint)
        self.variant = variant
        self.model = load_osnet(self.weights_path, variant)
        self.dim = EMBED_DIM
        # the weights' hash keeps the cache files of two weights files of one variant apart
        self.name = f"{variant}-{file_digest(self.weights_path).split(':')[1][:8]}-{self._tag()}"
