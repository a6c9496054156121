"""Detections that come from files: a sequence's public ``det.txt`` or its ground truth (oracle)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data import motio
from ..data.schema import DET_COLUMNS, empty, typed
from ..data.sequence import Sequence
from ..errors import InputError


def public_detections(sequence: Sequence, min_score: float | None = None) -> pd.DataFrame:
    """The sequence's own ``det/det.txt`` keeping rows with ``score >= min_score``.

    det_ids are those of the file (0..N-1 in file order), so they stay unique after thresholding.
    """
    if sequence.det_path is None or not Path(sequence.det_path).is_file():
        raise InputError(sequence.root, f"sequence {sequence.name} has no detection file (det/det.txt); "
                                        "use the built-in detector or pass a det file")
    dets = sequence.detections  # read once per sequence; a ``truncated`` sequence holds its own frames only
    if min_score is not None:
        dets = dets[dets.score >= min_score].reset_index(drop=True)
    return dets


def detections_from_file(path: str | Path, sequence: Sequence | None = None,
                         min_score: float | None = None) -> pd.DataFrame:
    """A MOT-format detection file (checked against the sequence length when one is given)."""
    length = sequence.info.length if sequence is not None else None
    return motio.read_detections(path, length, min_score)


def gt_detections(sequence: Sequence) -> pd.DataFrame:
    """Oracle detections: the considered pedestrian gt boxes, score 1 (for ablations and debugging).

    MOT16/17/20 class 1 (pedestrian) only; MOT15-style gt has no class column and is read as class 1.
    """
    gt = sequence.gt
    if gt is None:
        raise InputError(sequence.root, f"sequence {sequence.name} has no ground truth (gt/gt.txt)")
    g = gt[(gt.consider > 0) & (gt.cls == 1)]
    if not len(g):
        return empty(DET_COLUMNS)
    df = pd.DataFrame({"frame": g.frame.to_numpy(), "det_id": np.arange(len(g)), "x": g.x.to_numpy(),
                       "y": g.y.to_numpy(), "w": g.w.to_numpy(), "h": g.h.to_numpy(), "score": 1.0})
    return typed(df, DET_COLUMNS)
