"""Training augmentation. The reference's (A.8, ``--augmentation``): per clip, drop 0-10% of the
identities entirely, drop 0-20% of the detections at random, and jitter every box side.

Each side moves by eps * (w or h) with eps uniform in [-EPS, EPS], where EPS is the reference's
``min((1 - sqrt(0.85)) / 2, (1 / sqrt(0.85) - 1) / 2)`` so that the jittered box keeps an IoU of
at least 0.85 with the original. Randomness comes from the caller's Generator (the loop seeds it
from (seed, iteration, position in the batch), so resumed runs see the same augmentation).

lgmot adds frame-rate augmentation (not in the reference; ``train.frame_rate_augmentation``): a clip
is replaced, half of the time, by the same stretch of video seen at a lower frame rate, so that a
model trained mostly on 14-30 fps sequences also sees the larger per-frame motion of 5-10 fps ones.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .dataset import Clip

MAX_ID_DROP = 0.10
MAX_DET_DROP = 0.20
EPS = min((1 - math.sqrt(0.85)) / 2, (1 / math.sqrt(0.85) - 1) / 2)


def augment_clip(clip: Clip, rng: np.random.Generator) -> Clip:
    """A new clip over an augmented copy of ``clip``'s rows; ``clip`` is unchanged. Falls back to
    ``clip`` itself when fewer than two detections in two frames would remain."""
    s = clip.seq
    dets = s.dets.iloc[clip.lo:clip.hi]
    gid = s.gt_ids[clip.lo:clip.hi]
    keep = rng.random(len(dets)) >= rng.uniform(0.0, MAX_DET_DROP)
    ids = np.unique(gid[gid >= 0])
    if len(ids):
        dropped = ids[rng.random(len(ids)) < rng.uniform(0.0, MAX_ID_DROP)]
        keep &= ~np.isin(gid, dropped)
    frames = dets.frame.to_numpy()[keep]
    if len(frames) < 2 or frames.min() == frames.max():
        return clip
    box = dets[["x", "y", "w", "h"]].to_numpy(np.float64)[keep]
    eps = rng.uniform(-EPS, EPS, (len(box), 4))
    x1 = box[:, 0] + eps[:, 0] * box[:, 2]
    x2 = box[:, 0] + box[:, 2] + eps[:, 1] * box[:, 2]
    y1 = box[:, 1] + eps[:, 2] * box[:, 3]
    y2 = box[:, 1] + box[:, 3] + eps[:, 3] * box[:, 3]
    out = dets[keep].reset_index(drop=True).assign(x=x1, y=y1, w=x2 - x1, h=y2 - y1)
    seq = replace(s, dets=out, gt_ids=gid[keep], app=None if s.app is None else s.app[clip.lo:clip.hi][keep])
    return Clip(seq, 0, len(out), clip.start)


def subsample_clip(clip: Clip, frames_per_graph: int, step: int) -> Clip:
    """The clip as a camera at ``fps / step`` would see it: every ``step``-th frame from the clip's
    start over ``step * frames_per_graph`` frames, renumbered to consecutive frames from the start.
    The sequence's own clips keep their rows; only the new clip's copy is subsampled. Falls back to
    ``clip`` when fewer than two frames with detections would remain."""
    if step <= 1:
        return clip
    s = clip.seq
    frames = s.dets.frame.to_numpy()
    lo, hi = np.searchsorted(frames, [clip.start, clip.start + step * frames_per_graph])
    rel = frames[lo:hi] - clip.start
    keep = np.flatnonzero(rel % step == 0)
    if len(keep) < 2 or rel[keep[0]] == rel[keep[-1]]:
        return clip
    rows = lo + keep
    dets = s.dets.iloc[rows].reset_index(drop=True)
    dets["frame"] = clip.start + rel[keep] // step
    seq = replace(s, fps=s.fps / step, dets=dets, gt_ids=s.gt_ids[rows], app=None if s.app is None else s.app[rows])
    return Clip(seq, 0, len(dets), clip.start)


def frame_rate_step(fps: float, min_fps: float, rng: np.random.Generator) -> int:
    """A frame step for :func:`subsample_clip`: 1 (no change) half of the time, otherwise uniform among
    the steps >= 2 that keep at least ``min_fps``; 1 when none does."""
    if min_fps <= 0:
        return 1
    top = int(fps // min_fps)
    while top >= 2 and fps / top < min_fps:  # float floor division can overshoot by one
        top -= 1
    if top < 2 or rng.random() < 0.5:
        return 1
    return int(rng.integers(2, top + 1))
