"""The detector interface and the loop that runs a detector over a sequence.

A detector is anything callable as ``detector(frame_bgr) -> (N, 5)`` array of
``x1, y1, x2, y2, score`` in pixel coordinates (0-based, corners). Plain functions work;
:class:`CallableDetector` adapts other output formats (xywh boxes, no scores, torch tensors, lists).
"""
from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..data.schema import DET_COLUMNS, empty, typed
from ..data.sequence import Sequence


@runtime_checkable
class Detector(Protocol):
    """``__call__(frame_bgr: (H, W, 3) uint8) -> (N, 5) float array x1, y1, x2, y2, score``."""

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray: ...


class CallableDetector:
    """Wrap any function as a :class:`Detector`.

    ``fn(frame_bgr)`` may return a list, numpy array or tensor with rows ``x1, y1, x2, y2[, score]``
    (``box_format='xyxy'``) or ``x, y, w, h[, score]`` (``box_format='xywh'``). Without a score
    column every box gets ``default_score``.

    Example, plugging in an ultralytics model (any library works the same way)::

        from ultralytics import YOLO
        model = YOLO("yolov8n.pt")

        def yolov8_people(frame):
            r = model(frame, classes=[0], verbose=False)[0].boxes
            return np.c_[r.xyxy.cpu().numpy(), r.conf.cpu().numpy()]

        dets = run_detector(CallableDetector(yolov8_people, name="yolov8n"), sequence)
    """

    def __init__(self, fn: Callable[[np.ndarray], Any], name: str | None = None,
                 box_format: str = "xyxy", default_score: float = 1.0):
        if box_format not in ("xyxy", "xywh"):
            raise ValueError("box_format is 'xyxy' or 'xywh'")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.box_format = box_format
        self.default_score = float(default_score)

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray:
        out = self.fn(frame_bgr)
        if hasattr(out, "detach"):  # torch tensor
            out = out.detach().cpu().numpy()
        a = np.asarray(out, dtype=np.float64)
        if a.size == 0:
            return np.zeros((0, 5))
        if a.ndim != 2 or a.shape[1] not in (4, 5):
            raise ValueError(f"detector {self.name!r} returned shape {a.shape}; expected (N, 4) or (N, 5)")
        if a.shape[1] == 4:
            a = np.c_[a, np.full(len(a), self.default_score)]
        if self.box_format == "xywh":
            a = a.copy()
            a[:, 2:4] += a[:, 0:2]
        return a

    def __repr__(self) -> str:
        return f"CallableDetector({self.name!r}, box_format={self.box_format!r})"


def as_detector(obj: Detector | Callable[[np.ndarray], Any]) -> Detector:
    """A callable is already a detector; this only checks it is one."""
    if not callable(obj):
        raise TypeError(f"a detector must be callable, got {type(obj).__name__}")
    return obj


def _check_output(raw: Any, frame: int, name: str) -> np.ndarray:
    a = np.asarray(raw, dtype=np.float64)
    if a.size == 0:
        return np.zeros((0, 5))
    if a.ndim != 2 or a.shape[1] != 5:
        raise ValueError(f"detector {name} returned shape {a.shape} on frame {frame}; expected (N, 5) "
                         "x1,y1,x2,y2,score (wrap it in lgmot.detect.CallableDetector for other formats)")
    if not np.isfinite(a).all():
        raise ValueError(f"detector {name} returned NaN or infinite values on frame {frame}")
    return a


def boxes_to_table(per_frame: list[tuple[int, np.ndarray]]) -> pd.DataFrame:
    """``[(frame, (N,5) xyxy+score), ...]`` -> DET_COLUMNS table, det_id 0..M-1 in frame order.

    Boxes with no area are dropped.
    """
    parts = []
    for frame, a in per_frame:
        a = a[(a[:, 2] > a[:, 0]) & (a[:, 3] > a[:, 1])]
        if len(a):
            parts.append(np.c_[np.full(len(a), frame), a])
    if not parts:
        return empty(DET_COLUMNS)
    m = np.concatenate(parts)
    df = pd.DataFrame({"frame": m[:, 0], "det_id": np.arange(len(m)), "x": m[:, 1], "y": m[:, 2],
                       "w": m[:, 3] - m[:, 1], "h": m[:, 4] - m[:, 2], "score": m[:, 5]})
    return typed(df, DET_COLUMNS)


def run_detector(detector: Detector | Callable[[np.ndarray], Any], sequence: Sequence,
                 progress: bool = True, start: int = 1, end: int | None = None) -> pd.DataFrame:
    """Run ``detector`` on frames ``start..end`` (default: all) of ``sequence``.

    Returns a DET_COLUMNS table (0-based xywh boxes, det_id 0..M-1 in frame order).
    """
    detector = as_detector(detector)
    name = getattr(detector, "name", type(detector).__name__)
    last = sequence.info.length if end is None else end
    results: list[tuple[int, np.ndarray]] = []
    with progress_bar(progress, f"detect {sequence.name}", last - start + 1) as advance:
        for frame, img in sequence.frames(start):
            if frame > last:
                break
            results.append((frame, _check_output(detector(img), frame, name)))
            advance()
    return boxes_to_table(results)


class progress_bar:
    """A rich progress bar (transient) or nothing; yields an ``advance()`` callable."""

    def __init__(self, enabled: bool, label: str, total: int | None):
        self.enabled, self.label, self.total = enabled, label, total
        self._bar = None

    def __enter__(self) -> Callable[[], None]:
        if not self.enabled:
            return lambda n=1: None
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda n=1: self._bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
