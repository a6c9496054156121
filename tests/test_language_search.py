"""Text-to-track search: ranking by the ISG divergence on a constructed case, and refusals."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from helpers import HashTextEncoder, tiny_config
from lgmot.cli import app
from lgmot.errors import InputError
from lgmot.language import search as S
from lgmot.language.text import reduce_instance
from lgmot.model import HierarchicalMPN, save_model


def identity_model(isg: float = 1.0, with_app: bool | None = True):
    """node_in_dim 128 and node_mlp1 = ReLU(identity): the aligned feature is the input itself
    (for positive inputs)."""
    base = tiny_config()
    cfg = replace(base, model=replace(base.model, node_in_dim=128), train=replace(base.train, isg_weight=isg))
    torch.manual_seed(0)
    m = HierarchicalMPN(cfg.model).eval()
    lin = m.level0.node_mlp1[0]
    with torch.no_grad():
        lin.weight.copy_(torch.eye(128))
        lin.bias.zero_()
    m.trained_with_appearance = with_app
    return m, cfg


def kl_numpy(t, m):
    q = np.exp(t - t.max()); q /= q.sum()
    p = np.exp(m - m.max()); p /= p.sum()
    return float((q * (np.log(q) - np.log(p))).sum())


def tracks_table(ids, frames_each):
    rows = [(f, i, 10.0 * i, 5.0, 20.0, 40.0, 0.9) for i in ids for f in range(1, frames_each + 1)]
    return pd.DataFrame(rows, columns=["frame", "id", "x", "y", "w", "h", "score"]).sort_values(
        ["frame", "id"]).reset_index(drop=True)


def test_query_is_reduced_like_the_isg_targets():
    enc = HashTextEncoder()
    q = S.query_target("a person in a red top", enc)
    assert q.shape == (128,)
    np.testing.assert_array_equal(q, reduce_instance(enc.encode(["a person in a red top"]))[0])
    from lgmot.language.annotations import Description, SequenceAnnotations
    from lgmot.language.targets import instance_targets

    ann = SequenceAnnotations(sequence="s", scene=Description(text="A scene."),
                              instances={3: Description(text="a person in a red top")})
    np.testing.assert_array_equal(instance_targets(ann, enc)[3], q)


def test_ranking_on_a_constructed_case():
    model, cfg = identity_model()
    enc = HashTextEncoder()
    t = S.query_target("a person in a red top and dark trousers", enc).astype(np.float64)
    rng = np.random.default_rng(1)
    tracks = tracks_table([4, 7, 9], 5)
    app = np.empty((len(tracks), 128), np.float32)
    # id 7: the query itself shifted positive (softmax is shift-invariant: divergence 0);
    # id 4: the query plus small noise; id 9: unrelated features of the same scale
    for k, tid in enumerate(tracks.id):
        base = t - t.min() + 1.0
        if tid == 4:
            base = base + rng.normal(0, 0.05, 128)
        elif tid == 9:
            base = rng.permutation(base) + rng.normal(0, 0.05, 128)
        app[k] = base
    index = S.TrackIndex.build(model, cfg, None, tracks, appearance=app)
    ranking = index.rank(t.astype(np.float32))
    assert [i for i, _ in ranking] == [7, 4, 9]
    scores = dict(ranking)
    assert scores[7] == pytest.approx(0.0, abs=1e-6)
    for tid in (4, 9):  # minus the mean KL of the track's rows, checked against numpy
        rows = np.flatnonzero(tracks.id.to_numpy() == tid)
        want = -np.mean([kl_numpy(t, app[r].astype(np.float64)) for r in rows])
        assert scores[tid] == pytest.approx(want, rel=1e-3, abs=2e-6)  # float32 log-softmax


def test_best_k_reduce_ranks_a_track_by_its_closest_detections():
    model, cfg = identity_model()
    t = S.query_target("a person with black hair", HashTextEncoder()).astype(np.float64)
    good = t - t.min() + 1.0
    rng = np.random.default_rng(2)
    tracks = tracks_table([1, 2], 4)
    app = np.empty((len(tracks), 128), np.float32)
    seen = {1: 0, 2: 0}
    for k, tid in enumerate(tracks.id):
        # track 1: one exact detection, three far ones; track 2: four moderately close ones
        if tid == 1:
            app[k] = good if seen[1] == 0 else rng.permutation(good) * 3
        else:
            app[k] = good + rng.normal(0, 0.02, 128)
        seen[tid] += 1
    mean = S.TrackIndex.build(model, cfg, None, tracks, S.SearchConfig("mean"), appearance=app).rank(t)
    best = S.TrackIndex.build(model, cfg, None, tracks, S.SearchConfig("best", best_k=1), appearance=app).rank(t)
    assert [i for i, _ in mean] == [2, 1]
    assert [i for i, _ in best] == [1, 2]
    assert dict(best)[1] == pytest.approx(0.0, abs=1e-6)


def test_max_dets_spreads_evenly_over_the_track():
    np.testing.assert_array_equal(S._spread(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(S._spread(3, 8), [0, 1, 2])


def test_refuses_a_model_without_isg_or_without_appearance():
    m, cfg = identity_model(isg=0.0)
    with pytest.raises(InputError, match="without ISG"):
        S.check_searchable(m, cfg)
    m, cfg = identity_model(with_app=False)
    with pytest.raises(InputError, match="without appearance"):
        S.check_searchable(m, cfg)
    m, cfg = identity_model(with_app=None)  # a file that does not say: not known to be aligned
    with pytest.raises(InputError, match="without appearance"):
        S.check_searchable(m, cfg)
    m, cfg = identity_model()
    S.check_searchable(m, cfg)


def _saved(tmp_path, name, isg, with_app):
    from lgmot.config import preset

    cfg = preset("lgmot")
    cfg = replace(cfg, train=replace(cfg.train, isg_weight=isg))
    torch.manual_seed(0)
    path = tmp_path / name
    save_model(path, HierarchicalMPN(cfg.model), cfg, extra={"trained_with_appearance": with_app})
    return path


@pytest.fixture
def hashed_text(monkeypatch):
    from lgmot.language import text

    monkeypatch.setattr(text, "load_text_encoder", lambda *a, **k: HashTextEncoder())


def test_cli_refuses_a_model_trained_without_isg(tmp_path, hashed_text):
    ckpt = _saved(tmp_path, "none.safetensors", 0.0, True)
    r = CliRunner().invoke(app, ["search", str(tmp_path), "--results", str(tmp_path), "--query", "a person",
                                 "--model", str(ckpt)])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "trained without ISG" in lines[0] and str(ckpt) in lines[0]


def test_cli_end_to_end_on_a_synthetic_sequence(tmp_path, hashed_text):
    from lgmot.data import load_sequence
    from lgmot.data.motio import write_results
    from lgmot.synth.generate import make_sequence

    seq_dir = make_sequence(tmp_path / "data", frames=6, people=3)
    seq = load_sequence(seq_dir)
    gt = seq.gt
    tracks = gt.assign(score=1.0)[["frame", "id", "x", "y", "w", "h", "score"]]
    write_results(tmp_path / "res" / f"{seq.name}.txt", tracks)
    ckpt = _saved(tmp_path, "isg.safetensors", 1.0, True)
    r = CliRunner().invoke(app, ["search", str(seq_dir), "--results", str(tmp_path / "res"), "--query",
                                 "a person in a red top", "--model", str(ckpt), "--json", "--top", "50",
                                 "--max-dets", "3"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert sorted(d["id"] for d in out) == sorted(gt.id.unique().tolist())
    scores = [d["score"] for d in out]
    assert scores == sorted(scores, reverse=True) and all(s <= 1e-9 for s in scores)  # minus a KL
    png = tmp_path / "res" / f"{seq.name}_search.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = CliRunner().invoke(app, ["search", str(seq_dir), "--results", str(tmp_path / "nowhere"), "--query", "x",
                                 "--model", str(ckpt)])
    assert r.exit_code == 2 and "no result file" in r.output


def test_the_shipped_search_model_is_searchable():
    from lgmot.model import read_metadata

    model, cfg = S.load_search_model()  # no path: the shipped model
    assert cfg.train.isg_weight > 0 and model.trained_with_appearance is True
    assert cfg.train.text_encoder == "minilm" and cfg.model.node_in_dim == 1280  # MobileNetV2
    assert read_metadata(S.default_search_model())["config"]["train"]["spg_weight"] == 0.0


def test_relative_score_removes_the_query_independent_part():
    model, cfg = identity_model()
    t = S.query_target("a person in a blue top", HashTextEncoder()).astype(np.float64)
    rng = np.random.default_rng(3)
    tracks = tracks_table([1, 2, 3], 3)
    app = (1.0 + rng.random((len(tracks), 128)) * np.where(tracks.id.to_numpy() == 3, 4.0, 1.0)[:, None]).astype(np.float32)
    index = S.TrackIndex.build(model, cfg, None, tracks, S.SearchConfig(score="relative"), appearance=app)
    u = np.zeros(128)
    for tid, score in index.rank(t.astype(np.float32)):
        rows = np.flatnonzero(tracks.id.to_numpy() == tid)
        want = np.mean([kl_numpy(u, app[r].astype(np.float64)) - kl_numpy(t, app[r].astype(np.float64)) for r in rows])
        assert score == pytest.approx(want, abs=2e-6)
    # the uniform query itself scores 0 on every track
    assert all(s == pytest.approx(0.0, abs=1e-6) for _, s in index.rank(np.zeros(128, np.float32)))
    with pytest.raises(ValueError, match="score"):
        S.SearchConfig(score="cosine").validate()
