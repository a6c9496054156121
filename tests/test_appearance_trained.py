"""A model records whether its training data had appearance; one that had none leaves it out at tracking."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lgmot.data import load_sequence
from lgmot.model import HierarchicalMPN, load_model, save_model
from lgmot.synth import make_sequence
from lgmot.track import Tracker
from lgmot.train import train
from lgmot.train.prepare import prepare_train_sequence

from helpers import tiny_config


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    cfg = tiny_config(isg_weight=0.0, spg_weight=0.0)
    root = make_sequence(tmp_path_factory.mktemp("app"), frames=16, people=4, seed=5)
    return cfg, prepare_train_sequence(load_sequence(root), cfg, "gt", appearance=False)


@pytest.mark.parametrize("with_app", [False, True])
def test_training_records_appearance(plain, tmp_path, with_app):
    cfg, ts = plain
    if with_app:
        rng = np.random.default_rng(0)
        ts = type(ts)(ts.name, ts.fps, ts.dets, ts.gt_ids,
                      app=rng.standard_normal((len(ts.gt_ids), cfg.model.node_in_dim)).astype(np.float32))
    train(cfg, [ts], tmp_path / "run", progress=False, max_iterations=2)
    model, saved = load_model(tmp_path / "run" / "model.safetensors")
    assert model.trained_with_appearance is with_app
    assert Tracker(saved, model, workers=1, backend="thread").uses_appearance is with_app


def test_untrained_appearance_is_left_out(plain, tmp_path):
    cfg, ts = plain
    train(cfg, [ts], tmp_path / "run", progress=False, max_iterations=2)
    model, saved = load_model(tmp_path / "run" / "model.safetensors")
    rng = np.random.default_rng(1)
    garbage = rng.standard_normal((len(ts.dets), cfg.model.node_in_dim)).astype(np.float32)
    with Tracker(saved, model, workers=1, backend="thread") as tracker:
        without = tracker.track_detections(ts.dets, ts.fps)
        with_garbage = tracker.track_detections(ts.dets, ts.fps, appearance=garbage)
    pd.testing.assert_frame_equal(without, with_garbage)
    # what reaches the scorer: no appearance for this model, the given one for a model trained with it
    from lgmot.track import ModelScorer

    for trained in (False, True):
        model.trained_with_appearance = trained
        seen = []

        def spy(level, t, g):
            seen.append(bool(np.asarray(t.has_app).any()))
            return ModelScorer(model)(level, t, g)

        with Tracker(saved, model, scorer=spy, workers=1, backend="thread") as tracker:
            tracker.track_detections(ts.dets, ts.fps, appearance=garbage)
        assert seen and all(x is trained for x in seen)


def test_a_checkpoint_without_the_record_keeps_appearance(tmp_path):
    cfg = tiny_config()
    save_model(tmp_path / "m.safetensors", HierarchicalMPN(cfg.model), cfg)
    model, saved = load_model(tmp_path / "m.safetensors")
    assert model.trained_with_appearance is None
    assert Tracker(saved, model, workers=1, backend="thread").uses_appearance
