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
    # K (K + s I)^-1 r = r - s (K + s I)^-1 r: one solve, no product with K. K + s I is symmetric
    # positive definite; on evenly spaced frames (every track after interpolation) it is also
    # Toeplitz, which Levinson recursion solves in O(n^2) instead of O(n^3).
    from scipy.linalg import cho_factor, cho_solve, solve_toeplitz

    step = np.diff(t)
    if len(step) and np.all(step == step[0]):
        col = np.exp(-0.5 * ((t - t[0]) / scale) ** 2)
        col[0] += noise
        alpha = solve_toeplitz(col, r)
    else:
        d = (t[:, None] - t[None, :]) / scale
        a = np.exp(-0.5 * d * d)
        a[np.diag_indices_from(a)] += noise
        alpha = cho_solve(cho_factor(a, lower=True, check_finite=False), r, check_finite=False)
    return r - noise * alpha


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


def smooth_series(method: str, t: np.ndarray, v: np.ndarray, scale: float, noise: float) -> np.ndarray:
    """One track's (n, k) values ``v`` at frames ``t``, smoothed by ``method`` ('gp' | 'savgol' | 'none')."""
    if method == "gp":
        return gp_smooth(t, v, scale, noise)
    if method == "savgol":
        return savgol_smooth(t, v, int(round(scale)))
    return np.asarray(v, np.float64).copy()


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
            v[lo:hi] = smooth_series(method, fr[lo:hi], v[lo:hi], scale, noise)
        w_s, h_s = np.maximum(v[:, 2], 1e-3), np.maximum(v[:, 3], 1e-3)
        t["x"], t["y"], t["w"], t["h"] = v[:, 0] - w_s / 2, v[:, 1] - h_s / 2, w_s, h_s
    return t.sort_values(["frame", "id"], kind="stable").reset_index(drop=True)


class FixedLagSmoother:
    """Track smoothing for a stream: the boxes of frame ``f`` are output when frame ``f + lag`` has
    arrived, each smoothed (as :func:`smooth_tracks`) over its track's boxes in frames
    ``f - history .. f + lag``. With ``lag`` and ``history`` at least a track's length the result is
    :func:`smooth_tracks`'s; a short ``lag`` trades the end of each window's look-ahead for delay.

    ``push(frame, rows)`` takes one frame's rows (``x1, y1, x2, y2, id, ...``; with ``xywh`` the
    first four columns are ``x, y, w, h``), frames in increasing order (numbers may skip), and
    returns ``[(frame number, smoothed rows)]`` for every held frame up to ``frame - lag``;
    :meth:`flush` returns the rest. Every column but the box is passed through unchanged.
    """

    def __init__(self, lag: int, method: str = "gp", scale: float = 10.0, noise: float = 1.0,
                 history: int | None = None, xywh: bool = False):
        if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 0:
            raise ValueError(f"smoothing lag must be a whole number of frames >= 0, got {lag!r}")
        if method not in SMOOTHERS:
            raise ValueError(f"unknown smoother {method!r}; choose from {list(SMOOTHERS)}")
        self.lag, self.method, self.scale, self.noise = int(lag), method, float(scale), float(noise)
        # the squared-exponential kernel is below 1e-4 beyond 4.3 length scales
        self.history = int(history) if history is not None else max(int(np.ceil(4.3 * self.scale)), self.lag)
        self.xywh = xywh
        self._pending: dict[int, np.ndarray] = {}
        self._tracks: dict[int, tuple[list, list]] = {}  # id -> (frames, (cx, cy, w, h) rows)
        self._last = 0

    def push(self, frame: int, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Add frame ``frame``'s rows; return [(frame number, smoothed rows)] of the frames now due."""
        if frame <= self._last:
            raise ValueError(f"frames must arrive in increasing order: {frame} after {self._last}")
        self._last = frame
        rows = np.asarray(rows, np.float64)
        if rows.ndim != 2 or rows.shape[1] < 5:
            raise ValueError(f"rows must be an N x 5+ array (box, id, ...), got shape {rows.shape}")
        self._pending[frame] = rows
        for v, i in zip(self._centre_size(rows), rows[:, 4].astype(np.int64).tolist()):
            fr, vals = self._tracks.setdefault(i, ([], []))
            fr.append(frame)
            vals.append(v)
        return [self._emit(f) for f in sorted(self._pending) if f <= frame - self.lag]

    def flush(self) -> list[tuple[int, np.ndarray]]:
        """The frames not output yet, smoothed with what has arrived; then a new stream starts."""
        out = [self._emit(f) for f in sorted(self._pending)]
        self._tracks.clear()
        self._last = 0
        return out

    def _centre_size(self, rows: np.ndarray) -> np.ndarray:
        if self.xywh:
            x, y, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        else:
            x, y, w, h = rows[:, 0], rows[:, 1], rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]
        return np.column_stack([x + w / 2, y + h / 2, w, h])

    def _emit(self, f: int) -> tuple[int, np.ndarray]:
        rows = self._pending.pop(f)
        if self.method != "none" and len(rows):
            rows = rows.copy()
            for r, i in enumerate(rows[:, 4].astype(np.int64).tolist()):
                fr, vals = self._tracks[i]
                t = np.asarray(fr)
                sel = (t >= f - self.history) & (t <= f + self.lag)
                ts = t[sel]
                est = smooth_series(self.method, ts, np.asarray(vals)[sel], self.scale, self.noise)
                cx, cy, w, h = est[np.searchsorted(ts, f)]
                w, h = max(w, 1e-3), max(h, 1e-3)
                x, y = cx - w / 2, cy - h / 2
                rows[r, :4] = (x, y, w, h) if self.xywh else (x, y, x + w, y + h)
        self._forget(f)
        return f, rows

    def _forget(self, f: int) -> None:
        """Drop what no later frame's window reaches: boxes older than ``f + 1 - history``."""
        keep_from = f + 1 - self.history
        for i in list(self._tracks):
            fr, vals = self._tracks[i]
            n = int(np.searchsorted(fr, keep_from))
            if n:
                del fr[:n], vals[:n]
            if not fr:
                del self._tracks[i]


def fixed_lag_smooth(tracks: pd.DataFrame, lag: int, method: str = "gp", scale: float = 10.0, noise: float = 1.0,
                     history: int | None = None) -> pd.DataFrame:
    """:class:`FixedLagSmoother` over a whole tracks table (TRACK_COLUMNS): what a stream would have
    output with ``lag`` frames of delay. Returns the table sorted by frame, then id."""
    t = typed(tracks, TRACK_COLUMNS).sort_values(["frame", "id"], kind="stable").reset_index(drop=True)
    if method == "none" or not len(t):
        return t
    sm = FixedLagSmoother(lag, method, scale, noise, history, xywh=True)
    a = np.column_stack([t[["x", "y", "w", "h"]].to_numpy(np.float64), t.id.to_numpy(np.float64),
                         np.arange(len(t), dtype=np.float64)])
    fr = t.frame.to_numpy()
    bounds = np.flatnonzero(np.r_[True, fr[1:] != fr[:-1], True])
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        out += sm.push(int(fr[lo]), a[lo:hi])
    out += sm.flush()
    rows = np.concatenate([r for _, r in out])
    idx = rows[:, 5].astype(np.int64)
    t.loc[idx, ["x", "y", "w", "h"]] = rows[:, :4]
    return t
