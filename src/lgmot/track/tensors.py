"""Graph arrays -> the MPN's tensors (symmetric edges: u->v first, then v->u)."""
from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
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


def graph_tensors(tracklets, graph, node_dim: int | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x (N,D), edge_index (2,2E), edge_attr (2E,F), has_app (N,)) for one level's graph.

    Tracklets built without appearance carry (N, 0) arrays; they get zero rows of ``node_dim``
    here, per clip, (the model replaces them by its learned missing-appearance input)."""
    e = torch.as_tensor(np.asarray(graph.edges, dtype=np.int64))
    edge_index = torch.cat([e.T, e.T.flip(0)], dim=1)
    f = torch.as_tensor(np.asarray(graph.features, dtype=np.float32))
    edge_attr = torch.cat([f, f], dim=0)
    x = torch.as_tensor(np.asarray(tracklets.app, dtype=np.float32))
    if node_dim is not None and x.shape[1] != node_dim:
        if x.shape[1] != 0:
            raise ValueError(f"appearance has {x.shape[1]} dims but the model expects {node_dim}")
        # a broadcast view, not an (N, D) allocation: the model never writes to x
        x = torch.zeros((1, 1)).expand(x.shape[0], node_dim)
    has_app = torch.as_tensor(np.asarray(tracklets.has_app, dtype=bool))
    return x, edge_index, edge_attr, has_app
