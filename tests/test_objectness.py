"""The level-0 objectness output (``model.node_classifier``): where it reads the node states, how it
is trained, how it reaches the detections, and the track filter that uses it."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from lgmot.config import Config, ModelConfig, preset
from lgmot.data import load_sequence
from lgmot.errors import InputError
from lgmot.graph import Tracklets
from lgmot.model import HierarchicalMPN, load_model
from lgmot.solve import drop_unlikely
from lgmot.synth import make_sequence
from lgmot.track import Tracker, run_hierarchy, run_levels
from lgmot.train import train
from lgmot.train.loop import clip_loss
from lgmot.train.dataset import make_clips
from lgmot.train.prepare import prepare_train_sequence

from helpers import tiny_config
from test_model_inference_path import graph
from test_solve_postprocess import table
from test_track_min_score import two_people

CFG = ModelConfig(node_in_dim=24, node_classifier=True)


def test_node_head_reads_the_states_of_the_last_step():
    torch.manual_seed(0)
    one = HierarchicalMPN(replace(CFG, num_steps=1, num_class_steps=1)).double()
    x, ei, attr, has = graph(20, 50, 0, seed=1, shuffle=True)
    out = one(0, x, ei, attr)
    mpn = one.level0
    # one step: the last step reads the encoded node states, so both halves are h0
    h0 = mpn.node_mlp2(mpn.node_mlp1(x))
    torch.testing.assert_close(out.node_logits, mpn.node_classifier(torch.cat([h0, h0], dim=1)).squeeze(1))
    # with more steps the training form, the inference form and last_only agree
    model = HierarchicalMPN(CFG).double().eval()
    ref = model(0, x, ei, attr, has)
    with torch.inference_mode():
        fast = model(0, x, ei, attr, has)
        last = model(0, x, ei, attr, has, last_only=True)
    assert ref.node_logits.shape == (20,)
    torch.testing.assert_close(fast.node_logits, ref.node_logits.detach(), atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(last.node_logits, ref.node_logits.detach(), atol=1e-10, rtol=1e-10)


def test_only_level_zero_has_a_node_head():
    model = HierarchicalMPN(CFG)
    assert model.upper.node_classifier is None
    x, ei, attr, has = graph(10, 20, 1, seed=2, shuffle=False)
    assert model(1, x.float(), ei, attr.float(), has).node_logits is None
    assert HierarchicalMPN(replace(CFG, node_classifier=False)).level0.node_classifier is None


@pytest.fixture(scope="module")
def public_sequence(tmp_path_factory):
    """A synthetic sequence's own (noisy, 10% false) detections, with their GT assignment."""
    cfg = replace(tiny_config(isg_weight=0.0, spg_weight=0.0),
                  model=replace(tiny_config().model, node_classifier=True, node_descriptors=True))
    root = make_sequence(tmp_path_factory.mktemp("obj"), frames=40, people=6, seed=3)
    ts = prepare_train_sequence(load_sequence(root), cfg, "public", appearance=False)
    assert (ts.gt_ids == -1).sum() >= 10 and (ts.gt_ids >= 0).sum() >= 100
    return cfg, ts


def test_node_loss_is_the_focal_loss_of_the_gt_match(public_sequence):
    from lgmot.model import focal_loss

    cfg, ts = public_sequence
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    clip = make_clips(ts, cfg.tracker.frames_per_graph, cfg.train.train_frame_overlap)[0]
    seen = {}
    level0 = model.level0.forward

    def spy(*a, **k):
        out = level0(*a, **k)
        seen["logits"] = out.node_logits
        return out

    model.level0.forward = spy
    t = clip.tracklets(cfg.model.node_in_dim)
    loss = clip_loss(model, clip, cfg, depth=1)
    want = focal_loss(seen["logits"], torch.as_tensor(t.gt_id != -1, dtype=torch.float32), gamma=cfg.train.focal_gamma)
    assert loss.node == pytest.approx(float(want), rel=1e-6) and loss.node > 0
    loss.total.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.level0.node_classifier.parameters())
    # weight 0: the term is left out
    off = replace(cfg, train=replace(cfg.train, node_loss_weight=0.0))
    assert clip_loss(HierarchicalMPN(cfg.model), clip, off, depth=1).node == 0.0


def test_training_learns_to_tell_false_detections(public_sequence, tmp_path):
    cfg, ts = public_sequence
    cfg = replace(cfg, train=replace(cfg.train, epochs=6, lr=3e-3))
    train(cfg, [ts], tmp_path / "run", progress=False)
    model, saved = load_model(tmp_path / "run" / "model.safetensors")
    assert saved.model.node_classifier and model.level0.node_classifier is not None
    from lgmot.track.tracker import ModelScorer

    t0 = Tracklets.from_detections(ts.dets.frame.to_numpy(), ts.dets[["x", "y", "w", "h"]].to_numpy(),
                                   gt_ids=ts.gt_ids, scores=ts.dets.score.to_numpy())
    tc = replace(saved.tracker, frames_per_graph=40, frames_per_level=(2, 4, 40))
    obj = run_levels(t0, tc, ts.fps, int(ts.dets.frame.min()), ModelScorer(model), saved.model.graph_features).objectness
    real = ts.gt_ids >= 0
    # rank AUC of the objectness for real against false detections
    ranks = pd.Series(obj).rank().to_numpy()
    auc = (ranks[real].sum() - real.sum() * (real.sum() + 1) / 2) / (real.sum() * (~real).sum())
    assert auc > 0.8


def scripted_scorer(level, tracklets, graph):
    """Edges all 0.9; node objectness = node index / 100 at level 0."""
    p = np.full(len(graph.edges), 0.9)
    return (p, np.arange(tracklets.n_nodes) / 100.0) if level == 0 else p


def test_objectness_reaches_each_detection_in_input_order():
    frames = np.array([3, 1, 2, 1, 3, 2])  # not frame-sorted: level-0 nodes are
    boxes = np.tile([10.0, 10.0, 20.0, 40.0], (6, 1)) + np.arange(6)[:, None] * [100, 0, 0, 0]
    t0 = Tracklets.from_detections(frames, boxes)
    cfg = preset("lgmot").tracker
    res = run_levels(t0, cfg, 25.0, 1, scripted_scorer)
    np.testing.assert_allclose(res.objectness, t0.det_node / 100.0)
    np.testing.assert_array_equal(res.labels, run_hierarchy(t0, cfg, 25.0, 1, scripted_scorer))
    assert run_levels(t0, cfg, 25.0, 1, lambda lv, t, g: np.full(len(g.edges), 0.9)).objectness is None


def test_drop_unlikely_by_mean_objectness():
    t = table([(1, 1, 0, 0, 1, 1, 0.9), (2, 1, 0, 0, 1, 1, 0.9), (1, 2, 5, 0, 1, 1, 0.9), (2, 2, 5, 0, 1, 1, 0.9),
               (1, 3, 9, 0, 1, 1, 0.9)])
    obj = np.array([0.2, 0.6, 0.9, np.nan, np.nan])  # means: track 1 0.4, track 2 0.9 (NaN left out), track 3 none
    assert sorted(set(drop_unlikely(t, obj, 0.5).id)) == [2, 3]
    assert sorted(set(drop_unlikely(t, obj, 0.4).id)) == [1, 2, 3]
    assert sorted(set(drop_unlikely(t, obj, 0.95).id)) == [3]  # unscored tracks are kept
    assert len(drop_unlikely(t, obj, 0.0)) == 5
    with pytest.raises(ValueError, match="4 objectness values for 5"):
        drop_unlikely(t, obj[:4], 0.5)


@pytest.mark.parametrize("bias,kept", [(-20.0, 0), (20.0, 2)])
def test_tracker_drops_unlikely_tracks(bias, kept):
    dets, _ = two_people()
    cfg = preset("lgmot")
    cfg = replace(cfg, model=replace(cfg.model, node_classifier=True),
                  tracker=replace(cfg.tracker, min_track_objectness=0.5))
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    head = model.level0.node_classifier[-1]
    with torch.no_grad():  # objectness sigmoid(bias) for every detection
        head.weight.zero_()
        head.bias.fill_(bias)
    with Tracker(cfg, model, workers=1, backend="thread") as tracker:
        out = tracker.track_detections(dets, 25.0)
    assert out.id.nunique() == kept
    off = replace(cfg, tracker=replace(cfg.tracker, min_track_objectness=0.0))
    with Tracker(off, model, workers=1, backend="thread") as tracker:
        assert tracker.track_detections(dets, 25.0).id.nunique() >= 2


def test_bad_objectness_settings_are_rejected(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("base: lgmot\ntracker:\n  min_track_objectness: 1.5\n")
    with pytest.raises(InputError, match="bad.yaml.*min_track_objectness"):
        Config.load(p)
    p.write_text("base: lgmot\ntrain:\n  node_loss_weight: -1\n")
    with pytest.raises(InputError, match="bad.yaml.*node_loss_weight"):
        Config.load(p)
