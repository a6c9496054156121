import math

import numpy as np
import pytest

from lgmot.graph import Tracklets, edge_features, feature_names


def _pair(has_v=True, app_v=(0.0, 2.0)):
    # u: frame 5 box (10,20,4,8) -> feet (12,28); v: frame 8 box (13,26,6,12) -> feet (16,38)
    return Tracklets.from_detections([5, 8], [[10, 20, 4, 8], [13, 26, 6, 12]],
                                     np.array([[1.0, 0.0], app_v], np.float32), [True, has_v])


def test_every_feature_by_hand():
    t = _pair()
    f = edge_features(t, np.array([[0, 1]]), fps=30.0, edge_sim="l2", appearance_indicator=False)
    assert f.dtype == np.float32 and f.shape == (1, 6)
    expected = [
        3 / 30,             # secs_time_dists
        4 / 10,             # feet x: (16 - 12) / mean height (8 + 12) / 2
        10 / 10,            # feet y: (38 - 28) / 10
        math.log(12 / 8),   # bb_height_dists
        math.log(6 / 4),    # bb_width_dists
        math.sqrt(5),       # |(1,0) - (0,2)|
    ]
    np.testing.assert_allclose(f[0], expected, rtol=1e-6)


def test_cos_motion_and_indicator_columns():
    t = _pair(app_v=(3.0, 0.0))
    f = edge_features(t, np.array([[0, 1]]), 30.0, "cos", motion_giou=np.array([0.25]))
    assert f.shape == (1, 8)
    np.testing.assert_allclose(f[0, 5:], [2 - 1.0, 0.25, 0.0], atol=1e-6)
    t = _pair(app_v=(0.0, 3.0))
    np.testing.assert_allclose(edge_features(t, np.array([[0, 1]]), 30.0, "cos")[0, 5], 2.0, atol=1e-6)


def test_missing_appearance_sets_indicator_and_zero_distance():
    t = _pair(has_v=False)
    f = edge_features(t, np.array([[0, 1]]), 25.0)
    assert f.shape == (1, 7)
    assert f[0, 5] == 0.0 and f[0, 6] == 1.0
    f = edge_features(t, np.array([[0, 1]]), 25.0, appearance_indicator=False)
    assert f.shape == (1, 6) and f[0, 5] == 0.0


def test_names_and_empty():
    assert feature_names(True, True) == ("secs_time_dists", "norm_feet_x_dists", "norm_feet_y_dists",
                                         "bb_height_dists", "bb_width_dists", "emb_dists",
                                         "motion_giou", "app_missing")
    assert feature_names(False, False)[-1] == "emb_dists"
    f = edge_features(_pair(), np.zeros((0, 2), np.int64), 30.0, motion_giou=np.zeros(0))
    assert f.shape == (0, 8) and f.dtype == np.float32
    with pytest.raises(ValueError):
        edge_features(_pair(), np.array([[0, 1]]), 0.0)


def test_node_descriptors_by_hand():
    from lgmot.graph import merge
    from lgmot.graph.features import NODE_DESCRIPTORS, node_descriptors

    # node A: frames 1, 2, 4 (heights 10, 20, 30; scores 0.9, 0.7, 0.8); node B: frame 3 (height 40, score 0.6)
    boxes = [[0, 0, 5, 10], [0, 0, 5, 20], [50, 0, 5, 40], [0, 0, 5, 30]]
    t0 = Tracklets.from_detections([1, 2, 3, 4], boxes, scores=[0.9, 0.7, 0.6, 0.8])
    t = merge(t0, np.array([0, 0, 1, 0]))
    g = node_descriptors(t, fps=10.0)
    assert g.shape == (2, len(NODE_DESCRIPTORS)) and g.dtype == np.float32
    median = np.median([20.0, 40.0])
    # score ranks among the 4 detections: 0.6 -> 0.5/4, 0.7 -> 1.5/4, 0.8 -> 2.5/4, 0.9 -> 3.5/4
    np.testing.assert_allclose(g[0], [math.log(3), 3 / 10, 3 / 4, math.log(20 / median), (3.5 + 1.5 + 2.5) / 12],
                               rtol=1e-6)
    np.testing.assert_allclose(g[1], [0.0, 0.0, 1.0, math.log(40 / median), 0.5 / 4], rtol=1e-6)
    # a monotone change of the score scale changes nothing; unknown scores give 0.5
    t_log = merge(Tracklets.from_detections([1, 2, 3, 4], boxes, scores=np.log([0.9, 0.7, 0.6, 0.8])),
                  np.array([0, 0, 1, 0]))
    np.testing.assert_array_equal(node_descriptors(t_log, 10.0), g)
    t_none = merge(Tracklets.from_detections([1, 2, 3, 4], boxes), np.array([0, 0, 1, 0]))
    np.testing.assert_allclose(node_descriptors(t_none, 10.0)[:, 4], [0.5, 0.5])
    with pytest.raises(ValueError, match="fps"):
        node_descriptors(t, fps=0)


def test_build_level_node_features_only_when_asked():
    from lgmot.config import TrackerConfig
    from lgmot.graph import FeatureSpec, build_level

    t = Tracklets.from_detections([1, 2, 3], [[0, 0, 5, 10], [1, 0, 5, 10], [2, 0, 5, 10]])
    cfg = TrackerConfig()
    assert build_level(t, 0, cfg, 30.0, 1).node_features is None
    g = build_level(t, 0, cfg, 30.0, 1, FeatureSpec(node_descriptors=True))
    assert g.node_features.shape == (3, 5)
