"""MOT17/MOT20 ground-truth preprocessing, as TrackEval's MotChallenge2DBox does it.

For training labels: boxes (detections or tracker output) that match a distractor GT box
(IoU >= 0.5, Hungarian per frame) are removed; GT keeps rows with consider != 0 and class 1
(pedestrian) and its ids are relabelled 0..K-1 in order of the original id. Evaluation does not
use this module: it lets TrackEval preprocess (``DO_PREPROC``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .assign import match_per_frame

PEDESTRIAN = 1
#: person_on_vehicle, static_person, distractor, reflection
DISTRACTOR_CLASSES = (2, 7, 8, 12)
#: MOT20 also ignores non_mot_vehicle
DISTRACTOR_CLASSES_MOT20 = (2, 6, 7, 8, 12)


def distractor_classes(benchmark: str = "MOT17") -> tuple[int, ...]:
    b = benchmark.upper()
    if b == "MOT15":
        return ()
    return DISTRACTOR_CLASSES_MOT20 if b == "MOT20" else DISTRACTOR_CLASSES


def distractor_mask(boxes: pd.DataFrame, gt: pd.DataFrame, benchmark: str = "MOT17", min_iou: float = 0.5) -> np.ndarray:
    """True for each row of ``boxes`` matched to a distractor GT box in its frame.

    The matching runs against all GT rows of the frame (any class, any consider flag), as TrackEval does.
    """
    classes = distractor_classes(benchmark)
    if not classes or len(boxes) == 0 or len(gt) == 0:
        return np.zeros(len(boxes), bool)
    cols = ["x", "y", "w", "h"]
    idx = match_per_frame(boxes.frame.to_numpy(), boxes[cols].to_numpy(np.float64),
                          gt.frame.to_numpy(), gt[cols].to_numpy(np.float64), min_iou)
    gcls = gt.cls.to_numpy()
    return (idx >= 0) & np.isin(gcls[np.maximum(idx, 0)], classes)


def clean_gt(gt: pd.DataFrame, benchmark: str = "MOT17", relabel: bool = True) -> pd.DataFrame:
    """GT rows kept for evaluation: consider != 0 and (except MOT15) class pedestrian; ids 0..K-1 if ``relabel``."""
    keep = gt.consider.to_numpy() != 0
    if benchmark.upper() != "MOT15":
        keep &= gt.cls.to_numpy() == PEDESTRIAN
    out = gt[keep].copy()
    if relabel and len(out):
        _, inv = np.unique(out.id.to_numpy(), return_inverse=True)
        out["id"] = inv.astype(np.int64)
    return out.reset_index(drop=True)


def preprocess(gt: pd.DataFrame, boxes: pd.DataFrame | None = None, benchmark: str = "MOT17",
               relabel: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(clean GT, boxes without those matched to distractors)``; ``boxes`` may be None."""
    kept = None
    if boxes is not None:
        kept = boxes[~distractor_mask(boxes, gt, benchmark)].reset_index(drop=True)
    return clean_gt(gt, benchmark, relabel), kept
