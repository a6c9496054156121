"""Training data: sequences with detections matched to GT, cut into overlapping clips (A.8)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..graph import Tracklets


@dataclass
class TrainSequence:
    """One sequence ready for training. Rows of ``dets`` align with ``app`` and ``gt_ids``."""

    name: str
    fps: float
    dets: pd.DataFrame  # DET_COLUMNS, sorted by (frame, det_id)
    gt_ids: np.ndarray  # (M,) GT identity of each detection, -1 for false positives
    app: np.ndarray | None = None  # (M, D) float32, NaN rows where missing; None: no images at all
    #: language (training only): scene embedding (D_s,) and instance embeddings {gt id: (128,)}
    scene_emb: np.ndarray | None = None
    inst_emb: dict[int, np.ndarray] = field(default_factory=dict)


@dataclass
class Clip:
    seq: TrainSequence
    lo: int  # row range [lo, hi) into seq.dets
    hi: int
    start: int  # first frame of the clip window

    def tracklets(self, node_dim: int) -> Tracklets:
        s, sl = self.seq, slice(self.lo, self.hi)
        frames = s.dets.frame.to_numpy()[sl]
        boxes = s.dets[["x", "y", "w", "h"]].to_numpy(np.float64)[sl]
        if s.app is None:
            # (N, 0) like the tracker: no 1280-d zero rows through distances and merges (the model
            # gets its zero input as a broadcast view in graph_tensors)
            app, has = None, None
        else:
            a = s.app[sl]
            has = ~np.isnan(a).any(axis=1)
            app = np.nan_to_num(a).astype(np.float32)
        return Tracklets.from_detections(frames, boxes, app=app, has_app=has, gt_ids=s.gt_ids[sl],
                                         scores=s.dets.score.to_numpy()[sl])


def clip_starts(frames: np.ndarray, stride: int) -> list[int]:
    """A new window starts at the first frame >= last start + ``stride`` (A.8: train_dataset_frame_overlap)."""
    starts: list[int] = []
    for f in np.unique(frames):
        if not starts or f >= starts[-1] + stride:
            starts.append(int(f))
    return starts


def make_clips(seq: TrainSequence, frames_per_graph: int, stride: int) -> list[Clip]:
    """Windows of ``frames_per_graph`` frames every ``stride`` frames; each needs >= 2 frames with dets."""
    frames = seq.dets.frame.to_numpy()
    clips = []
    for start in clip_starts(frames, stride):
        lo, hi = np.searchsorted(frames, [start, start + frames_per_graph])
        if hi > lo and frames[hi - 1] > frames[lo]:
            clips.append(Clip(seq, int(lo), int(hi), start))
    return clips
