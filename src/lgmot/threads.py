"""Thread counts: torch intra-op threads and numpy BLAS threads, one context manager each for every stage.

Graph/MPN ops and encoders default to one intra-op thread each: their matrices are small, and on
the 2-core machine with another busy process 2 threads were 5-10x slower (fork/join waits on the
busy core). ``LGMOT_GRAPH_THREADS`` and ``LGMOT_EMBED_THREADS`` override the defaults.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator


def env_threads(name: str, default: int = 1) -> int:
    return max(1, int(os.environ.get(name, str(default))))


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads and restore the caller's setting afterwards. A no-op when the
    setting is already ``n``: nested use, and clips tracked on several Python threads (the outer
    context owns the setting) never change it under each other. Also a no-op when torch has not
    been imported: nothing that runs torch ops exists yet (a torch model or encoder imports it),
    and importing torch only to set its threads would cost seconds (``lgmot track`` runs its
    network in numpy and never imports torch)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    old = torch.get_num_threads()
    if old == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def single_thread():
    """Graph and MPN ops: one intra-op thread unless ``LGMOT_GRAPH_THREADS`` says otherwise."""
    return torch_threads(env_threads("LGMOT_GRAPH_THREADS"))


_BLAS = None  # threadpoolctl's BLAS controller, made once per process (making one costs ~10 ms)
_BLAS_STATE = {"depth": 0, "limiter": None}
_BLAS_LOCK = threading.Lock()


@contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Run numpy's BLAS (matrix products) on ``n`` threads, restoring the setting afterwards
    (about 10 us a call). Without it OpenBLAS starts one thread per core for any product above
    a small size, and forked clip workers on a loaded machine then spin against each other
    (a 20x slow-down measured on 2 cores). The outermost of nested or concurrent uses (clips on
    several Python threads) sets and restores the limit. A no-op where threadpoolctl is missing."""
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController().select(user_api="blas")
        except Exception:  # pragma: no cover - threadpoolctl missing or failing: leave BLAS alone
            _BLAS = False
    if _BLAS is False or not _BLAS.lib_controllers:
        yield
        return
    with _BLAS_LOCK:
        _BLAS_STATE["depth"] += 1
        if _BLAS_STATE["depth"] == 1:
            _BLAS_STATE["limiter"] = _BLAS.limit(limits=n)
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_STATE["depth"] -= 1
            if _BLAS_STATE["depth"] == 0:
                _BLAS_STATE["limiter"].restore_original_limits()
                _BLAS_STATE["limiter"] = None


def single_thread_blas():
    """numpy's BLAS on one thread unless ``LGMOT_GRAPH_THREADS`` says otherwise (the numpy MPN)."""
    return blas_threads(env_threads("LGMOT_GRAPH_THREADS"))
