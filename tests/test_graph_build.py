import numpy as np
import pytest
from dataclasses import replace

from lgmot.config import TrackerConfig, sushi_preset
from lgmot.graph import (FeatureSpec, Tracklets, build_level, edge_features, edge_labels, fit_linear_motion, merge,
                         pruning_scores)


def _scene(n_id=6, n_f=30, d=8, seed=0, drop=0.1):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 300, (n_id, 2))
    vel = rng.normal(0, 2, (n_id, 2))
    emb = rng.normal(0, 1, (n_id, d))
    rows = []
    for f in range(1, n_f + 1):
        for i in range(n_id):
            if rng.random() < drop:
                continue
            p = pos[i] + vel[i] * f + rng.normal(0, 1, 2)
            rows.append((f, i, *p, 20 + i, 40 + 2 * i, *(emb[i] + rng.normal(0, 0.2, d))))
    a = np.array(rows)
    perm = rng.permutation(len(a))
    a = a[perm]
    has = rng.random(len(a)) > 0.1
    return Tracklets.from_detections(a[:, 0].astype(int), a[:, 2:6], a[:, 6:].astype(np.float32), has,
                                     a[:, 1].astype(int))


def _gt_merge(t, edges):
    """Merge along the positive edges (union-find in a loop: small test graphs only)."""
    parent = list(range(t.n_nodes))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x
    for u, v in edges[edge_labels(t, edges) == 1].tolist():
        parent[find(v)] = find(u)
    return merge(t, np.array([find(i) for i in range(t.n_nodes)]))


def _reference_level(t, level, cfg, fps, clip_start, indicator):
    """The same level built with loops from the spec (A.3, A.4, A.5)."""
    w = (t.start_frame - clip_start) // cfg.frames_per_level[level]
    cand = np.array([(u, v) for u in range(t.n_nodes) for v in range(t.n_nodes)
                     if w[u] == w[v] and t.end_frame[u] < t.start_frame[v]], dtype=np.int64).reshape(-1, 2)
    g = None
    if level > 0:
        m = fit_linear_motion(t, cfg.motion_max_length[level - 1], cfg.motion_pred_length[level - 1])
        g = m.edge_giou(t, cand)
    s = pruning_scores(t, cand, cfg.pruning[level], g)
    top = []
    for node in range(t.n_nodes):
        inc = [i for i in range(len(cand)) if node in cand[i]]
        inc.sort(key=lambda i: (s[i], i))
        top.append(set(inc[:cfg.top_k_nns]))
    keep = np.array([i in top[u] and i in top[v] for i, (u, v) in enumerate(cand)], bool)
    edges = cand[keep]
    feats = edge_features(t, edges, fps, cfg.edge_sim, g[keep] if cfg.use_motion[level] else None, indicator)
    return edges, feats


@pytest.mark.parametrize("indicator", [True, False])
def test_levels_match_loop_reference(indicator):
    cfg = replace(TrackerConfig(), frames_per_level=(3, 12, 24, 48), frames_per_graph=48, top_k_nns=4)
    t0 = _scene()
    g0 = build_level(t0, 0, cfg, 30.0, 1, FeatureSpec(appearance_indicator=indicator))
    e0, f0 = _reference_level(t0, 0, cfg, 30.0, 1, indicator)
    np.testing.assert_array_equal(g0.edges, e0)
    np.testing.assert_allclose(g0.features, f0, rtol=1e-5, atol=1e-5)
    assert g0.features.shape[1] == 6 + indicator and g0.edges.dtype == np.int64
    assert g0.features.dtype == np.float32 and len(g0.names) == g0.features.shape[1]

    t1 = _gt_merge(t0, g0.edges)
    g1 = build_level(t1, 1, cfg, 30.0, 1, FeatureSpec(appearance_indicator=indicator))
    e1, f1 = _reference_level(t1, 1, cfg, 30.0, 1, indicator)
    np.testing.assert_array_equal(g1.edges, e1)
    np.testing.assert_allclose(g1.features, f1, rtol=1e-5, atol=1e-5)
    assert g1.features.shape[1] == 7 + indicator
    # chunked candidate building gives the same graph
    g1c = build_level(t1, 1, cfg, 30.0, 1, FeatureSpec(appearance_indicator=indicator), max_candidates=5)
    np.testing.assert_array_equal(g1c.edges, g1.edges)
    np.testing.assert_array_equal(g1c.features, g1.features)


def test_edges_are_valid_and_true_links_survive():
    cfg = TrackerConfig()
    t = _scene(n_id=10, n_f=60, drop=0.0)
    g = build_level(t, 0, cfg, 30.0, 1)
    u, v = g.edges.T
    assert np.all(t.end_frame[u] < t.start_frame[v])
    assert np.all((t.start_frame[u] - 1) // 5 == (t.start_frame[v] - 1) // 5)
    assert np.all(np.diff(u * t.n_nodes + v) > 0)  # sorted by (row, col)
    assert np.bincount(g.edges.ravel(), minlength=t.n_nodes).max() <= cfg.top_k_nns
    t1 = _gt_merge(t, g.edges)
    assert t1.n_nodes == 10 * 12  # one tracklet per id and 5-frame window
    g1 = build_level(t1, 1, cfg, 30.0, 1)
    lab = edge_labels(t1, g1.edges)
    # level-1 windows [1,25] [26,50] [51,60] hold 5, 5 and 2 tracklets per id
    assert lab.sum() == 10 * (4 + 4 + 1)  # every consecutive pair of tracklets is kept
    assert g1.features[lab == 1, 6].min() > 0.3  # motion GIoU of true links


def test_invalid_levels():
    cfg = TrackerConfig()
    t = _scene()
    with pytest.raises(ValueError):
        build_level(t, 4, cfg, 30.0, 1)
    with pytest.raises(ValueError):
        build_level(t, 0, replace(cfg, pruning=("motion_005",) * 4), 30.0, 1)
    sushi = sushi_preset().tracker
    g = build_level(t, 0, sushi, 30.0, 1)  # 2-frame windows: f -> f+1 only
    assert np.all(t.start_frame[g.edges[:, 1]] - t.end_frame[g.edges[:, 0]] == 1)
    empty = Tracklets.from_detections(np.zeros(0, int), np.zeros((0, 4)), np.zeros((0, 8), np.float32))
    g = build_level(empty, 0, cfg, 30.0, 1)
    assert g.edges.shape == (0, 2) and g.features.shape == (0, 7)


def test_directional_motion_columns_by_loop():
    """The 4 extra level >= 1 columns, recomputed per edge from the definitions."""
    from lgmot.graph import giou, xywh_to_cxcywh
    from lgmot.graph.features import DIRECTIONAL_FEATURES

    cfg = replace(TrackerConfig(), frames_per_level=(3, 12, 24, 48), frames_per_graph=48, top_k_nns=4)
    t0 = _scene(seed=3)
    t1 = _gt_merge(t0, build_level(t0, 0, cfg, 30.0, 1).edges)
    plain = build_level(t1, 1, cfg, 30.0, 1)
    g = build_level(t1, 1, cfg, 30.0, 1, FeatureSpec(directional_motion=True))
    np.testing.assert_array_equal(g.edges, plain.edges)  # features only, pruning unchanged
    assert g.names == plain.names[:7] + DIRECTIONAL_FEATURES + plain.names[7:]
    np.testing.assert_array_equal(g.features[:, :7], plain.features[:, :7])
    m = fit_linear_motion(t1, cfg.motion_max_length[0], cfg.motion_pred_length[0])
    win, h = cfg.motion_max_length[0], cfg.motion_pred_length[0]
    for k, (u, v) in enumerate(g.edges.tolist()):
        s = min(t1.start_frame[v] - t1.end_frame[u], h)
        fwd = giou(m.end_c[u] + s * m.fwd_vel[u], xywh_to_cxcywh(t1.start_box[v]), "cxcywh")[0]
        bwd = giou(m.start_c[v] + s * m.bwd_vel[v], xywh_to_cxcywh(t1.end_box[u]), "cxcywh")[0]
        span = [min(t1.end_frame[n] - t1.start_frame[n], win - 1) / 30.0 for n in (u, v)]
        want = [-2.0 if np.isnan(x) else max(-2.0, min(1.0, x)) for x in (fwd, bwd)] + span
        np.testing.assert_allclose(g.features[k, 7:11], want, rtol=1e-5, atol=1e-5)
