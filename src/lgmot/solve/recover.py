"""Offline recovery of low-score detections: after tracking on the confident detections, the frames
where a track has no box (inside its gaps, and a bounded number of frames past its ends) are
matched, frame by frame, to the detections that were too weak to be tracked.

The online trackers' second association stage (ByteTrack) does this with a Kalman prediction made
from the past only; here a track's box in a gap is interpolated from the boxes on both sides.

Pure functions over a tracks table (``TRACK_COLUMNS``) and a detections table (``DET_COLUMNS``), so
the offline tracker and a sliding window can both call them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.assign import match_per_frame
from ..data.schema import TRACK_COLUMNS, typed

#: observed boxes at a track's end that its extrapolation velocity is fitted on
VELOCITY_BOXES = 5


def _sorted_by_track(tracks: pd.DataFrame) -> pd.DataFrame:
    return typed(tracks, TRACK_COLUMNS).sort_values(["id", "frame"], kind="stable").reset_index(drop=True)


def _end_velocity(fr: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Least-squares velocity (per frame) of the centre ``c`` (n, 2) over frames ``fr``; 0 for one box."""
    if len(fr) < 2:
        return np.zeros(2)
    t = fr - fr.mean()
    return (t[:, None] * (c - c.mean(axis=0))).sum(axis=0) / (t * t).sum()


def predict_missing(tracks: pd.DataFrame, extrapolate: int = 0, max_gap: int | None = None,
                    first_frame: int = 1, last_frame: int | None = None) -> pd.DataFrame:
    """Where each track is expected in the frames it has no box: inside a gap of at most ``max_gap``
    missing frames (None: any) by linear interpolation of centre, width and height between the boxes
    on both sides; up to ``extrapolate`` frames before its first and after its last box at constant
    velocity (least squares over its first / last :data:`VELOCITY_BOXES` boxes; size held), within
    ``first_frame .. last_frame`` (None: no upper bound).

    Returns a table ``frame, id, x, y, w, h`` (xywh, one row per predicted frame and track).
    """
    t = _sorted_by_track(tracks)
    cols = {"frame": [], "id": [], "cx": [], "cy": [], "w": [], "h": []}
    if len(t) == 0:
        return pd.DataFrame({"frame": np.zeros(0, np.int64), "id": np.zeros(0, np.int64),
                             **{c: np.zeros(0) for c in ("x", "y", "w", "h")}})
    fr_all = t.frame.to_numpy()
    tid_all = t.id.to_numpy()
    x, y, w, h = (t[c].to_numpy() for c in ("x", "y", "w", "h"))
    box = np.column_stack([x + w / 2, y + h / 2, w, h])
    if np.any((tid_all[1:] == tid_all[:-1]) & (fr_all[1:] == fr_all[:-1])):
        raise ValueError("a track has two boxes in the same frame")
    bounds = np.flatnonzero(np.r_[True, tid_all[1:] != tid_all[:-1], True])

    def add(frames: np.ndarray, tid: int, b: np.ndarray) -> None:
        cols["frame"].append(frames)
        cols["id"].append(np.full(len(frames), tid, np.int64))
        for k, c in enumerate(("cx", "cy", "w", "h")):
            cols[c].append(b[:, k])

    for lo, hi in zip(bounds[:-1], bounds[1:]):
        fr, b, tid = fr_all[lo:hi], box[lo:hi], int(tid_all[lo])
        # inside the gaps
        step = np.diff(fr)
        for i in np.flatnonzero((step > 1) & ((step - 1 <= max_gap) if max_gap is not None else True)):
            k = np.arange(1, step[i])
            frac = (k / step[i])[:, None]
            add(fr[i] + k, tid, b[i] + frac * (b[i + 1] - b[i]))
        if extrapolate <= 0:
            continue
        # before the first and after the last box
        k = np.arange(1, extrapolate + 1)
        for end, sign in ((slice(0, VELOCITY_BOXES), -1), (slice(-VELOCITY_BOXES, None), 1)):
            f_end, b_end = fr[end], b[end]
            v = _end_velocity(f_end.astype(np.float64), b_end[:, :2])
            anchor = b_end[0] if sign < 0 else b_end[-1]
            frames = (f_end[0] - k) if sign < 0 else (f_end[-1] + k)
            pred = np.tile(anchor, (len(k), 1))
            pred[:, :2] += (sign * k)[:, None] * v
            ok = (frames >= first_frame) & ((frames <= last_frame) if last_frame is not None else True)
            add(frames[ok], tid, pred[ok])
    if not cols["frame"]:
        return predict_missing(tracks.iloc[:0])
    cat = {c: np.concatenate(v) for c, v in cols.items()}
    return pd.DataFrame({"frame": cat["frame"].astype(np.int64), "id": cat["id"],
                         "x": cat["cx"] - cat["w"] / 2, "y": cat["cy"] - cat["h"] / 2, "w": cat["w"], "h": cat["h"]})


def recover_low_score(tracks: pd.DataFrame, candidates: pd.DataFrame, min_iou: float = 0.5,
                      extrapolate: int = 0, max_gap: int | None = None) -> pd.DataFrame:
    """Add to ``tracks`` (TRACK_COLUMNS) the ``candidates`` (DET_COLUMNS: the detections that were not
    tracked, e.g. those below the tracking threshold and above a floor) that continue a track.

    For every frame where a track has no box, its box is predicted (:func:`predict_missing` with
    ``extrapolate`` and ``max_gap``); per frame, predictions and candidates are matched by the
    Hungarian algorithm on IoU, pairs below ``min_iou`` forbidden, so each candidate joins at most
    one track and each track gets at most one box per frame. A matched candidate enters the track
    with its own box and score; unmatched candidates stay out.

    Returns the tracks with the recovered rows, sorted by frame, then id.
    """
    t = typed(tracks, TRACK_COLUMNS)
    if len(t) == 0 or len(candidates) == 0:
        return t.sort_values(["frame", "id"], kind="stable").reset_index(drop=True)
    pred = predict_missing(t, extrapolate=extrapolate, max_gap=max_gap,
                           first_frame=int(candidates.frame.min()), last_frame=int(candidates.frame.max()))
    cand_boxes = candidates[["x", "y", "w", "h"]].to_numpy(np.float64)
    match = match_per_frame(pred.frame.to_numpy(), pred[["x", "y", "w", "h"]].to_numpy(np.float64),
                            candidates.frame.to_numpy(), cand_boxes, min_iou)
    hit = match >= 0
    c = match[hit]
    new = pd.DataFrame({"frame": pred.frame.to_numpy()[hit], "id": pred.id.to_numpy()[hit],
                        "x": cand_boxes[c, 0], "y": cand_boxes[c, 1], "w": cand_boxes[c, 2], "h": cand_boxes[c, 3],
                        "score": candidates.score.to_numpy(np.float64)[c]})
    out = typed(pd.concat([t, new], ignore_index=True), TRACK_COLUMNS)
    return out.sort_values(["frame", "id"], kind="stable").reset_index(drop=True)


def low_score_candidates(dets: pd.DataFrame, tracked: np.ndarray, floor: float) -> pd.DataFrame:
    """The rows of ``dets`` (DET_COLUMNS) that were not tracked (``tracked``: row mask) and score at
    least ``floor``: what :func:`recover_low_score` may add."""
    keep = ~np.asarray(tracked, bool) & (dets.score.to_numpy(np.float64) >= floor)
    return dets[keep].reset_index(drop=True)
