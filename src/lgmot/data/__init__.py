"""MOT data: sequences, file I/O, dataset layouts and splits."""
from .motio import read_detections, read_gt, read_results, write_results, write_detections, write_gt
from .schema import DET_COLUMNS, GT_COLUMNS, TRACK_COLUMNS
from .sequence import Sequence, SeqInfo, load_sequence, read_seqinfo

__all__ = ["Sequence", "SeqInfo", "load_sequence", "read_seqinfo", "read_detections", "read_gt",
           "read_results", "write_results", "write_detections", "write_gt",
           "DET_COLUMNS", "GT_COLUMNS", "TRACK_COLUMNS"]
