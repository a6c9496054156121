"""Clips tracked on several threads give exactly the tracks of one thread."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import torch

from lgmot.config import preset
from lgmot.data import load_sequence
from lgmot.model import HierarchicalMPN
from lgmot.synth import make_sequence
from lgmot.track import Tracker
from lgmot.track.run import gt_identities


def test_threads_do_not_change_tracks(tmp_path):
    seq = load_sequence(make_sequence(tmp_path / "s", frames=90, people=6, seed=3))
    dets = seq.detections
    cfg = preset("lgmot")
    # 30-frame clips: 5 overlapping clips, so several are in flight at once
    cfg = replace(cfg, tracker=replace(cfg.tracker, frames_per_graph=30, frames_per_level=(5, 15, 30),
                                       pruning=cfg.tracker.pruning[:3], use_motion=cfg.tracker.use_motion[:3]),
                  model=replace(cfg.model, node_in_dim=8, depth=3))
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    runs = [Tracker(cfg, model, threads=n).track_detections(dets, seq.info.fps) for n in (1, 2, 3)]
    oracle = [Tracker(cfg, oracle=True, threads=n).track_detections(dets, seq.info.fps, gt_ids=gt_identities(seq, dets))
              for n in (1, 2)]
    assert len(runs[0]) > 0 and oracle[0].id.nunique() > 1
    pd.testing.assert_frame_equal(runs[0], runs[1])
    pd.testing.assert_frame_equal(runs[0], runs[2])
    pd.testing.assert_frame_equal(oracle[0], oracle[1])
    assert torch.get_num_threads() >= 1
