"""``lgmot track ROOT --workers N``: same result files as one process, written atomically."""
from __future__ import annotations

from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.synth import make_sequence


def test_workers_match_serial(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    for i in range(3):
        seq = make_sequence(tmp_path / f"gen{i}", frames=20, people=3, seed=i).rename(root / f"seq{i}")
        ini = seq / "seqinfo.ini"
        ini.write_text(ini.read_text().replace("name=source", f"name=seq{i}"))
    runner = CliRunner()
    for name, extra in (("serial", ["--clip-workers", "1"]), ("parallel", ["--workers", "2"]),
                        ("clips", ["--clip-workers", "2"])):
        res = runner.invoke(app, ["track", str(root), "--out", str(tmp_path / name), "--oracle",
                                  "--no-appearance", "-q", *extra])
        assert res.exit_code == 0, res.output
    for i in range(3):
        a = (tmp_path / "serial" / f"seq{i}.txt").read_text()
        b = (tmp_path / "parallel" / f"seq{i}.txt").read_text()
        c = (tmp_path / "clips" / f"seq{i}.txt").read_text()
        assert a == b == c and a
    assert not [p for p in (tmp_path / "parallel").iterdir() if p.name.endswith(".tmp")]


def test_clip_workers_link_ahead_same_files_same_order(tmp_path):
    """With clip worker processes the next sequence is linked while the current one finishes: same
    files as one clip worker, summaries printed in sequence order."""
    import pytest

    from killcheck import MOT15 as mot15

    if not mot15.is_dir():
        pytest.skip("needs shared/data/mot15_train")
    root = tmp_path / "root"
    root.mkdir()
    names = ["ETH-Sunnyday", "TUD-Campus", "KITTI-17", "TUD-Stadtmitte"]  # multi-clip and one-clip sequences
    for name in names:
        (root / name).symlink_to(mot15 / name)
    runner = CliRunner()
    outputs = {}
    for workers in ("1", "2"):
        res = runner.invoke(app, ["track", str(root), "--out", str(tmp_path / workers), "--clip-workers", workers, "-q"])
        assert res.exit_code == 0, res.output
        assert [line.split(":")[0] for line in res.output.splitlines()] == sorted(names)
        outputs[workers] = {n: (tmp_path / workers / f"{n}.txt").read_bytes() for n in names}
    assert outputs["1"] == outputs["2"] and all(outputs["1"].values())


def test_bad_sequence_after_a_linked_one_still_writes_the_earlier_one(tmp_path):
    """Linking ahead: when the second sequence's detections are bad, the first (already being linked)
    is still finished and written, and the error names the bad file and line."""
    import pytest

    from killcheck import MOT15 as mot15

    if not mot15.is_dir():
        pytest.skip("needs shared/data/mot15_train")
    root = tmp_path / "root"
    root.mkdir()
    (root / "ETH-Sunnyday").symlink_to(mot15 / "ETH-Sunnyday")
    bad = root / "KITTI-17"
    (bad / "det").mkdir(parents=True)
    (bad / "seqinfo.ini").write_text((mot15 / "KITTI-17" / "seqinfo.ini").read_text())
    lines = (mot15 / "KITTI-17" / "det" / "det.txt").read_text().splitlines()
    lines[4] = "1,-1,not-a-number,2,3,4,0.9,-1,-1,-1"
    (bad / "det" / "det.txt").write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(app, ["track", str(root), "--out", str(tmp_path / "out"), "--clip-workers", "2", "-q"])
    assert res.exit_code != 0
    assert "KITTI-17/det/det.txt:5:" in res.output
    assert (tmp_path / "out" / "ETH-Sunnyday.txt").read_text()
    assert not (tmp_path / "out" / "KITTI-17.txt").exists()
