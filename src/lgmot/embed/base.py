"""The appearance-encoder interface, crops with mean-value padding, and a shared torch encoder base."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol, Sequence as Seq, runtime_checkable

import numpy as np

from ..errors import InputError
from ..threads import env_threads, torch_threads


@runtime_checkable
class Encoder(Protocol):
    """``encode(crops)`` maps a list of BGR uint8 crops (any sizes) to an ``(N, dim)`` float32 array.

    ``name`` identifies the model and its preprocessing (it is part of the embedding cache key);
    ``weights_path`` (optional attribute) is hashed into the cache key too.
    """

    dim: int
    name: str

    def encode(self, crops: list[np.ndarray]) -> np.ndarray: ...


# --- crops ------------------------------------------------------------------------------------
def box_pixels(box_xywh: Seq[float]) -> tuple[int, int, int, int]:
    """Integer pixel window ``x1, y1, x2, y2`` (end exclusive) of a 0-based xywh box, at least 1x1."""
    x, y, w, h = (float(v) for v in box_xywh)
    x1, y1 = int(round(x)), int(round(y))
    x2, y2 = max(int(round(x + w)), x1 + 1), max(int(round(y + h)), y1 + 1)
    return x1, y1, x2, y2


def pad_value(frame: np.ndarray) -> np.ndarray:
    """Per-channel mean of the frame, rounded: what pads crops that leave the image."""
    return np.round(frame.reshape(-1, frame.shape[-1]).mean(axis=0)).astype(frame.dtype)


def crop(frame: np.ndarray, box_xywh: Seq[float], fill: np.ndarray | None = None) -> np.ndarray:
    """The box's pixels; the part outside the image is filled with ``fill`` (default :func:`pad_value`).

    The crop always has the box's full pixel size (``box_pixels``), even when the box lies wholly outside.
    """
    x1, y1, x2, y2 = box_pixels(box_xywh)
    H, W = frame.shape[:2]
    if x1 >= 0 and y1 >= 0 and x2 <= W and y2 <= H:
        return frame[y1:y2, x1:x2].copy()
    fill = pad_value(frame) if fill is None else fill
    out = np.empty((y2 - y1, x2 - x1) + frame.shape[2:], dtype=frame.dtype)
    out[...] = fill
    ix1, iy1, ix2, iy2 = max(x1, 0), max(y1, 0), min(x2, W), min(y2, H)
    if ix2 > ix1 and iy2 > iy1:
        out[iy1 - y1:iy2 - y1, ix1 - x1:ix2 - x1] = frame[iy1:iy2, ix1:ix2]
    return out


def crops_of(frame: np.ndarray, boxes_xywh: np.ndarray) -> list[np.ndarray]:
    fill = pad_value(frame)
    return [crop(frame, b, fill) for b in np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)]


# --- helpers for torch encoders -----------------------------------------------------------------
def default_threads() -> int:
    """Intra-op threads for encoders: 1 unless LGMOT_EMBED_THREADS says otherwise.

    Measured on the 2-core machine with one other busy process: MobileNetV2 on 128x64 crops took
    7.1 ms/crop with 1 thread and 37 ms/crop with 2 (fork/join waits on the busy core). One thread
    loses at most ~2x on an idle machine and never collapses like that.
    """
    return env_threads("LGMOT_EMBED_THREADS")


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: str | Path) -> str:
    """``size:sha256`` of a file (for files over 256 MiB: of the first and last 16 MiB), memoised."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            if st.st_size <= 256 << 20:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            else:
                h.update(f.read(16 << 20))
                f.seek(-(16 << 20), os.SEEK_END)
                h.update(f.read())
        _DIGESTS[key] = f"{st.st_size}:{h.hexdigest()}"
    return _DIGESTS[key]


def require_file(path: str | Path | None, what: str, hint: str) -> Path:
    if path is None:
        raise InputError(None, f"{what}: no weights file given; {hint}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(p, f"{what} weights file not found; {hint}")
    return p


def require_package(module: str, what: str, install: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(None, f"{what} needs the package '{module}', which is not installed; "
                               f"run `{install}`") from None


class TorchImageEncoder:
    """Shared preprocessing and batching: resize to ``crop_size`` (h, w), BGR->RGB, scale, normalise.

    Subclasses set ``self.model`` (or override :meth:`forward`), ``self.dim`` and ``self.name``.
    """

    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    scale: float = 1 / 255.0
    rgb: bool = True
    weights_path: Path | None = None

    def __init__(self, crop_size: tuple[int, int], batch_size: int = 32, normalize: bool = True,
                 num_threads: int | None = None):
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f"crop_size is (height, width), got {crop_size}")
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.batch_size = int(batch_size)
        self.normalize = bool(normalize)
        self.num_threads = num_threads

    def preprocess(self, crops: list[np.ndarray]):
        import cv2
        import torch

        h, w = self.crop_size
        arr = np.empty((len(crops), h, w, 3), dtype=np.float32)
        for i, c in enumerate(crops):
            c = np.asarray(c)
            if c.ndim != 3 or c.shape[2] != 3 or c.shape[0] == 0 or c.shape[1] == 0:
                raise ValueError(f"crop {i} has shape {c.shape}; expected (H, W, 3) BGR")
            r = cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR)
            arr[i] = r[..., ::-1] if self.rgb else r
        arr *= self.scale
        arr -= np.asarray(self.mean, dtype=np.float32)
        arr /= np.asarray(self.std, dtype=np.float32)
        return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()

    def forward(self, x):
        return self.model(x)

    def encode(self, crops: list[np.ndarray]) -> np.ndarray:
        import torch

        if not len(crops):
            return np.zeros((0, self.dim), dtype=np.float32)
        from concurrent.futures import ThreadPoolExecutor

        out = []
        starts = range(0, len(crops), self.batch_size)
        # the next batch is resized and normalised (OpenCV and numpy release the GIL) while the
        # network runs on the current one
        with ThreadPoolExecutor(1) as pool, torch_threads(self.num_threads or default_threads()), torch.no_grad():
            nxt = pool.submit(self.preprocess, crops[0:self.batch_size])
            for i in starts:
                x = nxt.result()
                if i + self.batch_size < len(crops):
                    nxt = pool.submit(self.preprocess, crops[i + self.batch_size:i + 2 * self.batch_size])
                y = self.forward(x)
                y = torch.as_tensor(y).float().reshape(y.shape[0], -1)
                if self.normalize:
                    y = torch.nn.functional.normalize(y, dim=1)
                out.append(y.numpy())
        return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)

    def _infer_dim(self) -> int:
        import torch

        h, w = self.crop_size
        with torch_threads(self.num_threads or default_threads()), torch.no_grad():
            y = self.forward(torch.zeros(1, 3, h, w))
        return int(np.prod(tuple(y.shape[1:])))

    def _tag(self) -> str:
        return f"{self.crop_size[0]}x{self.crop_size[1]}" + ("-l2" if self.normalize else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"
