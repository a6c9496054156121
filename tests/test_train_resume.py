"""Training runs stop and resume exactly (issue 5): k iterations, then resume to N == N uninterrupted."""
from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from lgmot.data import load_sequence
from lgmot.synth import make_sequence
from lgmot.train import make_clips, train
from lgmot.train.prepare import prepare_train_sequence
from lgmot.train.state import OPT

from helpers import HashTextEncoder, tiny_config




@pytest.fixture(scope="module")
def sequences(tmp_path_factory):
    cfg = tiny_config()
    out = []
    for seed in (0, 1):
        root = make_sequence(tmp_path_factory.mktemp(f"tr{seed}"), frames=16, people=4, seed=seed)
        ts = prepare_train_sequence(load_sequence(root), cfg, "gt", appearance=False, text_encoder=HashTextEncoder())
        rng = np.random.default_rng(seed)  # stand-in appearance so every loss term (ISG too) is active
        ts.app = (rng.standard_normal((20, 16))[ts.gt_ids] + 0.1 * rng.standard_normal((len(ts.gt_ids), 16))
                  ).astype(np.float32)
        out.append(ts)
    return out


def iterations_logged(run_dir) -> list[int]:
    with open(run_dir / "metrics.csv") as f:
        return [int(r["iteration"]) for r in csv.DictReader(f)]


def test_resume_matches_uninterrupted_run(sequences, tmp_path):
    cfg = tiny_config()
    n_clips = sum(len(make_clips(s, 8, 4)) for s in sequences)
    ipe = -(-n_clips // 2)
    n = 2 * ipe  # two epochs
    full = train(cfg, sequences, tmp_path / "full", progress=False)
    assert full.iterations == n and [r["depth"] for r in full.history][-1] == 3  # depth unlocked on the way
    assert all(r["isg"] > 0 and r["spg"] > 0 for r in full.history)
    ref = load_file(tmp_path / "full" / "last.safetensors")
    # stop mid-epoch, exactly at the epoch border, and twice in a row
    for stops in ([ipe - 1], [ipe], [1, ipe + 1]):
        run = tmp_path / f"stop{'_'.join(map(str, stops))}"
        for i, k in enumerate(stops):
            r = train(cfg, sequences, run, progress=False, max_iterations=k, resume=i > 0)
            assert r.iterations == k
        stopped = load_file(run / "last.safetensors")
        r = train(cfg, sequences, run, progress=False, resume=True)
        assert r.iterations == n and r.history[0]["iteration"] == stops[-1] + 1  # continued, not restarted
        got = load_file(run / "last.safetensors")
        assert set(got) == set(ref)
        for key in ref:
            assert torch.allclose(got[key], ref[key], rtol=0, atol=1e-6), (stops, key)
        assert iterations_logged(run) == list(range(1, n + 1))
        # the comparison has teeth: the remaining iterations did move the weights
        assert max(float((stopped[k] - ref[k]).abs().max()) for k in ref if not k.startswith(OPT)) > 1e-5


def test_cosine_schedule_closed_form():
    from lgmot.train.loop import lr_at

    assert lr_at(1e-3, "constant", 7, 10) == 1e-3
    assert lr_at(1e-3, "cosine", 0, 10) == pytest.approx(1e-3)
    assert lr_at(1e-3, "cosine", 5, 10) == pytest.approx(1e-3 * (0.05 + 0.95 * 0.5))
    assert lr_at(1e-3, "cosine", 10, 10) == pytest.approx(5e-5)
    with pytest.raises(ValueError, match="lr_schedule"):
        lr_at(1e-3, "step", 0, 10)


def test_resume_with_cosine_schedule(sequences, tmp_path):
    from dataclasses import replace

    cfg = tiny_config()
    cfg = replace(cfg, train=replace(cfg.train, lr_schedule="cosine"))
    full = train(cfg, sequences, tmp_path / "full", progress=False)
    train(cfg, sequences, tmp_path / "part", progress=False, max_iterations=full.iterations // 2 + 1)
    train(cfg, sequences, tmp_path / "part", progress=False, resume=True)
    ref, got = load_file(tmp_path / "full" / "last.safetensors"), load_file(tmp_path / "part" / "last.safetensors")
    for key in ref:
        assert torch.allclose(got[key], ref[key], rtol=0, atol=1e-6), key


@pytest.mark.parametrize("variant", ["reference", "frame_rate+directional", "cpu_recipe_losses", "node_descriptors"])
def test_resume_with_augmentation(sequences, tmp_path, variant):
    from dataclasses import replace

    cfg = tiny_config()
    if variant == "reference":
        cfg = replace(cfg, train=replace(cfg.train, augmentation=True))
    elif variant == "cpu_recipe_losses":  # the CPU recipe's augmentation and class balance, both loss masks
        cfg = replace(cfg, train=replace(cfg.train, augmentation=True, loss_ignore=("skip", "fp_pair"),
                                         class_balance=0.5), model=replace(cfg.model, directional_motion=True))
    elif variant == "node_descriptors":  # augmented detections change the descriptors (scores travel along)
        cfg = replace(cfg, train=replace(cfg.train, augmentation=True),
                      model=replace(cfg.model, directional_motion=True, node_descriptors=True))
    else:  # lgmot's frame-rate augmentation, with the directional motion features it trains
        cfg = replace(cfg, train=replace(cfg.train, frame_rate_augmentation=4.0),
                      model=replace(cfg.model, directional_motion=True))
    full = train(cfg, sequences, tmp_path / "full", progress=False)
    plain_cfg = replace(cfg, train=replace(cfg.train, augmentation=False, frame_rate_augmentation=0.0))
    plain = train(plain_cfg, sequences, tmp_path / "plain", progress=False)
    train(cfg, sequences, tmp_path / "part", progress=False, max_iterations=full.iterations // 2 + 1)
    train(cfg, sequences, tmp_path / "part", progress=False, resume=True)
    ref, got = load_file(tmp_path / "full" / "last.safetensors"), load_file(tmp_path / "part" / "last.safetensors")
    for key in ref:
        assert torch.allclose(got[key], ref[key], rtol=0, atol=1e-6), key
    # the augmentation did change what was trained on
    other = load_file(tmp_path / "plain" / "last.safetensors")
    assert any(not torch.equal(ref[k], other[k]) for k in ref if not k.startswith(OPT))
    assert [r["loss"] for r in full.history] != [r["loss"] for r in plain.history]


def test_node_descriptor_model_tracks(sequences, tmp_path):
    """A model trained with node descriptors gets them at inference too, with the real score ranks."""
    from dataclasses import replace

    from lgmot.model import load_model
    from lgmot.track import ModelScorer, Tracker

    cfg = tiny_config()
    cfg = replace(cfg, model=replace(cfg.model, node_descriptors=True))
    train(cfg, sequences, tmp_path / "run", progress=False, max_iterations=2)
    model, saved = load_model(tmp_path / "run" / "model.safetensors")
    assert saved.model.node_descriptors and model.mpn(0).descriptor_mlp is not None
    ranks = []

    def scorer(level, tracklets, graph):
        ranks.append(graph.node_features[:, 4].copy())
        return ModelScorer(model)(level, tracklets, graph)

    s = sequences[0]
    dets = s.dets.assign(score=np.linspace(0.5, 1.0, len(s.dets)))
    with Tracker(saved, scorer=scorer, workers=1, backend="thread") as tracker:
        out = tracker.track_detections(dets, s.fps)
    assert {"frame", "id", "x", "y", "w", "h"} <= set(out.columns)
    # level 0 of each clip: one node per detection, ranks spread over (0, 1) as the scores are
    assert ranks and ranks[0].min() < 0.2 and ranks[0].max() > 0.8
