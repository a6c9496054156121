"""Clips tracked by several workers (processes or threads) give exactly the tracks of one."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
import torch

from lgmot.config import preset
from lgmot.data import load_sequence
from lgmot.model import HierarchicalMPN
from lgmot.synth import make_sequence
from lgmot.track import Tracker
from lgmot.track.run import gt_identities


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_workers_do_not_change_tracks(tmp_path, backend):
    seq = load_sequence(make_sequence(tmp_path / "s", frames=90, people=6, seed=3))
    dets = seq.detections
    cfg = preset("lgmot")
    # 30-frame clips: 5 overlapping clips, so several are in flight at once
    cfg = replace(cfg, tracker=replace(cfg.tracker, frames_per_graph=30, frames_per_level=(5, 15, 30),
                                       pruning=cfg.tracker.pruning[:3], use_motion=cfg.tracker.use_motion[:3]),
                  model=replace(cfg.model, node_in_dim=8, depth=3))
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    runs = [Tracker(cfg, model, workers=n, backend=backend).track_detections(dets, seq.info.fps) for n in (1, 2, 3)]
    oracle = [Tracker(cfg, oracle=True, workers=n, backend=backend).track_detections(dets, seq.info.fps, gt_ids=gt_identities(seq, dets))
              for n in (1, 2)]
    assert len(runs[0]) > 0 and oracle[0].id.nunique() > 1
    pd.testing.assert_frame_equal(runs[0], runs[1])
    pd.testing.assert_frame_equal(runs[0], runs[2])
    pd.testing.assert_frame_equal(oracle[0], oracle[1])
    assert torch.get_num_threads() >= 1


def test_backend_names():
    from lgmot.track.parallel import map_in_order, resolve_backend

    assert resolve_backend("thread") == "thread"
    assert resolve_backend("auto") in ("process", "thread")
    with pytest.raises(ValueError, match="clip backend"):
        Tracker(preset("lgmot"), oracle=True, backend="gpu")
    # order is kept and every item is computed once, whatever finishes first
    for backend in ("process", "thread"):
        assert list(map_in_order(lambda x: x * x, range(7), 3, backend)) == [x * x for x in range(7)]


def test_worker_error_reaches_caller():
    from lgmot.track.parallel import map_in_order

    def boom(x):
        if x == 2:
            raise ValueError("clip 2 failed")
        return x

    for backend in ("process", "thread"):
        with pytest.raises(ValueError, match="clip 2 failed"):
            list(map_in_order(boom, range(5), 2, backend))


class _BiasScorer:
    """Every candidate edge gets probability sigmoid(model.bias): the weights decide everything."""

    def __init__(self):
        self.model = torch.nn.Linear(1, 1)

    def __call__(self, level, tracklets, graph):
        import numpy as np

        return np.full(len(graph.edges), float(torch.sigmoid(self.model.bias.detach())[0]))


def test_process_pool_is_reused_and_sees_new_weights(tmp_path):
    seq = load_sequence(make_sequence(tmp_path / "s", frames=90, people=4, seed=5))
    cfg = preset("lgmot")
    cfg = replace(cfg, tracker=replace(cfg.tracker, frames_per_graph=30, frames_per_level=(5, 15, 30),
                                       pruning=cfg.tracker.pruning[:3], use_motion=cfg.tracker.use_motion[:3]))
    scorer = _BiasScorer()
    with torch.no_grad():
        scorer.model.bias.fill_(-5.0)  # links nothing: every track has one detection and is dropped
    with Tracker(cfg, scorer=scorer, workers=2, backend="process") as tracker:
        assert len(tracker.track_detections(seq.detections, seq.info.fps)) == 0
        pool = tracker._pool._ex
        assert len(tracker.track_detections(seq.detections, seq.info.fps)) == 0
        assert tracker._pool._ex is pool  # same weights, same settings: the workers are kept
        with torch.no_grad():
            scorer.model.bias.fill_(5.0)  # in place, as an optimiser step: the workers must not keep -5
        linked = tracker.track_detections(seq.detections, seq.info.fps)
        assert tracker._pool._ex is not pool
    assert len(linked) > 0
    pd.testing.assert_frame_equal(linked, Tracker(cfg, scorer=scorer, workers=1).track_detections(
        seq.detections, seq.info.fps))


def test_input_error_crosses_process_boundary():
    """A clip worker's InputError reaches the caller as the same one-line error."""
    import pickle

    from lgmot.errors import InputError
    from lgmot.track.parallel import map_in_order

    e = pickle.loads(pickle.dumps(InputError("a/b.txt", "bad value", line=3)))
    assert str(e) == "a/b.txt:3: bad value" and e.line == 3 and e.reason == "bad value"

    def bad(x):
        if x == 1:
            raise InputError("det.txt", "column 7 is not a number", line=12)
        return x

    with pytest.raises(InputError, match=r"^det.txt:12: column 7 is not a number$"):
        list(map_in_order(bad, range(4), 2, "process"))
