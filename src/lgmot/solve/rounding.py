"""Rounding edge scores to a flow-feasible set of links (reference A.9).

A node may keep at most one link to a later node ("out") and one link to an earlier node
("in"); the earlier endpoint of an edge is ``edges[:, 0]``. Node order equals time order.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, linprog, milp
from scipy.special import expit

THRESHOLD = 0.5
_INTEGRAL_TOL = 1e-6


def undirected_probs(scores_2e: Any, n_edges: int | None = None, *, from_logits: bool = True) -> np.ndarray:
    """Mean of the two directed scores of each pair: column e (u->v) and column E+e (v->u).

    ``scores_2e`` is a numpy array or a torch tensor of shape (2E,) holding logits
    (``from_logits=True``) or probabilities. Returns float64 probabilities of shape (E,).
    """
    if hasattr(scores_2e, "detach"):  # torch tensor, without importing torch here
        scores_2e = scores_2e.detach().to("cpu").double().numpy()
    s = np.asarray(scores_2e, dtype=np.float64).reshape(-1)
    if n_edges is None:
        if s.size % 2:
            raise ValueError(f"expected 2E scores, got an odd count {s.size}")
        n_edges = s.size // 2
    if s.size != 2 * n_edges:
        raise ValueError(f"expected 2E = {2 * n_edges} scores, got {s.size}")
    p = expit(s) if from_logits else s
    return 0.5 * (p[:n_edges] + p[n_edges:])


def flow_degrees(n_nodes: int, edges: np.ndarray, selected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(out-degree, in-degree) of every node over the selected edges."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)[np.asarray(selected, dtype=bool)]
    return (np.bincount(e[:, 0], minlength=n_nodes), np.bincount(e[:, 1], minlength=n_nodes))


def is_flow_feasible(n_nodes: int, edges: np.ndarray, selected: np.ndarray) -> bool:
    out_deg, in_deg = flow_degrees(n_nodes, edges, selected)
    return bool((out_deg <= 1).all() and (in_deg <= 1).all())


def flow_objective(probs: np.ndarray, selected: np.ndarray) -> float:
    """The LP objective sum_e x_e (1 - 2 p_e) (lower is better)."""
    return float(np.sum((1.0 - 2.0 * np.asarray(probs, np.float64))[np.asarray(selected, bool)]))


def round_flow(n_nodes: int, edges: np.ndarray, probs: np.ndarray, method: str = "exact") -> np.ndarray:
    """Select edges: x_e = p_e > 0.5, then repair the nodes with in- or out-flow above 1.

    ``exact`` solves min sum x_e (1 - 2 p_e) subject to the flow constraints on the positive
    edges touching a violating node, as the maximum-weight bipartite matching that this LP is
    (``_solve_matching``; HiGHS's LP, ``_solve_lp``, gives the same optimum); the result is a
    global optimum of that problem over the whole graph. ``greedy`` keeps, at each violating node in
    increasing index order, only its best remaining outgoing and incoming edge.
    Returns a boolean mask of shape (E,) whose selection is flow-feasible.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if probs.shape[0] != edges.shape[0]:
        raise ValueError(f"{edges.shape[0]} edges but {probs.shape[0]} scores")
    if edges.size and (edges.min() < 0 or edges.max() >= n_nodes):
        raise ValueError("edge endpoint outside [0, n_nodes)")
    if np.any(edges[:, 0] == edges[:, 1]):
        raise ValueError("self-loop edge")
    if method not in ("exact", "greedy"):
        raise ValueError(f"method is 'exact' or 'greedy', got {method!r}")

    x = probs > THRESHOLD
    out_deg, in_deg = flow_degrees(n_nodes, edges, x)
    violating = (out_deg > 1) | (in_deg > 1)
    if not violating.any():
        return x
    # Only positive edges can be worth selecting (cost 1 - 2p >= 0 otherwise). A positive edge
    # touching no violating node never competes with another positive edge for a node's in- or
    # out-slot (that node would be violating), so it stays selected and the sub-problem below is
    # independent of the rest of the graph.
    sub = np.flatnonzero(x & (violating[edges[:, 0]] | violating[edges[:, 1]]))
    if method == "exact":
        stars = _separate_stars(edges[sub], probs[sub])
        x[sub] = stars if stars is not None else _solve_matching(edges[sub], probs[sub])
    else:
        x[sub] = _greedy(edges[sub], probs[sub])
    if not is_flow_feasible(n_nodes, edges, x):  # pragma: no cover - guards the invariant
        raise AssertionError("rounding produced a flow-infeasible selection")
    return x


def _constraint_matrix(edges: np.ndarray) -> sp.csr_matrix:
    """One row per (node, out) and per (node, in) slot that the edges use; one column per edge.

    Every column has exactly one 1 in the "out" block and one in the "in" block: the incidence
    matrix of a bipartite graph, which is totally unimodular, so LP vertices are integral.
    """
    m = edges.shape[0]
    _, out_row = np.unique(edges[:, 0], return_inverse=True)
    _, in_row = np.unique(edges[:, 1], return_inverse=True)
    n_out = int(out_row.max()) + 1
    rows = np.concatenate([out_row, n_out + in_row])
    cols = np.concatenate([np.arange(m), np.arange(m)])
    shape = (n_out + int(in_row.max()) + 1, m)
    return sp.csr_matrix((np.ones(2 * m), (rows, cols)), shape=shape)


def _solve_matching(edges: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The LP's optimum as a maximum-weight bipartite matching: each edge joins its earlier node's
    out-slot to its later node's in-slot with weight 2p - 1 (> 0 here: positive edges only), and
    the LP's constraint matrix is that graph's incidence matrix, so LP and matching have the same
    optimum. ``linear_sum_assignment`` finds it exactly, without a solver's tolerances and about a
    hundred times faster than building and solving the LP (``_solve_lp``, kept as the check)."""
    out_nodes, row = np.unique(edges[:, 0], return_inverse=True)
    in_nodes, col = np.unique(edges[:, 1], return_inverse=True)
    w = 2.0 * probs - 1.0
    # a pair given more than once is one cell: its best copy (the lowest index among equals) stands for it
    cell = row * len(in_nodes) + col
    order = np.lexsort((np.arange(len(w)), -w, cell))
    best = order[np.r_[True, cell[order][1:] != cell[order][:-1]]]
    weight = np.zeros((len(out_nodes), len(in_nodes)))
    weight.flat[cell[best]] = w[best]
    r, c = linear_sum_assignment(weight, maximize=True)
    chosen = np.zeros(weight.shape, dtype=bool)
    chosen[r, c] = True
    keep = np.zeros(len(w), dtype=bool)
    keep[best] = chosen.flat[cell[best]] & (w[best] > 0.0)
    return keep


def _solve_lp(edges: np.ndarray, probs: np.ndarray) -> np.ndarray:
    c = 1.0 - 2.0 * probs
    a = _constraint_matrix(edges)
    ones = np.ones(a.shape[0])
    # Dual simplex returns a basic (vertex) solution, integral by total unimodularity.
    res = linprog(c, A_ub=a, b_ub=ones, bounds=(0.0, 1.0), method="highs-ds")
    sol = res.x if res.status == 0 else None
    if sol is None or np.abs(sol - np.round(sol)).max() > _INTEGRAL_TOL:
        # Not expected; the MILP gives an integral answer whatever happened above.
        res = milp(c, constraints=LinearConstraint(a, -np.inf, ones), integrality=np.ones_like(c),
                   bounds=Bounds(0.0, 1.0))
        if res.status != 0:  # pragma: no cover
            raise RuntimeError(f"HiGHS failed on the rounding problem: {res.message}")
        sol = res.x
    rounded = np.round(sol)
    assert np.abs(sol - rounded).max() <= _INTEGRAL_TOL, "rounding LP solution is not integral"
    return rounded > 0.5


#: cost gap below which a star's best edge is left to the LP solver (HiGHS's optimality
#: tolerances are 1e-7): the shortcut answers only where the optimum is unique by a clear margin
_STAR_MARGIN = 1e-5


def _separate_stars(edges: np.ndarray, probs: np.ndarray) -> np.ndarray | None:
    """The LP's optimum without the solver where the sub-problem falls apart into stars: no edge
    competes at both ends (its earlier node's out-slot and its later node's in-slot both shared
    with other edges). Every cost is negative (p > 0.5), so each shared slot keeps exactly its
    cheapest edge and every other edge stays. None (solve the LP) when some edge competes at
    both ends or a slot's two best costs are within ``_STAR_MARGIN``: there the LP optimum is not
    clearly unique, and the answer is left to the solver as before."""
    n = int(edges.max()) + 1
    shared = [np.bincount(edges[:, side], minlength=n)[edges[:, side]] > 1 for side in (0, 1)]
    if (shared[0] & shared[1]).any():
        return None
    cost = 1.0 - 2.0 * probs
    keep = np.ones(edges.shape[0], dtype=bool)
    for side in (0, 1):
        idx = np.flatnonzero(shared[side])
        if idx.size == 0:
            continue
        order = idx[np.lexsort((cost[idx], edges[idx, side]))]  # by slot, cheapest first
        node = edges[order, side]
        head = np.r_[True, node[1:] != node[:-1]]
        first = np.flatnonzero(head)  # every shared slot has at least two edges: first + 1 is its second
        if np.any(cost[order[first + 1]] - cost[order[first]] <= _STAR_MARGIN):
            return None
        keep[order[~head]] = False
    return keep


def _greedy(edges: np.ndarray, probs: np.ndarray) -> np.ndarray:
    keep = np.ones(edges.shape[0], dtype=bool)
    # Edge indices grouped by node, best score first (ties: lower edge index), for each side.
    groups = []
    for side in (0, 1):
        order = np.lexsort((np.arange(len(probs)), -probs, edges[:, side]))
        nodes = edges[order, side]
        starts = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]])
        ends = np.r_[starts[1:], len(order)]
        counts = ends - starts
        multi = counts > 1
        groups.append({int(n): order[s:e] for n, s, e in zip(nodes[starts[multi]], starts[multi], ends[multi])})
    for node in sorted(set(groups[0]) | set(groups[1])):
        for side in (0, 1):
            idx = groups[side].get(node)
            if idx is None:
                continue
            alive = idx[keep[idx]]
            if alive.size > 1:
                keep[alive[1:]] = False  # alive is still sorted best first
    return keep
