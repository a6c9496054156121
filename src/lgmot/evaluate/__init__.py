"""Evaluation with TrackEval (HOTA, CLEAR, Identity)."""
from .trackeval_run import COLUMNS, COMBINED, evaluate, find_gt, format_table, write_metrics_csv

__all__ = ["evaluate", "format_table", "write_metrics_csv", "find_gt", "COLUMNS", "COMBINED"]
