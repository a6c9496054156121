"""Edge features fed to the MPN (A.5)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .edges import app_distance
from .tracklets import Tracklets

BASE_FEATURES = (
    "secs_time_dists",
    "norm_feet_x_dists",
    "norm_feet_y_dists",
    "bb_height_dists",
    "bb_width_dists",
    "emb_dists",
)
MOTION_FEATURE = "motion_giou"
#: with ``directional_motion``: GIoU of u predicted onto v and of v predicted back onto u, and the
#: seconds of track each velocity was fitted on (0: a singleton, whose velocity is a guess)
DIRECTIONAL_FEATURES = ("motion_giou_fwd", "motion_giou_bwd", "secs_fit_u", "secs_fit_v")
INDICATOR_FEATURE = "app_missing"
#: with ``node_descriptors``: per-node descriptors (see :func:`node_descriptors`)
NODE_DESCRIPTORS = ("log_dets", "secs_span", "coverage", "log_rel_height", "score_rank")


@dataclass(frozen=True)
class FeatureSpec:
    """Which optional edge-feature columns (and node descriptors) a model was trained with
    (``ModelConfig.graph_features``)."""

    #: the :data:`INDICATOR_FEATURE` column: 1 when either endpoint has no appearance
    appearance_indicator: bool = True
    #: the :data:`DIRECTIONAL_FEATURES` columns at levels that use motion
    directional_motion: bool = False
    #: per-node :data:`NODE_DESCRIPTORS` descriptors (``LevelGraph.node_features``)
    node_descriptors: bool = False


def feature_names(use_motion: bool, appearance_indicator: bool, directional_motion: bool = False) -> tuple[str, ...]:
    """Column names of :func:`edge_features` in order."""
    return (BASE_FEATURES + ((MOTION_FEATURE,) if use_motion else ())
            + (DIRECTIONAL_FEATURES if use_motion and directional_motion else ())
            + ((INDICATOR_FEATURE,) if appearance_indicator else ()))


def score_ranks(scores: np.ndarray) -> np.ndarray:
    """(M,) rank of each score among ``scores``, in (0, 1): (rank - 0.5) / M, ties sharing the mean
    rank. Any monotone change of the scores gives the same ranks."""
    from scipy.stats import rankdata  # scipy.stats takes about a second to import: only where used

    return (rankdata(scores) - 0.5) / len(scores)


def node_descriptors(t: Tracklets, fps: float) -> np.ndarray:
    """(N,5) float32 :data:`NODE_DESCRIPTORS`, what a node is made of where no appearance tells
    nodes apart: log of its number of detections, its span in seconds, detections per frame of
    the span, log of its mean box height over the median of the clip's node heights, and the
    mean rank of its detections' scores among the clip's detections, in (0, 1) (0.5 for every
    detection when the scores are unknown). A rank, not the score, so any detector's scale works."""
    if fps <= 0:
        raise ValueError("fps must be > 0")
    n = t.n_nodes
    if n == 0:
        return np.zeros((0, len(NODE_DESCRIPTORS)), np.float32)
    count = np.bincount(t.det_node, minlength=n).astype(np.float64)
    span = (t.end_frame - t.start_frame).astype(np.float64)
    height = np.bincount(t.det_node, weights=t.det_box[:, 3], minlength=n) / count
    rank = score_ranks(np.nan_to_num(t.det_score, nan=0.0))  # unknown scores all tie: rank 0.5
    mean_rank = np.bincount(t.det_node, weights=rank, minlength=n) / count
    return np.column_stack([np.log(count), span / float(fps), count / (span + 1.0),
                            np.log(height / np.median(height)), mean_rank]).astype(np.float32)


def edge_features(
    t: Tracklets,
    edges: np.ndarray,
    fps: float,
    edge_sim: str = "l2",
    motion_giou: np.ndarray | None = None,
    appearance_indicator: bool = True,
    emb_dist: np.ndarray | None = None,
    directional: np.ndarray | None = None,
) -> np.ndarray:
    """(E,F) float32 features of edges u -> v, columns as :func:`feature_names`.

    ``emb_dists`` is 0 when either endpoint has no appearance (with or without the indicator
    column, which is then 1). ``motion_giou`` (E,) adds the motion column when given.
    ``emb_dist`` may pass precomputed ``edge_sim`` distances. ``directional`` (E,4) adds the
    :data:`DIRECTIONAL_FEATURES` columns after the motion column.
    """
    if fps <= 0:
        raise ValueError("fps must be > 0")
    u, v = edges[:, 0], edges[:, 1]
    eb, sb = t.end_box[u], t.start_box[v]
    h_mean = (sb[:, 3] + eb[:, 3]) / 2.0
    dfeet = t.start_feet[v] - t.end_feet[u]
    if emb_dist is None:
        emb_dist = app_distance(t.app, edges, edge_sim)
    missing = ~(t.has_app[u] & t.has_app[v])
    cols = [
        (t.start_frame[v] - t.end_frame[u]) / float(fps),
        dfeet[:, 0] / h_mean,
        dfeet[:, 1] / h_mean,
        np.log(sb[:, 3] / eb[:, 3]),
        np.log(sb[:, 2] / eb[:, 2]),
        np.where(missing, 0.0, emb_dist),
    ]
    if motion_giou is not None:
        cols.append(np.asarray(motion_giou, np.float64))
    if directional is not None:
        cols.extend(np.asarray(directional, np.float64).T)
    if appearance_indicator:
        cols.append(missing.astype(np.float64))
    if edges.shape[0] == 0:
        return np.zeros((0, len(cols)), dtype=np.float32)
    return np.stack(cols, axis=1).astype(np.float32)
