"""The levels below the top computed once per shared unit give exactly the per-clip tracks."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lgmot.config import preset
from lgmot.data import load_sequence
from lgmot.synth import make_sequence
from lgmot.track import Tracker
from lgmot.track.hierarchy import shared_unit
from lgmot.track.run import gt_identities

MOT15 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mot15_train"


def _small(cfg, **tracker):
    """30-frame clips, levels of 5 / 15 / 30 frames: a 15-frame unit, 5 overlapping clips in 90 frames."""
    return replace(cfg, tracker=replace(cfg.tracker, frames_per_graph=30, frames_per_level=(5, 15, 30),
                                        pruning=cfg.tracker.pruning[:3], use_motion=cfg.tracker.use_motion[:3],
                                        **tracker),
                   model=replace(cfg.model, node_in_dim=8, depth=3))


def test_shared_unit_is_the_window_below_the_top_when_clips_are_whole_units():
    tc = preset("lgmot").tracker
    assert shared_unit(tc) == 75  # windows 5 | 25 | 75; clips of 150 every 75 frames
    assert shared_unit(preset("sushi").tracker) == 256  # clips of 512 every 256
    assert shared_unit(replace(tc, graph_overlap=0.4)) is None  # stride 90 is not a whole number of 75s
    assert shared_unit(replace(tc, frames_per_level=(5, 20, 60, 150))) is None  # stride 75 cuts a 60-frame window
    assert shared_unit(replace(tc, frames_per_level=(10, 25, 75, 150))) is None  # 10-frame windows do not nest in 25
    assert shared_unit(replace(tc, frames_per_graph=75, frames_per_level=(75,), pruning=tc.pruning[:1],
                               use_motion=tc.use_motion[:1])) is None  # one level: nothing below the top


@pytest.mark.parametrize("workers", [1, 2])
def test_shared_units_give_the_per_clip_tracks(tmp_path, workers):
    torch = pytest.importorskip("torch")
    from lgmot.model import HierarchicalMPN

    seq = load_sequence(make_sequence(tmp_path / "s", frames=120, people=7, seed=5))
    dets = seq.detections
    app = np.random.default_rng(0).standard_normal((len(dets), 8)).astype(np.float32)
    app[::7] = np.nan  # some detections without appearance
    cfg = _small(preset("lgmot"), min_track_objectness=0.3)
    cfg = replace(cfg, model=replace(cfg.model, node_classifier=True))
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    assert shared_unit(cfg.tracker) == 15
    tracker = Tracker(cfg, model, workers=workers)
    oracle = Tracker(cfg, oracle=True, workers=workers)
    gt = gt_identities(seq, dets)
    out = {}
    for share in (False, True):
        tracker.share_units = oracle.share_units = share
        out[share] = (tracker.track_detections(dets, seq.info.fps, appearance=app),
                      oracle.track_detections(dets, seq.info.fps, gt_ids=gt))
    assert len(out[True][0]) > 0 and out[True][1].id.nunique() > 1
    pd.testing.assert_frame_equal(out[True][0], out[False][0])
    pd.testing.assert_frame_equal(out[True][1], out[False][1])
    tracker.close()
    oracle.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_shared_units_with_empty_units_give_the_per_clip_tracks(tmp_path, workers):
    # frames 16-60 hold no detection: three 15-frame units are empty, so some clips have one unit or none,
    # and a clip's top level must still wait for (only) the units it holds
    seq = load_sequence(make_sequence(tmp_path / "s", frames=120, people=7, seed=6))
    dets = seq.detections
    dets = dets[(dets.frame < 16) | (dets.frame > 60)].reset_index(drop=True)
    cfg = _small(preset("lgmot"))
    oracle = Tracker(cfg, oracle=True, workers=workers)
    gt = gt_identities(seq, dets)
    out = {}
    for share in (False, True):
        oracle.share_units = share
        out[share] = oracle.track_detections(dets, seq.info.fps, gt_ids=gt)
    assert out[True].frame.min() < 16 and out[True].frame.max() > 60 and out[True].id.nunique() > 1
    pd.testing.assert_frame_equal(out[True], out[False])
    oracle.close()


@pytest.mark.skipif(not MOT15.exists(), reason="needs ../shared/data/mot15_train")
def test_shared_units_give_the_per_clip_tracks_on_mot15_with_the_shipped_model():
    from lgmot.track.run import DEFAULT_MODEL, load_tracker

    if not DEFAULT_MODEL.exists():
        pytest.skip("the shipped model is not installed")
    tracker, _ = load_tracker(None, None, False)
    tracker.workers = 1
    for name in ("TUD-Stadtmitte", "KITTI-17", "ETH-Sunnyday"):
        seq = load_sequence(MOT15 / name)
        got = {}
        for share in (False, True):
            tracker.share_units = share
            got[share] = tracker.track_detections(seq.detections, seq.info.fps)
        assert len(got[True]) > 100
        pd.testing.assert_frame_equal(got[True], got[False])
