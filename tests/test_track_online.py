"""OnlineTracker: boxmot's update() contract over the offline hierarchy, with a bounded latency."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.data import load_sequence
from lgmot.errors import InputError
from lgmot.model import load_model
from lgmot.track import Tracker
from lgmot.track.online import OnlineTracker, track_online
from lgmot.track.run import DEFAULT_MODEL

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15_train"
SEQ = DATA / "TUD-Stadtmitte"  # 179 frames: two offline clips (150 frames every 75)
needs_data = pytest.mark.skipif(not SEQ.is_dir(), reason="MOT15 data not found")


@pytest.fixture(scope="module")
def model_cfg():
    return load_model(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def seq():
    return load_sequence(SEQ)


def boxmot_frames(seq, n=None):
    """Per frame 1..n the N x 6 input (x1, y1, x2, y2, conf, cls) of the public detections."""
    d = seq.detections
    n = n or seq.info.length
    out = []
    for f in range(1, n + 1):
        r = d[d.frame == f]
        b = r[["x", "y", "w", "h"]].to_numpy()
        out.append(np.column_stack([b[:, :2], b[:, :2] + b[:, 2:], r.score.to_numpy(), np.full(len(r), 2.0)]))
    return out


@needs_data
def test_latency_of_the_whole_sequence_equals_offline(model_cfg, seq):
    model, cfg = model_cfg
    off = Tracker(cfg, model, workers=1).track_detections(seq.detections, seq.info.fps)
    on = OnlineTracker(cfg, model, latency=seq.info.length, fps=seq.info.fps)
    got = track_online(on, seq.detections, seq.info.length)
    assert len(off) > 500 and off.id.nunique() > 10
    pd.testing.assert_frame_equal(got, off)


@needs_data
def test_committed_ids_never_change_and_flush_emits_each_frame_once(model_cfg, seq):
    model, cfg = model_cfg
    lat, n = 10, 120
    frames = boxmot_frames(seq, n)
    on = OnlineTracker(cfg, model, latency=lat, fps=seq.info.fps)
    assert on.every == 5  # the largest level window <= latency + 1
    seen: dict[tuple[int, int], int] = {}  # (frame, det row) -> id, as first decided
    out_frames = []
    rows = []
    for f, d in enumerate(frames, start=1):
        res = on.update(d)
        # every decided detection still buffered keeps the id it was first given
        for g, fr in on._frames.items():
            for r in np.flatnonzero(fr.ids >= 0):
                assert seen.setdefault((g, int(r)), int(fr.ids[r])) == fr.ids[r]
        if f <= lat:
            assert res.shape == (0, 8)
            continue
        out_frames.append(f - lat)
        rows.append((f - lat, res))
    flushed = on.flush(per_frame=True)
    out_frames += [g for g, _ in flushed]
    rows += flushed
    assert out_frames == list(range(1, n + 1))  # every frame exactly once, in order
    assert on.frame_count == 0  # a new stream starts
    n_rows = checked = 0
    for g, res in rows:
        assert res.shape[1] == 8
        det = res[res[:, 7] >= 0]
        # output rows are the input boxes, with the id the detection was decided with
        np.testing.assert_allclose(det[:, [0, 1, 2, 3, 5, 6]], frames[g - 1][det[:, 7].astype(int)])
        for r, i in zip(det[:, 7].astype(int), det[:, 4].astype(int)):
            assert seen.get((g, r), i - 1) + 1 == i  # (rows decided by flush() were never seen)
            checked += (g, r) in seen
        assert len(np.unique(det[:, 7])) == len(det) and len(np.unique(res[:, 4])) == len(res)
        n_rows += len(det)
    assert n_rows > 0.8 * sum(len(d) for d in frames) and checked > 0.8 * n_rows


@needs_data
def test_two_trackers_keep_their_own_ids(model_cfg, seq):
    model, cfg = model_cfg
    frames = boxmot_frames(seq, 40)
    a = OnlineTracker(cfg, model, latency=5, fps=seq.info.fps)
    b = OnlineTracker(cfg, model, latency=5, fps=seq.info.fps)
    out_a, out_b = [], []
    for d in frames:  # interleaved in one process
        out_a.append(a.update(d))
        out_b.append(b.update(d))
    out_a.append(a.flush())
    out_b.append(b.flush())
    ids_a = np.concatenate(out_a)[:, 4]
    assert ids_a.min() == 1
    for x, y in zip(out_a, out_b):
        np.testing.assert_array_equal(x, y)
    # a later stream on the same instance continues its counter; a new instance starts at 1
    again = np.concatenate([a.update(d) for d in frames] + [a.flush()])
    assert again[:, 4].min() > ids_a.max()


@pytest.mark.parametrize("bad, words", [
    ([[0, 0, 10, 10, 0.9, 0]], "numpy array"),
    (np.zeros((3, 5)), "shape (3, 5)"),
    (np.zeros(6), "shape (6,)"),
    (np.array([[0, 0, 10, np.nan, 0.9, 0]]), "row 0 is not finite"),
    (np.array([[0, 0, 10, 10, 0.9, 0], [5, 5, 4, 9, 0.8, 0]]), "row 1 needs x2 > x1"),
    (np.array([["a"] * 6]), "dtype"),
])
def test_malformed_arrays_get_one_line_errors(model_cfg, bad, words):
    model, cfg = model_cfg
    on = OnlineTracker(cfg, model, latency=0)
    with pytest.raises(InputError) as e:
        on.update(bad)
    msg = str(e.value)
    assert words in msg and "\n" not in msg and msg.startswith("update(dets)")
    assert on.frame_count == 0  # nothing was added
    assert on.update(np.zeros((0, 6))).shape == (0, 8)  # an empty frame is fine
    with pytest.raises(InputError, match=r"update\(frame\): expected an H x W x 3 uint8"):
        on.update(np.zeros((0, 6)), frame=np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="latency"):
        OnlineTracker(cfg, model, latency=-1)
    with pytest.raises(ValueError, match="every must be in 1..5"):
        OnlineTracker(cfg, model, latency=4, every=6)


@needs_data
def test_cli_online_writes_the_offline_file_at_full_latency(tmp_path):
    run = CliRunner().invoke
    # smoothing, recovery and crossing repair look at whole tracks: online mode does none of them
    r1 = run(app, ["track", str(SEQ), "-o", str(tmp_path / "off"), "-q", "--clip-workers", "1", "--smooth", "none",
                   "--no-recover", "--no-untangle"])
    r2 = run(app, ["track", str(SEQ), "-o", str(tmp_path / "on"), "-q", "--online", "--latency", "1000"])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert "online, latency 1000" in r2.output
    name = f"{SEQ.name}.txt"
    assert (tmp_path / "on" / name).read_bytes() == (tmp_path / "off" / name).read_bytes()


def test_cli_show_without_a_display_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    res = CliRunner().invoke(app, ["track", "0", "--online", "--show"])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --show needs a display: no DISPLAY"), res.output


class _StubEncoder:
    name, dim = "stub", 8

    def __init__(self):
        self.calls = []

    def encode(self, crops):
        self.calls.append([c.shape for c in crops])
        return np.stack([np.full(self.dim, c.mean(), np.float32) for c in crops])


def test_appearance_online_from_frames_and_embeddings(model_cfg):
    _, cfg = model_cfg
    seen = []

    def scorer(level, t, g):
        seen.append((level, t.app.shape[1], t.has_app.copy()))
        return np.full(len(g.edges), 0.9)

    enc = _StubEncoder()
    on = OnlineTracker(cfg, scorer=scorer, latency=0, encoder=enc, uses_appearance=True)
    img = np.random.default_rng(0).integers(0, 255, (100, 200, 3), dtype=np.uint8)
    dets = np.array([[10, 10, 30, 60, 0.9, 0], [100, 20, 130, 80, 0.8, 0]], float)
    on.update(dets, img)
    on.update(dets + [2, 0, 2, 0, 0, 0], img)
    assert [len(c) for c in enc.calls] == [2, 2] and enc.calls[0] == [(50, 20, 3), (60, 30, 3)]
    assert seen and all(d == 8 and h.all() for _, d, h in seen)
    seen.clear()
    out = on.update(dets + [4, 0, 4, 0, 0, 0], embs=np.ones((2, 8)))  # vectors instead of a frame
    assert len(enc.calls) == 2 and all(d == 8 and h.all() for _, d, h in seen)
    assert sorted(out[:, 4]) == [1, 2] and sorted(out[:, 7]) == [0, 1]  # linked to the first frame's tracks
    with pytest.raises(InputError, match="update\\(embs\\): expected 2 rows"):
        on.update(dets, embs=np.ones((3, 8)))
    plain = OnlineTracker(cfg, scorer=scorer, latency=0, encoder=enc, uses_appearance=False)
    seen.clear()
    plain.update(dets, img)
    plain.update(dets, img)
    assert len(enc.calls) == 2 and all(d == 0 for _, d, _ in seen)  # a model without appearance never embeds


def _with_gp(cfg):
    from dataclasses import replace

    return replace(cfg, tracker=replace(cfg.tracker, smooth="gp", smooth_scale=10.0, smooth_noise=0.1, recover=False))


@needs_data
def test_smoothing_lag_equals_the_fixed_lag_smoother_on_the_committed_tracks(model_cfg, seq):
    """Smoothing inside the stream (each frame output ``smooth_lag`` frames later) gives the
    table-level fixed-lag smoother's boxes over the unsmoothed online output; ids and frames unchanged."""
    from lgmot.solve.smooth import fixed_lag_smooth

    model, cfg = model_cfg
    cfg = _with_gp(cfg)
    plain = track_online(OnlineTracker(cfg, model, latency=10, fps=seq.info.fps), seq.detections, seq.info.length)
    on = OnlineTracker(cfg, model, latency=10, fps=seq.info.fps, smooth_lag=8)
    assert on.delay == 18
    got = track_online(on, seq.detections, seq.info.length)
    want = fixed_lag_smooth(plain, 8, "gp", 10.0, 0.1)
    pd.testing.assert_frame_equal(got, want)
    assert (got[["frame", "id"]].to_numpy() == plain[["frame", "id"]].to_numpy()).all()
    assert np.abs(got[["x", "y"]].to_numpy() - plain[["x", "y"]].to_numpy()).max() > 0.5  # boxes did move


@needs_data
def test_full_latency_and_lag_equal_offline_smoothing(model_cfg, seq):
    model, cfg = model_cfg
    cfg = _with_gp(cfg)
    off = Tracker(cfg, model, workers=1).track_detections(seq.detections, seq.info.fps)
    n = seq.info.length
    got = track_online(OnlineTracker(cfg, model, latency=n, fps=seq.info.fps, smooth_lag=n), seq.detections, n)
    pd.testing.assert_frame_equal(got, off, check_exact=False, atol=1e-6)


def test_cli_smooth_lag_needs_online():
    r = CliRunner().invoke(app, ["track", str(SEQ), "--smooth-lag", "5"])
    assert r.exit_code != 0 and "--smooth-lag needs --online" in r.output
