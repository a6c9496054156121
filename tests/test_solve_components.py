import numpy as np

from lgmot.solve import components, link


def test_numbered_by_lowest_node():
    # components {0, 4}, {1}, {2, 3, 5}, {6}
    edges = np.array([[3, 5], [0, 4], [2, 3]])
    assert components(7, edges).tolist() == [0, 1, 2, 2, 0, 2, 3]
    assert components(7, edges).dtype == np.int64


def test_no_edges_and_empty():
    assert components(3, np.zeros((0, 2), np.int64)).tolist() == [0, 1, 2]
    assert components(0, np.zeros((0, 2), np.int64)).tolist() == []


def test_random_relabelling_is_first_appearance_order():
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = 30
        edges = rng.integers(0, n, (15, 2))
        lab = components(n, edges)
        # first occurrence of every label is increasing, labels are 0..K-1
        _, first = np.unique(lab, return_index=True)
        assert np.all(np.diff(first) > 0)
        # connected endpoints share labels
        assert np.all(lab[edges[:, 0]] == lab[edges[:, 1]])


def test_link_rounds_then_labels():
    # 0->1 and 0->2 conflict; 2 wins; 1->3 positive
    edges = np.array([[0, 1], [0, 2], [1, 3]])
    assert link(4, edges, np.array([0.6, 0.9, 0.8])).tolist() == [0, 1, 0, 1]


def test_flow_selections_take_the_chain_path_with_scipys_labels():
    """Flow-feasible selections (chains) are labelled without scipy: same labels as the graph path."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from lgmot.solve import round_flow
    from lgmot.solve.components import _chain_components

    def by_scipy(n, edges):
        g = sp.coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
        _, raw = connected_components(g, directed=False)
        _, first = np.unique(raw, return_index=True)
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        return rank[raw]

    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 50))
        m = int(rng.integers(0, 3 * n))
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        e = np.stack([np.minimum(u, v), np.maximum(u, v)], 1)[u != v].reshape(-1, 2)
        sel = e[round_flow(n, e, rng.random(len(e)))]
        assert _chain_components(n, sel) is not None
        np.testing.assert_array_equal(components(n, sel), by_scipy(n, sel))
        np.testing.assert_array_equal(components(n, e), by_scipy(n, e))  # general graphs: scipy
