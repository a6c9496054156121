"""Thread settings for the small graph ops (the graph -> tensor conversion is ``lgmot.model.graph_tensors``)."""
from __future__ import annotations

import os
from contextlib import contextmanager

import torch



@contextmanager
def single_thread():
    """Run small graph ops on one intra-op thread (override with LGMOT_GRAPH_THREADS).

    The MPN's matrices are small (thousands of edges x <= 96 features); with 2+ threads the
    fork/join overhead dominates, and on a busy machine it was 10x slower than one thread.
    """
    n = int(os.environ.get("LGMOT_GRAPH_THREADS", "1"))
    old = torch.get_num_threads()
    if old == n:  # nested or concurrent use (clips on threads): the outer context owns the setting
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
