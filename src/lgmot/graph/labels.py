"""Edge labels for training, flow formulation (A.8)."""
from __future__ import annotations

import numpy as np

from ..config import check_loss_ignore
from .tracklets import Tracklets


def edge_labels(t: Tracklets, edges: np.ndarray) -> np.ndarray:
    """(E,) float32: 1 for u -> v when both have the same gt id != -1 and, among the given
    edges, v is u's closest same-id successor or u is v's closest same-id predecessor.

    "Closest" is measured among the edges passed in (pruned ones cannot be chosen), by
    start frame of the successor / end frame of the predecessor; ties are all positive.
    """
    e = edges.shape[0]
    if e == 0:
        return np.zeros(0, dtype=np.float32)
    u, v = edges[:, 0], edges[:, 1]
    gu = t.gt_id[u]
    same = (gu == t.gt_id[v]) & (gu != -1)
    su, sv = u[same], v[same]
    n = t.n_nodes
    big = np.iinfo(np.int64).max
    first_after = np.full(n, big, dtype=np.int64)
    np.minimum.at(first_after, su, t.start_frame[sv])
    last_before = np.full(n, -big, dtype=np.int64)
    np.maximum.at(last_before, sv, t.end_frame[su])
    pos = (t.start_frame[sv] == first_after[su]) | (t.end_frame[su] == last_before[sv])
    out = np.zeros(e, dtype=np.float32)
    out[np.flatnonzero(same)[pos]] = 1.0
    return out


def loss_mask(t: Tracklets, edges: np.ndarray, labels: np.ndarray, ignore: tuple[str, ...] = ()) -> np.ndarray:
    """(E,) bool: the edges that count in the loss. ``ignore`` may name

    - ``"skip"``: negative edges between two nodes of the same identity (a closer node of that
      identity lies between them). The flow formulation calls them negative, but selecting one is
      only wrong when the chain through the closer node is not selected, which the rounding decides.
    - ``"fp_pair"``: edges whose endpoints both match no GT box. Linking two false positives
      changes no association metric, but the linked boxes then pass the minimum track length and
      get interpolated, which costs MOTA (``docs/accuracy.md``).
    """
    check_loss_ignore(ignore)
    keep = np.ones(edges.shape[0], dtype=bool)
    if edges.shape[0] == 0:
        return keep
    gu, gv = t.gt_id[edges[:, 0]], t.gt_id[edges[:, 1]]
    neg = labels < 0.5
    if "skip" in ignore:
        keep &= ~(neg & (gu == gv) & (gu != -1))
    if "fp_pair" in ignore:
        keep &= ~((gu == -1) & (gv == -1))
    return keep
