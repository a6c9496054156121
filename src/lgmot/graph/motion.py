"""GIoU and the linear motion model used at levels >= 1 (A.7)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tracklets import Tracklets


def xywh_to_cxcywh(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2] + b[..., 2:] / 2.0, b[..., 2:]], axis=-1)


def giou(a: np.ndarray, b: np.ndarray, fmt: str = "xywh") -> np.ndarray:
    """Generalised IoU of aligned box pairs: ``a`` and ``b`` are (K,4), result (K,) float64.

    ``fmt`` is ``'xywh'`` (top-left corner) or ``'cxcywh'`` (centre). NaN inputs give NaN.
    Degenerate pairs (zero union or zero enclosing area) count IoU as 0 and skip the penalty.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if fmt == "cxcywh":
        a1, b1 = a[:, :2] - a[:, 2:] / 2.0, b[:, :2] - b[:, 2:] / 2.0
    elif fmt == "xywh":
        a1, b1 = a[:, :2], b[:, :2]
    else:
        raise ValueError(f"unknown box format {fmt!r}")
    a2, b2 = a1 + a[:, 2:], b1 + b[:, 2:]
    inter_wh = np.clip(np.minimum(a2, b2) - np.maximum(a1, b1), 0.0, None)
    inter = inter_wh[:, 0] * inter_wh[:, 1]
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    hull_wh = np.maximum(a2, b2) - np.minimum(a1, b1)
    hull = hull_wh[:, 0] * hull_wh[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
        pen = np.where(hull > 0, (hull - union) / hull, 0.0)
    out = iou - pen
    out[np.isnan(a).any(1) | np.isnan(b).any(1)] = np.nan
    return out


@dataclass(frozen=True)
class LinearMotion:
    """Per-node constant-velocity model in ``cx, cy, w, h``.

    ``end_c``/``start_c`` (N,4): the node's last / first box; ``fwd_vel``/``bwd_vel`` (N,4):
    velocity per frame forward from the end, and backward (towards earlier frames) from the
    start; NaN where the node has no motion (fewer than two observed frames in the window).
    """

    end_c: np.ndarray
    start_c: np.ndarray
    fwd_vel: np.ndarray
    bwd_vel: np.ndarray
    horizon: int

    def predict_forward(self, nodes: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """(K,4) cxcywh box of ``nodes`` ``steps`` frames after their end."""
        return self.end_c[nodes] + np.asarray(steps, np.float64)[:, None] * self.fwd_vel[nodes]

    def predict_backward(self, nodes: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """(K,4) cxcywh box of ``nodes`` ``steps`` frames before their start."""
        return self.start_c[nodes] + np.asarray(steps, np.float64)[:, None] * self.bwd_vel[nodes]

    def directional_giou(self, t: Tracklets, edges: np.ndarray) -> np.ndarray:
        """(E,2) GIoU of u predicted forward onto v's first box, and of v predicted backward onto
        u's last box, each over the whole gap (capped at the horizon). Unlike the midpoint GIoU,
        each column rests on one node's velocity only, so a short, noisy node spoils one column,
        not both. NaN (no motion) -> -2, clamped to [-2, 1]."""
        u, v = edges[:, 0], edges[:, 1]
        steps = np.minimum(t.start_frame[v] - t.end_frame[u], self.horizon).astype(np.float64)
        out = np.stack([giou(self.predict_forward(u, steps), self.start_c[v], "cxcywh"),
                        giou(self.predict_backward(v, steps), self.end_c[u], "cxcywh")], axis=1)
        return np.clip(np.nan_to_num(out, nan=-2.0), -2.0, 1.0)

    def edge_giou(self, t: Tracklets, edges: np.ndarray) -> np.ndarray:
        """(E,) motion GIoU of edges u -> v (A.7), NaN replaced by -2, clamped to [-2, 1]."""
        out = np.full(edges.shape[0], -2.0)
        # an endpoint without motion makes the GIoU NaN (-> -2): only score the others
        ok = ~np.isnan(self.fwd_vel[edges[:, 0], 0]) & ~np.isnan(self.bwd_vel[edges[:, 1], 0])
        u, v = edges[ok, 0], edges[ok, 1]
        delta = (t.start_frame[v] - t.end_frame[u]).astype(np.float64)
        m = np.minimum(delta / 2.0, float(self.horizon))
        # both predictions land on the same frame (the midpoint of the gap, or the horizon)
        step_u = np.ceil(m)
        step_v = np.maximum(np.floor(m), 1.0)
        pu = self.predict_forward(u, step_u)
        pv = self.predict_backward(v, step_v)
        g = giou(pu, pv, "cxcywh")
        one = delta == 1
        if one.any():
            g[one] = 0.5 * (giou(pu[one], self.start_c[v[one]], "cxcywh")
                            + giou(pv[one], self.end_c[u[one]], "cxcywh"))
        out[ok] = np.nan_to_num(g, nan=-2.0)
        return np.clip(out, -2.0, 1.0)


def fit_linear_motion(
    t: Tracklets,
    max_length: int,
    pred_length: int,
    interpolate: bool = True,
    center_only: bool = True,
    static_fallback: bool = False,
) -> LinearMotion:
    """Fit forward/backward velocities on the last/first ``max_length`` frames of each node.

    With ``interpolate``, missing frames between observations are linearly interpolated (no
    extrapolation), so the mean of the consecutive differences telescopes to
    ``(box_end - box_first_obs_in_window) / (frame gap)``; that closed form is used here.
    Without it, only differences between detections in consecutive frames are averaged.

    A node without a velocity (a single observed frame in the window) has none in the reference
    (its GIoU is -2). With ``static_fallback`` it gets velocity 0 instead: its box is predicted to
    stay where it is, so its edges get a GIoU that ranks them by overlap and distance.
    """
    if max_length < 1:
        raise ValueError("motion max length must be >= 1")
    n = t.n_nodes
    cbox = xywh_to_cxcywh(t.det_box)
    node, frame = t.det_node, t.det_frame
    order = np.lexsort((frame, node))  # dets grouped by node, in time order
    s_node, s_frame, s_box = node[order], frame[order], cbox[order]
    end_c = xywh_to_cxcywh(t.end_box)
    start_c = xywh_to_cxcywh(t.start_box)
    fwd = np.full((n, 4), np.nan)
    bwd = np.full((n, 4), np.nan)
    if n == 0:
        return LinearMotion(end_c, start_c, fwd, bwd, int(pred_length))
    span = int(s_frame.max() - s_frame.min()) + 2
    key = s_node * span + (s_frame - s_frame.min())  # sorted, per-node frame order
    base = np.arange(n, dtype=np.int64) * span
    win_lo = t.end_frame - max_length + 1   # forward window [win_lo, end]
    win_hi = t.start_frame + max_length - 1  # backward window [start, win_hi]
    # offsets clipped to [0, span - 1] so a search never leaves the node's own key range
    off_lo = np.clip(win_lo - s_frame.min(), 0, span - 1)
    off_hi = np.clip(win_hi - s_frame.min(), 0, span - 1)

    if interpolate:
        i0 = np.searchsorted(key, base + off_lo, side="left")  # earliest det in forward window
        gap = (t.end_frame - s_frame[i0]).astype(np.float64)
        ok = gap > 0
        fwd[ok] = (end_c[ok] - s_box[i0[ok]]) / gap[ok, None]
        i1 = np.searchsorted(key, base + off_hi, side="right") - 1  # latest det in backward window
        gap = (s_frame[i1] - t.start_frame).astype(np.float64)
        ok = gap > 0
        bwd[ok] = (start_c[ok] - s_box[i1[ok]]) / gap[ok, None]
    else:
        consec = (s_node[1:] == s_node[:-1]) & (s_frame[1:] - s_frame[:-1] == 1)
        diff = s_box[1:] - s_box[:-1]
        pn = s_node[:-1]
        for vel, inside, sign in (
            (fwd, s_frame[:-1] >= win_lo[pn], 1.0),
            (bwd, s_frame[1:] <= win_hi[pn], -1.0),
        ):
            sel = consec & inside
            cnt = np.bincount(pn[sel], minlength=n).astype(np.float64)
            acc = np.zeros((n, 4))
            np.add.at(acc, pn[sel], diff[sel])
            ok = cnt > 0
            vel[ok] = sign * acc[ok] / cnt[ok, None]
    if static_fallback:
        fwd[np.isnan(fwd)] = 0.0
        bwd[np.isnan(bwd)] = 0.0
    if center_only:
        fwd[:, 2:] = np.where(np.isnan(fwd[:, :1]), np.nan, 0.0)
        bwd[:, 2:] = np.where(np.isnan(bwd[:, :1]), np.nan, 0.0)
    return LinearMotion(end_c, start_c, fwd, bwd, int(pred_length))
