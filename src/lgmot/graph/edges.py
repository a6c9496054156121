"""Candidate edges inside temporal windows (A.3), pruning scores and reciprocal top-k (A.4)."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .tracklets import Tracklets

#: default cap on candidate edges materialised at once (whole windows are never split)
MAX_CANDIDATES = 2_000_000


def window_index(start_frame: np.ndarray, frames_per_window: int, clip_start: int) -> np.ndarray:
    """(N,) int64 ``floor((start_frame - clip_start) / frames_per_window)``."""
    if frames_per_window < 1:
        raise ValueError("frames per window must be >= 1")
    return (np.asarray(start_frame, np.int64) - int(clip_start)) // int(frames_per_window)


def _candidate_ranges(start: np.ndarray, end: np.ndarray, win: np.ndarray):
    """Per node u: its later partners are the contiguous node range [lo[u], hi[u])."""
    if start.size and np.any(np.diff(start) < 0):
        raise ValueError("nodes must be sorted by start frame")
    if np.any(end < start):
        raise ValueError("end_frame < start_frame")
    hi = np.searchsorted(win, win, side="right")  # end of u's window (win is sorted too)
    lo = np.minimum(np.searchsorted(start, end, side="right"), hi)
    return lo, hi


def iter_candidate_edges(
    start_frame: np.ndarray,
    end_frame: np.ndarray,
    frames_per_window: int,
    clip_start: int,
    max_candidates: int = MAX_CANDIDATES,
) -> Iterator[np.ndarray]:
    """Yield (E_c,2) int64 candidate edges, a group of whole windows at a time.

    Every u -> v in the same window with ``end_frame[u] < start_frame[v]``; nodes must be
    sorted by start frame, so u < v. Edges come out sorted by (u, v). A chunk holds whole
    windows and at most ``max_candidates`` edges unless a single window has more.
    """
    start = np.asarray(start_frame, np.int64)
    end = np.asarray(end_frame, np.int64)
    n = start.shape[0]
    if n == 0:
        return
    win = window_index(start, frames_per_window, clip_start)
    lo, hi = _candidate_ranges(start, end, win)
    count = hi - lo
    # windows are contiguous node ranges; group them into chunks under the edge budget
    w_first = np.flatnonzero(np.r_[True, win[1:] != win[:-1]])
    w_edges = np.add.reduceat(count, w_first)
    bounds = [0]
    acc = 0
    for i, e in enumerate(w_edges.tolist()):
        if acc and acc + e > max_candidates:
            bounds.append(int(w_first[i]))
            acc = 0
        acc += e
    bounds.append(n)
    for a, b in zip(bounds[:-1], bounds[1:]):
        c = count[a:b]
        total = int(c.sum())
        if total == 0:
            continue
        rows = np.repeat(np.arange(a, b, dtype=np.int64), c)
        offs = np.cumsum(c) - c
        cols = lo[rows] + (np.arange(total, dtype=np.int64) - np.repeat(offs, c))
        yield np.stack([rows, cols], axis=1)


def candidate_edges(start_frame, end_frame, frames_per_window: int, clip_start: int) -> np.ndarray:
    """All candidate edges (E,2) int64 at once (for small graphs and tests)."""
    parts = list(iter_candidate_edges(start_frame, end_frame, frames_per_window, clip_start))
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)


def _radix_argsort(keys: np.ndarray, bits: int) -> np.ndarray:
    """Stable argsort of non-negative integer ``keys`` below ``2**bits``.

    LSD radix sort on 16-bit digits: numpy's stable sort of uint16 is a counting sort, so each
    pass is linear; digits that are the same for every key are skipped. Small inputs use
    ``np.argsort(kind='stable')`` directly (same order).
    """
    n = keys.shape[0]
    if n < 4096:
        return np.argsort(keys, kind="stable")
    keys = keys.astype(np.uint64, copy=False)
    perm = None
    for shift in range(0, bits, 16):
        digit = ((keys >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.uint16)
        if digit.min() == digit.max():
            continue
        if perm is None:
            perm = np.argsort(digit, kind="stable")
        else:
            perm = perm[np.argsort(digit[perm], kind="stable")]
    return np.arange(n, dtype=np.int64) if perm is None else perm.astype(np.int64, copy=False)


def _float_order_keys(s: np.ndarray) -> np.ndarray:
    """uint64 keys with the order of the float64 values ``s`` (no NaN; -0.0 counts as 0.0)."""
    b = np.where(s == 0.0, 0.0, s).astype(np.float64).view(np.uint64)
    neg = (b >> np.uint64(63)).astype(bool)
    return np.where(neg, ~b, b | np.uint64(1 << 63))


def reciprocal_topk(edges: np.ndarray, scores: np.ndarray, n_nodes: int, k: int) -> np.ndarray:
    """(E,) bool: edge is among the ``k`` lowest-score incident edges of both endpoints.

    Ties are broken by edge position (earlier edge wins); NaN scores rank last.
    """
    e = edges.shape[0]
    if e == 0:
        return np.zeros(0, dtype=bool)
    s = np.asarray(scores, np.float64)
    s = np.where(np.isnan(s), np.inf, s)
    # edges by (score, position) with one stable sort; then both endpoint entries of every edge,
    # stably by node: each node's incident edges end up contiguous and in (score, position) order
    by_score = _radix_argsort(_float_order_keys(s), 64)
    nodes = edges[by_score].reshape(-1)  # u0, v0, u1, v1, ... in score order
    node_bits = max(1, int(n_nodes - 1).bit_length())
    srt = _radix_argsort(nodes, node_bits)
    degree = np.bincount(nodes, minlength=n_nodes)
    group_start = np.cumsum(degree) - degree
    in_topk = (np.arange(2 * e) - np.repeat(group_start, degree)) < k
    hits = np.bincount(by_score[srt[in_topk] >> 1], minlength=e)
    return hits == 2


def app_distance(
    app: np.ndarray,
    edges: np.ndarray,
    metric: str = "l2",
    block_bytes: int = 64 << 20,
) -> np.ndarray:
    """(E,) float64 appearance distance per edge: ``'l2'`` or ``'cos'`` (2 - cosine).

    Edges are taken in blocks of consecutive rows. A dense block (most row/column pairs are
    edges, as with candidates inside a window) goes through one Gram matmul over its node
    ranges; a sparse block (pruned edges) is computed pair by pair. Memory per block stays
    around ``block_bytes``. Edges sorted by first node (as produced here) make blocks dense.
    """
    if metric not in ("l2", "cos"):
        raise ValueError(f"unknown edge similarity {metric!r}")
    e = edges.shape[0]
    out = np.zeros(e, dtype=np.float64)
    if e == 0 or app.shape[1] == 0:
        return out if metric == "l2" else out + 1.0
    rows, cols = edges[:, 0], edges[:, 1]
    sq = np.einsum("ij,ij->i", app, app, dtype=np.float64)
    step = max(1, min(4096, block_bytes // (8 * app.shape[1])))
    i = 0
    while i < e:
        # grow the block `step` edges at a time while its Gram stays small and dense enough
        r_lo = r_hi = int(rows[i])
        c_lo = c_hi = int(cols[i])
        j = i
        while j < e:
            j_new = min(e, j + step)
            rl, rh = min(r_lo, int(rows[j:j_new].min())), max(r_hi, int(rows[j:j_new].max()))
            cl, ch = min(c_lo, int(cols[j:j_new].min())), max(c_hi, int(cols[j:j_new].max()))
            cells = (rh - rl + 1) * (ch - cl + 1)
            if j > i and (cells * 8 > block_bytes or cells > 8 * (j_new - i)):
                break
            r_lo, r_hi, c_lo, c_hi, j = rl, rh, cl, ch, j_new
        r, c = rows[i:j], cols[i:j]
        if (r_hi - r_lo + 1) * (c_hi - c_lo + 1) <= 8 * (j - i):
            g = app[r_lo:r_hi + 1].astype(np.float64) @ app[c_lo:c_hi + 1].astype(np.float64).T
            dot = g[r - r_lo, c - c_lo]
        else:
            dot = np.einsum("ij,ij->i", app[r], app[c], dtype=np.float64)
        if metric == "l2":
            out[i:j] = np.sqrt(np.maximum(sq[r] + sq[c] - 2.0 * dot, 0.0))
        else:
            den = np.sqrt(sq[r] * sq[c])
            out[i:j] = 2.0 - np.divide(dot, den, out=np.zeros_like(dot), where=den > 0)
        i = j
    return out


def parse_pruning(method: str) -> tuple[str, float]:
    """``'geometry'`` -> ('geometry', 0); ``'motion_005'`` -> ('motion', 0.05); ``'reid'``."""
    if method in ("geometry", "reid"):
        return method, 0.0
    if method.startswith("motion_"):
        digits = method[len("motion_"):]
        if not digits.isdigit():
            raise ValueError(f"bad pruning method {method!r}")
        # the digits are read with a decimal point after the first one: '005' -> 0.05
        return "motion", float(digits[0] + "." + digits[1:])
    raise ValueError(f"unknown pruning method {method!r} (geometry, reid, motion_XXX)")


def pruning_scores(
    t: Tracklets,
    edges: np.ndarray,
    method: str,
    motion_giou: np.ndarray | None = None,
    app_l2: np.ndarray | None = None,
) -> np.ndarray:
    """(E,) float64 pruning score (lower = better), A.4.

    - ``geometry``: L2 distance between feet(end box of u) and feet(start box of v).
    - ``reid``: L2 appearance distance.
    - ``motion_XXX``: ``2 - (w * GIoU_motion + (1 - w) * exp(-d_app / 20))``. When either
      endpoint has no appearance the appearance term is meaningless, so the score becomes
      ``2 - GIoU_motion`` (motion only, same range as the full score at its best end).
    """
    kind, w = parse_pruning(method)
    u, v = edges[:, 0], edges[:, 1]
    if kind == "geometry":
        return np.linalg.norm(t.end_feet[u] - t.start_feet[v], axis=1)
    if app_l2 is None:
        app_l2 = app_distance(t.app, edges, "l2")
    both = t.has_app[u] & t.has_app[v]
    if kind == "reid":
        return np.where(both, app_l2, np.inf)
    if motion_giou is None:
        raise ValueError("motion pruning needs the motion GIoU of the edges")
    mixed = w * motion_giou + (1.0 - w) * np.exp(-app_l2 / 20.0)
    return 2.0 - np.where(both, mixed, motion_giou)
