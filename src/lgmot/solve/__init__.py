"""From edge scores to tracks: flow rounding, components, clip stitching, post-processing (A.9)."""
from .clips import CLIP_COLUMNS, STITCHED_COLUMNS, Stitcher, clip_ranges, clip_slices, stitch
from .components import components, link
from .postprocess import drop_low_rank, drop_short, drop_unconfident, drop_unlikely, interpolate, max_gap_frames
from .rounding import flow_degrees, flow_objective, is_flow_feasible, round_flow, undirected_probs

__all__ = [
    "CLIP_COLUMNS", "STITCHED_COLUMNS", "Stitcher", "clip_ranges", "clip_slices", "stitch", "components", "link",
    "drop_low_rank", "drop_short", "drop_unconfident", "drop_unlikely", "interpolate", "max_gap_frames", "flow_degrees", "flow_objective", "is_flow_feasible", "round_flow",
    "undirected_probs",
]
