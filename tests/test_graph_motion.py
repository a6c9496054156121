import numpy as np
import pytest

from lgmot.graph import Tracklets, fit_linear_motion, giou, merge, xywh_to_cxcywh


def test_giou_known_values():
    a = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 4, 4], [0, 0, 2, 2]], float)
    b = np.array([[0, 0, 1, 1], [2, 0, 1, 1], [1, 1, 2, 2], [1, 1, 2, 2]], float)
    expected = [1.0, -1 / 3, 0.25, 1 / 7 - 2 / 9]
    np.testing.assert_allclose(giou(a, b), expected)
    np.testing.assert_allclose(giou(b, a), expected)  # symmetric
    np.testing.assert_allclose(giou(xywh_to_cxcywh(a), xywh_to_cxcywh(b), "cxcywh"), expected)
    # far apart boxes tend to -1
    assert giou([[0, 0, 1, 1]], [[1000, 1000, 1, 1]])[0] < -0.99
    assert np.isnan(giou([[np.nan, 0, 1, 1]], [[0, 0, 1, 1]])[0])
    with pytest.raises(ValueError):
        giou(a, b, "xyxy")


def _track(frames, centers, wh=(2.0, 2.0)):
    c = np.asarray(centers, float)
    boxes = np.c_[c[:, 0] - wh[0] / 2, c[:, 1] - wh[1] / 2, np.full(len(c), wh[0]), np.full(len(c), wh[1])]
    return np.asarray(frames), boxes


def _tracklets(*tracks):
    """Level-1 nodes, one per track (tracks given in start-frame order)."""
    frames = np.concatenate([f for f, _ in tracks])
    boxes = np.concatenate([b for _, b in tracks])
    ids = np.concatenate([np.full(len(f), i) for i, (f, _) in enumerate(tracks)])
    t0 = Tracklets.from_detections(frames, boxes)
    node_label = np.empty(t0.n_nodes, np.int64)
    node_label[t0.det_node] = ids
    t1 = merge(t0, node_label)
    assert t1.n_nodes == len(tracks)
    return t1


def test_constant_velocity_prediction_and_edge_giou():
    f = np.arange(1, 6)
    a = _track(f, np.c_[10 + 2 * f, 20 + f], (4, 8))
    f2 = np.arange(8, 11)
    b = _track(f2, np.c_[10 + 2 * f2, 20 + f2], (4, 8))
    t = _tracklets(a, b)
    m = fit_linear_motion(t, max_length=3, pred_length=5)
    np.testing.assert_allclose(m.fwd_vel[0], [2, 1, 0, 0])
    np.testing.assert_allclose(m.bwd_vel[1], [-2, -1, 0, 0])
    np.testing.assert_allclose(m.predict_forward(np.array([0]), np.array([2])), [[24, 27, 4, 8]])  # frame 7
    np.testing.assert_allclose(m.predict_backward(np.array([1]), np.array([1])), [[24, 27, 4, 8]])  # frame 7
    # delta = 3: u predicts 2 steps, v 1 step, both land on frame 7 -> identical boxes
    np.testing.assert_allclose(m.edge_giou(t, np.array([[0, 1]])), [1.0])


def test_delta_one_averages_against_real_boxes():
    a = _track([1, 2], [(0, 0), (2, 0)])   # velocity +2 in x
    b = _track([3, 4], [(5, 0), (5, 0)])   # still
    t = _tracklets(a, b)
    m = fit_linear_motion(t, 5, 5)
    # GIoU(a pred (4,0), b start (5,0)) = 1/3 ; GIoU(b pred (5,0), a end (2,0)) = -0.2
    np.testing.assert_allclose(m.edge_giou(t, np.array([[0, 1]])), [(1 / 3 - 0.2) / 2])


def test_prediction_horizon_caps_the_step():
    a = _track([1, 2], [(0, 0), (1, 0)])
    b = _track([22, 23], [(10, 0), (10, 0)])
    t = _tracklets(a, b)
    m = fit_linear_motion(t, 5, pred_length=3)
    # delta 20 -> m = min(10, 3) = 3: (4,0) vs (10,0), 2x2 boxes -> -0.5
    np.testing.assert_allclose(m.edge_giou(t, np.array([[0, 1]])), [-0.5])


def test_singletons_give_minus_two():
    a = _track([1], [(0, 0)])
    b = _track([2, 3], [(0, 0), (0, 0)])
    c = _track([5, 6], [(0, 0), (0, 0)])
    t = _tracklets(a, b, c)
    m = fit_linear_motion(t, 5, 5)
    assert np.isnan(m.fwd_vel[0]).all()
    np.testing.assert_allclose(m.edge_giou(t, np.array([[0, 1], [0, 2], [1, 2]])), [-2, -2, 1])


def test_interpolation_and_window():
    a = _track([1, 3, 4], [(0, 0), (4, 0), (9, 0)])
    t = _tracklets(a)
    # window [1,4]: interpolated (0,2,4,9) -> diffs 2,2,5 -> mean 3
    assert fit_linear_motion(t, 4, 4).fwd_vel[0, 0] == pytest.approx(3.0)
    # without interpolation only the consecutive pair 3->4 counts
    assert fit_linear_motion(t, 4, 4, interpolate=False).fwd_vel[0, 0] == pytest.approx(5.0)
    # window [3,4]
    assert fit_linear_motion(t, 2, 4).fwd_vel[0, 0] == pytest.approx(5.0)
    # backward window [1,3]: reversed (4, 2, 0) -> mean -2 ; no consecutive pair without interpolation
    assert fit_linear_motion(t, 3, 4).bwd_vel[0, 0] == pytest.approx(-2.0)
    assert np.isnan(fit_linear_motion(t, 3, 4, interpolate=False).bwd_vel[0, 0])


def test_size_velocity_only_without_center_only():
    f = np.array([1, 2, 3])
    boxes = np.array([[0, 0, 2, 2], [0, 0, 4, 2], [0, 0, 6, 2]], float)
    t = _tracklets((f, boxes))
    np.testing.assert_allclose(fit_linear_motion(t, 3, 3).fwd_vel[0], [1, 0, 0, 0])
    np.testing.assert_allclose(fit_linear_motion(t, 3, 3, center_only=False).fwd_vel[0], [1, 0, 2, 0])


def _naive_velocity(frames, cboxes, lo, hi, reverse, interpolate):
    """Direct transcription of A.7 for one node: trajectory over [lo, hi], NaN gaps."""
    grid = np.arange(lo, hi + 1)
    traj = np.full((len(grid), 4), np.nan)
    for f, b in zip(frames, cboxes):
        if lo <= f <= hi:
            traj[f - lo] = b
    if interpolate:
        obs = ~np.isnan(traj[:, 0])
        for j in range(4):
            inside = (grid >= grid[obs].min()) & (grid <= grid[obs].max())
            traj[inside, j] = np.interp(grid[inside], grid[obs], traj[obs, j])
    if reverse:
        traj = traj[::-1]
    d = np.diff(traj, axis=0)
    d = d[~np.isnan(d[:, 0])]
    return d.mean(0) if len(d) else np.full(4, np.nan)


@pytest.mark.parametrize("interpolate", [True, False])
def test_velocities_match_naive_reference(interpolate):
    rng = np.random.default_rng(5)
    tracks = []
    for i in range(12):
        n = int(rng.integers(1, 9))
        f = np.sort(rng.choice(np.arange(1, 20), n, replace=False)) + i
        tracks.append(_track(f, rng.uniform(0, 50, (n, 2)), (3, 5)))
    tracks.sort(key=lambda tr: tr[0][0])
    t = _tracklets(*tracks)
    for L in (1, 3, 6):
        m = fit_linear_motion(t, L, L, interpolate=interpolate, center_only=False)
        for i, (f, b) in enumerate(tracks):
            cb = xywh_to_cxcywh(b)
            ref_f = _naive_velocity(f, cb, f[-1] - L + 1, f[-1], False, interpolate)
            ref_b = _naive_velocity(f, cb, f[0], f[0] + L - 1, True, interpolate)
            np.testing.assert_allclose(m.fwd_vel[i], ref_f, atol=1e-9)
            np.testing.assert_allclose(m.bwd_vel[i], ref_b, atol=1e-9)


def test_static_fallback_predicts_a_singleton_in_place():
    a = _track([1], [(0, 0)])  # singleton
    b = _track([3, 4], [(3, 0), (3, 0)])  # still, 1 px to the right of the box a: 2x2 boxes
    t = _tracklets(a, b)
    m = fit_linear_motion(t, 5, 5, static_fallback=True)
    np.testing.assert_allclose(m.fwd_vel[0], [0, 0, 0, 0])
    np.testing.assert_allclose(m.bwd_vel[0], [0, 0, 0, 0])
    # delta 2: both predictions stay put; boxes x in [-1, 1] and [2, 4]: IoU 0, hull 5x2, union 8
    np.testing.assert_allclose(m.edge_giou(t, np.array([[0, 1]])), [-(10 - 8) / 10])


def test_static_fallback_ranks_a_singletons_edges_for_pruning():
    """Without appearance the reference scores every edge of a singleton -2, so reciprocal top-k
    keeps its earliest edges; the static prediction keeps the nearest."""
    from lgmot.graph.edges import pruning_scores, reciprocal_topk

    single = _track([1], [(50, 0)])
    others = [_track([2 + i, 3 + i], [(10 * i, 0)] * 2) for i in range(6)]  # x = 0, 10, ..., 50
    t = _tracklets(single, *others)
    edges = np.array([[0, j] for j in range(1, 7)])
    for fallback, kept in ((False, [1, 2]), (True, [6, 5])):
        g = fit_linear_motion(t, 5, 5, static_fallback=fallback).edge_giou(t, edges)
        keep = reciprocal_topk(edges, pruning_scores(t, edges, "motion_005", g), t.n_nodes, 2)
        assert sorted(edges[keep, 1].tolist()) == sorted(kept)


def test_prune_directional_ranks_a_singletons_edge_by_the_moving_end():
    """A tracklet moving 10 px a frame, then one singleton a frame from frame 6 on; only the one at
    frame 9 lies on its path (x = 80). The reference's motion pruning scores every edge with a
    singleton end -2, so top-2 keeps the tracklet's two earliest; ranked by the tracklet's forward
    prediction (directional GIoU 1 on the path) the singleton on the path is kept. Features are unchanged."""
    from dataclasses import replace

    from lgmot.config import TrackerConfig
    from lgmot.graph import build_level

    moving = _track(np.arange(1, 6), [(10 * (f - 1), 0) for f in range(1, 6)])  # x = 0 .. 40
    singles = [_track([f], [(80, 0) if f == 9 else (500 + 40 * f, 300)]) for f in range(6, 12)]
    t = _tracklets(moving, *singles)
    on_path = 1 + (9 - 6)
    base = replace(TrackerConfig(), top_k_nns=2)
    graphs = {flag: build_level(t, 1, replace(base, prune_directional=flag), 25.0, 1) for flag in (False, True)}
    kept = {flag: {tuple(e) for e in g.edges.tolist()} for flag, g in graphs.items()}
    assert {v for u, v in kept[False] if u == 0} == {1, 2}
    assert (0, on_path) not in kept[False] and (0, on_path) in kept[True]
    for e in kept[False] & kept[True]:
        rows = [int(np.flatnonzero((g.edges == e).all(1))[0]) for g in (graphs[False], graphs[True])]
        np.testing.assert_array_equal(graphs[False].features[rows[0]], graphs[True].features[rows[1]])
