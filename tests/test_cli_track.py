"""``lgmot track`` through the CLI: missing model, bad input, video output, a trained model without text."""
from __future__ import annotations

import shutil
import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.config import preset
from lgmot.data import load_sequence
from lgmot.data.motio import read_results
from lgmot.language import FILENAME
from lgmot.synth import make_sequence

from helpers import HashTextEncoder


@pytest.fixture(scope="module")
def seq_root(tmp_path_factory):
    return make_sequence(tmp_path_factory.mktemp("cli"), frames=30, people=5, seed=1)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line_error(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = [l for l in res.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    return lines[0]


def test_missing_model_checkpoint_is_a_one_line_error(seq_root, tmp_path):
    res = invoke("track", seq_root, "--out", tmp_path / "o", "--model", "/nonexistent.safetensors", "-q")
    msg = one_line_error(res)
    assert "/nonexistent.safetensors" in msg and "not found" in msg
    assert not (tmp_path / "o" / "source.txt").exists()


def test_no_default_model_and_no_oracle(seq_root, tmp_path, monkeypatch):
    """Without --model and --oracle the shipped model is used; when it is missing: exit 2, one line."""
    from lgmot.track import run

    monkeypatch.setattr(run, "DEFAULT_MODEL", tmp_path / "absent" / "lgmot_mot15.safetensors")
    msg = one_line_error(invoke("track", seq_root, "--out", tmp_path / "o", "-q"))
    assert "no default model" in msg and "--oracle" in msg


@pytest.mark.parametrize("where", ["file", "public"])
def test_bad_detection_line_names_file_and_line(seq_root, tmp_path, where):
    lines = (seq_root / "det" / "det.txt").read_text().splitlines()
    lines[4] = "5,-1,12.0,oops,30,60,0.9,-1,-1,-1"
    if where == "file":
        bad = tmp_path / "bad_det.txt"
        bad.write_text("\n".join(lines) + "\n")
        args = ["--detections", bad]
    else:  # the sequence's own det/det.txt
        copy = shutil.copytree(seq_root, tmp_path / "source", ignore=shutil.ignore_patterns("img1"))
        bad = copy / "det" / "det.txt"
        bad.write_text("\n".join(lines) + "\n")
        seq_root, args = copy, ["--detections", "public"]
    msg = one_line_error(invoke("track", seq_root, "--out", tmp_path / "o", "--config", "lgmot", "--oracle",
                                "--no-appearance", "-q", *args))
    assert f"{bad}:5:" in msg, msg


def test_save_video_writes_one_frame_per_image(seq_root, tmp_path):
    out = tmp_path / "o"
    res = invoke("track", seq_root, "--out", out, "--detections", "gt", "--oracle", "--no-appearance",
                 "--save-video", "-q")
    assert res.exit_code == 0, res.output
    cap = cv2.VideoCapture(str(out / "source.mp4"))
    assert cap.isOpened()
    n, shape = 0, None
    while True:
        ok, img = cap.read()
        if not ok:
            break
        n, shape = n + 1, img.shape
    cap.release()
    assert n == 30 and shape == (240, 320, 3)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left behind



def test_model_trained_with_language_tracks_without_text(seq_root, tmp_path, monkeypatch):
    from lgmot.model import load_model
    from lgmot.train import train
    from lgmot.train.prepare import prepare_train_sequence

    base = preset("lgmot")
    cfg = replace(base, model=replace(base.model, node_in_dim=32, num_steps=3, num_class_steps=2),
                  train=replace(base.train, batch_size=2, epochs=2))
    ts = prepare_train_sequence(load_sequence(seq_root), cfg, "gt", appearance=False, text_encoder=HashTextEncoder())
    assert ts.scene_emb is not None and len(ts.inst_emb) == 5
    # stand-in appearance (ISG applies to nodes with appearance): a noisy code per identity
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((10, 32))
    ts.app = (codes[ts.gt_ids] + 0.1 * rng.standard_normal((len(ts.gt_ids), 32))).astype(np.float32)
    res = train(cfg, [ts], tmp_path / "run", max_iterations=2, progress=False)
    assert res.iterations == 2 and all(r["isg"] > 0 and r["spg"] > 0 for r in res.history)
    ckpt = tmp_path / "run" / "model.safetensors"
    load_model(ckpt)

    # a copy without its language file, and no text encoder importable
    copy = shutil.copytree(seq_root, tmp_path / "nolang" / "source")
    (copy / FILENAME).unlink()
    from lgmot.language import text

    def no_encoder(*a, **k):
        raise ImportError("no text encoder in this test")

    monkeypatch.setattr(text, "load_text_encoder", no_encoder)
    for mod in ("transformers", "open_clip", "sentence_transformers"):
        monkeypatch.setitem(sys.modules, mod, None)
    out = tmp_path / "o"
    r = invoke("track", copy, "--out", out, "--model", ckpt, "--detections", "public", "--no-appearance", "-q")
    assert r.exit_code == 0, r.output
    tracks = read_results(out / "source.txt")
    dets = load_sequence(copy).detections
    assert len(tracks) > 0 and tracks.frame.between(1, 30).all()
    assert len(tracks) <= len(dets) + 30 * tracks.id.nunique()  # kept detections + interpolated rows


def test_model_trained_without_appearance_skips_the_encoder(seq_root, tmp_path):
    """The sequence has frames, but the model never saw appearance: none is computed (a 32-d model
    would reject the 1280-d MobileNetV2 embeddings), and the summary line says so."""
    from lgmot.train import train
    from lgmot.train.prepare import prepare_train_sequence

    base = preset("lgmot")
    cfg = replace(base, model=replace(base.model, node_in_dim=32, num_steps=3, num_class_steps=2),
                  train=replace(base.train, batch_size=2, epochs=1, isg_weight=0.0, spg_weight=0.0))
    ts = prepare_train_sequence(load_sequence(seq_root), cfg, "gt", appearance=False)
    train(cfg, [ts], tmp_path / "run", max_iterations=1, progress=False)
    out = tmp_path / "o"
    r = invoke("track", seq_root, "--out", out, "--model", tmp_path / "run" / "model.safetensors",
               "--detections", "public")
    assert r.exit_code == 0, r.output
    assert "appearance not computed: the model was trained without it" in r.output
    assert len(read_results(out / "source.txt")) > 0
    assert not list(out.glob("cache/*.npz"))


def test_min_score_sets_the_tracking_threshold(tmp_path):
    """``--min-score`` below the config's ``min_score`` tracks the weaker detections too (it used to
    filter only while loading, so the config's 0.65 still applied inside the tracker)."""
    root = make_sequence(tmp_path / "s", frames=20, people=4, seed=3)
    gt = np.loadtxt(root / "gt" / "gt.txt", delimiter=",")
    gt = gt[gt[:, 6] > 0]
    # the GT boxes as detections: persons 1 and 3 score 0.9, persons 2 and 4 score 0.4
    score = np.where(gt[:, 1] % 2 == 1, 0.9, 0.4)
    lines = [f"{int(r[0])},-1,{r[2]:.3f},{r[3]:.3f},{r[4]:.3f},{r[5]:.3f},{s},-1,-1,-1" for r, s in zip(gt, score)]
    (root / "det" / "det.txt").write_text("\n".join(lines) + "\n")
    cfg = tmp_path / "cfg.yaml"
    c = preset("lgmot")
    replace(c, tracker=replace(c.tracker, min_score=0.65, interpolate=False)).save(cfg)

    def run(*extra):
        out = tmp_path / f"o{len(extra)}"
        res = invoke("track", root, "--out", out, "--oracle", "--config", cfg, "-q", *extra)
        assert res.exit_code == 0, res.output
        return read_results(out / f"{load_sequence(root).name}.txt")

    default = run()
    assert len(default) == (score == 0.9).sum() and (default.score == 0.9).all()
    low = run("--min-score", "0.3")
    assert len(low) == len(gt) and low.id.nunique() == 4 and sorted(set(low.score)) == [0.4, 0.9]
    # above every score: the tracker falls back to all detections (another score scale), as the config would
    assert len(run("--min-score", "0.95", "--no-interpolate")) == len(gt)
    assert "smooth" in one_line_error(invoke("track", root, "--out", tmp_path / "x", "--oracle", "--smooth", "spline",
                                             "-q"))
