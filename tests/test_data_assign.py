"""GT assignment (per-frame Hungarian on IoU) and MOT17/20 GT preprocessing on hand-made cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lgmot.data.assign import SUSHI_MOT17_CLASSES, assign_gt_ids, box_iou, match_boxes
from lgmot.data.preprocess import clean_gt, distractor_mask, preprocess


def dets(rows):
    df = pd.DataFrame(rows, columns=["frame", "x", "y", "w", "h"])
    df["det_id"] = np.arange(len(df))
    df["score"] = 1.0
    return df


def gts(rows):
    return pd.DataFrame(rows, columns=["frame", "id", "x", "y", "w", "h", "consider", "cls", "vis"])


def test_box_iou_values():
    a = np.array([[0, 0, 10, 10], [100, 100, 1, 1]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [0, 5, 10, 5], [20, 20, 5, 5]], float)
    iou = box_iou(a, b)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.5, 0.0])
    np.testing.assert_allclose(iou[1], 0.0)
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def test_hungarian_beats_greedy():
    # 1D boxes of width 10: IoU(shift s) = (10 - s) / (10 + s).
    g = np.array([[0, 0, 10, 10], [3, 0, 10, 10]], float)    # g0, g1
    d = np.array([[0.5, 0, 10, 10], [-1.5, 0, 10, 10]], float)  # d0: g0 0.905, g1 0.6; d1: g0 0.739, g1 0.379
    r, c = match_boxes(d, g, 0.5)
    assert dict(zip(r.tolist(), c.tolist())) == {0: 1, 1: 0}  # greedy would give d0-g0 and leave d1 out


def test_assign_gt_ids_hand_case():
    g = gts([
        [1, 7, 0, 0, 10, 10, 1, 1, 1],
        [1, 9, 3, 0, 10, 10, 1, 1, 1],
        [2, 7, 50, 50, 10, 10, 1, 1, 1],
        [2, 4, 80, 80, 10, 10, 1, 3, 1],  # a car
        [3, 5, 0, 0, 10, 10, 0, 7, 1],    # static person, not considered
    ])
    d = dets([
        [2, 54, 50, 10, 10],   # IoU 6/14 = 0.43 < 0.5 with id 7 -> unmatched
        [1, 0.5, 0, 10, 10],   # -> 9 (Hungarian)
        [1, -1.5, 0, 10, 10],  # -> 7
        [2, 80, 80, 10, 10],   # the car
        [3, 0, 0, 10, 10],     # the static person
        [4, 0, 0, 10, 10],     # frame without GT
    ])
    assert assign_gt_ids(d, g).tolist() == [-1, 9, 7, 4, 5, -1]
    assert assign_gt_ids(d, g, classes=SUSHI_MOT17_CLASSES).tolist() == [-1, 9, 7, -1, 5, -1]
    assert assign_gt_ids(d, g, classes=SUSHI_MOT17_CLASSES, considered_only=True).tolist() == [-1, 9, 7, -1, -1, -1]
    # a looser threshold accepts the 0.43 pair
    assert assign_gt_ids(d, g, min_iou=0.4)[0] == 7
    assert assign_gt_ids(d.iloc[:0], g).shape == (0,)
    assert assign_gt_ids(d, g.iloc[:0]).tolist() == [-1] * 6


def test_iou_exactly_at_threshold_matches():
    g = gts([[1, 3, 0, 0, 10, 10, 1, 1, 1]])
    d = dets([[1, 0, 5, 10, 5]])  # IoU = 50 / 100 = 0.5 exactly
    assert assign_gt_ids(d, g).tolist() == [3]


def test_preprocess_hand_case():
    g = gts([
        [1, 5, 0, 0, 10, 10, 1, 1, 1],      # pedestrian, kept
        [1, 9, 100, 0, 10, 10, 1, 7, 1],    # static person: distractor
        [1, 7, 200, 0, 10, 10, 0, 1, 1],    # pedestrian not considered: dropped, not a distractor
        [1, 8, 300, 0, 10, 10, 1, 6, 1],    # non_mot_vehicle: distractor only for MOT20
        [2, 12, 0, 0, 10, 10, 1, 1, 0.5],   # pedestrian, kept
        [2, 3, 50, 0, 10, 10, 1, 12, 1],    # reflection
    ])
    b = dets([
        [1, 1, 0, 10, 10],      # on id 5
        [1, 101, 1, 10, 10],    # on the static person (IoU 81/119 = 0.68)
        [1, 200, 0, 10, 10],    # on the non-considered pedestrian: stays
        [1, 300, 0, 10, 10],    # on the vehicle
        [1, 500, 0, 10, 10],    # on nothing
        [2, 50, 0, 10, 10],     # on the reflection
        [2, 0, 0, 10, 10],      # on id 12
    ])
    assert distractor_mask(b, g).tolist() == [False, True, False, False, False, True, False]
    assert distractor_mask(b, g, "MOT20").tolist() == [False, True, False, True, False, True, False]
    assert not distractor_mask(b, g, "MOT15").any()
    clean, kept = preprocess(g, b)
    assert clean[["frame", "id"]].values.tolist() == [[1, 0], [2, 1]]  # ids 5, 12 -> 0, 1
    assert kept.det_id.tolist() == [0, 2, 3, 4, 6]
    assert clean_gt(g, relabel=False).id.tolist() == [5, 12]
    assert sorted(clean_gt(g, "MOT15", relabel=False).id.tolist()) == [3, 5, 8, 9, 12]
    assert preprocess(g)[1] is None


def test_preprocess_uses_hungarian_not_nearest():
    # the tracker box overlaps a pedestrian (0.905) and a distractor (0.6); a second box only fits the pedestrian.
    g = gts([[1, 1, 0, 0, 10, 10, 1, 1, 1], [1, 2, 3, 0, 10, 10, 1, 8, 1]])
    b = dets([[1, 0.5, 0, 10, 10], [1, -1.5, 0, 10, 10]])
    assert distractor_mask(b, g).tolist() == [True, False]
