"""Hardening: names never choose paths, exact ids, safe resume, one-line errors, loading runs no code.

Each test here failed on the code before these fixes (see benchmarks/diagnostics/hardening_audit.py
for the counts over many more inputs)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.errors import InputError

runner = CliRunner()


def one_line_error(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output, res.output
    lines = [l for l in res.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    return lines[0]


def mot_seq(folder: Path, name: str = "s", length: int = 12, gt: str | None = None, det: str | None = None) -> Path:
    """A MOT sequence folder without images: two people walking right, GT and detections."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nframeRate=10\nseqLength={length}\n"
                                        "imWidth=640\nimHeight=480\n")
    rows = [f"{f},{i},{20 + 5 * f + 200 * (i - 1)},100,30,60,1,1,1" for f in range(1, length + 1) for i in (1, 2)]
    (folder / "gt").mkdir(exist_ok=True)
    (folder / "gt" / "gt.txt").write_text(gt if gt is not None else "\n".join(rows) + "\n")
    (folder / "det").mkdir(exist_ok=True)
    dets = [f"{f},-1,{20 + 5 * f + 200 * (i - 1)},100,30,60,0.9" for f in range(1, length + 1) for i in (1, 2)]
    (folder / "det" / "det.txt").write_text(det if det is not None else "\n".join(dets) + "\n")
    return folder


# --- 1. a name read from a file never chooses where files go ---------------------------------------
@pytest.mark.parametrize("name", ["../../escaped", "/tmp/lgmot_abs_escape", "sub/dir/x", "", "..", "a\\b"])
def test_seqinfo_name_cannot_choose_the_output_path(tmp_path, name):
    seq = mot_seq(tmp_path / "seq", name=name)
    out = tmp_path / "a" / "b" / "out"
    escaped = Path("/tmp/lgmot_abs_escape.txt")
    escaped.unlink(missing_ok=True)
    try:
        res = runner.invoke(app, ["track", str(seq), "--out", str(out), "--oracle", "--no-appearance", "-q"])
        assert not escaped.exists()
    finally:
        escaped.unlink(missing_ok=True)
    msg = one_line_error(res)
    assert "seqinfo.ini:2:" in msg and "name" in msg
    assert [p for p in tmp_path.rglob("*.txt") if "seq" not in p.parts] == []


def test_names_checked_at_every_write(tmp_path):
    from lgmot.data import Sequence
    from lgmot.data.layouts import read_seqmap
    from lgmot.data.sequence import SeqInfo
    from lgmot.embed.cache import cache_path
    from lgmot.evaluate.sequences import evaluate_sequences
    from lgmot.language.annotations import SequenceAnnotations
    from lgmot.track.run import write_sequence_results
    from lgmot.data.schema import TRACK_COLUMNS, empty

    bad = Sequence(SeqInfo("../up", 10.0, 64, 48, 5), tmp_path)  # built in Python, not read from a file
    with pytest.raises(InputError, match="not a sequence name"):
        write_sequence_results(tmp_path / "out", bad, empty(TRACK_COLUMNS))
    with pytest.raises(InputError, match="not a sequence name"):
        cache_path(tmp_path, bad, type("E", (), {"name": "enc"})())
    with pytest.raises(InputError, match="not a sequence name"):
        evaluate_sequences([bad], {"../up": empty(TRACK_COLUMNS)})
    (tmp_path / "language.json").write_text('{"format": "lgmot-language/1", "sequence": "../x", '
                                            '"scene": {"text": "A scene."}}')
    with pytest.raises(InputError, match="language.json: not a sequence name"):
        SequenceAnnotations.read(tmp_path / "language.json")
    (tmp_path / "seqmap.txt").write_text("name\nok\n/abs\n")
    with pytest.raises(InputError, match="seqmap.txt:3: not a sequence name"):
        read_seqmap(tmp_path / "seqmap.txt")
    assert not (tmp_path / "up.txt").exists() and not (tmp_path.parent / "up.txt").exists()


# --- 3. track ids are exact integers ----------------------------------------------------------------
def test_ids_beyond_2_53_stay_distinct_and_score_right(tmp_path):
    from lgmot.data import motio
    from lgmot.evaluate import evaluate

    big = 2 ** 60  # 2^60 + 1 and 2^60 + 2 are the same float64
    rows = [f"{f},{big + 1},100,100,30,60,1,1,1" for f in range(1, 6)]
    rows += [f"{f},{big + 2},100,100,30,60,1,1,1" for f in range(6, 11)]
    seq = mot_seq(tmp_path / "gt" / "s", length=10, gt="\n".join(rows) + "\n")
    gt = motio.read_gt(seq / "gt" / "gt.txt")
    assert sorted(set(gt.id.tolist())) == [big + 1, big + 2]
    (tmp_path / "res").mkdir()
    res = [f"{f},{1 if f <= 5 else 2},100,100,30,60,1,-1,-1,-1" for f in range(1, 11)]
    (tmp_path / "res" / "s.txt").write_text("\n".join(res) + "\n")
    df = evaluate(tmp_path / "gt", tmp_path / "res")
    assert df.loc["s", "IDF1"] == pytest.approx(100.0) and df.loc["s", "IDSW"] == 0
    # the same check with the roles swapped: huge result ids, small GT ids
    (seq / "gt" / "gt.txt").write_text("\n".join(r.replace(f"{big + 1},", "1,").replace(f"{big + 2},", "2,")
                                                 for r in rows) + "\n")
    (tmp_path / "res" / "s.txt").write_text("\n".join(r.replace(",1,100", f",{big + 1},100", 1)
                                                      .replace(",2,100", f",{big + 2},100", 1) for r in res) + "\n")
    assert sorted(set(motio.read_results(tmp_path / "res" / "s.txt").id)) == [big + 1, big + 2]
    assert evaluate(tmp_path / "gt", tmp_path / "res").loc["s", "IDF1"] == pytest.approx(100.0)


@pytest.mark.parametrize("bad,needle", [(str(2 ** 63), "does not fit in a 64-bit integer"),
                                        (str(-(2 ** 63) - 1), "does not fit in a 64-bit integer"),
                                        ("1.5", "id must be an integer"), ("1e30", "id must be an integer")])
def test_ids_out_of_int64_or_not_integral(tmp_path, bad, needle):
    from lgmot.data import motio

    p = tmp_path / "gt.txt"
    p.write_text(f"1,1,1,1,5,5,1,1,1\n2,{bad},1,1,5,5,1,1,1\n")
    with pytest.raises(InputError, match=f"gt.txt:2: .*{needle}"):
        motio.read_gt(p)
    with pytest.raises(InputError, match=f"gt.txt:2: .*{needle}"):
        motio.read_results(p)
    p.write_text(f"1,{2 ** 63 - 1},1,1,5,5,1,1,1\n2,{-(2 ** 63)},1,1,5,5,1,1,1\n")  # the int64 extremes are fine
    assert motio.read_gt(p).id.tolist() == [2 ** 63 - 1, -(2 ** 63)]


# --- 5. non-finite scores ---------------------------------------------------------------------------
@pytest.mark.parametrize("reader", ["read_detections", "read_results"])
@pytest.mark.parametrize("value", ["inf", "-inf"])
def test_infinite_scores_are_refused(tmp_path, reader, value):
    from lgmot.data import motio

    p = tmp_path / "f.txt"
    p.write_text(f"1,1,1,1,5,5,0.5\n2,2,1,1,5,5,{value}\n")
    with pytest.raises(InputError, match="f.txt:2: .*infinite"):
        getattr(motio, reader)(p)


def test_infinite_det_score_in_track_is_a_one_line_error(tmp_path):
    seq = mot_seq(tmp_path / "seq", det="1,-1,10,10,30,60,0.9\n2,-1,10,10,30,60,inf\n")
    res = runner.invoke(app, ["track", str(seq), "--out", str(tmp_path / "out"), "--oracle", "--no-appearance", "-q"])
    assert "det.txt:2:" in one_line_error(res)


# --- 5. config types and ranges, non-UTF-8 files ------------------------------------------------------
@pytest.mark.parametrize("yaml_text,needle", [
    ("tracker:\n  frames_per_level: 5\n", "tracker.frames_per_level must be a list"),
    ("train:\n  epochs: abc\n", "train.epochs must be an integer"),
    ("tracker:\n  top_k_nns: -3\n", "tracker.top_k_nns must be >= 1"),
    ("train:\n  lr: .nan\n", "train.lr must be finite"),
    ("tracker:\n  frames_per_level: [5, 25, x, 150]\n", r"tracker.frames_per_level\[2\] must be an integer"),
    ("model:\n  zero_nodes: 3\n", "model.zero_nodes must be true or false"),
    ("tracker:\n  graph_overlap: 2\n", "tracker.graph_overlap must be <= 1"),
    ("train:\n  lr_schedule: step\n", "train.lr_schedule must be one of constant, cosine"),
    ("tracker:\n  pruning: [geometry, bogus, motion_005, motion_005]\n", "pruning"),
    ("base: [1]\n", "'base' must be a string"),
    ("tracker:\n  interpolate_max_gap_s: soon\n", "interpolate_max_gap_s must be"),
    ("x: 2024-13-45\n", "invalid YAML value"),
])
def test_config_values_checked(tmp_path, yaml_text, needle):
    from lgmot.config import Config

    p = tmp_path / "cfg.yaml"
    p.write_text(yaml_text)
    with pytest.raises(InputError, match=needle) as e:
        Config.load(p)
    assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)


def test_config_check_follows_field_types():
    """A field added later is checked from its annotation without being listed anywhere."""
    from lgmot.config import check_field

    assert check_field("x.a", [1, 2], tuple[int, ...]) == (1, 2)
    assert check_field("x.b", None, float | None) is None and check_field("x.b", 3, float | None) == 3.0
    assert check_field("x.c", "w", str) == "w"
    import typing

    assert check_field("x.e", "on", typing.Literal["on", "off"]) == "on"
    with pytest.raises(InputError, match="x.e must be one of 'on', 'off'"):
        check_field("x.e", "maybe", typing.Literal["on", "off"])
    for value, tp in (("1", int), (True, int), (1, bool), ([1], float), ({"a": 1}, str), (-1, int),
                      ([0.5, "a"], tuple[float, ...])):
        with pytest.raises(InputError, match="x.d"):
            check_field("x.d", value, tp)


def test_config_presets_and_checkpoint_config_round_trip():
    from lgmot.config import Config, preset
    from lgmot.model.checkpoint import read_metadata
    from lgmot.track.run import DEFAULT_MODEL

    for name in ("lgmot", "sushi"):
        assert Config.from_dict(preset(name).to_dict()) == preset(name)
    Config.from_dict(read_metadata(DEFAULT_MODEL)["config"], DEFAULT_MODEL)


def test_non_utf8_files_name_the_file(tmp_path):
    from lgmot.config import Config
    from lgmot.language.annotations import SequenceAnnotations

    for name, read in (("language.json", SequenceAnnotations.read), ("cfg.yaml", Config.load)):
        p = tmp_path / name
        p.write_bytes(b'{"format": "\xff\xfe lgmot"}\n')
        with pytest.raises(InputError, match=f"{name}: not a text file"):
            read(p)


# --- 5. --out that is a file or not writable ----------------------------------------------------------
@pytest.mark.parametrize("verb", ["track", "train", "demo"])
def test_out_is_an_existing_file(tmp_path, verb):
    seq = mot_seq(tmp_path / "seq")
    out = tmp_path / "out.txt"
    out.write_text("keep me\n")
    args = {"track": ["track", str(seq), "--oracle", "--no-appearance"],
            "train": ["train", "--data", str(seq), "--detections", "gt", "--no-appearance"],
            "demo": ["demo", "--data", str(seq), "--frames", "3"]}[verb]
    msg = one_line_error(runner.invoke(app, [*args, "--out", str(out), "-q"]))
    assert str(out) in msg and "not a folder" in msg
    assert out.read_text() == "keep me\n"


def test_out_cannot_be_created(tmp_path):
    seq = mot_seq(tmp_path / "seq")
    (tmp_path / "f").write_text("")
    msg = one_line_error(runner.invoke(app, ["track", str(seq), "--out", str(tmp_path / "f" / "x"), "--oracle", "-q"]))
    assert "cannot create the --out folder" in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_out_not_writable(tmp_path):
    seq = mot_seq(tmp_path / "seq")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        msg = one_line_error(runner.invoke(app, ["track", str(seq), "--out", str(ro / "x"), "--oracle", "-q"]))
        assert "cannot" in msg
    finally:
        ro.chmod(0o700)


def test_cli_keeps_quotes_in_messages(tmp_path):
    seq = mot_seq(tmp_path / "seq", det="1,-1,10,10,30,60,0.9\n2,-1,10,10,30,60,'5.5\n")
    msg = one_line_error(runner.invoke(app, ["track", str(seq), "--out", str(tmp_path / "o"), "--oracle", "-q"]))
    assert msg.endswith("column 7 is not a number: \"'5.5\"")


# --- 6. smaller ones ----------------------------------------------------------------------------------
def _images_seq(tmp_path, frames, length):
    import cv2

    seq = mot_seq(tmp_path / "seq", length=length)
    (seq / "img1").mkdir()
    for f in frames:
        img = np.full((48, 64, 3), f * 10 % 255, np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{f:06d}.jpg"), img)
    ini = seq / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("imWidth=640\nimHeight=480", "imWidth=64\nimHeight=48"))
    return seq


def test_missing_image_is_reported_at_its_frame(tmp_path):
    from lgmot.data import load_sequence

    seq = load_sequence(_images_seq(tmp_path, [f for f in range(1, 13) if f != 5], 12))
    with pytest.raises(InputError, match="no image for frame 5 "):
        list(seq.frames())
    with pytest.raises(InputError, match="no image for frame 5 "):
        seq.image_path(5)
    assert seq.image_path(6).name == "000006.jpg"  # not shifted onto frame 5
    # a shorter seqLength must not pair frames with the wrong images either
    short = load_sequence(_images_seq(tmp_path / "b", [f for f in range(1, 13) if f != 3], 8))
    with pytest.raises(InputError, match="no image for frame 3 "):
        list(short.frames())


def test_truncated_jpeg_warning_names_the_file(tmp_path):
    from lgmot.data import load_sequence

    import cv2

    root = _images_seq(tmp_path, range(1, 13), 12)
    p = root / "img1" / "000004.jpg"
    noise = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    data = cv2.imencode(".jpg", noise)[1].tobytes()
    p.write_bytes(data[: len(data) * 2 // 3])  # cut short: libjpeg still decodes the top of it
    seq = load_sequence(root)
    with pytest.warns(UserWarning, match="000004.jpg: truncated JPEG"):
        frames = [f for f, _ in seq.frames()]
    assert frames == list(range(1, 13))


def test_stale_temp_files_are_removed_on_the_next_run(tmp_path):
    import subprocess
    import sys

    seq = mot_seq(tmp_path / "seq")
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = [out / f".s.txt.lgmot-{dead}-abc123.tmp", out / f".s.mp4.lgmot-{dead}-x1y2z3.mp4",
             out / f".last.safetensors.lgmot-{dead}-q9w8e7.tmp"]
    live = out / f".s.txt.lgmot-{os.getpid()}-keep00.tmp"  # a live writer's file is never touched
    other = out / ".notes.tmp"  # not lgmot's naming
    for p in stale + [live, other]:
        p.write_bytes(b"partial")
    res = runner.invoke(app, ["track", str(seq), "--out", str(out), "--oracle", "--no-appearance", "-q"])
    assert res.exit_code == 0, res.output
    assert not any(p.exists() for p in stale) and live.exists() and other.exists()


def test_output_files_respect_the_umask(tmp_path):
    from lgmot.data.motio import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600


# --- 7. loading never runs code ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["model.pt2", "model.pt", "model.ts"])
def test_fastreid_refuses_code_archives_by_default(tmp_path, name, monkeypatch):
    from lgmot.embed import FastReIDEncoder

    called = []
    monkeypatch.setattr(torch.export, "load", lambda *a, **k: called.append("export"))
    monkeypatch.setattr(torch.jit, "load", lambda *a, **k: called.append("jit"))
    p = tmp_path / name
    p.write_bytes(b"PK\x03\x04 not really an archive")
    with pytest.raises(InputError, match="trust_code=True"):
        FastReIDEncoder(p)
    assert called == []  # refused before anything was read


# --- 4. resume is safe -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def train_seqs(tmp_path_factory):
    from lgmot.data import load_sequence
    from lgmot.synth import make_sequence
    from lgmot.train.prepare import prepare_train_sequence

    from helpers import tiny_config

    root = make_sequence(tmp_path_factory.mktemp("hard_tr"), frames=16, people=3, seed=0)
    return [prepare_train_sequence(load_sequence(root), tiny_config(isg_weight=0.0, spg_weight=0.0), "gt",
                                   appearance=False)]


def _tiny(**train):
    from helpers import tiny_config

    return tiny_config(isg_weight=0.0, spg_weight=0.0, **train)


def _iterations(run) -> list[int]:
    import csv

    with open(run / "metrics.csv") as f:
        return [int(r["iteration"]) for r in csv.DictReader(f)]


@pytest.mark.parametrize("cut", [0, 7, "half"])
def test_truncated_training_state_is_a_one_line_error(train_seqs, tmp_path, cut):
    from lgmot.train import train

    run = tmp_path / "run"
    train(_tiny(), train_seqs, run, progress=False, max_iterations=1)
    last = run / "last.safetensors"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2 if cut == "half" else cut])
    with pytest.raises(InputError, match="last.safetensors: .*truncated") as e:
        train(_tiny(), train_seqs, run, progress=False, resume=True)
    assert "\n" not in str(e.value)


def test_flipped_bit_in_training_state_is_refused(train_seqs, tmp_path):
    from lgmot.train import train

    run = tmp_path / "run"
    train(_tiny(), train_seqs, run, progress=False, max_iterations=1)
    last = run / "last.safetensors"
    data = bytearray(last.read_bytes())
    data[-5] ^= 0x10  # a tensor byte near the end of the file
    last.write_bytes(bytes(data))
    with pytest.raises(InputError, match="last.safetensors: corrupted training state .*SHA-256"):
        train(_tiny(), train_seqs, run, progress=False, resume=True)


def test_resume_with_another_config_names_the_fields(train_seqs, tmp_path):
    from dataclasses import replace

    from lgmot.train import train

    run = tmp_path / "run"
    cfg = _tiny()
    train(cfg, train_seqs, run, progress=False, max_iterations=1)
    other = replace(cfg, model=replace(cfg.model, num_steps=5), train=replace(cfg.train, lr=1e-3))
    with pytest.raises(InputError, match=r"cannot resume with a different config: model.num_steps \(stored 4, "
                                         r"given 5\); train.lr \(stored 0.0003, given 0.001\)"):
        train(other, train_seqs, run, progress=False, resume=True)
    # more epochs is a legitimate change on resume
    res = train(replace(cfg, train=replace(cfg.train, epochs=3)), train_seqs, run, progress=False, resume=True)
    assert res.iterations > 1 and _iterations(run) == list(range(1, res.iterations + 1))


def test_reused_run_folder_needs_resume_or_overwrite(train_seqs, tmp_path):
    from lgmot.train import train

    run = tmp_path / "run"
    first = train(_tiny(), train_seqs, run, progress=False)
    with pytest.raises(InputError, match="holds an earlier run .*--overwrite"):
        train(_tiny(), train_seqs, run, progress=False)
    assert _iterations(run) == list(range(1, first.iterations + 1))  # untouched
    again = train(_tiny(), train_seqs, run, progress=False, overwrite=True)
    assert _iterations(run) == list(range(1, again.iterations + 1))  # no duplicate rows


def test_resume_before_the_first_checkpoint_drops_the_logged_rows(train_seqs, tmp_path):
    from lgmot.train import train

    run = tmp_path / "run"
    ref = train(_tiny(), train_seqs, tmp_path / "ref", progress=False)
    train(_tiny(), train_seqs, run, progress=False, max_iterations=2)
    (run / "last.safetensors").unlink()  # killed after logging, before the first checkpoint was written
    res = train(_tiny(), train_seqs, run, progress=False, resume=True)
    assert res.iterations == ref.iterations and _iterations(run) == list(range(1, ref.iterations + 1))


def test_train_cli_refuses_reused_folder_before_replacing_its_config(train_seqs, tmp_path):
    from lgmot.synth import make_sequence

    seq = make_sequence(tmp_path / "d", frames=16, people=3, seed=0)
    cfg = tmp_path / "tiny.yaml"
    _tiny().save(cfg)
    out = tmp_path / "run"
    args = ["train", "--data", str(seq), "--detections", "gt", "--no-appearance", "--config", str(cfg), "-q",
            "--out", str(out), "--epochs", "1"]
    assert runner.invoke(app, args).exit_code == 0
    before = (out / "metrics.csv").read_text()
    assert "holds an earlier run" in one_line_error(runner.invoke(app, args))
    assert (out / "metrics.csv").read_text() == before
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert (out / "metrics.csv").read_text().count("\n") == before.count("\n")


# --- found by the fuzzer (benchmarks/diagnostics/hardening_audit.py) ---------------------------------
def test_fuzz_finds_stay_fixed(tmp_path):
    from lgmot.data import motio
    from lgmot.language.annotations import SequenceAnnotations

    p = tmp_path / "gt.txt"
    for text, needle in (("1,1,1,1,5,5,1,inf,1\n", "class"), ("1e19,1,1,1,5,5,1,1,1\n", "too large"),
                         ("1,1,1,1,5,5,1,1e300,1\n", "class")):
        p.write_text(text)
        with pytest.raises(InputError, match=f"gt.txt:1: .*{needle}"):
            motio.read_gt(p)
    lang = tmp_path / "language.json"
    for text, needle in (('{"format": "lgmot-language/1", "sequence": "a", "scene": {"text": "x"}, "in\\nst": 1}',
                          "unknown top-level"),
                         ('{"format": "lgmot-language/1", "sequence": "a\\udc80", "scene": {"text": "x"}}', "surrogate")):
        lang.write_text(text)
        with pytest.raises(InputError, match=needle) as e:
            SequenceAnnotations.read(lang)
        assert "\n" not in str(e.value)
    assert str(InputError("f.txt", "two\nlines", 3)) == "f.txt:3: two\\nlines"
