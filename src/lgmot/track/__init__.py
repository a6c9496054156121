"""Tracking: one clip through the hierarchy, clips stitched into a sequence (:class:`Tracker`), or
the same frame by frame (:class:`OnlineTracker`)."""
from .hierarchy import ClipLevels, oracle_scorer, run_hierarchy, run_levels
from .online import OnlineTracker, track_online
from .tracker import ModelScorer, Tracker

__all__ = ["Tracker", "OnlineTracker", "track_online", "ModelScorer", "ClipLevels", "run_hierarchy", "run_levels",
           "oracle_scorer"]
