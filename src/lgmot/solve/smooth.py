"""Track smoothing: each track's centre, width and height as functions of the frame number are
replaced by a smoothed estimate, to take the detector's jitter out of the boxes.

Two smoothers, both exact on a track moving at constant velocity with a constant size:

- ``gp``: Gaussian-process regression in the spirit of StrongSORT++'s GSI (Du et al., 2023), with
  an explicit linear mean: each coordinate is fitted by a straight line in time (least squares),
  and its residuals by the posterior mean of a GP with the squared-exponential kernel
  ``exp(-(t - t')^2 / (2 l^2))`` (length scale ``l`` frames) and observation noise ``noise``
  (variance, relative to the kernel's unit variance): ``r_hat = K (K + noise I)^-1 r``. Frames
  need not be contiguous.
- ``savgol``: a Savitzky-Golay filter (``scipy.signal.savgol_filter``, quadratic, window
  ``2 * round(l) + 1`` frames) over each run of consecutive frames.

A pure function over a tracks table (``TRACK_COLUMNS``), like the rest of :mod:`lgmot.solve`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.schema import TRACK_COLUMNS, typed

SMOOTHERS = ("none", "gp", "savgol")
#: the GP works on blocks of at most this many boxes (overlapping by a quarter), so that a long
#: track costs O(n) and not O(n^3); the kernel is negligible across a block's overlap for l << 256
GP_BLOCK = 1024


def _gp_residual(t: np.ndarray, r: np.ndarray, scale: float, noise: float) -> np.ndarray:
    d = (t[:, None] - t[None, :]) / scale
    k = np.exp(-0.5 * d * d)
    a = k + noise * np.eye(len(t))
    return k @ np.linalg.solve(a, r)


def gp_smooth(t: np.ndarray, v: np.ndarray, scale: float, noise: float) -> np.ndarray:
    """GP posterior mean of the columns of ``v`` (n, k) observed at times ``t`` (n,): linear mean fitted
    by least squares, squared-exponential kernel of length scale ``scale``, noise variance ``noise``."""
    t = np.asarray(t, np.float64)
    v = np.asarray(v, np.float64)
    if len(t) < 3 or noise <= 0:
        return v.copy()
    tc = t - t.mean()
    basis = np.column_stack([np.ones_like(tc), tc])
    coef, *_ = np.linalg.lstsq(basis, v, rcond=None)
    line = basis @ coef
    r = v - line
    n = len(t)
    if n <= GP_BLOCK:
        return line + _gp_residual(t, r, scale, noise)
    # overlapping blocks; each box takes the estimate of the block where it is farthest from an inner edge
    out = np.empty_like(r)
    best = np.full(n, -1.0)
    step = GP_BLOCK * 3 // 4
    starts = sorted(set(list(range(0, n - GP_BLOCK, step)) + [n - GP_BLOCK]))
    idx = np.arange(n, dtype=np.float64)
    for s in starts:
        e = s + GP_BLOCK
        est = _gp_residual(t[s:e], r[s:e], scale, noise)
        i = idx[s:e]
        dist = np.minimum(i - s if s > 0 else np.inf, e - 1 - i if e < n else np.inf)
        take = dist > best[s:e]
        out[s:e][take] = est[take]
        best[s:e][take] = dist[take]
    return line + out


def savgol_smooth(t: np.ndarray, v: np.ndarray, half_window: int) -> np.ndarray:
    """Savitzky-Golay (quadratic) over each run of consecutive frames of ``t``, window
    ``2 * half_window + 1`` (shortened to the run's odd length; runs under 4 frames unchanged)."""
    from scipy.signal import savgol_filter

    t = np.asarray(t)
    v = np.asarray(v, np.float64)
    out = v.copy()
    cuts = np.flatnonzero(np.diff(t) != 1) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(t)]):
        n = hi - lo
        win = min(2 * int(half_window) + 1, n if n % 2 else n - 1)
        if win < 4:
            continue
        out[lo:hi] = savgol_filter(v[lo:hi], win, 2, axis=0, mode="interp")
    return out


def smooth_tracks(tracks: pd.DataFrame, method: str = "gp", scale: float = 10.0, noise: float = 1.0) -> pd.DataFrame:
    """Smooth every track of ``tracks`` (TRACK_COLUMNS): centre x, centre y, width and height
    against the frame number, with ``method`` 'gp' (length scale ``scale`` frames, relative noise
    variance ``noise``), 'savgol' (half window ``round(scale)`` frames) or 'none'. Frames, ids and
    scores are unchanged. Returns the table sorted by frame, then id."""
    if method not in SMOOTHERS:
        raise ValueError(f"unknown smoother {method!r}; choose from {list(SMOOTHERS)}")
    t = typed(tracks, TRACK_COLUMNS).sort_values(["id", "frame"], kind="stable").reset_index(drop=True)
    if method != "none" and len(t):
        fr = t.frame.to_numpy()
        tid = t.id.to_numpy()
        x, y, w, h = (t[c].to_numpy() for c in ("x", "y", "w", "h"))
        v = np.column_stack([x + w / 2, y + h / 2, w, h])
        bounds = np.flatnonzero(np.r_[True, tid[1:] != tid[:-1], True])
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            if method == "gp":
                v[lo:hi] = gp_smooth(fr[lo:hi], v[lo:hi], scale, noise)
            else:
                v[lo:hi] = savgol_smooth(fr[lo:hi], v[lo:hi], int(round(scale)))
        w_s, h_s = np.maximum(v[:, 2], 1e-3), np.maximum(v[:, 3], 1e-3)
        t["x"], t["y"], t["w"], t["h"] = v[:, 0] - w_s / 2, v[:, 1] - h_s / 2, w_s, h_s
    return t.sort_values(["frame", "id"], kind="stable").reset_index(drop=True)
