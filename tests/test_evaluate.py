"""Evaluation through TrackEval: hand-made cases with known values, the TUD cross-check, MOT15 GT-as-result,
the preprocessing switch, malformed inputs and the ``lgmot eval`` command."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.data import motio
from lgmot.data.preprocess import preprocess
from lgmot.evaluate import COLUMNS, COMBINED, evaluate, format_table
from lgmot.errors import InputError

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"


def need(p: Path) -> Path:
    if not p.exists():
        pytest.skip(f"shared data not found at {p}")
    return p


def put(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def seqinfo(d: Path, n: int) -> None:
    put(d / "seqinfo.ini", f"[Sequence]\nname={d.name}\nimDir=img1\nframeRate=30\nseqLength={n}\nimWidth=640\nimHeight=480\nimExt=.jpg\n")


@pytest.fixture
def hand(tmp_path):
    """A: one GT track over 4 frames, tracked with an identity switch after frame 2.
    B: one GT track over 2 frames, no result (used for allow_missing)."""
    gt, res = tmp_path / "gt", tmp_path / "res"
    put(gt / "A" / "gt" / "gt.txt", "".join(f"{f},1,10,10,20,40,1,1,1\n" for f in range(1, 5)))
    seqinfo(gt / "A", 4)
    put(res / "A.txt", "1,1,10,10,20,40,1,-1,-1,-1\n2,1,10,10,20,40,1,-1,-1,-1\n"
                       "3,2,10,10,20,40,1,-1,-1,-1\n4,2,10,10,20,40,1,-1,-1,-1\n")
    put(gt / "B" / "gt.txt", "1,3,50,50,20,40,1,-1,-1,-1\n2,3,50,50,20,40,1,-1,-1,-1\n")  # no seqinfo
    return gt, res


def test_hand_made_values(hand, tmp_path):
    gt, res = hand
    sm = put(tmp_path / "map.txt", "name\nA\n")
    df = evaluate(gt, res, seqmap=sm)
    assert list(df.index) == ["A", COMBINED] and list(df.columns) == COLUMNS
    a = df.loc["A"]
    # TP 4, FN 0, FP 0, IDSW 1 -> MOTA 3/4; IDF1: IDTP 2, IDFN 2, IDFP 2 -> 0.5
    assert a.MOTA == pytest.approx(75.0) and a.IDF1 == pytest.approx(50.0)
    assert (a.CLR_TP, a.CLR_FN, a.CLR_FP, a.IDSW, a.IDTP, a.IDFN, a.IDFP) == (4, 0, 0, 1, 2, 2, 2)
    assert (a.GT_IDs, a.IDs, a.GT_Dets, a.Dets, a.MT, a.ML) == (1, 2, 4, 4, 1, 0)
    # HOTA: DetA 1; AssA = 2/4 for every match -> HOTA = sqrt(0.5)
    assert a.DetA == pytest.approx(100.0) and a.AssA == pytest.approx(50.0)
    assert a.HOTA == pytest.approx(100 * np.sqrt(0.5)) and a.MOTP == pytest.approx(100.0)
    assert df["IDSW"].dtype == np.int64 and df["MOTA"].dtype == np.float64


def test_missing_result_is_an_error_unless_allowed(hand):
    gt, res = hand
    with pytest.raises(InputError, match=r"B.txt: no result file for sequence 'B', which has GT"):
        evaluate(gt, res)
    df = evaluate(gt, res, allow_missing=True)
    assert list(df.index) == ["A", "B", COMBINED]
    b = df.loc["B"]
    assert (b.MOTA, b.IDF1, b.HOTA, b.CLR_FN, b.Dets) == (0.0, 0.0, 0.0, 2, 0)
    c = df.loc[COMBINED]
    assert (c.CLR_TP, c.CLR_FN) == (4, 2) and c.MOTA == pytest.approx(100 * 3 / 6)


def test_results_in_trackeval_data_subfolder(hand, tmp_path):
    gt, res = hand
    shutil.copytree(res, tmp_path / "trk" / "data")
    df = evaluate(gt, tmp_path / "trk", seqmap=put(tmp_path / "m.txt", "name\nA\n"))
    assert df.loc["A"].MOTA == pytest.approx(75.0)


def test_malformed_inputs(hand, tmp_path):
    gt, res = hand
    sm = put(tmp_path / "m.txt", "name\nA\nZ\n")
    with pytest.raises(InputError, match=r"m.txt:3: sequence 'Z' has no GT"):
        evaluate(gt, res, seqmap=sm)
    only_a = put(tmp_path / "a.txt", "name\nA\n")
    put(res / "A.txt", "1,1,10,10,20,40,1,-1,-1,-1\n5,1,10,10,20,40,1,-1,-1,-1\n")
    with pytest.raises(InputError, match=r"A.txt:2: frame 5 is outside the sequence \(seqLength=4\)"):
        evaluate(gt, res, seqmap=only_a)
    put(res / "A.txt", "1,1,10,10,20,40,1,-1,-1,-1\n1,1,30,10,20,40,1,-1,-1,-1\n")
    with pytest.raises(InputError, match=r"A.txt:2: track id 1 appears twice in frame 1"):
        evaluate(gt, res, seqmap=only_a)
    put(res / "A.txt", "1,1,10,10,20,40,1,-1,-1,-1\n2,1,10,10,0,40,1,-1,-1,-1\n")
    with pytest.raises(InputError, match=r"A.txt:2: box width and height must be positive"):
        evaluate(gt, res, seqmap=only_a)
    with pytest.raises(InputError, match="results folder does not exist"):
        evaluate(gt, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no sequence with GT"):
        evaluate(tmp_path / "empty", res)


def test_empty_result_file_scores_zero(hand):
    gt, res = hand
    put(res / "A.txt", "")
    put(res / "B.txt", "")
    df = evaluate(gt, res)
    assert (df.MOTA == 0).all() and (df.Dets == 0).all() and df.loc[COMBINED].GT_Dets == 6


def _mot17_case(root: Path) -> tuple[Path, Path]:
    """A MOT17-style sequence with distractors, and a noisy tracker that also covers them."""
    rng = np.random.default_rng(0)
    n, rows, res = 30, [], []
    for tid in range(1, 9):
        cls = [1, 1, 1, 1, 2, 7, 8, 12][tid - 1]
        consider = 0 if (cls != 1 and tid != 5) or tid == 4 else 1  # tid 5: a considered person_on_vehicle
        x0, y0 = rng.uniform(0, 500), rng.uniform(0, 300)
        for f in range(1, n + 1):
            x, y = x0 + 3 * f, y0 + f
            rows.append(f"{f},{tid},{x:.2f},{y:.2f},40,90,{consider},{cls},1\n")
            if rng.uniform() < 0.85:
                tr = tid if f < 20 or tid % 2 else tid + 100
                res.append(f"{f},{tr},{x + rng.normal(0, 4):.2f},{y + rng.normal(0, 4):.2f},40,90,1,-1,-1,-1\n")
        res.append(f"{min(n, 2 + tid)},{200 + tid},{rng.uniform(0, 600):.2f},10,30,60,1,-1,-1,-1\n")
    d = root / "gt" / "MOT17-90-FRCNN"
    put(d / "gt" / "gt.txt", "".join(rows))
    seqinfo(d, n)
    put(root / "res" / "MOT17-90-FRCNN.txt", "".join(res))
    return root / "gt", root / "res"


def test_trackeval_preproc_agrees_with_our_preprocessing(tmp_path):
    gt, res = _mot17_case(tmp_path)
    with_pre = evaluate(gt, res, preproc=True)
    without = evaluate(gt, res, preproc=False)
    assert with_pre.loc[COMBINED].GT_IDs == 3 and without.loc[COMBINED].GT_IDs == 4  # class 2 counts as GT
    assert with_pre.loc[COMBINED].CLR_FP < without.loc[COMBINED].CLR_FP
    # our preprocessing, then TrackEval without its own, gives the same numbers
    g = motio.read_gt(gt / "MOT17-90-FRCNN" / "gt" / "gt.txt")
    r = motio.read_results(res / "MOT17-90-FRCNN.txt")
    cg, cr = preprocess(g, r)
    d2 = tmp_path / "ours" / "gt" / "MOT17-90-FRCNN"
    motio.write_gt(d2 / "gt" / "gt.txt", cg)
    seqinfo(d2, 30)
    motio.write_results(tmp_path / "ours" / "res" / "MOT17-90-FRCNN.txt", cr)
    ours = evaluate(tmp_path / "ours" / "gt", tmp_path / "ours" / "res", preproc=False)
    pd.testing.assert_frame_equal(ours, with_pre)


def test_tud_cross_check_cli(tmp_path):
    tud = need(SHARED / "motmetrics_tud")
    res = tmp_path / "res"
    res.mkdir()
    for s in ("TUD-Campus", "TUD-Stadtmitte"):
        shutil.copy(tud / s / "test.txt", res / f"{s}.txt")
    out = tmp_path / "m" / "metrics.csv"
    r = CliRunner().invoke(app, ["eval", "--gt", str(tud), "--results", str(res), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "COMBINED" in r.output and "55.51" in r.output and "62.43" in r.output
    df = pd.read_csv(out, index_col="seq")
    assert list(df.index) == ["TUD-Campus", "TUD-Stadtmitte", COMBINED]
    assert round(df.loc[COMBINED, "MOTA"], 2) == 55.51 and round(df.loc[COMBINED, "IDF1"], 2) == 62.43
    assert round(df.loc["TUD-Campus", "MOTA"], 1) == 52.6 and round(df.loc["TUD-Campus", "IDF1"], 1) == 55.8
    assert round(df.loc["TUD-Stadtmitte", "MOTA"], 1) == 56.4 and round(df.loc["TUD-Stadtmitte", "IDF1"], 1) == 64.5
    assert round(df.loc["TUD-Campus", "HOTA"], 1) == 39.1 and round(df.loc["TUD-Stadtmitte", "HOTA"], 1) == 39.8
    assert df.loc[COMBINED, "IDSW"] == 14 and df["IDSW"].dtype == np.int64


def test_mot15_gt_as_result_is_perfect(tmp_path):
    root = need(SHARED / "mot15_train")
    res = tmp_path / "res"
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        g = motio.read_gt(d / "gt" / "gt.txt")
        motio.write_results(res / f"{d.name}.txt", g[g.consider != 0].assign(score=1.0))
    df = evaluate(root, res, seqmap=root / "seqmap.txt", benchmark="MOT15")
    assert len(df) == 12
    for col in ("HOTA", "MOTA", "IDF1"):
        assert df[col].tolist() == pytest.approx([100.0] * 12), col
    assert df.loc["ETH-Bahnhof", "GT_Dets"] == 5415 and df.loc["ETH-Bahnhof", "GT_IDs"] == 171
    assert df.loc[COMBINED, "IDSW"] == 0


def test_format_table(hand, tmp_path):
    gt, res = hand
    df = evaluate(gt, res, allow_missing=True)
    text = format_table(df)
    assert "HOTA" in text and "COMBINED" in text and "75.00" in text
    assert "MOTP" not in format_table(df, ["MOTA", "IDF1"])


def test_cli_errors_are_one_line(hand, tmp_path):
    gt, res = hand
    runner = CliRunner()
    r = runner.invoke(app, ["eval", "--gt", str(gt), "--results", str(res)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "no result file for sequence 'B'" in r.output
    r = runner.invoke(app, ["eval", "--gt", str(gt), "--results", str(res), "--benchmark", "KITTI"])
    assert r.exit_code == 2 and "--benchmark" in r.output
    r = runner.invoke(app, ["eval", "--gt", str(gt), "--results", str(res), "--allow-missing", "--preproc"])
    assert r.exit_code == 0 and "75.00" in r.output


def test_val_half_gt_file(tmp_path):
    from lgmot.data.layouts import write_half_gt

    d = tmp_path / "gt" / "MOT17-02-FRCNN"
    put(d / "gt" / "gt.txt", "".join(f"{f},1,{10 + f},10,20,40,1,1,1\n" for f in range(1, 11)))
    seqinfo(d, 10)
    write_half_gt(d)  # frames 7..10 renumbered 1..4
    # the result covers the val half only, numbered from 1, and misses its last frame
    put(tmp_path / "res" / "MOT17-02-FRCNN.txt", "".join(f"{f},5,{16 + f},10,20,40,1,-1,-1,-1\n" for f in range(1, 4)))
    df = evaluate(tmp_path / "gt", tmp_path / "res", gt_file="gt_val_half.txt", preproc=True)
    r = df.loc["MOT17-02-FRCNN"]
    assert (r.GT_Dets, r.CLR_TP, r.CLR_FN, r.CLR_FP) == (4, 3, 1, 0) and r.MOTA == pytest.approx(75.0)
