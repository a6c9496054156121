"""Config files: the training loss options are checked when the file is loaded, with its path."""
from __future__ import annotations

import pytest

from lgmot.config import Config
from lgmot.errors import InputError


def _write(tmp_path, body):
    p = tmp_path / "cfg.yaml"
    p.write_text("base: lgmot\n" + body)
    return p


def test_loss_options_round_trip(tmp_path):
    p = _write(tmp_path, "train:\n  loss_ignore: [skip, fp_pair]\n  class_balance: 0.5\n")
    cfg = Config.load(p)
    assert cfg.train.loss_ignore == ("skip", "fp_pair") and cfg.train.class_balance == 0.5
    cfg.save(tmp_path / "again.yaml")
    assert Config.load(tmp_path / "again.yaml").train == cfg.train


@pytest.mark.parametrize("body, message", [
    ("train:\n  loss_ignore: [skip, nope]\n", "unknown \\['nope'\\]"),
    ("train:\n  loss_ignore: skip\n", "must be a list"),
    ("train:\n  class_balance: -1\n", "class_balance must be >= 0"),
])
def test_bad_loss_options_name_the_file(tmp_path, body, message):
    p = _write(tmp_path, body)
    with pytest.raises(InputError, match=message) as e:
        Config.load(p)
    assert str(p) in str(e.value)
