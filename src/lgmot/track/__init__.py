"""Tracking: one clip through the hierarchy, clips stitched into a sequence."""
from .hierarchy import ClipLevels, oracle_scorer, run_hierarchy, run_levels
from .tracker import ModelScorer, Tracker

__all__ = ["Tracker", "ModelScorer", "ClipLevels", "run_hierarchy", "run_levels", "oracle_scorer"]
