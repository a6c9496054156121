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


def _close_rows(frame: np.ndarray, feet: np.ndarray, h: np.ndarray, near: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row pairs (i, j), i < j, of boxes in the same frame (``frame`` sorted) whose feet are closer
    than ``near`` times their mean height, and that distance."""
    rows_i, rows_j = [], []
    n = len(frame)
    for k in range(1, n):  # row r against row r + k of the same frame, for every r at once
        r = np.flatnonzero(frame[:n - k] == frame[k:])
        if len(r) == 0:
            break
        rows_i.append(r)
        rows_j.append(r + k)
    if not rows_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    i, j = np.concatenate(rows_i), np.concatenate(rows_j)
    d = np.linalg.norm(feet[i] - feet[j], axis=1) / ((h[i] + h[j]) / 2)
    keep = d < near
    return i[keep], j[keep], d[keep]


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
    # which boxes are close never changes (only their ids do), so the pairs are found once
    ri, rj, dist = _close_rows(frame, feet, h, near)
    if len(ri) == 0:
        return t
    judged: set = set()  # contacts already swapped: each is judged once
    scored: dict = {}  # contact -> (gain, split) or None, until a swap touches one of its tracks
    while True:
        best = None
        for contact, run in _contacts(frame, tid, ri, rj, window):
            if contact in judged:
                continue
            if contact not in scored:
                scored[contact] = _judge(contact, run, frame, tid, feet, h, ri, dist, ratio, window)
            res = scored[contact]
            if res is not None and (best is None or res[0] > best[0]):
                best = (res[0], res[1], contact)
        if best is None:
            break
        _, split, contact = best
        a, b = contact[0], contact[1]
        judged.add(contact)
        after = frame > split
        ia, ib = after & (tid == a), after & (tid == b)
        tid[ia], tid[ib] = b, a
        scored = {c: v for c, v in scored.items() if a not in c[:2] and b not in c[:2]}
    out = t.copy()
    out["id"] = tid.astype(t["id"].dtype)
    return out


def _contacts(frame, tid, ri, rj, window: int):
    """(contact (id_a, id_b, first frame, last frame), its entries into ri / rj) per contact under
    the current ids: runs of close frames of a pair with gaps of at most ``window`` frames."""
    a, b = tid[ri], tid[rj]
    lo, hi, f = np.minimum(a, b), np.maximum(a, b), frame[ri]
    order = np.lexsort((f, hi, lo))
    lo, hi, f = lo[order], hi[order], f[order]
    cuts = np.flatnonzero((lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1]) | (f[1:] - f[:-1] > window)) + 1
    for run in np.split(np.arange(len(order)), cuts):
        yield (int(lo[run[0]]), int(hi[run[0]]), int(f[run[0]]), int(f[run[-1]])), order[run]


def _judge(contact, entries, frame, tid, feet, h, ri, dist, ratio: float, window: int):
    """(gain, last frame before the swap) when the crossed pairing of ``contact`` costs under
    ``ratio`` times the linked one (gain: linked - crossed cost), else None."""
    a, b, t0, t1 = contact
    sides = []
    for i in (a, b):
        r = np.flatnonzero(tid == i)  # the track's rows, in frame order
        fr = frame[r]
        before, after = r[fr < t0][-window:], r[fr > t1][:window]
        if min(len(before), len(after)) < MIN_SIDE or t0 - frame[before[-1]] > MAX_GAP \
                or frame[after[0]] - t1 > MAX_GAP:
            return None
        sides.append((before, after))
    (ab, aa), (bb, ba) = sides
    scale = float(np.mean(h[np.concatenate([ab, aa, bb, ba])]))

    def cost(x, y):  # x's fit predicting y, and y's fit predicting x, in box heights
        return (_line_error(frame[x], feet[x], frame[y], feet[y])
                + _line_error(frame[y], feet[y], frame[x], feet[x])) / scale

    linked = cost(ab, aa) + cost(bb, ba)
    crossed = cost(ab, ba) + cost(bb, aa)
    if crossed >= ratio * linked:
        return None
    closest = entries[np.argmin(dist[entries])]
    return linked - crossed, int(frame[ri[closest]])
