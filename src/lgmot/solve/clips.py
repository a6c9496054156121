"""Overlapping clips and the stitching of their track IDs (reference A.1 step 3, A.9)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

CLIP_COLUMNS = ["det_id", "frame", "label"]
STITCHED_COLUMNS = ["det_id", "frame", "id"]


def clip_ranges(first_frame: int, last_frame: int, clip_len: int, overlap: float = 0.5) -> list[tuple[int, int]]:
    """Inclusive (start, end) frame ranges of clip_len frames covering [first_frame, last_frame].

    The next clip starts at the frame at position -round(overlap * clip_len) of the current one
    (Python's round: half to even), i.e. the stride is clip_len - round(overlap * clip_len).
    The last clip is cut at last_frame.
    """
    if clip_len < 1:
        raise ValueError("clip_len must be >= 1")
    if not 0.0 <= overlap < 1.0:
        raise ValueError("overlap must be in [0, 1)")
    stride = clip_len - round(overlap * clip_len)
    if stride < 1:
        raise ValueError(f"overlap {overlap} leaves no stride for clips of {clip_len} frames")
    out: list[tuple[int, int]] = []
    start = int(first_frame)
    while start <= last_frame:
        end = min(start + clip_len - 1, int(last_frame))
        out.append((start, end))
        if end >= last_frame:
            break
        start += stride
    return out


def clip_slices(frames: np.ndarray, clip_len: int, overlap: float = 0.5) -> list[tuple[int, int, int]]:
    """(start frame, lo, hi) per clip of :func:`clip_ranges` over frame-sorted ``frames``: the clip's
    rows are ``lo:hi``. Clips without detections are left out."""
    if len(frames) == 0:
        return []
    out = []
    for start, end in clip_ranges(int(frames[0]), int(frames[-1]), clip_len, overlap):
        lo, hi = np.searchsorted(frames, [start, end + 1])
        if hi > lo:
            out.append((int(start), int(lo), int(hi)))
    return out


class Stitcher:
    """Joins per-clip labels into sequence-wide track IDs, one clip at a time.

    Right-clip labels are matched to the IDs of the previous clip by a Hungarian assignment
    maximising the number of shared detection IDs (pairs sharing none never match). Matched
    labels take the left ID, the others get fresh IDs (numbered by first emitted detection).
    Frames up to the previous clip's last frame keep the left assignment, so only the newer
    frames of each clip are emitted. Only the latest clip is kept in memory.
    """

    #: above this many (left id x right label) cells the matching is solved per connected
    #: group of overlapping tracks instead of on one dense matrix (bounded memory)
    max_dense_cells = 4_000_000

    def __init__(self, keep_output: bool = True) -> None:
        self.keep_output = keep_output
        self._prev_det = np.zeros(0, np.int64)  # latest clip's detections (sorted) ...
        self._prev_id = np.zeros(0, np.int64)  # ... and their final track IDs
        self._last_frame: int | None = None
        self._next_id = 0
        self._chunks: list[pd.DataFrame] = []

    @property
    def n_ids(self) -> int:
        return self._next_id

    def add(self, clip: pd.DataFrame) -> pd.DataFrame:
        """Add the next clip (columns det_id, frame, label). Returns the rows it newly decides:
        a DataFrame det_id, frame, id for frames after the previous clip's last frame."""
        missing = [c for c in CLIP_COLUMNS if c not in clip.columns]
        if missing:
            raise ValueError(f"clip table lacks columns {missing}")
        det = clip["det_id"].to_numpy(np.int64)
        frame = clip["frame"].to_numpy(np.int64)
        label = clip["label"].to_numpy(np.int64)
        if len(np.unique(det)) != len(det):
            raise ValueError("a detection appears twice in one clip")

        matched_lab, matched_id = self._match(det, label)
        new = np.ones(len(det), bool) if self._last_frame is None else frame > self._last_frame
        order = np.flatnonzero(new)[np.lexsort((det[new], frame[new]))]
        ids = self._assign(label[order], matched_lab, matched_id)
        emitted = pd.DataFrame({"det_id": det[order], "frame": frame[order], "id": ids})

        # Final IDs of this clip's detections: left assignment in old frames, new ones after.
        old = ~new
        _, in_prev, in_clip = np.intersect1d(self._prev_det, det[old], assume_unique=True, return_indices=True)
        state_det = np.concatenate([det[old][in_clip], det[order]])
        state_id = np.concatenate([self._prev_id[in_prev], ids])
        srt = np.argsort(state_det, kind="stable")
        self._prev_det, self._prev_id = state_det[srt], state_id[srt]
        if len(frame):
            top = int(frame.max())
            self._last_frame = top if self._last_frame is None else max(self._last_frame, top)
        if self.keep_output:
            self._chunks.append(emitted)
        return emitted

    def result(self) -> pd.DataFrame:
        """All emitted rows (det_id, frame, id), sorted by frame then det_id."""
        if not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype=np.int64) for c in STITCHED_COLUMNS})
        return pd.concat(self._chunks, ignore_index=True)

    def _match(self, det: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Right labels matched to left IDs, as two aligned arrays sorted by label."""
        _, ip, ic = np.intersect1d(self._prev_det, det, assume_unique=True, return_indices=True)
        if len(ip) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        left_ids, li = np.unique(self._prev_id[ip], return_inverse=True)
        right_labs, ri = np.unique(label[ic], return_inverse=True)
        if len(left_ids) * len(right_labs) <= self.max_dense_cells:
            r, c = _assign_max_shared(li, ri, len(left_ids), len(right_labs))
        else:
            r, c = _assign_max_shared_sparse(li, ri, len(left_ids), len(right_labs))
        lab, gid = right_labs[c], left_ids[r]
        srt = np.argsort(lab)
        return lab[srt], gid[srt]

    def _assign(self, labels: np.ndarray, matched_lab: np.ndarray, matched_id: np.ndarray) -> np.ndarray:
        """Track IDs for labels given in emission order; unmatched labels get fresh IDs."""
        uniq, first, inv = np.unique(labels, return_index=True, return_inverse=True)
        out = np.empty(len(uniq), np.int64)
        is_matched = np.zeros(len(uniq), bool)
        if len(matched_lab):
            pos = np.minimum(np.searchsorted(matched_lab, uniq), len(matched_lab) - 1)
            is_matched = matched_lab[pos] == uniq
            out[is_matched] = matched_id[pos[is_matched]]
        fresh = np.flatnonzero(~is_matched)
        fresh = fresh[np.argsort(first[fresh], kind="stable")]  # numbered by first emitted row
        out[fresh] = self._next_id + np.arange(len(fresh))
        self._next_id += len(fresh)
        return out[inv].astype(np.int64)


def _assign_max_shared(li: np.ndarray, ri: np.ndarray, n_left: int, n_right: int) -> tuple[np.ndarray, np.ndarray]:
    """Hungarian assignment maximising shared detections; pairs sharing none are dropped."""
    shared = np.zeros((n_left, n_right), np.int64)
    np.add.at(shared, (li, ri), 1)
    r, c = linear_sum_assignment(-shared)
    ok = shared[r, c] > 0
    return r[ok], c[ok]


def _assign_max_shared_sparse(li: np.ndarray, ri: np.ndarray, n_left: int, n_right: int
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Same optimum as :func:`_assign_max_shared` without the dense (left x right) matrix.

    Only pairs that share a detection can be matched, so the assignment splits over the
    connected groups of the (left id, right label) sharing graph; each group is solved densely.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    pairs, counts = np.unique(np.stack([li, ri], axis=1), axis=0, return_counts=True)
    pl, pr = pairs[:, 0], pairs[:, 1]
    g = sp.coo_matrix((np.ones(len(pl), np.int8), (pl, n_left + pr)), shape=(n_left + n_right,) * 2)
    _, comp = connected_components(g, directed=False)
    pc = comp[pl]
    order = np.argsort(pc, kind="stable")
    bounds = np.flatnonzero(np.r_[True, pc[order][1:] != pc[order][:-1], True])
    rows, cols = [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        sel = order[a:b]
        ul, il = np.unique(pl[sel], return_inverse=True)
        ur, ir = np.unique(pr[sel], return_inverse=True)
        w = np.zeros((len(ul), len(ur)), np.int64)
        w[il, ir] = counts[sel]
        r, c = linear_sum_assignment(-w)
        ok = w[r, c] > 0
        rows.append(ul[r[ok]])
        cols.append(ur[c[ok]])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def stitch(clip_labels: list[pd.DataFrame]) -> pd.DataFrame:
    """Stitch consecutive clips' labels (det_id, frame, label) into det_id, frame, id rows."""
    s = Stitcher()
    for clip in clip_labels:
        s.add(clip)
    return s.result()
