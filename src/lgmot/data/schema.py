"""The table schemas used everywhere inside lgmot.

Inside the code boxes are 0-based ``x, y, w, h`` floats (top-left corner, width, height).
Frame numbers stay as in the files (1-based); only box coordinates are shifted at the file
boundary (MOT files are 1-based).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: One detection per row. ``det_id`` is unique within a sequence (0..N-1 in file order).
DET_COLUMNS = ["frame", "det_id", "x", "y", "w", "h", "score"]
#: Ground truth. ``consider`` is the MOT flag (0 = ignore), ``cls`` the class, ``vis`` visibility.
GT_COLUMNS = ["frame", "id", "x", "y", "w", "h", "consider", "cls", "vis"]
#: Tracker output: one box per (frame, id).
TRACK_COLUMNS = ["frame", "id", "x", "y", "w", "h", "score"]

_INT = {"frame", "det_id", "id", "cls"}


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.int64 if c in _INT else np.float64) for c in columns})


def typed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Select ``columns`` in order with lgmot's dtypes (ints for frame/ids/class, float64 otherwise)."""
    out = df.loc[:, columns].copy()
    for c in columns:
        want = np.int64 if c in _INT else np.float64
        if out[c].dtype != want:  # astype to the same dtype only copies again
            out[c] = out[c].astype(want)
    return out.reset_index(drop=True)


def boxes_xywh(df: pd.DataFrame) -> np.ndarray:
    return df[["x", "y", "w", "h"]].to_numpy(np.float64)
