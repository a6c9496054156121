import numpy as np
import pytest

from lgmot.graph import Tracklets, feet, majority_id, merge, renumber_by_first


def _dets():
    frames = np.array([3, 1, 2, 1, 4])
    boxes = np.array([[0, 0, 2, 4], [10, 20, 4, 6], [1, 1, 1, 1], [5, 5, 2, 2], [2, 2, 2, 2]], float)
    app = np.array([[1, 1], [2, 0], [0, 2], [4, 4], [6, 6]], np.float32)
    gt = np.array([7, 7, 8, 7, -1])
    return frames, boxes, app, gt


def test_from_detections_sorted_by_frame_then_input_order():
    frames, boxes, app, gt = _dets()
    t = Tracklets.from_detections(frames, boxes, app, has_app=[True, True, False, True, True], gt_ids=gt)
    # frame 1: input rows 1, 3; frame 2: row 2; frame 3: row 0; frame 4: row 4
    np.testing.assert_array_equal(t.det_node, [3, 0, 2, 1, 4])
    np.testing.assert_array_equal(t.start_frame, [1, 1, 2, 3, 4])
    np.testing.assert_array_equal(t.end_frame, t.start_frame)
    np.testing.assert_array_equal(t.start_box[0], [10, 20, 4, 6])
    np.testing.assert_array_equal(t.end_box, t.start_box)
    np.testing.assert_array_equal(t.gt_id, [7, 7, 8, 7, -1])
    np.testing.assert_array_equal(t.has_app, [True, True, False, True, True])
    np.testing.assert_array_equal(t.app[2], [0, 0])  # no appearance -> zeros
    np.testing.assert_array_equal(t.app[1], [4, 4])
    assert t.app.dtype == np.float32 and t.start_frame.dtype == np.int64
    np.testing.assert_array_equal(t.start_feet[0], [12, 26])
    np.testing.assert_array_equal(t.node_sizes(), [1, 1, 1, 1, 1])
    # detection arrays stay in input order
    np.testing.assert_array_equal(t.det_frame, frames)


def test_from_detections_without_appearance_and_bad_boxes():
    frames, boxes, _, _ = _dets()
    t = Tracklets.from_detections(frames, boxes)
    assert t.app.shape == (5, 0) and not t.has_app.any()
    np.testing.assert_array_equal(t.gt_id, -1)
    bad = boxes.copy()
    bad[0, 3] = 0
    with pytest.raises(ValueError):
        Tracklets.from_detections(frames, bad)


def test_feet_is_bottom_centre():
    np.testing.assert_array_equal(feet(np.array([[1.0, 2.0, 4.0, 10.0]])), [[3.0, 12.0]])


def test_renumber_by_lowest_node_index():
    np.testing.assert_array_equal(renumber_by_first([7, 3, 7, 3, 9, 1]), [0, 1, 0, 1, 2, 3])


def test_merge_rules():
    # level-0 nodes (sorted): frames 1,1,2,3,4 ; boxes below
    frames = np.array([1, 1, 2, 3, 4])
    boxes = np.array([[0, 0, 1, 1], [5, 5, 1, 1], [1, 1, 2, 2], [6, 6, 3, 3], [2, 2, 4, 4]], float)
    app = np.array([[2, 0], [0, 4], [4, 0], [9, 9], [0, 2]], np.float32)
    has = np.array([True, True, True, False, True])
    gt = np.array([1, 2, 1, 2, 3])
    t0 = Tracklets.from_detections(frames, boxes, app, has, gt)
    t1 = merge(t0, np.array([5, 2, 5, 2, 5]))
    assert t1.n_nodes == 2
    np.testing.assert_array_equal(t1.det_node, [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(t1.start_frame, [1, 1])
    np.testing.assert_array_equal(t1.end_frame, [4, 3])
    np.testing.assert_array_equal(t1.start_box, [[0, 0, 1, 1], [5, 5, 1, 1]])
    np.testing.assert_array_equal(t1.end_box, [[2, 2, 4, 4], [6, 6, 3, 3]])
    np.testing.assert_allclose(t1.app, [[2, 2 / 3], [0, 4]])  # node 1: only det 1 has appearance
    np.testing.assert_array_equal(t1.has_app, [True, True])
    # node 0 ids (1, 1, 3): 1 has share 2/3; node 1 ids (2, 2)
    np.testing.assert_array_equal(t1.gt_id, [1, 2])
    np.testing.assert_array_equal(t1.node_sizes(), [3, 2])

    # next level: appearance is the mean over all member detections, not over nodes
    t2 = merge(t1, np.array([0, 0]))
    np.testing.assert_allclose(t2.app, [[6 / 4, 6 / 4]])
    np.testing.assert_array_equal(t2.gt_id, [-1])  # id 1: 2/5, id 2: 2/5 < 0.5
    np.testing.assert_array_equal(t2.start_box, [[0, 0, 1, 1]])  # frame-1 tie: first given
    np.testing.assert_array_equal(t2.end_box, [[2, 2, 4, 4]])


def test_merge_without_any_appearance_keeps_zeros():
    t0 = Tracklets.from_detections([1, 2], [[0, 0, 1, 1], [0, 0, 1, 1]], np.ones((2, 3)), [False, False])
    t1 = merge(t0, [0, 0])
    assert not t1.has_app[0]
    np.testing.assert_array_equal(t1.app, [[0, 0, 0]])


def test_majority_id_ratio_and_ties():
    group = np.array([0, 0, 1, 1, 2, 2, 2, 3, 3])
    ids = np.array([4, 9, -1, 3, 5, 6, 7, 8, 8])
    # 0: 50/50 tie -> smallest id 4; 1: -1 vs 3 tie -> -1; 2: 1/3 < 0.5 -> -1; 3: 8
    np.testing.assert_array_equal(majority_id(group, ids, 4, 0.5), [4, -1, -1, 8])
    np.testing.assert_array_equal(majority_id(group, ids, 4, 0.6), [-1, -1, -1, 8])
