"""Embedding cache: one ``.npz`` per (sequence, encoder), never pickled, written atomically.

The key hashes everything the embeddings depend on: the detections (frame, det_id and box of each
row, in order; scores do not change crops and are left out), the encoder (name, dimension,
weights file size and sha256) and the frames (video or image paths, sizes and mtimes).
A file whose key differs is recomputed and overwritten.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.motio import atomic_write_bytes
from ..data.sequence import Sequence
from .base import Encoder, file_digest

CACHE_VERSION = "lgmot-embed-1"


def default_cache_dir() -> Path:
    """``$LGMOT_CACHE`` or ``$XDG_CACHE_HOME/lgmot`` (default ``~/.cache/lgmot``), plus ``/embeddings``."""
    root = os.environ.get("LGMOT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lgmot"
    return Path(root) / "embeddings"


def detections_digest(dets: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(dets["frame"].to_numpy(np.int64)).tobytes())
    h.update(np.ascontiguousarray(dets["det_id"].to_numpy(np.int64)).tobytes())
    h.update(np.ascontiguousarray(dets[["x", "y", "w", "h"]].to_numpy(np.float64)).tobytes())
    return h.hexdigest()


def encoder_identity(encoder: Encoder) -> str:
    parts = [type(encoder).__name__, str(encoder.name), str(int(encoder.dim))]
    weights = getattr(encoder, "weights_path", None)
    if weights is not None and Path(weights).is_file():
        parts.append(file_digest(weights))
    return "|".join(parts)


def input_identity(sequence: Sequence) -> str:
    files: list[Path] = []
    if sequence.video is not None:
        files = [Path(sequence.video)]
    else:
        files = list(getattr(sequence, "_images", None) or [])
    rows = []
    for p in files:
        st = p.stat()
        rows.append(f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def cache_key(sequence: Sequence, dets: pd.DataFrame, encoder: Encoder) -> str:
    text = "\n".join([CACHE_VERSION, detections_digest(dets), encoder_identity(encoder), input_identity(sequence)])
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path(cache_dir: str | Path, sequence: Sequence, encoder: Encoder) -> Path:
    from ..errors import check_name

    safe = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "_", s)  # noqa: E731
    return Path(cache_dir) / f"{safe(check_name(sequence.name))}.{safe(encoder.name)}.npz"


def load_cached(path: Path, key: str, n: int, dim: int) -> np.ndarray | None:
    """The cached array if ``path`` holds one for ``key`` with shape (n, dim), else None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            emb = z["emb"]
    except Exception as e:  # a truncated or foreign file: recompute
        warnings.warn(f"{path}: ignoring unreadable embedding cache ({type(e).__name__})", stacklevel=3)
        return None
    if emb.shape != (n, dim) or emb.dtype != np.float32:
        return None
    return emb


def save_cached(path: Path, key: str, emb: np.ndarray, det_ids: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez(buf, key=np.array(key), emb=np.ascontiguousarray(emb, dtype=np.float32),
             det_id=np.asarray(det_ids, dtype=np.int64))
    atomic_write_bytes(path, buf.getvalue())
