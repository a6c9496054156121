"""Which appearance encoder tracks with a model: the checkpoint's record (encoder + weights SHA-256)
against ``--reid`` / ``$LGMOT_REID_WEIGHTS``; mismatches are one-line errors; motion-only models
ignore ReID weights; the shipped model is found by the weights' hash."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.config import EmbedConfig, preset
from lgmot.embed import REID_ENV, OSNetEncoder, encoder_record
from lgmot.errors import InputError
from lgmot.model import HierarchicalMPN, read_metadata, save_model
from lgmot.synth import make_sequence
from lgmot.track import run as track_run

REID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reid_osnet"
MSMT = REID / "osnet_x0_25_msmt17.pth"
MARKET = REID / "osnet_x0_25_market1501.pth"
pytestmark = pytest.mark.skipif(not (MSMT.is_file() and MARKET.is_file()), reason=f"shared weights missing: {REID}")


def _model(path: Path, embed: EmbedConfig | None, dim: int) -> Path:
    """A small random-weight checkpoint whose metadata says it was trained with ``embed`` (None: no appearance)."""
    base = preset("lgmot")
    cfg = replace(base, model=replace(base.model, node_in_dim=dim, num_steps=2, num_class_steps=1),
                  embed=embed or EmbedConfig())
    extra = {"trained_with_appearance": embed is not None}
    if embed is not None:
        extra["appearance_encoder"] = encoder_record(embed)
    save_model(path, HierarchicalMPN(cfg.model), replace(cfg, embed=replace(cfg.embed, weights=None)), extra=extra)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {"osnet": _model(d / "osnet.safetensors", EmbedConfig("osnet_x0_25", weights=str(MSMT)), 512),
            "mobilenet": _model(d / "mnv2.safetensors", EmbedConfig(), 1280),
            "motion": _model(d / "motion.safetensors", None, 1280)}


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(REID_ENV, raising=False)


def _one_line(e) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_record_holds_sha256_not_path(models):
    rec = read_metadata(models["osnet"])["extra"]["appearance_encoder"]
    assert rec["encoder"] == "osnet_x0_25" and rec["crop_size"] == [256, 128]
    assert rec["weights_sha256"] == hashlib.sha256(MSMT.read_bytes()).hexdigest()
    assert rec["weights_file"] == MSMT.name and str(MSMT.parent) not in str(read_metadata(models["osnet"]))


def test_same_weights_track(models, monkeypatch):
    tracker, cfg = track_run.load_tracker(None, models["osnet"], False, reid=MSMT)
    assert isinstance(tracker.encoder.build(), OSNetEncoder) and tracker.encoder.crop_size == (256, 128)
    assert tracker.appearance_note == f"osnet_x0_25 ({MSMT.name})"
    monkeypatch.setenv(REID_ENV, str(MSMT))  # the default location works the same
    tracker, _ = track_run.load_tracker(None, models["osnet"], False)
    assert isinstance(tracker.encoder.build(), OSNetEncoder)


def test_other_weights_are_refused(models, monkeypatch):
    with pytest.raises(InputError) as e:
        track_run.load_tracker(None, models["osnet"], False, reid=MARKET)
    msg = _one_line(e)
    assert str(MARKET) in msg and "not the ones" in msg and "6f57607fed9f" in msg
    monkeypatch.setenv(REID_ENV, str(MARKET))
    with pytest.raises(InputError, match="not the ones"):
        track_run.load_tracker(None, models["osnet"], False)


def test_missing_weights_asks_for_reid(models):
    with pytest.raises(InputError) as e:
        track_run.load_tracker(None, models["osnet"], False)
    msg = _one_line(e)
    assert "--reid" in msg and REID_ENV in msg and "osnet_x0_25" in msg
    tracker, _ = track_run.load_tracker(None, models["osnet"], False, appearance=False)
    assert tracker.encoder is None


def test_mobilenet_model_refuses_reid_weights(models):
    with pytest.raises(InputError) as e:
        track_run.load_tracker(None, models["mobilenet"], False, reid=MSMT)
    msg = _one_line(e)
    assert "trained with mobilenetv2" in msg and "not osnet_x0_25" in msg
    tracker, _ = track_run.load_tracker(None, models["mobilenet"], False)
    assert tracker.encoder.name == "mobilenetv2-imagenet-128x64-l2"


def test_motion_only_model_ignores_reid(models):
    tracker, _ = track_run.load_tracker(None, models["motion"], False, reid=MSMT)
    assert tracker.encoder is None and "ignored" in tracker.appearance_note


def test_shipped_model_found_by_hash(models, monkeypatch, tmp_path):
    shipped = tmp_path / "assets"
    shipped.mkdir()
    (shipped / "lgmot_mot15.safetensors").write_bytes(models["mobilenet"].read_bytes())
    (shipped / "lgmot_osnet.safetensors").write_bytes(models["osnet"].read_bytes())
    monkeypatch.setattr(track_run, "DEFAULT_MODEL", shipped / "lgmot_mot15.safetensors")
    tracker, cfg = track_run.load_tracker(None, None, False, reid=MSMT)
    assert cfg.model.node_in_dim == 512 and isinstance(tracker.encoder.build(), OSNetEncoder)
    with pytest.raises(InputError) as e:
        track_run.load_tracker(None, None, False, reid=MARKET)
    msg = _one_line(e)
    assert "no shipped model was trained with these weights" in msg and "--model" in msg and str(MARKET) in msg
    # the environment default is a location, not a demand: unknown weights fall back to the default model
    monkeypatch.setenv(REID_ENV, str(MARKET))
    tracker, cfg = track_run.load_tracker(None, None, False)
    assert cfg.model.node_in_dim == 1280 and tracker.encoder.name.startswith("mobilenetv2")
    monkeypatch.setenv(REID_ENV, str(MSMT))
    tracker, cfg = track_run.load_tracker(None, None, False)
    assert cfg.model.node_in_dim == 512


def test_cli_end_to_end_and_mismatch(models, tmp_path):
    root = make_sequence(tmp_path / "seq", frames=12, people=3, seed=2)
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["track", str(root), "--out", str(out), "--model", str(models["osnet"]),
                                 "--reid", str(MSMT), "--detections", "public", "-q"])
    assert r.exit_code == 0, r.output
    assert f"appearance: osnet_x0_25 ({MSMT.name})" in r.output
    cached = list((out / "cache").glob("*.npz"))
    assert len(cached) == 1 and "osnet_x0_25" in cached[0].name
    with np.load(cached[0]) as z:
        emb = z["emb"]
    assert emb.shape[1] == 512 and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    r = CliRunner().invoke(app, ["track", str(root), "--out", str(out), "--model", str(models["osnet"]),
                                 "--reid", str(MARKET), "-q"])
    lines = [l for l in r.output.splitlines() if l.strip()]
    assert r.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "not the ones" in lines[0]


def test_training_records_the_encoder(tmp_path):
    """``train`` stores the encoder of ``cfg.embed`` (name and weights SHA-256) with a model that saw appearance."""
    from lgmot.data import load_sequence
    from lgmot.train import train
    from lgmot.train.prepare import prepare_train_sequence

    root = make_sequence(tmp_path / "seq", frames=16, people=3, seed=3)
    base = preset("lgmot")
    cfg = replace(base, model=replace(base.model, node_in_dim=512, num_steps=2, num_class_steps=1),
                  train=replace(base.train, batch_size=2, epochs=1, isg_weight=0.0, spg_weight=0.0),
                  embed=EmbedConfig("osnet_x0_25", weights=str(MSMT)))
    ts = prepare_train_sequence(load_sequence(root), cfg, "gt", appearance=True, cache_dir=tmp_path / "c")
    assert ts.app.shape == (len(ts.dets), 512)
    train(cfg, [ts], tmp_path / "run", max_iterations=1, progress=False)
    meta = read_metadata(tmp_path / "run" / "model.safetensors")
    assert str(MSMT.parent) not in str(meta)  # the hash is recorded, not this machine's path
    rec = meta["extra"]["appearance_encoder"]
    assert rec["encoder"] == "osnet_x0_25"
    assert rec["weights_sha256"] == hashlib.sha256(MSMT.read_bytes()).hexdigest()


def test_init_from_another_appearance_width(tmp_path, models):
    """Fine-tuning a 1280-d (MobileNetV2) model into a 512-d (OSNet) one: only the node input layer starts fresh."""
    import torch

    from lgmot.model import load_model
    from lgmot.train.loop import init_from

    src, cfg = load_model(models["mobilenet"])
    dst = HierarchicalMPN(replace(cfg.model, node_in_dim=512))
    fresh = init_from(dst, models["mobilenet"])
    assert fresh == ["level0.node_mlp1.0.weight", "upper.node_mlp1.0.weight"]
    theirs = src.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in dst.state_dict().items() if k not in fresh)
    with pytest.raises(InputError, match="no tensor of this checkpoint fits"):
        init_from(torch.nn.Linear(2, 2), models["mobilenet"])


def test_shipped_osnet_model_is_found():
    """The packaged OSNet model records the MSMT17 file's hash; the default model stays motion/MobileNetV2."""
    found = track_run.shipped_model_for(MSMT)
    assert found.name == "lgmot_mot15_osnet_x0_25_msmt17.safetensors"
    meta = read_metadata(found)
    assert meta["config"]["model"]["node_in_dim"] == 512 and meta["config"]["embed"]["encoder"] == "osnet_x0_25"
    assert read_metadata(track_run.DEFAULT_MODEL)["config"]["model"]["node_in_dim"] == 1280
