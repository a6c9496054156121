"""One level of the hierarchy: candidate edges, pruning and features (A.3-A.5, A.7)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import TrackerConfig
from .edges import MAX_CANDIDATES, app_distance, iter_candidate_edges, parse_pruning, pruning_scores, reciprocal_topk
from .features import FeatureSpec, edge_features, feature_names, node_descriptors
from .motion import LinearMotion, fit_linear_motion
from .tracklets import Tracklets


@dataclass(frozen=True)
class LevelGraph:
    """``edges`` (E,2) int64, row = earlier node, col = later node, sorted by (row, col);
    ``features`` (E,F) float32 with column names ``names``; ``node_features`` (N,K) float32
    (``graph.features.node_descriptors``) when the feature spec asks for them, else None."""

    edges: np.ndarray
    features: np.ndarray
    names: tuple[str, ...] = ()
    node_features: np.ndarray | None = None

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])


def level_motion(t: Tracklets, level: int, cfg: TrackerConfig) -> LinearMotion:
    """The motion model of level ``level`` >= 1 (uses index ``level - 1`` of the lengths)."""
    if level < 1:
        raise ValueError("the motion model needs level >= 1 (level-0 nodes are single detections)")
    return fit_linear_motion(
        t,
        cfg.motion_max_length[level - 1],
        cfg.motion_pred_length[level - 1],
        interpolate=cfg.interpolate_motion,
        center_only=cfg.linear_center_only,
        static_fallback=cfg.static_singletons,
    )


def build_level(
    t: Tracklets,
    level: int,
    cfg: TrackerConfig,
    fps: float,
    clip_start: int,
    features: FeatureSpec = FeatureSpec(),
    max_candidates: int = MAX_CANDIDATES,
) -> LevelGraph:
    """Edges and features of ``level`` over the tracklets ``t`` of one clip.

    Candidates are built a few whole windows at a time (at most ``max_candidates`` edges in
    memory unless one window has more) and pruned by reciprocal top-k before the next chunk.
    F = 6, +1 when ``cfg.use_motion[level]`` (+4 more with ``features.directional_motion``), +1
    with ``features.appearance_indicator``.
    """
    if not 0 <= level < cfg.depth:
        raise ValueError(f"level {level} outside 0..{cfg.depth - 1}")
    kind, _ = parse_pruning(cfg.pruning[level])
    use_motion = bool(cfg.use_motion[level])
    motion = None
    if use_motion or kind == "motion":
        motion = level_motion(t, level, cfg)
    need_app = kind in ("motion", "reid")

    kept_edges, kept_giou, kept_app = [], [], []
    for cand in iter_candidate_edges(t.start_frame, t.end_frame, cfg.frames_per_level[level],
                                     clip_start, max_candidates):
        g = motion.edge_giou(t, cand) if motion is not None else None
        d = app_distance(t.app, cand, "l2") if need_app else None
        g_prune = g
        if kind == "motion" and cfg.prune_directional:
            g_prune = np.maximum(g, motion.directional_giou(t, cand).max(axis=1))
        keep = reciprocal_topk(cand, pruning_scores(t, cand, cfg.pruning[level], g_prune, d),
                               t.n_nodes, cfg.top_k_nns)
        kept_edges.append(cand[keep])
        if g is not None:
            kept_giou.append(g[keep])
        if d is not None:
            kept_app.append(d[keep])

    edges = np.concatenate(kept_edges) if kept_edges else np.zeros((0, 2), np.int64)
    giou = None
    if use_motion:
        giou = np.concatenate(kept_giou) if kept_giou else np.zeros(0)
    emb = None
    if kept_app and cfg.edge_sim == "l2":
        emb = np.concatenate(kept_app)
    directional = None
    if use_motion and features.directional_motion:
        window = cfg.motion_max_length[level - 1]
        span = np.minimum(t.end_frame - t.start_frame, window - 1) / float(fps)
        directional = np.column_stack([motion.directional_giou(t, edges), span[edges[:, 0]], span[edges[:, 1]]])
    feats = edge_features(t, edges, fps, cfg.edge_sim, giou, features.appearance_indicator, emb, directional)
    nodes = node_descriptors(t, fps) if features.node_descriptors else None
    return LevelGraph(edges, feats, feature_names(use_motion, features.appearance_indicator, directional is not None),
                      nodes)
