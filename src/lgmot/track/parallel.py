"""Clips of one sequence tracked concurrently, results yielded in clip order.

Clips are independent until they are stitched (in order), so they can run anywhere. Backends:

* ``process`` (the default where ``fork`` is safe: Linux, CUDA not in use): a pool of forked
  worker processes, kept between sequences. The workers inherit the scorer (the model) and the
  tracker settings when the pool starts; a task carries one clip's arrays, the reply its node
  labels. The pool is restarted when the scorer, its weights or the settings change, so a worker
  never scores with stale weights. Each worker uses one intra-op thread. Unlike threads this is
  not held back by the GIL (graph building and the many small torch ops dispatch under it).
* ``thread``: a thread pool (the fallback).

At most 2 x workers clips are in flight, so memory stays bounded on long sequences.
"""
from __future__ import annotations

import itertools
import os
import sys
import threading
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from ..threads import env_threads

BACKENDS = ("auto", "process", "thread")

_STATE: Any = None  # a forked worker's inherited state, set by _init_worker


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
    if backend == "thread":
        return "thread"
    return "process" if fork_available() else "thread"


def state_key(*objs: Any) -> tuple:
    """Identity of what forked workers inherited: the objects, and for torch modules among them
    (or held as ``.model``) every tensor's identity, storage and in-place version counter, so an
    optimiser step or ``load_state_dict`` is noticed."""
    key: list = []
    for o in objs:
        key.append(id(o))
        model = o if hasattr(o, "parameters") else getattr(o, "model", None)
        if model is not None and hasattr(model, "parameters") and hasattr(model, "buffers"):
            key.append(tuple((id(t), t.data_ptr(), t._version)
                             for t in itertools.chain(model.parameters(), model.buffers())))
    return tuple(key)


class ClipPool:
    """``map(fn, state, payloads)`` = ``[fn(state, p) for p in payloads]``, in order, on
    ``workers`` workers. ``fn`` must be a module-level function (it is sent to the workers by
    name); ``state`` reaches forked workers by inheritance, never pickled."""

    def __init__(self, workers: int, backend: str = "auto"):
        resolve_backend(backend)  # reject unknown names early
        self.workers, self.backend = max(1, int(workers)), backend
        self._ex = None
        self._key: tuple | None = None
        self._state: Any = None
        self._lock = threading.RLock()
        self._stopped = False

    def map(self, fn: Callable, state: Any, payloads: Iterable, key: tuple) -> Iterator:
        """``key`` identifies ``state`` for reusing the worker processes (e.g. :func:`state_key` of
        the objects in it); a different key restarts them."""
        it = iter(payloads)  # consumed lazily: only the clips in flight exist at once
        head = list(itertools.islice(it, 2))
        payloads = itertools.chain(head, it)
        if self.workers <= 1 or len(head) <= 1:
            yield from (fn(state, p) for p in payloads)
            return
        if resolve_backend(self.backend) == "thread":
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.workers, thread_name_prefix="lgmot-clip") as ex:
                yield from _bounded(ex, lambda p: fn(state, p), payloads, self.workers)
            return
        with self._lock:  # several threads may map at once (e.g. two sequences' clips)
            ex = self._processes(state, key)
        try:
            yield from _bounded(ex, _run_task, ((fn, p) for p in payloads), self.workers)
        except BaseException as e:
            from concurrent.futures.process import BrokenProcessPool

            if isinstance(e, BrokenProcessPool):  # a worker died (e.g. killed for memory): start afresh next time
                self.close()
            elif isinstance(e, (KeyboardInterrupt, SystemExit)):  # Ctrl-C / SIGTERM: stop the workers now
                self.close(kill=True)
            raise

    def _processes(self, state: Any, key: tuple):
        if self._stopped:
            raise RuntimeError("the clip workers were stopped")
        if self._ex is not None and self._key == (key, self.workers):
            return self._ex
        self.close()
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        from ..workers import spawned_by_main_thread

        # fork: the workers inherit ``state`` (initargs are not pickled with the fork context)
        self._ex = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("fork"), initializer=_init_worker,
                                       initargs=(state, os.getpid(), spawned_by_main_thread()))
        # holding the state keeps the objects whose id() is in the key alive, so no new object
        # can take one of those ids while these workers serve it
        self._key, self._state = (key, self.workers), state
        return self._ex

    def close(self, kill: bool = False) -> None:
        """Stop the workers: after the clips in flight, or at once with ``kill``."""
        with self._lock:
            self._close(kill)

    def stop(self) -> None:
        """Kill the workers at once and start no new ones: a command being interrupted, whose other
        threads (e.g. one linking the next sequence) must not fork fresh workers after the kill."""
        with self._lock:
            self._stopped = True
            self._close(kill=True)

    def _close(self, kill: bool) -> None:
        if self._ex is not None:
            if kill:
                from ..workers import kill_workers

                kill_workers(self._ex)
            else:
                self._ex.shutdown(wait=True, cancel_futures=True)
        self._ex, self._key, self._state = None, None, None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def map_in_order(fn: Callable, items: Iterable, workers: int, backend: str = "auto") -> Iterator:
    """``map(fn, items)`` in order on a one-off pool (``fn`` any callable: forked workers inherit it)."""
    pool = ClipPool(workers, backend)
    try:
        yield from pool.map(_call, fn, items, key=(id(fn),))
    finally:
        pool.close()


def _call(fn: Callable, item: Any) -> Any:
    return fn(item)


def _bounded(ex, fn, items: Iterable, workers: int) -> Iterator:
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


def _init_worker(state: Any, parent_pid: int, use_pdeathsig: bool) -> None:
    global _STATE
    from ..workers import die_with_parent

    die_with_parent(parent_pid, use_pdeathsig)
    torch = sys.modules.get("torch")  # not imported by the numpy inference path: leave it so
    if torch is not None:
        torch.set_num_threads(1)
    _STATE = state


def _run_task(task: tuple) -> Any:
    fn, payload = task
    return fn(_STATE, payload)
