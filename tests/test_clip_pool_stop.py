"""ClipPool.stop (an interrupted command): the workers die at once and no later map forks new
ones, while close(kill=True) (Ctrl-C inside one map, e.g. in a notebook) lets the next map start
fresh workers."""
from __future__ import annotations

import os

import pytest

from lgmot.track.parallel import ClipPool


def _pid_plus(state: int, x: int) -> tuple[int, int]:
    return os.getpid(), state + x


def test_stop_kills_and_refuses_new_workers():
    pool = ClipPool(2, "process")
    first = list(pool.map(_pid_plus, 10, [1, 2, 3, 4], key=("a",)))
    assert [v for _, v in first] == [11, 12, 13, 14]
    assert {p for p, _ in first} - {os.getpid()}  # ran in worker processes
    pool.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        list(pool.map(_pid_plus, 10, [1, 2, 3], key=("a",)))
    assert pool._ex is None  # nothing was forked


def test_close_with_kill_is_not_final():
    pool = ClipPool(2, "process")
    list(pool.map(_pid_plus, 0, [1, 2, 3], key=("a",)))
    pool.close(kill=True)
    again = list(pool.map(_pid_plus, 0, [1, 2, 3], key=("a",)))
    assert [v for _, v in again] == [1, 2, 3]
    pool.close()
