import math

import numpy as np
import pytest

from lgmot.graph import Tracklets, app_distance, candidate_edges, iter_candidate_edges, pruning_scores, reciprocal_topk
from lgmot.graph.edges import parse_pruning


def test_candidates_single_detections_window_boundaries():
    frames = np.array([1, 1, 2, 3, 4, 4, 5])
    # clip_start 1, windows of 2 frames: {1,2} {3,4} {5}
    e = candidate_edges(frames, frames, 2, 1)
    np.testing.assert_array_equal(e, [[0, 2], [1, 2], [3, 4], [3, 5]])
    # clip_start 0 shifts the windows: {1} {2,3} {4,5}
    e = candidate_edges(frames, frames, 2, 0)
    np.testing.assert_array_equal(e, [[2, 3], [4, 6], [5, 6]])


def test_candidates_tracklets_need_strict_time_order():
    start = np.array([1, 1, 2, 3, 5, 6])
    end = np.array([2, 1, 4, 3, 6, 8])
    # window 4 from frame 1: nodes 0-3 in window 0, nodes 4-5 in window 1
    e = candidate_edges(start, end, 4, 1)
    np.testing.assert_array_equal(e, [[0, 3], [1, 2], [1, 3]])


def _brute_candidates(start, end, fpl, clip_start):
    w = (start - clip_start) // fpl
    return [(u, v) for u in range(len(start)) for v in range(len(start))
            if w[u] == w[v] and end[u] < start[v]]


def test_candidates_match_brute_force_and_chunking():
    rng = np.random.default_rng(3)
    start = np.sort(rng.integers(10, 60, 80))
    end = start + rng.integers(0, 4, 80)
    for fpl in (1, 2, 5, 8):
        ref = _brute_candidates(start, end, fpl, 10)
        got = candidate_edges(start, end, fpl, 10)
        assert [tuple(x) for x in got.tolist()] == ref
        chunks = list(iter_candidate_edges(start, end, fpl, 10, max_candidates=7))
        if chunks:
            np.testing.assert_array_equal(np.concatenate(chunks), got)
        # every chunk holds whole windows
        wins = [set(((start[c[:, 0]] - 10) // fpl).tolist()) for c in chunks]
        for a in range(len(wins)):
            for b in range(a + 1, len(wins)):
                assert not wins[a] & wins[b]


def test_candidates_reject_unsorted_nodes():
    with pytest.raises(ValueError):
        candidate_edges(np.array([2, 1]), np.array([2, 1]), 5, 1)
    assert candidate_edges(np.zeros(0, np.int64), np.zeros(0, np.int64), 5, 1).shape == (0, 2)


def test_reciprocal_topk_hand_example():
    edges = np.array([[0, 1], [0, 2], [0, 3], [1, 2]])
    scores = np.array([1.0, 2.0, 3.0, 0.5])
    np.testing.assert_array_equal(reciprocal_topk(edges, scores, 4, 1), [False, False, False, True])
    np.testing.assert_array_equal(reciprocal_topk(edges, scores, 4, 2), [True, True, False, True])
    np.testing.assert_array_equal(reciprocal_topk(edges, scores, 4, 3), [True, True, True, True])


def _brute_topk(edges, scores, n, k):
    top = []
    for node in range(n):
        inc = [i for i in range(len(edges)) if node in edges[i]]
        inc.sort(key=lambda i: (scores[i], i))
        top.append(set(inc[:k]))
    return np.array([i in top[u] and i in top[v] for i, (u, v) in enumerate(edges)])


def test_reciprocal_topk_matches_brute_force_with_ties_and_nan():
    rng = np.random.default_rng(0)
    n = 15
    pairs = np.array([(u, v) for u in range(n) for v in range(u + 1, n)])
    edges = pairs[rng.random(len(pairs)) < 0.5]
    scores = rng.integers(0, 5, len(edges)).astype(float)  # many ties
    scores[::7] = np.nan
    ref_scores = np.where(np.isnan(scores), np.inf, scores)
    for k in (1, 2, 3, 10):
        np.testing.assert_array_equal(reciprocal_topk(edges, scores, n, k), _brute_topk(edges, ref_scores, n, k))


def test_parse_pruning():
    assert parse_pruning("geometry") == ("geometry", 0.0)
    assert parse_pruning("motion_005") == ("motion", 0.05)
    assert parse_pruning("motion_01") == ("motion", 0.1)
    for bad in ("motion_", "motion_x1", "lpc"):
        with pytest.raises(ValueError):
            parse_pruning(bad)


def test_pruning_scores_geometry_and_motion():
    # u: frame 1 box (0,0,10,20) feet (5,20); v: frame 2 box (3,4,4,10) feet (5,14)
    t = Tracklets.from_detections([1, 2, 2], [[0, 0, 10, 20], [3, 4, 4, 10], [0, 0, 1, 1]],
                                  np.array([[0, 0], [3, 4], [1, 1]], np.float32), [True, True, False])
    edges = np.array([[0, 1], [0, 2]])
    np.testing.assert_allclose(pruning_scores(t, edges, "geometry")[0], 6.0)
    g = np.array([0.5, 0.25])
    s = pruning_scores(t, edges, "motion_005", motion_giou=g)
    np.testing.assert_allclose(s[0], 2 - (0.05 * 0.5 + 0.95 * math.exp(-5 / 20)))
    np.testing.assert_allclose(s[1], 2 - 0.25)  # no appearance at node 2: motion only
    np.testing.assert_allclose(pruning_scores(t, edges, "reid"), [5.0, np.inf])
    with pytest.raises(ValueError):
        pruning_scores(t, edges, "motion_005")


@pytest.mark.parametrize("metric", ["l2", "cos"])
def test_app_distance_dense_and_sparse_blocks(metric):
    rng = np.random.default_rng(1)
    app = rng.normal(size=(60, 16)).astype(np.float32)
    dense = candidate_edges(np.repeat(np.arange(6), 10), np.repeat(np.arange(6), 10), 6, 0)
    sparse = np.array([[0, 59], [3, 40], [10, 11], [20, 55]])
    for edges in (dense, sparse):
        a, b = app[edges[:, 0]].astype(float), app[edges[:, 1]].astype(float)
        if metric == "l2":
            ref = np.linalg.norm(a - b, axis=1)
        else:
            ref = 2 - (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        for block in (64 << 20, 2000):
            np.testing.assert_allclose(app_distance(app, edges, metric, block_bytes=block), ref, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(app_distance(np.array([[3, 4], [0, 0]], np.float32), np.array([[0, 1]]), "l2"), [5.0])
