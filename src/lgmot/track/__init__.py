"""Tracking: one clip through the hierarchy, clips stitched into a sequence."""
from .hierarchy import oracle_scorer, run_hierarchy
from .tracker import ModelScorer, Tracker

__all__ = ["Tracker", "ModelScorer", "run_hierarchy", "oracle_scorer"]
