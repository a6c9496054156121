"""Graph construction for SUSHI's hierarchy: nodes, candidate edges, pruning, features, labels."""
from .build import LevelGraph, build_level, level_motion
from .edges import app_distance, candidate_edges, iter_candidate_edges, pruning_scores, reciprocal_topk, window_index
from .features import FeatureSpec, edge_features, feature_names
from .labels import edge_labels, loss_mask
from .motion import LinearMotion, fit_linear_motion, giou, xywh_to_cxcywh
from .tracklets import Tracklets, feet, majority_id, merge, renumber_by_first

__all__ = [
    "FeatureSpec", "LevelGraph", "LinearMotion", "Tracklets", "app_distance", "build_level", "candidate_edges",
    "edge_features", "edge_labels", "loss_mask", "feature_names", "feet", "fit_linear_motion", "giou",
    "iter_candidate_edges", "level_motion", "majority_id", "merge", "pruning_scores",
    "reciprocal_topk", "renumber_by_first", "window_index", "xywh_to_cxcywh",
]
