"""torch intra-op thread counts: one context manager for every stage.

Graph/MPN ops and encoders default to one intra-op thread each: their matrices are small, and on
the 2-core machine with another busy process 2 threads were 5-10x slower (fork/join waits on the
busy core). ``LGMOT_GRAPH_THREADS`` and ``LGMOT_EMBED_THREADS`` override the defaults.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator


def env_threads(name: str, default: int = 1) -> int:
    return max(1, int(os.environ.get(name, str(default))))


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads and restore the caller's setting afterwards. A no-op when the
    setting is already ``n``: nested use, and clips tracked on several Python threads (the outer
    context owns the setting) never change it under each other."""
    import torch

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
