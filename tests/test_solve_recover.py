"""Offline low-score recovery (solve.recover): known answers on synthetic tracks."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lgmot.config import preset
from lgmot.data.schema import DET_COLUMNS, TRACK_COLUMNS
from lgmot.solve import low_score_candidates, predict_missing, recover_low_score
from lgmot.track import Tracker


def walker(frames, tid=1, x0=100.0, vx=2.0, y=50.0, score=0.9):
    """Track rows of a 40 x 100 box moving vx px/frame."""
    return [(f, tid, x0 + vx * f, y, 40.0, 100.0, score) for f in frames]


def tracks(rows):
    return pd.DataFrame(rows, columns=TRACK_COLUMNS)


def dets(rows):
    """rows (frame, x, y, w, h, score) -> DET_COLUMNS with det_id numbered from 1000."""
    return pd.DataFrame([(f, 1000 + i, x, y, w, h, s) for i, (f, x, y, w, h, s) in enumerate(rows)],
                        columns=DET_COLUMNS)


def test_gap_filled_with_exactly_the_low_score_boxes():
    t = tracks(walker(range(1, 6)) + walker(range(11, 16)))
    # the person's boxes in the gap, slightly off the interpolated line (as a detector's would be)
    gap = [(f, 100.0 + 2 * f + (1.5 if f % 2 else -1.0), 51.0, 41.0, 99.0, 0.2 + 0.01 * f) for f in range(6, 11)]
    out = recover_low_score(t, dets(gap), min_iou=0.5)
    assert len(out) == 15 and (out.id == 1).all() and out.frame.tolist() == list(range(1, 16))
    got = out[out.frame.between(6, 10)][["frame", "x", "y", "w", "h", "score"]].to_numpy()
    np.testing.assert_array_equal(got, np.array(gap))
    assert list(out.columns) == TRACK_COLUMNS


def test_false_positive_far_from_tracks_stays_out():
    t = tracks(walker(range(1, 6)) + walker(range(11, 16)))
    far = [(8, 600.0, 400.0, 40.0, 100.0, 0.4)]  # in a gap frame, nowhere near the track
    near = [(8, 116.0, 50.0, 40.0, 100.0, 0.3)]  # the person
    out = recover_low_score(t, dets(far + near), min_iou=0.5)
    assert len(out) == 11
    row = out[out.frame == 8].iloc[0]
    assert (row.x, row.score) == (116.0, 0.3)
    assert not (out.x == 600.0).any()


def test_two_tracks_competing_for_one_box_get_it_once():
    # track 1 at x = 100 + 2f, track 2 ten pixels to the right; both miss frame 6
    t = tracks(walker([4, 5, 7, 8]) + walker([4, 5, 7, 8], tid=2, x0=110.0))
    box = [(6, 113.0, 50.0, 40.0, 100.0, 0.3)]  # predicted: track 1 at 112, track 2 at 122 -> closer to track 1
    out = recover_low_score(t, dets(box), min_iou=0.3)
    hits = out[(out.frame == 6)]
    assert len(hits) == 1 and hits.iloc[0].id == 1 and hits.iloc[0].x == 113.0
    # a second box near track 2 goes to track 2 (Hungarian over both)
    two = dets(box + [(6, 121.0, 50.0, 40.0, 100.0, 0.25)])
    out = recover_low_score(t, two, min_iou=0.3)
    hits = out[out.frame == 6].set_index("id")
    assert hits.loc[1, "x"] == 113.0 and hits.loc[2, "x"] == 121.0


def test_extrapolation_at_the_ends_is_bounded():
    t = tracks(walker(range(5, 11)))  # frames 5..10, +2 px/frame
    after = [(12, 100.0 + 2 * 12, 50.0, 40.0, 100.0, 0.3)]  # on the line, 2 frames after the end
    before = [(3, 100.0 + 2 * 3, 50.0, 40.0, 100.0, 0.3)]  # 2 frames before the start
    late = [(20, 100.0 + 2 * 20, 50.0, 40.0, 100.0, 0.3)]  # 10 frames after
    c = dets(after + before + late)
    assert len(recover_low_score(t, c, 0.5, extrapolate=0)) == 6
    out = recover_low_score(t, c, 0.5, extrapolate=3)
    assert sorted(out.frame) == [3] + list(range(5, 11)) + [12]


def test_predict_missing_interpolates_and_extrapolates():
    t = tracks(walker([1, 2, 3, 6]))
    p = predict_missing(t, extrapolate=2).set_index("frame")  # frames -1, 0 are before the sequence
    assert sorted(p.index) == [4, 5, 7, 8]
    assert sorted(predict_missing(t, extrapolate=2, last_frame=7).frame) == [4, 5, 7]
    np.testing.assert_allclose(p.x.to_numpy(), [108.0, 110.0, 114.0, 116.0])  # on the line x = 100 + 2f
    assert predict_missing(t, max_gap=1).empty  # the one gap has 2 missing frames
    with pytest.raises(ValueError):
        predict_missing(tracks(walker([1, 1])))


def test_candidates_are_untracked_boxes_above_the_floor():
    d = dets([(1, 0, 0, 1, 1, 0.9), (1, 5, 0, 1, 1, 0.3), (1, 9, 0, 1, 1, 0.05)])
    c = low_score_candidates(d, np.array([True, False, False]), floor=0.1)
    assert c.det_id.tolist() == [1001]


def test_tracker_recovers_low_score_frames():
    # person 0 scores 0.9 except frames 8-12 (0.3: occluded); person 1 is 0.3 throughout (a false track)
    rows, gid = [], []
    for f in range(1, 21):
        for k in range(2):
            s = 0.3 if (k == 1 or 8 <= f <= 12) else 0.9
            rows.append((f, len(rows), 100.0 + 300 * k + 2 * f, 100.0, 40.0, 100.0, s))
            gid.append(k)
    d, gid = pd.DataFrame(rows, columns=DET_COLUMNS), np.array(gid)
    cfg = preset("lgmot")
    base = replace(cfg.tracker, min_score=0.5, interpolate=False)
    out = Tracker(replace(cfg, tracker=base), oracle=True).track_detections(d, 25.0, gt_ids=gid)
    assert len(out) == 15 and out.id.nunique() == 1
    rec = replace(base, recover=True, recover_min_score=0.1)
    out = Tracker(replace(cfg, tracker=rec), oracle=True).track_detections(d, 25.0, gt_ids=gid)
    assert len(out) == 20 and out.id.nunique() == 1 and (out.x < 300).all()
    assert out[out.frame.between(8, 12)].score.eq(0.3).all()
    # a floor above the low scores: nothing to recover
    hi = replace(rec, recover_min_score=0.4)
    assert len(Tracker(replace(cfg, tracker=hi), oracle=True).track_detections(d, 25.0, gt_ids=gid)) == 15


def test_finish_tracks_recovers_then_interpolates_then_smooths():
    from lgmot.config import TrackerConfig
    from lgmot.solve import finish_tracks

    t = tracks(walker(range(1, 6)) + walker(range(12, 16)))
    c = dets([(8, 116.0, 50.0, 40.0, 100.0, 0.3)])  # on the line x = 100 + 2f
    tc = TrackerConfig(recover=True, recover_min_iou=0.5)
    out = finish_tracks(t, tc, 25.0, c)
    assert out.frame.tolist() == list(range(1, 16))  # recovered frame 8, interpolated 6-7 and 9-11
    assert out.set_index("frame").loc[8, "score"] == 0.3
    np.testing.assert_allclose(out.x, 100.0 + 2 * out.frame)
    # a clean constant-velocity track comes through the smoother unchanged
    sm = finish_tracks(t, replace(tc, smooth="gp"), 25.0, c)
    np.testing.assert_allclose(sm[["x", "y", "w", "h"]].to_numpy(), out[["x", "y", "w", "h"]].to_numpy(), atol=1e-8)
    # recovery off: only interpolation
    assert (finish_tracks(t, replace(tc, recover=False), 25.0, c).score == 0.9).all()


def test_finish_tracks_first_drops_tracks_shorter_than_min_track_len():
    """Any tracker's output loses its tracks of fewer than ``min_track_len`` boxes before the rest
    (lgmot's tracker drops them already); a gap inside a kept track is still filled."""
    from lgmot.config import TrackerConfig
    from lgmot.solve import finish_tracks

    t = tracks(walker(range(1, 4)) + walker(range(6, 8))  # 5 boxes, a 2-frame gap
               + walker(range(20, 23), tid=2) + walker([30], tid=3))  # 3 boxes; 1 box
    out = finish_tracks(t, TrackerConfig(min_track_len=2), 25.0)
    assert sorted(out.id.unique()) == [1, 2] and len(out) == 7 + 3
    out = finish_tracks(t, TrackerConfig(min_track_len=4), 25.0)
    assert out.id.unique().tolist() == [1] and out.frame.tolist() == list(range(1, 8))
