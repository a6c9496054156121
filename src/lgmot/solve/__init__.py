"""From edge scores to tracks: flow rounding, components, clip stitching, post-processing (A.9),
low-score recovery, crossing repair and smoothing."""
from .clips import CLIP_COLUMNS, STITCHED_COLUMNS, Stitcher, clip_ranges, clip_slices, stitch
from .components import components, link
from .postprocess import (drop_low_rank, drop_short, drop_unconfident, drop_unlikely, finish_tracks, interpolate,
                          max_gap_frames)
from .smooth import SMOOTHERS, smooth_tracks
from .recover import low_score_candidates, predict_missing, recover_low_score
from .rounding import flow_degrees, flow_objective, is_flow_feasible, round_flow, undirected_probs
from .untangle import untangle_crossings

__all__ = [
    "CLIP_COLUMNS", "STITCHED_COLUMNS", "Stitcher", "clip_ranges", "clip_slices", "stitch", "components", "link",
    "drop_low_rank", "drop_short", "drop_unconfident", "drop_unlikely", "finish_tracks", "interpolate", "max_gap_frames", "low_score_candidates", "predict_missing", "recover_low_score", "SMOOTHERS",
    "smooth_tracks", "flow_degrees", "flow_objective", "is_flow_feasible", "round_flow",
    "undirected_probs", "untangle_crossings",
]
