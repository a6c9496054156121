"""Killing ``lgmot track`` (SIGKILL or SIGTERM) leaves no worker alive and no result file written after."""
from __future__ import annotations

import signal
import sys

import pytest

from killcheck import MOT15, kill_run

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
              pytest.mark.skipif(not MOT15.is_dir(), reason="needs shared/data/mot15_train")]


def test_sigkill_leaves_no_sequence_workers(tmp_path):
    """``-j 2``: one sequence written, one worker mid-sequence, three queued when the parent dies."""
    r = kill_run(tmp_path, signal.SIGKILL, seq_workers=2, clip_workers=1)
    assert r.workers_seen >= 2 and r.files_before >= 1
    assert r.orphans == [] and r.new_files == []


def test_sigkill_leaves_no_clip_workers(tmp_path):
    r = kill_run(tmp_path, signal.SIGKILL, seq_workers=1, clip_workers=2, sequences=("ETH-Bahnhof", "ETH-Pedcross2"))
    assert r.workers_seen >= 2
    assert r.orphans == [] and r.new_files == []


def test_sigterm_stops_like_ctrl_c(tmp_path):
    r = kill_run(tmp_path, signal.SIGTERM, seq_workers=1, clip_workers=2,
                 sequences=("ETH-Bahnhof", "ETH-Pedcross2"))
    assert r.workers_seen >= 2 and r.parent_exit is not None and r.parent_exit != 0
    assert r.orphans == [] and r.new_files == []
