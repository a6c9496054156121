"""Connected components of the selected links: the tracklets of the next level (A.2, A.9)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .rounding import round_flow


def components(n_nodes: int, edges: np.ndarray) -> np.ndarray:
    """Component label of every node, (N,) int64, numbered in order of each component's lowest
    node index (so, with nodes sorted by start frame, merged nodes stay sorted by start frame)."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if n_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    graph = sp.coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])),
                          shape=(n_nodes, n_nodes))
    _, raw = connected_components(graph, directed=False)
    # first node index of every raw label -> rank of that index
    _, first = np.unique(raw, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[raw]


def link(n_nodes: int, edges: np.ndarray, probs: np.ndarray, method: str = "exact") -> np.ndarray:
    """Round the edge probabilities and return the component labels of the nodes."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    keep = round_flow(n_nodes, edges, probs, method=method)
    return components(n_nodes, edges[keep])
