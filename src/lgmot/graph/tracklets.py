"""Graph nodes: tracklets built from detections (level 0) and merged level by level (A.2)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Tracklets:
    """One row per node, nodes sorted by start frame.

    Node arrays (N rows): ``start_frame``/``end_frame`` (N,) int64, ``start_box``/``end_box``
    (N,4) float64 ``x, y, w, h`` (from the earliest / latest member detection), ``app`` (N,D)
    float32 (mean appearance of the members that have one; zeros where none has), ``has_app``
    (N,) bool, ``gt_id`` (N,) int64 (-1 unknown).

    Detection arrays (M rows, in the order the detections were given to
    :meth:`from_detections`): ``det_frame`` (M,) int64, ``det_box`` (M,4) float64,
    ``det_node`` (M,) int64 (node of each detection), ``det_gt`` (M,) int64,
    ``det_has_app`` (M,) bool, ``det_score`` (M,) float64 (detector confidence; NaN when unknown).
    """

    start_frame: np.ndarray
    end_frame: np.ndarray
    start_box: np.ndarray
    end_box: np.ndarray
    app: np.ndarray
    has_app: np.ndarray
    gt_id: np.ndarray
    det_frame: np.ndarray
    det_box: np.ndarray
    det_node: np.ndarray
    det_gt: np.ndarray
    det_has_app: np.ndarray
    det_score: np.ndarray

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def from_detections(
        cls,
        frames: np.ndarray,
        boxes: np.ndarray,
        app: np.ndarray | None = None,
        has_app: np.ndarray | None = None,
        gt_ids: np.ndarray | None = None,
        scores: np.ndarray | None = None,
    ) -> "Tracklets":
        """Level-0 nodes: one per detection, sorted by (frame, position in the input).

        ``app`` (M,D) is optional; ``has_app`` defaults to all True when ``app`` is given and
        all False otherwise. Rows without appearance get a zero vector.
        """
        frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        m = frames.shape[0]
        boxes = np.asarray(boxes, dtype=np.float64).reshape(m, 4)
        if not np.all(np.isfinite(boxes)):
            raise ValueError("detection boxes must be finite")
        if np.any(boxes[:, 2:] <= 0):
            raise ValueError("detection boxes need w > 0 and h > 0")
        if app is None:
            app_arr = np.zeros((m, 0), dtype=np.float32)
            flag = np.zeros(m, dtype=bool) if has_app is None else np.asarray(has_app, bool).reshape(m)
            if flag.any():
                raise ValueError("has_app is set but no appearance was given")
        else:
            app_arr = np.asarray(app, dtype=np.float32)
            app_arr = app_arr.reshape(m, app_arr.shape[-1] if app_arr.ndim == 2 else -1)
            flag = np.ones(m, dtype=bool) if has_app is None else np.asarray(has_app, bool).reshape(m)
            app_arr = np.where(flag[:, None], app_arr, np.float32(0))
        gt = np.full(m, -1, np.int64) if gt_ids is None else np.asarray(gt_ids, np.int64).reshape(m)
        score = np.full(m, np.nan) if scores is None else np.asarray(scores, np.float64).reshape(m)

        order = np.argsort(frames, kind="stable")
        det_node = np.empty(m, dtype=np.int64)
        det_node[order] = np.arange(m, dtype=np.int64)
        return cls(
            start_frame=frames[order],
            end_frame=frames[order].copy(),
            start_box=boxes[order],
            end_box=boxes[order].copy(),
            app=np.ascontiguousarray(app_arr[order]),
            has_app=flag[order],
            gt_id=gt[order],
            det_frame=frames,
            det_box=boxes,
            det_node=det_node,
            det_gt=gt,
            det_has_app=flag,
            det_score=score,
        )

    # --- derived ----------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return int(self.start_frame.shape[0])

    @property
    def n_dets(self) -> int:
        return int(self.det_frame.shape[0])

    @property
    def start_feet(self) -> np.ndarray:
        """(N,2) bottom-centre of the start box."""
        return feet(self.start_box)

    @property
    def end_feet(self) -> np.ndarray:
        """(N,2) bottom-centre of the end box."""
        return feet(self.end_box)

    def node_sizes(self) -> np.ndarray:
        """(N,) int64 number of detections per node."""
        return np.bincount(self.det_node, minlength=self.n_nodes).astype(np.int64)


def feet(boxes: np.ndarray) -> np.ndarray:
    """Bottom-centre ``(x + w/2, y + h)`` of ``x, y, w, h`` boxes."""
    return np.stack([boxes[:, 0] + boxes[:, 2] / 2.0, boxes[:, 1] + boxes[:, 3]], axis=1)


def renumber_by_first(labels: np.ndarray) -> np.ndarray:
    """Relabel to 0..C-1 so that components are numbered by their lowest node index."""
    labels = np.asarray(labels).reshape(-1)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.shape[0], dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0], dtype=np.int64)
    return rank[inverse.reshape(-1)]


def merge(t: Tracklets, labels: np.ndarray, min_ratio: float = 0.5) -> Tracklets:
    """Next-level tracklets from one component label per node (A.2).

    Start/end frame = min/max over members; start box from the earliest member detection and
    end box from the latest (ties: the one given first); appearance = mean over the member
    detections that have one (not re-normalised); ``gt_id`` = most frequent member-detection id
    when its share is >= ``min_ratio``, else -1 (ties between ids: the smallest id, -1 included).
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != t.n_nodes:
        raise ValueError(f"need one label per node ({t.n_nodes}), got {labels.shape[0]}")
    node_new = renumber_by_first(labels)
    c = int(node_new.max()) + 1 if node_new.size else 0
    det_new = node_new[t.det_node]
    m = t.n_dets

    # earliest / latest detection per component: sort by (component, frame, input order)
    idx = np.arange(m)
    by_first = np.lexsort((idx, t.det_frame, det_new))
    bounds = np.searchsorted(det_new[by_first], np.arange(c + 1))
    first_det = by_first[bounds[:-1]]
    by_last = np.lexsort((idx, -t.det_frame, det_new))
    last_det = by_last[bounds[:-1]]

    # appearance: node means weighted by the node's number of detections with appearance
    n_app_node = np.bincount(t.det_node, weights=t.det_has_app, minlength=t.n_nodes)
    d = t.app.shape[1]
    app_sum = np.zeros((c, d), dtype=np.float64)
    if t.n_nodes and d:
        by_comp = np.argsort(node_new, kind="stable")
        heads = np.searchsorted(node_new[by_comp], np.arange(c))
        app_sum = np.add.reduceat(t.app[by_comp].astype(np.float64) * n_app_node[by_comp, None], heads, axis=0)
    n_app = np.bincount(node_new, weights=n_app_node, minlength=c)
    has_app = n_app > 0
    app = np.zeros((c, d), dtype=np.float32)
    app[has_app] = (app_sum[has_app] / n_app[has_app, None]).astype(np.float32)

    return Tracklets(
        start_frame=t.det_frame[first_det].copy(),
        end_frame=t.det_frame[last_det].copy(),
        start_box=t.det_box[first_det].copy(),
        end_box=t.det_box[last_det].copy(),
        app=app,
        has_app=has_app,
        gt_id=majority_id(det_new, t.det_gt, c, min_ratio),
        det_frame=t.det_frame,
        det_box=t.det_box,
        det_node=det_new,
        det_gt=t.det_gt,
        det_has_app=t.det_has_app,
        det_score=t.det_score,
    )


def majority_id(group: np.ndarray, ids: np.ndarray, n_groups: int, min_ratio: float) -> np.ndarray:
    """(n_groups,) most frequent id per group if its share >= min_ratio, else -1."""
    out = np.full(n_groups, -1, dtype=np.int64)
    if group.size == 0 or not (ids != -1).any():  # no identities (tracking): every group's is -1
        return out
    pairs, counts = np.unique(np.stack([group, ids], axis=1), axis=0, return_counts=True)
    # rows sorted by (group, id): take the largest count per group, smallest id on ties
    order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))
    g_sorted = pairs[order, 0]
    head = order[np.r_[True, g_sorted[1:] != g_sorted[:-1]]]
    total = np.bincount(group, minlength=n_groups)
    g = pairs[head, 0]
    ok = counts[head] >= min_ratio * total[g]
    out[g[ok]] = pairs[head[ok], 1]
    return out


def concat(parts: list[Tracklets]) -> Tracklets:
    """The tracklets of consecutive time windows as one set: nodes and detections in the given
    order (each part's ``det_node`` shifted by the nodes before it). Parts without appearance
    (D = 0) get zero rows without ``has_app`` when another part has it."""
    if not parts:
        return Tracklets.from_detections(np.zeros(0, np.int64), np.zeros((0, 4)))
    if len(parts) == 1:
        return parts[0]
    d = max(p.app.shape[1] for p in parts)

    def app(p: Tracklets) -> np.ndarray:
        return p.app if p.app.shape[1] == d else np.zeros((p.n_nodes, d), np.float32)

    offsets = np.cumsum([0] + [p.n_nodes for p in parts[:-1]])
    cat = np.concatenate
    return Tracklets(
        start_frame=cat([p.start_frame for p in parts]), end_frame=cat([p.end_frame for p in parts]),
        start_box=cat([p.start_box for p in parts]), end_box=cat([p.end_box for p in parts]),
        app=cat([app(p) for p in parts]), has_app=cat([p.has_app for p in parts]),
        gt_id=cat([p.gt_id for p in parts]), det_frame=cat([p.det_frame for p in parts]),
        det_box=cat([p.det_box for p in parts]),
        det_node=cat([p.det_node + o for p, o in zip(parts, offsets)]), det_gt=cat([p.det_gt for p in parts]),
        det_has_app=cat([p.det_has_app for p in parts]), det_score=cat([p.det_score for p in parts]))
