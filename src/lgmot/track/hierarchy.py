"""One clip through the hierarchy: build a level's graph, score its edges, round, merge; repeat."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from ..config import TrackerConfig
from ..graph import FeatureSpec, LevelGraph, Tracklets, build_level, edge_labels, merge
from ..solve import components, round_flow


class EdgeScorer(Protocol):
    """Returns one probability per undirected candidate edge of ``graph`` (shape (E,)), or the pair
    (edge probabilities, node objectness (N,)) when it also scores the nodes."""

    def __call__(self, level: int, tracklets: Tracklets, graph: LevelGraph) -> np.ndarray | tuple: ...


@dataclass
class ClipLevels:
    """What the hierarchy decided for one clip's detections (the rows of its level-0 tracklets)."""

    labels: np.ndarray  # (M,) final node of each detection
    #: (M,) level-0 objectness; None when the scorer gives none (or level 0 had no edges to score)
    objectness: np.ndarray | None = None


def oracle_scorer(level: int, tracklets: Tracklets, graph: LevelGraph) -> np.ndarray:
    """Upper-bound diagnostic: the flow-formulation GT labels as probabilities."""
    return edge_labels(tracklets, graph.edges).astype(np.float64)


def run_hierarchy(t0: Tracklets, cfg: TrackerConfig, fps: float, clip_start: int, scorer: EdgeScorer,
                  features: FeatureSpec = FeatureSpec(),
                  on_level: Callable[[int, Tracklets, LevelGraph, np.ndarray], None] | None = None) -> np.ndarray:
    """Run every level on one clip; returns the final node label of each detection of ``t0``."""
    return run_levels(t0, cfg, fps, clip_start, scorer, features, on_level).labels


def run_levels(t0: Tracklets, cfg: TrackerConfig, fps: float, clip_start: int, scorer: EdgeScorer,
               features: FeatureSpec = FeatureSpec(),
               on_level: Callable[[int, Tracklets, LevelGraph, np.ndarray], None] | None = None) -> ClipLevels:
    """:func:`run_hierarchy` that also returns the scorer's level-0 node objectness, if it gives one."""
    t = t0
    objectness = None
    for level in range(cfg.depth):
        if t.n_nodes <= 1:
            break
        t, nodes = run_level(t, level, cfg, fps, clip_start, scorer, features, on_level)
        if level == 0 and nodes is not None:
            objectness = nodes[t0.det_node]
    return ClipLevels(np.asarray(t.det_node, dtype=np.int64), objectness)


def run_level(t: Tracklets, level: int, cfg: TrackerConfig, fps: float, clip_start: int, scorer: EdgeScorer,
              features: FeatureSpec = FeatureSpec(),
              on_level: Callable[[int, Tracklets, LevelGraph, np.ndarray], None] | None = None
              ) -> tuple[Tracklets, np.ndarray | None]:
    """One level: build the graph of ``t``, score, round, merge. Returns (the next level's tracklets,
    the scorer's node objectness (N,) of ``t`` or None). Windows of the level are independent
    (no edge crosses one), which ``track.online`` relies on to reuse finished windows."""
    n = t.n_nodes
    if n <= 1:
        return t, None
    g = build_level(t, level, cfg, fps, clip_start, features)
    nodes = None
    if len(g.edges) == 0:
        labels = np.arange(n, dtype=np.int64)
    else:
        scored = scorer(level, t, g)
        if isinstance(scored, tuple):
            scored, nodes = scored
            nodes = None if nodes is None else np.asarray(nodes, dtype=np.float64)
        p = np.asarray(scored, dtype=np.float64)
        active = round_flow(n, g.edges, p, method=cfg.rounding)
        labels = components(n, g.edges[active])
        if on_level is not None:
            on_level(level, t, g, p)
    return merge(t, labels, cfg.node_id_min_ratio), nodes
