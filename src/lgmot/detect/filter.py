"""Which detections are tracked (and trained on)."""
from __future__ import annotations

import numpy as np


def confident(scores: np.ndarray, min_score: float) -> np.ndarray:
    """Mask of the detections to track: score >= ``min_score``, or all of them when none reaches
    it (as the reference's byte065 filter: a different score scale must not empty a sequence)."""
    keep = np.asarray(scores, dtype=np.float64) >= min_score
    return keep if keep.any() else np.ones_like(keep)
