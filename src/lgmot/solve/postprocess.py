"""Post-processing of track tables (TRACK_COLUMNS): drop short (and, optionally, unconfident)
tracks, fill gaps (A.9)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..data.schema import TRACK_COLUMNS, typed
from ..graph.features import score_ranks


def _sorted(tracks: pd.DataFrame) -> pd.DataFrame:
    t = typed(tracks, TRACK_COLUMNS)
    if is_sorted(t["frame"].to_numpy(), t["id"].to_numpy()):  # a stable sort would not move a row
        return t
    return t.sort_values(["frame", "id"], kind="stable").reset_index(drop=True)


def is_sorted(major: np.ndarray, minor: np.ndarray) -> bool:
    """Rows already in (major, minor) order, ties allowed (what a stable sort leaves as it is)."""
    if len(major) < 2:
        return True
    dm = major[1:] - major[:-1]
    return bool(np.all((dm > 0) | ((dm == 0) & (minor[1:] >= minor[:-1]))))


def _track_mean(t: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Per row of ``t``: the mean of ``values`` (aligned with the rows) over the row's track."""
    return pd.Series(values).groupby(t["id"].to_numpy()).transform("mean").to_numpy()


def drop_unlikely(tracks: pd.DataFrame, objectness: np.ndarray, min_mean: float) -> pd.DataFrame:
    """Remove the tracks whose mean objectness (aligned with the rows of ``tracks``; NaN where a
    detection was not scored, left out of the mean) is below ``min_mean``. A track without any
    scored row is kept. Returns the kept rows in their input order."""
    objectness = np.asarray(objectness, dtype=np.float64)
    if len(objectness) != len(tracks):
        raise ValueError(f"{len(objectness)} objectness values for {len(tracks)} track rows")
    if min_mean <= 0 or len(tracks) == 0:
        return tracks
    return tracks[~(_track_mean(tracks, objectness) < min_mean)].reset_index(drop=True)


def drop_short(tracks: pd.DataFrame, min_len: int = 2) -> pd.DataFrame:
    """Remove the tracks with fewer than ``min_len`` boxes."""
    t = _sorted(tracks)
    length = t.groupby("id")["frame"].transform("size")
    return t[length.to_numpy() >= min_len].reset_index(drop=True)


def drop_unconfident(tracks: pd.DataFrame, min_mean_score: float) -> pd.DataFrame:
    """Remove the tracks whose mean detection score is below ``min_mean_score``: a track of
    doubtful detections only is more likely a false one (the idea behind the online trackers'
    higher threshold for starting a track). When no track reaches it the scores are on another
    scale, and every track is kept (as ``detect.filter.confident`` does for detections)."""
    t = _sorted(tracks)
    if min_mean_score <= 0 or len(t) == 0:
        return t
    keep = _track_mean(t, t["score"].to_numpy()) >= min_mean_score
    return t[keep].reset_index(drop=True) if keep.any() else t


def drop_low_rank(tracks: pd.DataFrame, min_mean_rank: float) -> pd.DataFrame:
    """Remove the tracks whose detections rank low among all of the table's detections by score:
    each row's score rank is in (0, 1) (ties share a rank), a track is dropped when the mean over
    its rows is below ``min_mean_rank``. The scale-free form of :func:`drop_unconfident`: any
    monotone change of the detector's scores gives the same result."""
    t = _sorted(tracks)
    if min_mean_rank <= 0 or len(t) == 0:
        return t
    return t[_track_mean(t, score_ranks(t["score"].to_numpy())) >= min_mean_rank].reset_index(drop=True)


def max_gap_frames(max_gap_s: float | None, fps: float) -> int | None:
    """A gap limit in seconds (``tracker.interpolate_max_gap_s``) as whole frames for :func:`interpolate`."""
    return None if max_gap_s is None else int(math.floor(max_gap_s * fps))


def interpolate(tracks: pd.DataFrame, max_gap: int | None = None) -> pd.DataFrame:
    """Fill the missing frames inside every track by linear interpolation of cx, cy, w, h.

    A gap of g missing frames is filled when ``max_gap`` is None or g <= max_gap. A filled row
    gets the smaller of its two neighbours' scores (so it never looks more certain than the
    observations it comes from). Returns the table sorted by frame, then id.
    """
    t = _sorted(tracks)
    if len(t) < 2:
        return t
    s = t.sort_values(["id", "frame"], kind="stable")
    tid = s["id"].to_numpy()
    fr = s["frame"].to_numpy()
    x, y, w, h = (s[c].to_numpy() for c in ("x", "y", "w", "h"))
    score = s["score"].to_numpy()
    if np.any((tid[1:] == tid[:-1]) & (fr[1:] == fr[:-1])):
        raise ValueError("a track has two boxes in the same frame")
    cx, cy = x + w / 2, y + h / 2

    step = fr[1:] - fr[:-1]
    gap = step - 1
    fill = (tid[1:] == tid[:-1]) & (gap > 0)
    if max_gap is not None:
        fill &= gap <= max_gap
    a = np.flatnonzero(fill)  # row a is followed (in the same track) by row a + 1
    if len(a) == 0:
        return t
    n_new = gap[a]
    src = np.repeat(a, n_new)
    # k = 1..n_new within each gap
    k = np.arange(len(src)) - np.repeat(np.cumsum(n_new) - n_new, n_new) + 1
    frac = k / step[src]

    def lerp(v: np.ndarray) -> np.ndarray:
        return v[src] + frac * (v[src + 1] - v[src])

    ncx, ncy, nw, nh = lerp(cx), lerp(cy), lerp(w), lerp(h)
    new = pd.DataFrame({
        "frame": fr[src] + k, "id": tid[src], "x": ncx - nw / 2, "y": ncy - nh / 2, "w": nw, "h": nh,
        "score": np.minimum(score[src], score[src + 1]),
    })
    return _sorted(pd.concat([t, new], ignore_index=True))


def finish_tracks(tracks: pd.DataFrame, tc, fps: float, candidates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The post-processing, in order, as ``tc`` (a ``TrackerConfig``) sets it: tracks of fewer than
    ``tc.min_track_len`` boxes dropped (lgmot's tracker has already applied it: the same result),
    low-score recovery from ``candidates`` (DET_COLUMNS; None or empty: nothing to recover) when
    ``tc.recover``, crossing repair when ``tc.untangle``, interpolation of the gaps when ``tc.interpolate``, smoothing ``tc.smooth``.
    Any tracker's output table can go through it (the benchmarks give the peers' the same)."""
    from .recover import recover_low_score
    from .smooth import smooth_tracks

    if tc.min_track_len > 1:
        tracks = drop_short(tracks, tc.min_track_len)
    if tc.recover and candidates is not None and len(candidates):
        tracks = recover_low_score(tracks, candidates, tc.recover_min_iou, tc.recover_extrapolate)
    if tc.untangle:
        from .untangle import untangle_crossings

        tracks = untangle_crossings(tracks, tc.untangle_ratio, tc.untangle_near, tc.untangle_window)
    if tc.interpolate:
        tracks = interpolate(tracks, max_gap_frames(tc.interpolate_max_gap_s, fps))
    if tc.smooth != "none":
        tracks = smooth_tracks(tracks, tc.smooth, tc.smooth_scale, tc.smooth_noise)
    return _sorted(tracks)
