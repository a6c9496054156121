"""TrackerConfig.min_score: low-score detections are neither tracked nor trained on."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from lgmot.config import preset
from lgmot.data import load_sequence
from lgmot.synth import make_sequence
from lgmot.track import Tracker
from lgmot.detect import confident
from lgmot.train.prepare import prepare_train_sequence


def two_people(frames: int = 20) -> tuple[pd.DataFrame, np.ndarray]:
    rows, gid = [], []
    for f in range(1, frames + 1):
        for k in range(2):
            rows.append({"frame": f, "det_id": len(rows), "x": 100.0 + 300 * k + 2 * f, "y": 100.0, "w": 40.0,
                         "h": 100.0, "score": 0.9 if k == 0 else 0.3})
            gid.append(k)
    return pd.DataFrame(rows), np.array(gid)


def test_confident_mask_and_fallback():
    assert confident(np.array([0.1, 0.7, 0.65]), 0.65).tolist() == [False, True, True]
    # no detection reaches the threshold (another score scale): nothing is dropped
    assert confident(np.array([0.1, 0.2]), 0.65).tolist() == [True, True]


def test_tracker_drops_low_score_detections():
    dets, gid = two_people()
    cfg = preset("lgmot")
    kept = Tracker(cfg, oracle=True).track_detections(dets, 25.0, gt_ids=gid)
    assert kept.id.nunique() == 2 and len(kept) == 40
    cfg = replace(cfg, tracker=replace(cfg.tracker, min_score=0.5))
    out = Tracker(cfg, oracle=True).track_detections(dets, 25.0, gt_ids=gid)
    assert out.id.nunique() == 1 and len(out) == 20 and (out.x < 300).all()


def test_tracker_drops_unconfident_tracks():
    dets, gid = two_people()  # person 0 scores 0.9 throughout, person 1 0.3
    cfg = preset("lgmot")
    cfg = replace(cfg, tracker=replace(cfg.tracker, min_track_score=0.5))
    out = Tracker(cfg, oracle=True).track_detections(dets, 25.0, gt_ids=gid)
    assert out.id.nunique() == 1 and len(out) == 20 and (out.score == 0.9).all()
    # both tracks kept when the threshold is off
    off = Tracker(preset("lgmot"), oracle=True).track_detections(dets, 25.0, gt_ids=gid)
    assert off.id.nunique() == 2
    # the rank form: person 1's detections are the lower half of the sequence's scores (mean rank 0.25)
    cfg = replace(preset("lgmot"), tracker=replace(preset("lgmot").tracker, min_track_rank=0.5))
    out = Tracker(cfg, oracle=True).track_detections(dets, 25.0, gt_ids=gid)
    assert out.id.nunique() == 1 and (out.score == 0.9).all()


def test_training_data_uses_the_same_threshold(tmp_path):
    root = make_sequence(tmp_path / "s", frames=12, people=3, seed=0)
    seq = load_sequence(root)
    cfg = preset("lgmot")
    full = prepare_train_sequence(seq, cfg, "public", appearance=False)
    thr = float(np.median(full.dets.score))
    cut = prepare_train_sequence(seq, replace(cfg, tracker=replace(cfg.tracker, min_score=thr)), "public",
                                 appearance=False)
    keep = full.dets.score.to_numpy() >= thr
    assert 0 < len(cut.dets) == keep.sum() < len(full.dets)
    np.testing.assert_array_equal(cut.gt_ids, full.gt_ids[keep])
    np.testing.assert_array_equal(cut.dets.frame.to_numpy(), full.dets.frame.to_numpy()[keep])


def test_prepare_train_sequences_matches_one_by_one(tmp_path):
    from lgmot.train.prepare import prepare_train_sequences

    roots = [make_sequence(tmp_path / f"s{k}", frames=10, people=2, seed=k) for k in range(2)]
    cfg = preset("lgmot")
    cfg = replace(cfg, train=replace(cfg.train, isg_weight=0.0, spg_weight=0.0))  # no text encoder needed
    many = prepare_train_sequences(roots, cfg, "public", appearance=False)
    for ts, root in zip(many, roots):
        one = prepare_train_sequence(load_sequence(root), cfg, "public", appearance=False)
        assert ts.name == one.name and ts.scene_emb is None
        pd.testing.assert_frame_equal(ts.dets, one.dets)
        np.testing.assert_array_equal(ts.gt_ids, one.gt_ids)
