"""Oracle tracking end to end: GT boxes + GT-scored edges must give back every GT track exactly.

Why 100 is the right value: with ``--detections gt`` every detection is a GT box (DetA = 100, no
FP/FN) and the oracle scores each candidate edge with its flow label, so every level links exactly
the detections of one identity. The only ways to lose an identity are (a) the true edge pruned by
top-k (not with a handful of people), (b) a person absent for longer than the clip overlap (the
stitcher matches clips on shared detections), (c) interpolation filling a GT gap with boxes that are
not in GT. Synthetic GT has no gaps here, so HOTA = IDF1 = MOTA = 100 exactly, with or without
interpolation; with interpolation the test below removes detections to check that gaps are refilled.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.config import preset
from lgmot.data import load_sequence
from lgmot.data.assign import assign_gt_ids
from lgmot.data.motio import read_results
from lgmot.data.schema import TRACK_COLUMNS
from lgmot.detect.public import gt_detections
from lgmot.evaluate.sequences import evaluate_sequences
from lgmot.solve import clip_ranges
from lgmot.synth import make_sequence
from lgmot.track import Tracker

TINY_YAML = """\
name: tiny
tracker:
  frames_per_graph: 8
  frames_per_level: [2, 4, 8]
  pruning: [geometry, motion_005, motion_005]
  motion_max_length: [2, 4]
  motion_pred_length: [2, 4]
  use_motion: [false, true, true]
"""


@pytest.fixture(scope="module")
def seq_root(tmp_path_factory):
    return make_sequence(tmp_path_factory.mktemp("oracle"), frames=40, people=6, seed=0)


def one_id_per_gt_track(tracks: pd.DataFrame, gt: pd.DataFrame) -> None:
    """Every GT box is output once, and output ids and GT ids correspond one to one."""
    dets = tracks.assign(det_id=np.arange(len(tracks)))
    gid = assign_gt_ids(dets, gt, min_iou=0.99)
    assert (gid >= 0).all() and len(tracks) == len(gt)
    pairs = pd.DataFrame({"id": tracks.id.to_numpy(), "gt": gid})
    assert (pairs.groupby("id").gt.nunique() == 1).all()
    assert (pairs.groupby("gt").id.nunique() == 1).all()
    assert tracks.id.nunique() == gt.id.nunique()


def run_cli(*args) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.output


def eval_row(gt_root, results) -> pd.Series:
    out = results / "metrics.csv"
    run_cli("eval", "--gt", gt_root, "--results", results, "--out", out)
    return pd.read_csv(out, index_col=0).loc["source"]


@pytest.mark.parametrize("config", ["lgmot", "tiny"])
def test_oracle_cli_recovers_every_gt_track(seq_root, tmp_path, config):
    if config == "tiny":  # 8-frame clips over 40 frames: 9 clips, identities must survive 8 stitches
        cfg_path = tmp_path / "tiny.yaml"
        cfg_path.write_text(TINY_YAML)
        config = cfg_path
        assert len(clip_ranges(1, 40, 8, 0.5)) == 9
    out = tmp_path / "res"
    run_cli("track", seq_root, "--out", out, "--detections", "gt", "--oracle", "--no-interpolate",
            "--no-appearance", "--config", config, "-q")
    seq = load_sequence(seq_root)
    one_id_per_gt_track(read_results(out / "source.txt"), seq.gt)
    m = eval_row(seq_root, out)
    assert m.HOTA == pytest.approx(100.0) and m.IDF1 == pytest.approx(100.0) and m.MOTA == pytest.approx(100.0)
    assert m.IDSW == 0


def test_stitching_is_what_keeps_ids_across_clips(seq_root):
    """Through the Python API: identities span several 8-frame clips and still map one to one to GT
    (a stitcher that never matched clips would give each person a new id every 4 frames)."""
    import yaml

    from lgmot.config import Config

    cfg = Config.from_dict(yaml.safe_load(TINY_YAML))
    seq = load_sequence(seq_root)
    dets = gt_detections(seq)
    tracks = Tracker(cfg, oracle=True).track_detections(dets, seq.info.fps, gt_ids=seq.gt.id.to_numpy())
    one_id_per_gt_track(tracks, seq.gt)
    # a person seen in several clips: at least one identity spans more than one 8-frame clip
    spans = tracks.groupby("id").frame.agg(lambda f: f.max() - f.min() + 1)
    assert spans.max() > 8


def test_tracker_python_api_returns_track_table(seq_root):
    seq = load_sequence(seq_root)
    dets = gt_detections(seq)
    gid = seq.gt[(seq.gt.consider > 0) & (seq.gt.cls == 1)].id.to_numpy()
    # shuffled input rows: the tracker sorts them itself
    perm = np.random.default_rng(0).permutation(len(dets))
    tracks = Tracker(preset("lgmot"), oracle=True).track_detections(dets.iloc[perm], seq.info.fps, gt_ids=gid[perm])
    assert list(tracks.columns) == TRACK_COLUMNS
    assert tracks.frame.is_monotonic_increasing
    one_id_per_gt_track(tracks, seq.gt)
    with pytest.raises(ValueError, match="GT identities"):
        Tracker(preset("lgmot"), oracle=True).track_detections(dets, seq.info.fps)
    with pytest.raises(ValueError, match="trained model"):
        Tracker(preset("lgmot"))


def test_interpolation_refills_missed_detections(seq_root):
    """Drop 2-frame holes inside tracks: without interpolation those GT boxes are misses; with it
    they come back (linear fill, IoU >= 0.5 with the true boxes) and MOTA returns to 100."""
    from dataclasses import replace

    seq = load_sequence(seq_root)
    dets = gt_detections(seq)
    gid = seq.gt.id.to_numpy()
    f0 = dets.groupby(gid).frame.transform("min").to_numpy()
    hole = np.isin(dets.frame.to_numpy() - f0, [10, 11, 20])  # inside every track longer than 21 frames
    assert hole.sum() >= 6
    keep = ~hole
    base = preset("lgmot")
    res = {}
    for interp in (False, True):
        cfg = replace(base, tracker=replace(base.tracker, interpolate=interp))
        res[interp] = Tracker(cfg, oracle=True).track_detections(dets[keep], seq.info.fps, gt_ids=gid[keep])
    m_off = evaluate_sequences([seq], {"source": res[False]}).loc["source"]
    m_on = evaluate_sequences([seq], {"source": res[True]}).loc["source"]
    assert m_off.CLR_FN == hole.sum() and m_off.IDSW == 0
    assert m_on.MOTA == pytest.approx(100.0) and m_on.IDF1 == pytest.approx(100.0)
    assert len(res[True]) == len(dets)
