import time

import numpy as np
import pytest

from lgmot.solve import flow_objective, is_flow_feasible, round_flow, undirected_probs


def brute_force_optimum(n_nodes: int, edges: np.ndarray, probs: np.ndarray) -> float:
    """min sum x_e (1 - 2 p_e) over every flow-feasible subset of all edges."""
    m = len(edges)
    subsets = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(np.int64)  # (2^m, m)
    out_inc = np.zeros((m, n_nodes), np.int64)
    out_inc[np.arange(m), edges[:, 0]] = 1
    in_inc = np.zeros((m, n_nodes), np.int64)
    in_inc[np.arange(m), edges[:, 1]] = 1
    ok = ((subsets @ out_inc).max(1) <= 1) & ((subsets @ in_inc).max(1) <= 1)
    return float((subsets[ok] @ (1 - 2 * probs)).min())


def random_graph(rng: np.random.Generator, max_nodes: int = 7, max_edges: int = 12):
    n = int(rng.integers(3, max_nodes + 1))
    pairs = np.array([(a, b) for a in range(n) for b in range(a + 1, n)])
    m = int(rng.integers(1, min(max_edges, len(pairs)) + 1))
    edges = pairs[rng.choice(len(pairs), m, replace=False)]
    probs = rng.uniform(0.2, 1.0, m)  # mostly positive: many conflicts
    return n, edges, probs


def test_exact_matches_brute_force_on_random_graphs():
    rng = np.random.default_rng(1234)
    n_conflicting = 0
    for _ in range(200):
        n, edges, probs = random_graph(rng)
        x0 = probs > 0.5
        n_conflicting += not is_flow_feasible(n, edges, x0)
        x = round_flow(n, edges, probs, "exact")
        assert x.dtype == bool and x.shape == (len(edges),)
        assert is_flow_feasible(n, edges, x)
        assert not np.any(x & ~x0), "only edges with p > 0.5 may be selected"
        assert flow_objective(probs, x) == pytest.approx(brute_force_optimum(n, edges, probs), abs=1e-9)
    assert n_conflicting > 100  # the test really exercised the LP


def test_greedy_feasible_and_never_better_than_exact():
    rng = np.random.default_rng(99)
    for _ in range(200):
        n, edges, probs = random_graph(rng)
        g = round_flow(n, edges, probs, "greedy")
        assert is_flow_feasible(n, edges, g)
        assert not np.any(g & ~(probs > 0.5))
        e = round_flow(n, edges, probs, "exact")
        assert flow_objective(probs, e) <= flow_objective(probs, g) + 1e-12


def test_hand_made_conflicts():
    # node 0 -> {1, 2}: out-flow 2; best is the higher-scored edge
    edges = np.array([[0, 1], [0, 2]])
    for method in ("exact", "greedy"):
        assert round_flow(3, edges, np.array([0.7, 0.9]), method).tolist() == [False, True]
    # a chain where greedy's local choice is wrong:
    # 0->2 (0.9), 1->2 (0.85), 1->3 (0.8) ; greedy at node 1 keeps 1->2 then node 2 keeps 0->2
    # leaving 1->3 dropped. Exact: {0->2, 1->3} (objective -0.8 - 0.6 = -1.4).
    edges = np.array([[0, 2], [1, 2], [1, 3]])
    probs = np.array([0.9, 0.85, 0.8])
    assert round_flow(4, edges, probs, "exact").tolist() == [True, False, True]
    assert round_flow(4, edges, probs, "greedy").tolist() == [True, False, False]


def test_unaffected_edges_stay_and_low_edges_never_chosen():
    # a conflict at node 0 plus an independent positive edge 3->4 and a negative edge
    edges = np.array([[0, 1], [0, 2], [3, 4], [2, 4]])
    probs = np.array([0.6, 0.8, 0.55, 0.3])
    x = round_flow(5, edges, probs)
    assert x.tolist() == [False, True, True, False]


def test_no_conflict_is_plain_threshold():
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    probs = np.array([0.6, 0.4, 0.51])
    assert round_flow(4, edges, probs).tolist() == [True, False, True]
    assert round_flow(4, np.zeros((0, 2), np.int64), np.zeros(0)).shape == (0,)


def test_input_validation():
    with pytest.raises(ValueError):
        round_flow(2, np.array([[0, 1]]), np.array([0.6, 0.7]))
    with pytest.raises(ValueError):
        round_flow(2, np.array([[0, 2]]), np.array([0.6]))
    with pytest.raises(ValueError):
        round_flow(2, np.array([[1, 1]]), np.array([0.6]))
    with pytest.raises(ValueError):
        round_flow(2, np.array([[0, 1]]), np.array([0.6]), method="lp")


def test_undirected_probs():
    logits = np.array([0.0, 2.0, np.log(3.0), -2.0])  # E = 2
    p = undirected_probs(logits)
    assert p == pytest.approx([(0.5 + 0.75) / 2, 0.5])  # sigmoid(2) + sigmoid(-2) = 1
    assert undirected_probs(np.array([0.2, 0.4, 0.6, 1.0]), 2, from_logits=False) == pytest.approx([0.4, 0.7])
    with pytest.raises(ValueError):
        undirected_probs(np.zeros(4), 3)
    torch = pytest.importorskip("torch")
    t = torch.tensor(logits, dtype=torch.float32, requires_grad=True)
    assert undirected_probs(t) == pytest.approx(p, abs=1e-6)


def test_timing_20k_edges():
    rng = np.random.default_rng(0)
    n = 5000
    u = rng.integers(0, n - 1, 25000)
    v = u + rng.integers(1, 40, 25000)
    keep = v < n
    edges = np.unique(np.c_[u[keep], v[keep]], axis=0)
    probs = np.sqrt(rng.random(len(edges)))  # ~75% positive: thousands of violating nodes
    assert len(edges) > 20000
    t0 = time.perf_counter()
    x = round_flow(n, edges, probs, "exact")
    dt = time.perf_counter() - t0
    assert is_flow_feasible(n, edges, x)
    assert dt < 10.0
    print(f"round_flow exact on {len(edges)} edges: {dt:.3f}s")


def test_milp_fallback_when_lp_is_not_integral(monkeypatch):
    import lgmot.solve.rounding as r

    class Fake:
        status = 0

        def __init__(self, n):
            self.x = np.full(n, 0.5)

    monkeypatch.setattr(r, "linprog", lambda c, **kw: Fake(len(c)))
    edges = np.array([[0, 2], [1, 2], [1, 3]])
    probs = np.array([0.9, 0.85, 0.8])
    assert r._solve_lp(edges, probs).tolist() == [True, False, True]
    assert round_flow(4, edges, probs, "exact").tolist() == [True, False, True]  # the matching, no LP


def test_matching_equals_the_lp():
    """``round_flow``'s exact path solves each sub-problem as a maximum-weight bipartite matching;
    HiGHS's LP on the same sub-problems gives the same selection (random weights: unique optima)
    and, with exact ties, the same objective."""
    from lgmot.solve import rounding

    rng = np.random.default_rng(21)
    for it in range(300):
        n = int(rng.integers(2, 50))
        m = int(rng.integers(1, 4 * n))
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = u != v
        e = np.unique(np.stack([np.minimum(u, v), np.maximum(u, v)], 1)[keep], axis=0)
        if not len(e):
            continue
        p = rng.uniform(0.5001, 1.0, len(e))
        if it % 3 == 0:
            p = np.round(p, 2)  # exact ties
        got, lp = rounding._solve_matching(e, p), rounding._solve_lp(e, p)
        assert is_flow_feasible(n, e, got)
        assert flow_objective(p, got) == pytest.approx(flow_objective(p, lp), abs=1e-9)
        if it % 3:
            np.testing.assert_array_equal(got, lp)
    # a pair given twice is one link: its better copy is kept, never both
    e = np.array([[0, 1], [0, 1], [1, 2]])
    assert rounding._solve_matching(e, np.array([0.7, 0.9, 0.8])).tolist() == [False, True, True]
    assert rounding._solve_matching(e, np.array([0.9, 0.9, 0.8])).tolist() == [True, False, True]


def test_exact_equals_whole_graph_milp_on_a_larger_graph():
    # the sub-graph decomposition must give the optimum of the problem over all edges
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    rng = np.random.default_rng(7)
    n = 600
    u = rng.integers(0, n - 1, 3000)
    v = u + rng.integers(1, 15, 3000)
    keep = v < n
    edges = np.unique(np.c_[u[keep], v[keep]], axis=0)
    probs = rng.random(len(edges)) ** 0.5
    m = len(edges)
    a = sp.vstack([sp.csr_matrix((np.ones(m), (edges[:, 0], np.arange(m))), shape=(n, m)),
                   sp.csr_matrix((np.ones(m), (edges[:, 1], np.arange(m))), shape=(n, m))])
    ref = milp(1 - 2 * probs, constraints=LinearConstraint(a, -np.inf, 1), integrality=np.ones(m),
               bounds=Bounds(0, 1))
    x = round_flow(n, edges, probs, "exact")
    assert is_flow_feasible(n, edges, x)
    assert flow_objective(probs, x) == pytest.approx(ref.fun, abs=1e-6)


def test_star_shortcut_equals_lp():
    """Sub-problems that fall apart into stars are answered without HiGHS: the same selection as
    the LP on random graphs (ties and near-ties are left to the LP)."""
    from lgmot.solve import rounding

    rng = np.random.default_rng(11)
    answered = 0
    for it in range(400):
        n = int(rng.integers(2, 40))
        m = int(rng.integers(1, 3 * n))
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = u != v
        e = np.stack([np.minimum(u, v), np.maximum(u, v)], 1)[keep]
        if not len(e):
            continue
        p = rng.uniform(0.5001, 1.0, len(e))
        if it % 4 == 0:
            p = np.round(p, 2)  # exact ties
        stars = rounding._separate_stars(e, p)
        if stars is not None:
            answered += 1
            np.testing.assert_array_equal(stars, rounding._solve_lp(e, p))
    assert answered > 50
    # a tie inside a star is left to the solver
    assert rounding._separate_stars(np.array([[0, 1], [0, 2]]), np.array([0.9, 0.9])) is None
    # an edge competing at both of its ends is not a star
    assert rounding._separate_stars(np.array([[0, 2], [0, 3], [1, 3]]), np.array([0.9, 0.8, 0.7])) is None
