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
    chains = _chain_components(n_nodes, edges)
    if chains is not None:
        return chains
    graph = sp.coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])),
                          shape=(n_nodes, n_nodes))
    _, raw = connected_components(graph, directed=False)
    # first node index of every raw label -> rank of that index
    _, first = np.unique(raw, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[raw]


def _chain_components(n_nodes: int, edges: np.ndarray) -> np.ndarray | None:
    """:func:`components` of a flow selection (what rounding returns: every edge from a lower to a
    higher node index, at most one edge out of and one into each node), without building a graph:
    the components are chains, each labelled by its first node (found by pointer doubling), and
    chains are numbered by that node. None for any other edge set."""
    u, v = edges[:, 0], edges[:, 1]
    if edges.size and ((u >= v).any() or (u < 0).any() or (v >= n_nodes).any()):
        return None
    prev = np.arange(n_nodes)
    prev[v] = u
    if edges.size and ((np.bincount(u, minlength=n_nodes) > 1).any() or (np.bincount(v, minlength=n_nodes) > 1).any()):
        return None
    root = prev
    while True:  # root[i] <- root[root[i]] until every node points at its chain's first node
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    heads = root == np.arange(n_nodes)
    rank = np.cumsum(heads) - 1  # chains numbered by their first node, in node order
    return rank[root]


def link(n_nodes: int, edges: np.ndarray, probs: np.ndarray, method: str = "exact") -> np.ndarray:
    """Round the edge probabilities and return the component labels of the nodes."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    keep = round_flow(n_nodes, edges, probs, method=method)
    return components(n_nodes, edges[keep])
