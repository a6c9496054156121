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
    t, objectness = run_level_range(t0, range(cfg.depth), cfg, fps, clip_start, scorer, features, on_level)
    return ClipLevels(np.asarray(t.det_node, dtype=np.int64), objectness)


def run_level_range(t0: Tracklets, levels: range, cfg: TrackerConfig, fps: float, clip_start: int,
                    scorer: EdgeScorer, features: FeatureSpec = FeatureSpec(),
                    on_level: Callable[[int, Tracklets, LevelGraph, np.ndarray], None] | None = None
                    ) -> tuple[Tracklets, np.ndarray | None]:
    """``levels`` (consecutive, increasing) on the tracklets ``t0`` of one clip, or of one shared
    unit (see :func:`shared_unit`). Returns (the tracklets after the last level, the scorer's
    objectness per detection of ``t0`` from level 0 when ``levels`` has it and it gives one)."""
    t = t0
    objectness = None
    for level in levels:
        if t.n_nodes <= 1:
            break
        t, nodes = run_level(t, level, cfg, fps, clip_start, scorer, features, on_level)
        if level == 0 and nodes is not None:
            objectness = nodes[t0.det_node]
    return t, objectness


def shared_unit(cfg: TrackerConfig) -> int | None:
    """Frames of the unit that overlapping clips can share, or None.

    No edge crosses a level's time window, so levels ``0 .. depth - 2`` of a clip are the same
    computation on each of its windows of ``frames_per_level[depth - 2]`` frames (the unit). When
    the windows of those levels nest in the unit and the clip length and the clip stride are whole
    numbers of units, every unit of a clip is also a unit of the clips that overlap it: its lower
    levels can be computed once and shared, and only the top level is per clip."""
    if cfg.depth < 2:
        return None
    windows = [int(w) for w in cfg.frames_per_level[:cfg.depth - 1]]
    unit = windows[-1]
    stride = cfg.frames_per_graph - round(cfg.graph_overlap * cfg.frames_per_graph)
    if unit < 1 or any(unit % w for w in windows) or stride % unit or cfg.frames_per_graph % unit:
        return None
    return unit


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
