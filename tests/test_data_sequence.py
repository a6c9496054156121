"""Sequences: seqinfo, MOTChallenge folders, DanceTrack/SportsMOT quirks, TUD (no seqinfo), video, image folder."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lgmot.data import load_sequence, read_seqinfo
from lgmot.data.sequence import SeqInfo, probe_video
from lgmot.errors import InputError

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"
INI = "[Sequence]\nname={name}\nimDir=img1\nframeRate=25\nseqLength={n}\nimWidth=64\nimHeight=48\nimExt={ext}\n"


def make_seq(root: Path, name: str, n: int = 3, digits: int = 6, ext: str = ".jpg", gt: str | None = None,
             det: str | None = None, ini: str | None = None) -> Path:
    import cv2

    d = root / name
    (d / "img1").mkdir(parents=True)
    for i in range(1, n + 1):
        cv2.imwrite(str(d / "img1" / f"{i:0{digits}d}{ext}"), np.full((48, 64, 3), i * 20, np.uint8))
    (d / "seqinfo.ini").write_text(ini if ini is not None else INI.format(name=name, n=n, ext=ext))
    if gt is not None:
        (d / "gt").mkdir()
        (d / "gt" / "gt.txt").write_text(gt)
    if det is not None:
        (d / "det").mkdir()
        (d / "det" / "det.txt").write_text(det)
    return d


def test_seqinfo_round_trip(tmp_path):
    info = SeqInfo("MOT17-02-FRCNN", 30.0, 1920, 1080, 600)
    (tmp_path / "seqinfo.ini").write_text(info.to_ini())
    assert read_seqinfo(tmp_path / "seqinfo.ini") == info


def test_seqinfo_without_trailing_newline_or_section(tmp_path):
    p = tmp_path / "seqinfo.ini"
    p.write_text("[Sequence]\nname=v_abc_c001\nimDir=img1\nframeRate=25\nseqLength=500\nimWidth=1280\nimHeight=720\nimExt=.jpg")
    info = read_seqinfo(p)
    assert (info.name, info.fps, info.length, info.width, info.height) == ("v_abc_c001", 25.0, 500, 1280, 720)
    p.write_text("name=x\nframeRate=10\nseqLength=5\nimWidth=4\nimHeight=3\n")
    assert read_seqinfo(p).length == 5


@pytest.mark.parametrize("text,needle,line", [
    ("[Sequence]\nname=a\nframeRate=25\nimWidth=4\nimHeight=3\n", "missing key 'seqLength'", None),
    ("[Sequence]\nname=a\nframeRate=25\nseqLength=ten\nimWidth=4\nimHeight=3\n", "'seqLength' is not a number", 4),
    ("[Sequence]\nname=a\nframeRate=25\nseqLength=10.5\nimWidth=4\nimHeight=3\n", "must be an integer", 4),
    ("[Sequence]\nname=a\nframeRate=0\nseqLength=10\nimWidth=4\nimHeight=3\n", "'frameRate' must be positive", 3),
    ("[Sequence]\nname=a\nframeRate=inf\nseqLength=10\nimWidth=4\nimHeight=3\n", "must be finite", 3),
    ("[Other]\nname=a\n", "missing [Sequence] section", None),
    ("[Sequence]\nname=a\nname=b\n", "not a valid ini file", 3),
])
def test_seqinfo_malformed(tmp_path, text, needle, line):
    p = tmp_path / "seqinfo.ini"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        read_seqinfo(p)
    assert needle in str(e.value) and str(e.value).startswith(str(p)) and e.value.line == line
    assert "\n" not in str(e.value)


def test_mot17_folder(tmp_path):
    d = make_seq(tmp_path, "MOT17-02-FRCNN", n=3, gt="1,1,10,10,5,5,1,1,1\n3,2,10,10,5,5,0,7,0.5\n",
                 det="1,-1,10,10,5,5,0.9\n2,-1,10,10,5,5,0.8\n")
    s = load_sequence(d)
    assert s.name == "MOT17-02-FRCNN" and s.info.length == 3 and s.info.fps == 25.0 and s.has_images
    assert len(s.detections) == 2 and len(s.gt) == 2
    assert s.image_path(1).name == "000001.jpg"
    frames = list(s.frames(start=2))
    assert [f for f, _ in frames] == [2, 3] and frames[0][1].shape == (48, 64, 3)
    with pytest.raises(InputError, match="outside the 3 images"):
        s.image_path(4)


def test_det_or_gt_frame_beyond_seqlength(tmp_path):
    d = make_seq(tmp_path, "s", n=3, det="1,-1,10,10,5,5,0.9\n4,-1,10,10,5,5,0.8\n")
    with pytest.raises(InputError, match=r"det.txt:2: frame 4 is outside the sequence \(seqLength=3\)"):
        load_sequence(d).detections


def test_empty_det_file(tmp_path):
    s = load_sequence(make_seq(tmp_path, "s", n=2, det=""))
    assert s.detections.empty and s.gt is None


def test_dancetrack_8_digit_images(tmp_path):
    d = make_seq(tmp_path, "dancetrack0001", n=3, digits=8, gt="1,1,10,10,5,5,1,1,1\n")
    s = load_sequence(d)
    assert s.image_path(3).name == "00000003.jpg" and len(list(s.frames())) == 3


def test_sportsmot_sequence(tmp_path):
    ini = "[Sequence]\nname=v_x_c001\nimDir=img1\nframeRate=25\nseqLength=2\nimWidth=64\nimHeight=48\nimExt=.jpg"
    d = make_seq(tmp_path, "v_x_c001", n=2, ini=ini, gt="1, 0, 10, 20, 30, 40, 1, 1, 1\n2, 0, 11, 20, 30, 40, 1, 1, 1\n")
    s = load_sequence(d)
    assert s.info.length == 2 and s.gt.id.tolist() == [0, 0]


def test_tud_without_seqinfo(tmp_path):
    src = SHARED / "motmetrics_tud" / "TUD-Stadtmitte"
    if not src.is_dir():
        pytest.skip(f"shared data not found at {src}")
    s = load_sequence(src)
    assert s.info.length == 179 and s.name == "TUD-Stadtmitte" and len(s.gt) == 1156 and not s.has_images


def test_folder_with_only_gt_crlf(tmp_path):
    (tmp_path / "S").mkdir()
    (tmp_path / "S" / "gt.txt").write_bytes(b"1,1,1,1,5,5,1,-1,-1,-1\r\n7,1,1,1,5,5,1,-1,-1,-1\r\n")
    s = load_sequence(tmp_path / "S")
    assert s.info.length == 7 and len(s.gt) == 2


def test_image_folder(tmp_path):
    import cv2

    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(4):
        cv2.imwrite(str(d / f"f{i:03d}.png"), np.zeros((30, 40, 3), np.uint8))
    s = load_sequence(d)
    assert (s.info.length, s.info.width, s.info.height) == (4, 40, 30)
    assert [f for f, _ in s.frames()] == [1, 2, 3, 4]


def _tiny_video(path: Path, n: int = 5) -> Path:
    import cv2

    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    assert vw.isOpened()
    for i in range(n):
        vw.write(np.full((24, 32, 3), i * 40, np.uint8))
    vw.release()
    return path


def test_video_file(tmp_path):
    v = _tiny_video(tmp_path / "clip.avi")
    assert probe_video(v) == (10.0, 32, 24, 5)
    s = load_sequence(v)
    assert (s.name, s.info.length, s.info.width, s.info.height) == ("clip", 5, 32, 24)
    frames = list(s.frames())
    assert [f for f, _ in frames] == [1, 2, 3, 4, 5] and frames[0][1].shape == (24, 32, 3)
    assert [f for f, _ in s.frames(start=4)] == [4, 5]


def test_folder_with_video_and_gt(tmp_path):
    d = tmp_path / "seq"
    d.mkdir()
    _tiny_video(d / "v.avi", 4)
    (d / "gt").mkdir()
    (d / "gt" / "gt.txt").write_text("4,1,1,1,5,5,1,-1,-1,-1\n")
    s = load_sequence(d)
    assert s.info.length == 4 and s.video is not None and len(s.gt) == 1


def test_unreadable_video(tmp_path):
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"this is not a video" * 10)
    with pytest.raises(InputError, match="bad.avi: cannot"):
        load_sequence(bad)


def test_not_a_sequence(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_sequence(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a sequence"):
        load_sequence(tmp_path / "empty")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(InputError, match="not a video file"):
        load_sequence(tmp_path / "x.txt")


def test_pets_video_sequence():
    d = SHARED / "pets09_s2l1"
    if not (d / "vtest.avi").is_file():
        pytest.skip(f"shared data not found at {d}")
    s = load_sequence(d)
    assert s.info.length == 795 and s.video is not None and len(s.gt) == 4650
    f, img = next(iter(s.frames()))
    assert f == 1 and img.shape == (576, 768, 3)
