"""Clips of one sequence tracked concurrently, results yielded in clip order.

Clips are independent until they are stitched (in order), so they can run anywhere. Two backends:

* ``process`` (default where ``fork`` is safe: Linux, no CUDA in use): forked worker processes.
  They inherit the scorer, the model and the sequence's arrays at fork time, so a task is only a
  clip's (start, end) and its reply the clip's node labels. Each worker uses one intra-op thread.
  Unlike threads this is not held back by the GIL (graph building and the many small torch ops
  dispatch under it): on 2 cores, 2 processes were ~1.9x one, 2 threads 1.28x.
* ``thread``: a thread pool (the fallback, and what ``--workers`` sequence processes use inside).

At most 2 x workers clips are in flight, so memory stays bounded on long sequences.
"""
from __future__ import annotations

import itertools
import os
import sys
import threading
from collections import deque
from typing import Callable, Iterable, Iterator, TypeVar

from ..threads import env_threads

T = TypeVar("T")
R = TypeVar("R")

BACKENDS = ("auto", "process", "thread")

# Forked workers find their job here: the parent registers the function before the pool forks,
# so each child inherits it (nothing is pickled but a token and the item).
_FORK_JOBS: dict[int, Callable] = {}
_FORK_LOCK = threading.Lock()
_tokens = itertools.count()


def default_clip_workers() -> int:
    """``LGMOT_TRACK_WORKERS`` if set, else min(2, CPU count)."""
    return env_threads("LGMOT_TRACK_WORKERS", min(2, os.cpu_count() or 1))


def fork_available() -> bool:
    """Forking is safe here: Linux (macOS system libraries are not fork-safe), CUDA not in use."""
    if not sys.platform.startswith("linux"):
        return False
    torch = sys.modules.get("torch")
    return not (torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized())


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"clip backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto":
        return "process" if fork_available() else "thread"
    if backend == "process" and not fork_available():
        return "thread"
    return backend


def map_in_order(fn: Callable[[T], R], items: Iterable[T], workers: int, backend: str = "auto") -> Iterator[R]:
    """``map(fn, items)`` in order, ``workers`` items at a time."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    workers = min(workers, len(items))
    if resolve_backend(backend) == "thread":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers, thread_name_prefix="lgmot-clip") as ex:
            yield from _bounded(ex, fn, items, workers)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with _FORK_LOCK:
        token = next(_tokens)
        _FORK_JOBS[token] = fn
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_init_worker) as ex:
            yield from _bounded(ex, _run_forked, [(token, x) for x in items], workers)
    finally:
        with _FORK_LOCK:
            _FORK_JOBS.pop(token, None)


def _bounded(ex, fn, items: list, workers: int) -> Iterator:
    pending: deque = deque()
    try:
        for x in items:
            pending.append(ex.submit(fn, x))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:  # the consumer stopped early or a clip failed: drop what has not started
            f.cancel()


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _run_forked(task):
    token, item = task
    return _FORK_JOBS[token](item)
