"""Dataset layouts, seqmaps, named splits and the MOT17 half protocol."""
from __future__ import annotations

from pathlib import Path

import pytest

from lgmot.data import motio
from lgmot.data.layouts import (SPLITS, detect_layout, half_gt, half_range, list_sequences, read_half_gt,
                                read_seqmap, split_frame_range, write_half_gt, write_seqmap)
from lgmot.errors import InputError

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"
TRAIN = ["02", "04", "05", "09", "10", "11", "13"]
TEST = ["01", "03", "06", "07", "08", "12", "14"]


def seq(d: Path, n: int = 10) -> Path:
    d.mkdir(parents=True)
    (d / "seqinfo.ini").write_text(f"[Sequence]\nname={d.name}\nframeRate=30\nseqLength={n}\nimWidth=8\nimHeight=6\n")
    return d


@pytest.fixture
def mot17(tmp_path) -> Path:
    root = tmp_path / "MOT17"
    for part, vids in (("train", TRAIN), ("test", TEST)):
        for v in vids:
            for det in ("DPM", "FRCNN", "SDP"):
                seq(root / part / f"MOT17-{v}-{det}")
    return root


def names(paths):
    return [p.name for p in paths]


def test_seqmap_round_trip_and_tolerance(tmp_path):
    p = write_seqmap(tmp_path / "m.txt", ["a", "b-2"])
    assert p.read_text() == "name\na\nb-2\n"
    assert read_seqmap(p) == ["a", "b-2"]
    q = tmp_path / "q.txt"
    q.write_bytes(b"name\r\nx\r\n\r\ny,extra\r\n")
    assert read_seqmap(q) == ["x", "y"]
    q.write_text("x\ny\n")  # no header (SportsMOT splits_txt)
    assert read_seqmap(q) == ["x", "y"]


def test_seqmap_errors(tmp_path):
    q = tmp_path / "q.txt"
    q.write_text("name\nx\ny\nx\n")
    with pytest.raises(InputError, match=r"q.txt:4: sequence 'x' is listed twice \(first on line 2\)"):
        read_seqmap(q)
    q.write_text("name\n../etc\n")
    with pytest.raises(InputError, match=r"q.txt:2: not a sequence name"):
        read_seqmap(q)
    with pytest.raises(InputError, match="cannot read seqmap"):
        read_seqmap(tmp_path / "none.txt")


def test_split_definitions():
    assert len(SPLITS["mot17-train"].names) == 21 and len(SPLITS["mot17-test"].names) == 21
    assert SPLITS["mot17-train-FRCNN"].names == tuple(f"MOT17-{v}-FRCNN" for v in TRAIN)
    for k, val in ((1, {"02", "10", "13"}), (2, {"04", "11"}), (3, {"05", "09"})):
        tr = {n.split("-")[1] for n in SPLITS[f"mot17-cv{k}-train"].names}
        va = {n.split("-")[1] for n in SPLITS[f"mot17-cv{k}-val"].names}
        assert va == val and tr | va == set(TRAIN) and not tr & va
        assert len(SPLITS[f"mot17-cv{k}-val"].names) == 3 * len(val)
    assert SPLITS["mot20-train"].names == ("MOT20-01", "MOT20-02", "MOT20-03", "MOT20-05")
    for n in ("mot17-val-half", "dancetrack-val", "sportsmot-train", "mot17-cv1-train"):
        assert n in SPLITS


def test_mot17_splits(mot17):
    assert detect_layout(mot17) == "mot17"
    assert len(list_sequences(mot17, "mot17-train")) == 21
    test = list_sequences(mot17, "mot17-test-SDP")
    assert names(test) == [f"MOT17-{v}-SDP" for v in TEST] and all(p.parent.name == "test" for p in test)
    assert names(list_sequences(mot17, "mot17-cv2-val")) == [
        "MOT17-04-DPM", "MOT17-04-FRCNN", "MOT17-04-SDP", "MOT17-11-DPM", "MOT17-11-FRCNN", "MOT17-11-SDP"]
    vh = list_sequences(mot17, "mot17-val-half")
    assert names(vh) == [f"MOT17-{v}-FRCNN" for v in TRAIN]
    # root may also be the split folder itself
    assert names(list_sequences(mot17 / "train", "mot17-cv1-val")) == names(list_sequences(mot17, "mot17-cv1-val"))
    # no split: every sequence folder directly under the root
    assert len(list_sequences(mot17 / "train")) == 21


def test_split_with_seqmap_filter(mot17, tmp_path):
    m = write_seqmap(tmp_path / "m.txt", ["MOT17-13-SDP", "MOT17-02-DPM"])
    assert names(list_sequences(mot17, "mot17-train", m)) == ["MOT17-02-DPM", "MOT17-13-SDP"]
    assert names(list_sequences(mot17, seqmap=m)) == ["MOT17-13-SDP", "MOT17-02-DPM"]  # seqmap order
    bad = write_seqmap(tmp_path / "bad.txt", ["MOT17-02-DPM", "MOT17-01-DPM"])
    with pytest.raises(InputError, match=r"bad.txt:3: sequence 'MOT17-01-DPM' is not in split 'mot17-train'"):
        list_sequences(mot17, "mot17-train", bad)
    ghost = write_seqmap(tmp_path / "ghost.txt", ["nope"])
    with pytest.raises(InputError, match=r"ghost.txt:2: sequence 'nope' not found"):
        list_sequences(mot17, seqmap=ghost)


def test_missing_split_folder_and_unknown_split(tmp_path, mot17):
    (tmp_path / "other").mkdir()
    with pytest.raises(InputError, match="expects the folder train/"):
        list_sequences(tmp_path / "other", "mot17-train")
    with pytest.raises(InputError, match="unknown split 'mot99'"):
        list_sequences(mot17, "mot99")
    with pytest.raises(InputError, match="no such folder"):
        list_sequences(tmp_path / "nope")
    with pytest.raises(InputError, match="no sequence folders"):
        list_sequences(tmp_path / "other")


def test_mot20(tmp_path):
    root = tmp_path / "MOT20"
    for v in ("01", "02", "03", "05"):
        seq(root / "train" / f"MOT20-{v}")
    assert detect_layout(root) == "mot20"
    assert names(list_sequences(root, "mot20-train")) == ["MOT20-01", "MOT20-02", "MOT20-03", "MOT20-05"]


def test_dancetrack(tmp_path):
    root = tmp_path / "dancetrack"
    for i in (1, 2, 3):
        seq(root / "train" / f"dancetrack{i:04d}")
    for i in (4, 5):
        seq(root / "val" / f"dancetrack{i:04d}")
    assert detect_layout(root) == "dancetrack"
    assert names(list_sequences(root, "dancetrack-train")) == ["dancetrack0001", "dancetrack0002", "dancetrack0003"]
    # the seqmap at the root wins over the folder listing
    write_seqmap(root / "val_seqmap.txt", ["dancetrack0005"])
    assert names(list_sequences(root, "dancetrack-val")) == ["dancetrack0005"]
    write_seqmap(root / "val_seqmap.txt", ["dancetrack0009"])
    with pytest.raises(InputError, match=r"val_seqmap.txt:2: sequence 'dancetrack0009' not found"):
        list_sequences(root, "dancetrack-val")


def test_sportsmot(tmp_path):
    root = tmp_path / "sportsmot"
    for n in ("v_a_c001", "v_b_c002"):
        seq(root / "dataset" / "train" / n)
    seq(root / "dataset" / "val" / "v_c_c003")
    assert detect_layout(root) == "sportsmot"
    assert names(list_sequences(root, "sportsmot-train")) == ["v_a_c001", "v_b_c002"]
    (root / "splits_txt").mkdir()
    (root / "splits_txt" / "train.txt").write_text("v_b_c002\n")
    assert names(list_sequences(root, "sportsmot-train")) == ["v_b_c002"]
    assert names(list_sequences(root, "sportsmot-val")) == ["v_c_c003"]


def test_single_sequence_root(tmp_path):
    s = seq(tmp_path / "one")
    assert detect_layout(s) == "sequence" and list_sequences(s) == [s]


def test_mot15_real_folder():
    root = SHARED / "mot15_train"
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root}")
    assert detect_layout(root) == "folder"
    seqs = list_sequences(root)  # uses the root's seqmap.txt
    assert names(seqs) == read_seqmap(root / "seqmap.txt") and len(seqs) == 11
    assert names(list_sequences(SHARED / "motmetrics_tud")) == ["TUD-Campus", "TUD-Stadtmitte"]


def test_half_ranges():
    # N = 600: 0-based train [0, 300], val [301, 599]
    assert half_range(600, "train") == (1, 301) and half_range(600, "val") == (302, 600)
    assert half_range(5, "train") == (1, 3) and half_range(5, "val") == (4, 5)
    assert split_frame_range("mot17-val-half", 600) == (302, 600)
    assert split_frame_range("mot17-train", 600) == (1, 600) and split_frame_range(None, 9) == (1, 9)
    with pytest.raises(ValueError):
        half_range(10, "test")


def test_val_half_gt_round_trip(tmp_path):
    d = seq(tmp_path / "MOT17-02-FRCNN", n=6)
    (d / "gt").mkdir()
    (d / "gt" / "gt.txt").write_text("".join(f"{f},1,{f},1,5,5,1,1,1\n" for f in range(1, 7)))
    p = write_half_gt(d)
    assert p == d / "gt" / "gt_val_half.txt"
    # N=6: val half is 0-based [4, 5] = frames 5, 6, renumbered 1, 2
    assert p.read_text() == "1,1,5,1,5,5,1,1,1\n2,1,6,1,5,5,1,1,1\n"
    back = read_half_gt(d)
    assert back.frame.tolist() == [1, 2] and back.x.tolist() == [4.0, 5.0]
    tr = half_gt(motio.read_gt(d / "gt" / "gt.txt"), 6, "train")
    assert tr.frame.tolist() == [1, 2, 3, 4]
    write_half_gt(d, "train")
    assert read_half_gt(d, "train").frame.tolist() == [1, 2, 3, 4]
