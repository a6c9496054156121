"""Embedding every detection of a sequence: frames are read once, in order."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.sequence import Sequence
from ..detect.base import progress_bar
from ..errors import InputError
from .base import Encoder, crops_of
from .cache import cache_key, cache_path, load_cached, save_cached


def _encode(encoder: Encoder, crops: list[np.ndarray]) -> np.ndarray:
    y = np.asarray(encoder.encode(crops), dtype=np.float32)
    if y.shape != (len(crops), encoder.dim):
        raise ValueError(f"encoder {encoder.name!r} returned shape {y.shape} for {len(crops)} crops; "
                         f"expected ({len(crops)}, {encoder.dim})")
    return y


def embed_sequence(sequence: Sequence, dets: pd.DataFrame, encoder: Encoder,
                   cache_dir: str | Path | None = None, batch_size: int = 64,
                   progress: bool = True) -> np.ndarray:
    """``(len(dets), encoder.dim)`` float32 appearance vectors, row i for ``dets.iloc[i]``.

    Boxes are 0-based xywh; crops leaving the image are padded with the frame's mean colour.
    ``batch_size`` crops are collected (across frames) before each ``encoder.encode`` call.
    With ``cache_dir`` the result is cached (see :mod:`lgmot.embed.cache`).
    """
    n = len(dets)
    if n == 0:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    frames = dets["frame"].to_numpy(np.int64)
    if frames.min() < 1 or frames.max() > sequence.info.length:
        bad = int(frames[(frames < 1) | (frames > sequence.info.length)][0])
        raise InputError(sequence.root, f"detection on frame {bad} is outside sequence {sequence.name} "
                                        f"(1..{sequence.info.length})")
    path = key = None
    if cache_dir is not None:
        key = cache_key(sequence, dets, encoder)
        path = cache_path(cache_dir, sequence, encoder)
        hit = load_cached(path, key, n, encoder.dim)
        if hit is not None:
            return hit

    boxes = dets[["x", "y", "w", "h"]].to_numpy(np.float64)
    order = np.argsort(frames, kind="stable")
    bounds = np.searchsorted(frames[order], np.arange(frames.min(), frames.max() + 2))
    first, last = int(frames.min()), int(frames.max())
    out = np.empty((n, encoder.dim), dtype=np.float32)
    done = np.zeros(n, dtype=bool)
    buf_crops: list[np.ndarray] = []
    buf_rows: list[np.ndarray] = []
    buffered = 0

    def flush() -> None:
        nonlocal buffered
        if buffered:
            rows = np.concatenate(buf_rows)
            out[rows] = _encode(encoder, buf_crops)
            done[rows] = True
            buf_crops.clear()
            buf_rows.clear()
            buffered = 0

    # Videos are decoded from the start: seeking is not frame-exact for every codec.
    start = 1 if sequence.video is not None else first
    with progress_bar(progress, f"embed {sequence.name}", last - start + 1) as advance:
        for f, img in sequence.frames(start):
            if f > last:
                break
            advance()
            if f < first:
                continue
            rows = order[bounds[f - first]:bounds[f - first + 1]]
            if not len(rows):
                continue
            buf_crops.extend(crops_of(img, boxes[rows]))
            buf_rows.append(rows)
            buffered += len(rows)
            if buffered >= batch_size:
                flush()
        flush()
    if not done.all():
        missing = int(frames[~done].min())
        raise InputError(sequence.root, f"sequence {sequence.name} has no image for frame {missing} "
                                        "(the video or image folder ends earlier)")
    if path is not None:
        save_cached(path, key, out, dets["det_id"].to_numpy(np.int64))
    return out
