"""Which detections a run uses: :class:`DetectConfig`, its presets, and :func:`detect`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..data.sequence import Sequence
from .base import run_detector
from .public import detections_from_file, gt_detections, public_detections

SOURCES = ("public", "gt", "builtin")


@dataclass(frozen=True)
class DetectConfig:
    """``source``: 'public' (the sequence's det.txt), 'gt' (oracle boxes), 'builtin' (YOLOv3-tiny),
    or the path of a MOT-format detection file. ``min_score`` drops weaker boxes (for 'builtin' it is
    the detector's confidence threshold), ``input_size`` and ``nms`` (IoU) apply to 'builtin' only.
    """

    source: str = "public"
    min_score: float = 0.0
    input_size: int = 608
    nms: float = 0.45

    @property
    def is_file(self) -> bool:
        return self.source not in SOURCES

    def validate(self) -> "DetectConfig":
        if self.input_size <= 0 or self.input_size % 32:
            raise ValueError(f"input_size must be a positive multiple of 32, got {self.input_size}")
        if not 0.0 < self.nms <= 1.0:
            raise ValueError(f"nms must be in (0, 1], got {self.nms}")
        return self


DETECT_PRESETS: dict[str, DetectConfig] = {
    "public": DetectConfig("public", min_score=0.0),
    "gt": DetectConfig("gt"),
    # about 0.1 s a frame on 2 CPU cores (0.85 person recall at IoU 0.5 on PETS09-S2L1 at confidence
    # >= 0.25). The floor is the low-score recovery's (TrackerConfig.recover_min_score): the tracker
    # links only boxes >= its min_score and may add weaker ones that continue a track
    "builtin": DetectConfig("builtin", min_score=0.1, input_size=608, nms=0.45),
    # about 0.06 s a frame, recall 0.70 at >= 0.25
    "builtin-fast": DetectConfig("builtin", min_score=0.1, input_size=416, nms=0.45),
}


def detect_preset(name: str) -> DetectConfig:
    if name not in DETECT_PRESETS:
        raise KeyError(f"unknown detection preset {name!r}; choose from {sorted(DETECT_PRESETS)}")
    return DETECT_PRESETS[name]


def detect(sequence: Sequence, cfg: DetectConfig = DetectConfig(), progress: bool = True) -> pd.DataFrame:
    """The detections of ``sequence`` according to ``cfg`` (a DET_COLUMNS table)."""
    cfg.validate()
    if cfg.source == "public":
        return public_detections(sequence, cfg.min_score)
    if cfg.source == "gt":
        return gt_detections(sequence)
    if cfg.source == "builtin":
        from .yolo import YoloV3TinyDetector

        det = YoloV3TinyDetector(cfg.input_size, conf_threshold=cfg.min_score, nms_threshold=cfg.nms)
        return run_detector(det, sequence, progress=progress)
    return detections_from_file(Path(cfg.source), sequence, cfg.min_score)
