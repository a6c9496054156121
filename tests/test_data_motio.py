"""MOT text I/O: every flavour, round trips and every malformed case (one-line message with file and line)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lgmot.data import motio
from lgmot.data.schema import DET_COLUMNS, GT_COLUMNS, TRACK_COLUMNS
from lgmot.errors import InputError

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"


def write(p: Path, text: str, newline: str = "\n") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.replace("\n", newline).encode())
    return p


def test_mot15_gt_10_columns(tmp_path):
    p = write(tmp_path / "gt.txt", "1,1,88,99,61.08,218.56,1,4.4852,5.5016,0\n2,1,90,99,61,218,0,-1,-1,-1\n")
    gt = motio.read_gt(p)
    assert list(gt.columns) == GT_COLUMNS
    assert gt.x.tolist() == [87.0, 89.0] and gt.y.tolist() == [98.0, 98.0]  # 1-based file -> 0-based
    assert gt.w.tolist() == [61.08, 61.0]
    assert gt.consider.tolist() == [1.0, 0.0]
    assert gt.cls.tolist() == [1, 1] and gt.vis.tolist() == [1.0, 1.0]  # world coords are not a class
    assert gt.frame.dtype == np.int64 and gt.id.dtype == np.int64


def test_mot17_gt_9_columns(tmp_path):
    p = write(tmp_path / "gt.txt", "2,3,10,20,30,40,1,1,0.75\n1,3,11,21,30,40,0,7,0.2\n1,2,5,5,9,9,1,12,1\n")
    gt = motio.read_gt(p)
    # sorted by frame then id
    assert gt[["frame", "id"]].values.tolist() == [[1, 2], [1, 3], [2, 3]]
    assert gt.cls.tolist() == [12, 7, 1]
    assert gt.consider.tolist() == [1.0, 0.0, 1.0]
    assert gt.vis.tolist() == [1.0, 0.2, 0.75]


def test_sportsmot_comma_space_ids_from_zero(tmp_path):
    p = write(tmp_path / "gt.txt", "1, 0, 10, 20, 30, 40, 1, 1, 1\n1, 1, 50, 20, 30, 40, 1, 1, 1\n2, 0, 12, 20, 30, 40, 1, 1, 1")
    gt = motio.read_gt(p)
    assert gt.id.tolist() == [0, 1, 0]
    assert gt.x.tolist() == [9.0, 49.0, 11.0]


def test_crlf_and_bom_and_blank_lines(tmp_path):
    p = write(tmp_path / "gt.txt", "\ufeff1,1,10,10,5,5,1,-1,-1,-1\n\n2,1,11,10,5,5,1,-1,-1,-1\n", newline="\r\n")
    gt = motio.read_gt(p)
    assert len(gt) == 2 and gt.frame.tolist() == [1, 2]


def test_tud_crlf_real_file():
    p = SHARED / "motmetrics_tud" / "TUD-Campus" / "gt.txt"
    if not p.is_file():
        pytest.skip(f"shared data not found at {p}")
    assert b"\r\n" in p.read_bytes()
    gt = motio.read_gt(p)
    assert len(gt) == 359 and gt.id.nunique() == 8 and gt.frame.max() == 71
    res = motio.read_results(p.parent / "test.txt")
    assert len(res) == 222 and res.id.nunique() == 13


def test_detections_and_min_score(tmp_path):
    p = write(tmp_path / "det.txt", "2,-1,10,10,5,5,0.9,-1,-1,-1\n1,-1,1,1,5,5,0.3,-1,-1,-1\n1,-1,3,1,5,5,0.7,-1,-1,-1\n")
    d = motio.read_detections(p)
    assert list(d.columns) == DET_COLUMNS
    # det_id is file order, table sorted by frame
    assert d.det_id.tolist() == [1, 2, 0] and d.frame.tolist() == [1, 1, 2]
    assert motio.read_detections(p, min_score=0.5).score.tolist() == [0.7, 0.9]


def test_detections_without_score_column(tmp_path):
    d = motio.read_detections(write(tmp_path / "det.txt", "1,-1,1,1,5,5\n"))
    assert d.score.tolist() == [1.0]


@pytest.mark.parametrize("reader,cols", [(motio.read_detections, DET_COLUMNS), (motio.read_gt, GT_COLUMNS),
                                         (motio.read_results, TRACK_COLUMNS)])
def test_empty_file_is_legal(tmp_path, reader, cols):
    p = write(tmp_path / "x.txt", "")
    t = reader(p)
    assert len(t) == 0 and list(t.columns) == cols
    assert reader(write(tmp_path / "y.txt", "\n\n")).empty


@pytest.mark.parametrize("text,line,needle", [
    ("1,1,1,1,5,5,1,1,1\n1,x,1,1,5,5,1,1,1\n", 2, "column 2 is not a number"),
    ("1,1,1,1,5\n", 1, "found 5"),
    ("1,1,1,1,5,5,1,1,1,1,1\n", 1, "found 11"),
    ("1,1,1,1,5,5,1,1,1\n2,1,1,1,5,5,1\n", 2, "expected 9 columns"),
    ("1,1,1,1,nan,5,1,1,1\n", 1, "NaN"),
    ("1,1,1,1,5,NaN,1,1,1\n", 1, "NaN"),
    ("1,1,1,1,0,5,1,1,1\n", 1, "must be positive"),
    ("1,1,1,1,5,-2,1,1,1\n", 1, "must be positive"),
    ("0,1,1,1,5,5,1,1,1\n", 1, "frame must be a positive integer"),
    ("1.5,1,1,1,5,5,1,1,1\n", 1, "frame must be a positive integer"),
    ("inf,1,1,1,5,5,1,1,1\n", 1, "frame must be a positive integer"),
    ("\n# comment\n1,1,1,1,5,5,1,1,1\n1,1.5,1,1,5,5,1,1,1\n", 4, "id must be an integer"),
    ("1,1,1,1,5,5,1,nan,1\n", 1, "class"),
])
def test_malformed_gt(tmp_path, text, line, needle):
    p = write(tmp_path / "bad_gt.txt", text)
    with pytest.raises(InputError) as e:
        motio.read_gt(p)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{p}:{line}: ") and needle in msg
    assert e.value.line == line and e.value.path == p


def test_frame_outside_seq_length(tmp_path):
    p = write(tmp_path / "det.txt", "1,-1,1,1,5,5,0.9\n\n11,-1,1,1,5,5,0.9\n")
    motio.read_detections(p, seq_length=11)
    with pytest.raises(InputError, match=r"det.txt:3: frame 11 is outside the sequence \(seqLength=10\)"):
        motio.read_detections(p, seq_length=10)


def test_nan_score_names_real_line(tmp_path):
    p = write(tmp_path / "det.txt", "# header\n1,-1,1,1,5,5,0.9\n\n2,-1,1,1,5,5,nan\n")
    with pytest.raises(InputError, match=r"det.txt:4: detection score is NaN"):
        motio.read_detections(p)


def test_duplicate_id_in_frame(tmp_path):
    p = write(tmp_path / "r.txt", "1,1,1,1,5,5,1\n1,2,1,1,5,5,1\n2,1,1,1,5,5,1\n1,1,9,9,5,5,1\n")
    assert len(motio.read_results(p)) == 4  # only checked on request
    with pytest.raises(InputError, match=r"r.txt:4: track id 1 appears twice in frame 1"):
        motio.read_results(p, unique_ids=True)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        motio.read_gt(tmp_path / "missing.txt")
    p = tmp_path / "bin.txt"
    p.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InputError, match="not a text file"):
        motio.read_detections(p)


def test_results_round_trip(tmp_path):
    t = pd.DataFrame({"frame": [2, 1, 1], "id": [3, 1, 2], "x": [0.0, 10.5, -2.25], "y": [5.0, 6.125, 7.0],
                      "w": [10.0, 20.0, 30.5], "h": [40.0, 50.0, 60.0], "score": [1.0, 0.5, 0.25]})
    p = motio.write_results(tmp_path / "out" / "seq.txt", t)
    line1 = p.read_text().splitlines()[0]
    assert line1 == "1,1,11.5,7.125,20,50,0.5,-1,-1,-1"
    back = motio.read_results(p)
    exp = t.sort_values(["frame", "id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, exp[TRACK_COLUMNS].astype(back.dtypes.to_dict()))
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic write leaves no temp file


def test_gt_round_trip_both_flavours(tmp_path):
    g = pd.DataFrame({"frame": [1, 1, 2], "id": [1, 2, 1], "x": [0.0, 5.0, 1.0], "y": [0.0, 5.0, 1.0],
                      "w": [10.0, 11.0, 12.0], "h": [20.0, 21.0, 22.0], "consider": [1.0, 0.0, 1.0],
                      "cls": [1, 7, 1], "vis": [1.0, 0.5, 0.25]})
    back = motio.read_gt(motio.write_gt(tmp_path / "gt.txt", g))
    pd.testing.assert_frame_equal(back, g[GT_COLUMNS].astype(back.dtypes.to_dict()))
    p15 = motio.write_gt(tmp_path / "gt15.txt", g, flavour="mot15")
    assert p15.read_text().splitlines()[0] == "1,1,1,1,10,20,1,-1,-1,-1"
    b15 = motio.read_gt(p15)
    assert b15.cls.tolist() == [1, 1, 1] and b15.consider.tolist() == [1.0, 0.0, 1.0]


def test_detections_round_trip(tmp_path):
    d = pd.DataFrame({"frame": [1, 3], "det_id": [0, 1], "x": [1.0, 2.5], "y": [3.0, 4.0], "w": [5.0, 6.0],
                      "h": [7.0, 8.0], "score": [0.9, 0.125]})
    back = motio.read_detections(motio.write_detections(tmp_path / "det.txt", d))
    pd.testing.assert_frame_equal(back, d[DET_COLUMNS].astype(back.dtypes.to_dict()))


def test_atomic_write_bytes(tmp_path):
    motio.atomic_write_bytes(tmp_path / "a" / "b.bin", b"\x00\x01")
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"\x00\x01"


def test_fast_and_line_parsers_agree(tmp_path):
    rng = np.random.default_rng(1)
    n = 200
    a = np.column_stack([rng.integers(1, 50, n), np.arange(n), rng.uniform(-5, 500, n).round(3),
                         rng.uniform(0, 300, n).round(2), rng.uniform(1, 80, n).round(3), rng.uniform(1, 90, n),
                         rng.integers(0, 2, n), rng.integers(1, 13, n), rng.uniform(0, 1, n).round(2)])
    fast = tmp_path / "fast.txt"
    np.savetxt(fast, a, fmt=["%d", "%d", "%.3f", "%.2f", "%.3f", "%.17g", "%d", "%d", "%.2f"], delimiter=", ")
    slow = tmp_path / "slow.txt"  # whitespace separated and a comment: only the line parser reads it
    slow.write_text("# c\n" + fast.read_text().replace(", ", " "))
    assert motio._parse_fast(fast.read_text(), 6, None) is not None
    assert motio._parse_fast(slow.read_text(), 6, None) is None
    pd.testing.assert_frame_equal(motio.read_gt(fast), motio.read_gt(slow))
    arr, ncols, lines = motio._parse_table(fast, 6, None)
    assert ncols == 9 and lines.tolist() == list(range(1, n + 1))
    np.testing.assert_array_equal(arr, motio._parse_table(slow, 6, None)[0])


def test_fast_parser_reads_floats_as_python_does():
    # hard-to-round decimal strings (halfway cases, 17-20 significant digits) and other spellings
    # float() accepts: the fast parser's values must equal float() bit for bit
    rng = np.random.default_rng(7)
    spellings = [f"{x:.20g}" for x in rng.uniform(0, 1000, 300)] + [repr(float(x)) for x in rng.uniform(1e-7, 1e7, 300)]
    spellings += ["0.1", "5.", ".5", "+3", " 4", "1e2", "2.5E-3", "9007199254740993", "0.30000000000000004",
                  "1.00000000000000011102230246251565404236316680908203125"]
    lines = [f"1,-1,{s},2,10,20,0.5,-1,-1,-1" for s in spellings]
    arr, ncols, linenos, _ = motio._parse_fast("\n".join(lines) + "\n", 6, None)
    assert ncols == 10 and linenos.tolist() == list(range(1, len(lines) + 1))
    assert [float(v).hex() for v in arr[:, 2]] == [float(s).hex() for s in spellings]
