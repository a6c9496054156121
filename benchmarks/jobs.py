"""Benchmark jobs in parallel processes (one core each), results in submission order."""
from __future__ import annotations

from typing import Callable, Iterator, Sequence


def run_jobs(fn: Callable, args: Sequence[tuple], jobs: int = 1) -> Iterator:
    """``fn(*a)`` for each ``a`` in ``args``, yielded in order; ``jobs`` > 1 uses spawned processes
    (``fn`` must be importable from its module)."""
    if jobs <= 1:
        for a in args:
            yield fn(*a)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as pool:
        yield from pool.map(fn, *zip(*args))
