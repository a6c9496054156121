"""`lgmot demo` end to end on the first frames of PETS09-S2L1 with the shipped default model."""
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.track.run import DEFAULT_MODEL

PETS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pets09_s2l1"


@pytest.mark.skipif(not (PETS / "vtest.avi").exists(), reason="shared/data/pets09_s2l1 not found")
@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no default model shipped")
def test_demo_runs_and_prints_metrics(tmp_path: Path):
    out = tmp_path / "demo"
    r = CliRunner().invoke(app, ["demo", "--data", str(PETS), "--frames", "12", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert "HOTA" in r.output and "IDF1" in r.output and "MOTA" in r.output
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)
    assert 0 <= metrics.loc["PETS09-S2L1", "HOTA"] <= 100
    res = pd.read_csv(out / "PETS09-S2L1.txt", header=None)
    assert res[0].max() <= 12 and len(res) > 0  # only the first 12 frames, some tracks (>= 10 boxes each)
    import cv2

    cap = cv2.VideoCapture(str(out / "PETS09-S2L1.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12


def test_demo_without_data_is_a_one_line_error(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["demo", "--data", str(tmp_path / "missing"), "-q"])
    assert r.exit_code == 2
    assert "Traceback" not in r.output


def test_demo_data_lookup_order(tmp_path: Path, monkeypatch):
    """--data first, then $LGMOT_DATA/pets09_s2l1, then the copy shipped inside the package."""
    from lgmot.cli.demo import PACKAGED_DEMO, find_demo_data

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LGMOT_DATA", raising=False)
    assert find_demo_data() == PACKAGED_DEMO.resolve()
    monkeypatch.setenv("LGMOT_DATA", str(tmp_path / "nowhere"))
    assert find_demo_data() == PACKAGED_DEMO.resolve()
    own = tmp_path / "mine" / "pets09_s2l1"
    own.mkdir(parents=True)
    (own / "seqinfo.ini").write_text("[Sequence]\nname=x\n")
    monkeypatch.setenv("LGMOT_DATA", str(tmp_path / "mine"))
    assert find_demo_data() == own.resolve()
    assert find_demo_data(tmp_path / "explicit") == tmp_path / "explicit"


def test_packaged_demo_data_is_the_published_sequence():
    """The shipped files are byte for byte the ones named in their licence note."""
    import hashlib

    from lgmot.cli.demo import PACKAGED_DEMO

    note = (PACKAGED_DEMO / "LICENSE.md").read_text()
    for name in ("vtest.avi", "gt/gt.txt"):
        digest = hashlib.sha256((PACKAGED_DEMO / name).read_bytes()).hexdigest()
        assert digest in note, name
    assert not (PACKAGED_DEMO / "det").exists()  # the GPL SORT detections are not shipped


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no default model shipped")
def test_demo_runs_on_packaged_data_alone(tmp_path: Path):
    """`lgmot demo --frames N` in a fresh process, from an empty folder with no ../shared, LGMOT_DATA
    unset and HOME pointing at an empty folder: only the data inside the package is used."""
    import os
    import subprocess
    import sys

    import lgmot
    from lgmot.cli.demo import PACKAGED_DEMO

    n = 24
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "LGMOT_DATA"}
    env["HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = str(Path(lgmot.__file__).resolve().parents[1])  # the lgmot under test
    r = subprocess.run([sys.executable, "-c", "from lgmot.cli import app; app()", "demo", "--frames", str(n), "-q"],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (cwd.parent / "shared").exists() and not (cwd / "shared").exists()
    assert f"data:     {PACKAGED_DEMO.resolve()}" in r.stdout
    out = cwd / "lgmot-demo"
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)
    row = metrics.loc["PETS09-S2L1"]
    # the printed line carries the same numbers as metrics.csv
    assert f"HOTA {row.HOTA:.1f}  IDF1 {row.IDF1:.1f}  MOTA {row.MOTA:.1f}" in r.stdout
    # a working detector + tracker on the first frames of this scene, not an empty result
    assert row.HOTA > 30 and row.MOTA > 30
    res = pd.read_csv(out / "PETS09-S2L1.txt", header=None)
    assert res[0].min() >= 1 and res[0].max() <= n
    import cv2

    cap = cv2.VideoCapture(str(out / "PETS09-S2L1.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == n
