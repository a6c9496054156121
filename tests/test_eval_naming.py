"""`lgmot eval` finds results under the seqinfo name that `lgmot track` writes them under."""
from pathlib import Path

from typer.testing import CliRunner

from lgmot.cli import app
from lgmot.data import SeqInfo
from lgmot.data.motio import atomic_write_text

GT = "1,1,10,10,20,40,1,1,1\n2,1,12,10,20,40,1,1,1\n3,1,14,10,20,40,1,1,1\n"


def test_eval_uses_seqinfo_name_for_a_folder_named_differently(tmp_path: Path):
    seq = tmp_path / "lowercase_folder"
    atomic_write_text(seq / "seqinfo.ini", SeqInfo("Proper-Name", 25, 100, 100, 3).to_ini())
    atomic_write_text(seq / "gt" / "gt.txt", GT)
    atomic_write_text(tmp_path / "res" / "Proper-Name.txt", GT)
    out = tmp_path / "m.csv"
    r = CliRunner().invoke(app, ["eval", "--gt", str(seq), "--results", str(tmp_path / "res"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = dict(line.split(",", 2)[:2] for line in out.read_text().splitlines()[1:])
    assert float(rows["Proper-Name"]) == 100.0  # HOTA of the GT scored as its own result
