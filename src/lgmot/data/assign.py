"""Ground-truth identity of each detection: per-frame Hungarian matching on IoU."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

#: SUSHI matches MOT17 detections against pedestrians and the distractor-like classes
#: (person on vehicle, static person, distractor, reflection).
SUSHI_MOT17_CLASSES = (1, 2, 7, 8, 12)
_EPS = np.finfo(np.float64).eps


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of ``x, y, w, h`` boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    iy = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou


def _frame_slices(frames: np.ndarray) -> dict[int, np.ndarray]:
    """Row indices of each frame value."""
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    return dict(zip(uniq.tolist(), np.split(order, starts[1:])))


def match_boxes(a: np.ndarray, b: np.ndarray, min_iou: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Hungarian matching maximising total IoU; pairs below ``min_iou`` are forbidden. Returns (rows, cols)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    iou = box_iou(a, b)
    valid = iou >= min_iou - _EPS  # the tolerance TrackEval uses, so boundary cases agree with it
    score = np.where(valid, iou, 0.0)
    r, c = linear_sum_assignment(-score)
    ok = valid[r, c] & (iou[r, c] > 0)
    return r[ok].astype(np.int64), c[ok].astype(np.int64)


def match_per_frame(frames_a: np.ndarray, boxes_a: np.ndarray, frames_b: np.ndarray, boxes_b: np.ndarray,
                    min_iou: float = 0.5) -> np.ndarray:
    """For each row of ``a``, the matched row index of ``b`` in the same frame, or -1."""
    out = np.full(len(frames_a), -1, np.int64)
    b_rows = _frame_slices(np.asarray(frames_b))
    for f, ia in _frame_slices(np.asarray(frames_a)).items():
        ib = b_rows.get(f)
        if ib is None:
            continue
        r, c = match_boxes(boxes_a[ia], boxes_b[ib], min_iou)
        out[ia[r]] = ib[c]
    return out


def assign_gt_ids(dets: pd.DataFrame, gt: pd.DataFrame, min_iou: float = 0.5,
                  classes: Iterable[int] | None = None, considered_only: bool = False) -> np.ndarray:
    """GT id of every detection row (in ``dets`` order), -1 when unmatched.

    Per frame, Hungarian on IoU between detections and GT boxes; pairs with IoU < ``min_iou`` are
    never matched. ``classes`` restricts the GT rows used (e.g. ``SUSHI_MOT17_CLASSES``);
    ``considered_only`` drops GT rows whose consider flag is 0.
    """
    g = gt
    if classes is not None:
        g = g[g.cls.isin(list(classes))]
    if considered_only:
        g = g[g.consider != 0]
    if len(dets) == 0 or len(g) == 0:
        return np.full(len(dets), -1, np.int64)
    cols = ["x", "y", "w", "h"]
    idx = match_per_frame(dets.frame.to_numpy(), dets[cols].to_numpy(np.float64),
                          g.frame.to_numpy(), g[cols].to_numpy(np.float64), min_iou)
    ids = g.id.to_numpy(np.int64)
    return np.where(idx >= 0, ids[np.maximum(idx, 0)], -1)
