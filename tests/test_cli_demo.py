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
    r = CliRunner().invoke(app, ["demo", "--data", str(PETS), "--frames", "8", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert "HOTA" in r.output and "IDF1" in r.output and "MOTA" in r.output
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)
    assert 0 <= metrics.loc["PETS09-S2L1", "HOTA"] <= 100
    res = pd.read_csv(out / "PETS09-S2L1.txt", header=None)
    assert res[0].max() <= 8 and len(res) > 0  # only the first 8 frames, some tracks
    import cv2

    cap = cv2.VideoCapture(str(out / "PETS09-S2L1.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 8


def test_demo_without_data_is_a_one_line_error(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["demo", "--data", str(tmp_path / "missing"), "-q"])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
