"""Crossing repair: swap the continuations of two tracks that met, where their motion says the
identities crossed over (a post-processing step for any tracker's output; not in the reference).

Two people who walk past each other are close for a few frames, and a tracker that links by
position there (lgmot's level 0 has no motion, an online tracker's motion model can drift) may
hand each one's continuation to the other. Offline, the motion before and after the meeting is
known: for each *contact* of two tracks (a run of frames where their feet are within ``near``
box heights of each other), a constant-velocity line is fitted to each track's last ``window``
boxes before the contact and to its first ``window`` boxes after it, each fit predicts the other
side, and the prediction errors (in box heights) of the two pairings are compared: as linked
(A before -> A after, B -> B) and crossed (A before -> B after, B -> A). Where the crossed pairing
costs less than ``ratio`` times the linked one, the tracks exchange everything after the
contact's closest frame. The best such swap is made first, then the contacts are scored again,
until none qualifies.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: boxes each side of a contact must have on both tracks for the contact to be judged
MIN_SIDE = 3
#: a contact is judged only when both tracks have a box within this many frames of it on each side
MAX_GAP = 30


def _line_error(fa: np.ndarray, pa: np.ndarray, fb: np.ndarray, pb: np.ndarray) -> float:
    """Mean distance between the points ``pb`` (K, 2) at frames ``fb`` and the constant-velocity
    least-squares line through ``pa`` (L, 2) at frames ``fa``."""
    t = fa - fa.mean()
    denom = float(t @ t)
    vel = (t @ (pa - pa.mean(0))) / denom if denom > 0 else np.zeros(2)
    pred = pa.mean(0) + (fb - fa.mean())[:, None] * vel
    return float(np.linalg.norm(pred - pb, axis=1).mean())


def _close_pairs(frame: np.ndarray, tid: np.ndarray, feet: np.ndarray, h: np.ndarray, near: float) -> np.ndarray:
    """(K, 4) int64 rows (id_a, id_b, frame, distance in mean heights x 1e6) for every frame where
    two tracks' feet are closer than ``near`` times their mean height; id_a < id_b, sorted by
    (id_a, id_b, frame)."""
    out = []
    bounds = np.flatnonzero(np.diff(frame)) + 1
    for rows in np.split(np.arange(len(frame)), bounds):
        if len(rows) < 2:
            continue
        p = feet[rows]
        d = np.linalg.norm(p[:, None] - p[None], axis=2) / ((h[rows][:, None] + h[rows][None]) / 2)
        i, j = np.nonzero(np.triu(d < near, 1))
        if len(i):
            a, b = tid[rows[i]], tid[rows[j]]
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            out.append(np.column_stack([lo, hi, frame[rows[i]], np.round(d[i, j] * 1e6).astype(np.int64)]))
    if not out:
        return np.zeros((0, 4), np.int64)
    c = np.concatenate(out)
    return c[np.lexsort((c[:, 2], c[:, 1], c[:, 0]))]


def untangle_crossings(tracks: pd.DataFrame, ratio: float = 0.7, near: float = 0.5, window: int = 5) -> pd.DataFrame:
    """``tracks`` (frame, id, x, y, w, h, ...; one box per id and frame) with crossed identities
    swapped back (module docstring). Boxes are unchanged; only ``id`` moves between them."""
    if not 0 < ratio <= 1 or near <= 0 or window < 2:
        raise ValueError("untangle needs 0 < ratio <= 1, near > 0 and window >= 2")
    if len(tracks) == 0:
        return tracks
    t = tracks.sort_values(["frame", "id"], kind="stable").reset_index(drop=True)
    frame = t["frame"].to_numpy(np.int64)
    tid = t["id"].to_numpy(np.int64).copy()
    h = t["h"].to_numpy(np.float64)
    feet = np.column_stack([t["x"].to_numpy(np.float64) + t["w"].to_numpy(np.float64) / 2,
                            t["y"].to_numpy(np.float64) + h])
    judged: set = set()  # contacts already swapped: each is judged once
    while True:
        best = _best_swap(frame, tid, feet, h, ratio, near, window, judged)
        if best is None:
            break
        a, b, split, contact = best
        judged.add(contact)
        after = frame > split
        ia, ib = after & (tid == a), after & (tid == b)
        tid[ia], tid[ib] = b, a
    out = t.copy()
    out["id"] = tid.astype(t["id"].dtype)
    return out


def _best_swap(frame, tid, feet, h, ratio: float, near: float, window: int, judged: set):
    """(id_a, id_b, last frame before the swap, contact) of the contact not in ``judged`` whose
    crossed pairing gains most over the linked one (and costs under ``ratio`` of it), or None."""
    pairs = _close_pairs(frame, tid, feet, h, near)
    if len(pairs) == 0:
        return None
    rows_of = {}
    order = np.lexsort((frame, tid))
    ids, starts = np.unique(tid[order], return_index=True)
    for i, s, e in zip(ids, starts, [*starts[1:], len(order)]):
        rows_of[int(i)] = order[s:e]  # the track's rows in frame order
    best, best_gain = None, 0.0
    key = pairs[:, 0] * (tid.max() + 1) + pairs[:, 1]
    cuts = np.flatnonzero((np.diff(key) != 0) | (np.diff(pairs[:, 2]) > window)) + 1
    for run in np.split(np.arange(len(pairs)), cuts):
        a, b = int(pairs[run[0], 0]), int(pairs[run[0], 1])
        t0, t1 = int(pairs[run[0], 2]), int(pairs[run[-1], 2])
        if (a, b, t0, t1) in judged:
            continue
        sides = []
        for i in (a, b):
            r = rows_of[i]
            fr = frame[r]
            before, after = r[fr < t0][-window:], r[fr > t1][:window]
            if min(len(before), len(after)) < MIN_SIDE or t0 - frame[before[-1]] > MAX_GAP \
                    or frame[after[0]] - t1 > MAX_GAP:
                break
            sides.append((before, after))
        if len(sides) < 2:
            continue
        (ab, aa), (bb, ba) = sides
        scale = float(np.mean(h[np.concatenate([ab, aa, bb, ba])]))

        def cost(x, y):  # x's fit predicting y, and y's fit predicting x, in box heights
            return (_line_error(frame[x], feet[x], frame[y], feet[y])
                    + _line_error(frame[y], feet[y], frame[x], feet[x])) / scale

        linked = cost(ab, aa) + cost(bb, ba)
        crossed = cost(ab, ba) + cost(bb, aa)
        if crossed < ratio * linked and linked - crossed > best_gain:
            closest = run[np.argmin(pairs[run, 3])]
            best, best_gain = (a, b, int(pairs[closest, 2]), (a, b, t0, t1)), linked - crossed
    return best
