import numpy as np
import pandas as pd
import pytest

from lgmot.data.schema import TRACK_COLUMNS
from lgmot.solve import drop_low_rank, drop_short, drop_unconfident, interpolate


def table(rows):
    return pd.DataFrame(rows, columns=TRACK_COLUMNS)


def test_drop_short():
    t = table([(1, 1, 0, 0, 1, 1, 1.0), (2, 1, 0, 0, 1, 1, 1.0), (3, 2, 0, 0, 1, 1, 1.0),
               (5, 3, 0, 0, 1, 1, 1.0), (6, 3, 0, 0, 1, 1, 1.0), (9, 3, 0, 0, 1, 1, 1.0)])
    assert sorted(set(drop_short(t, 2).id)) == [1, 3]
    assert sorted(set(drop_short(t, 3).id)) == [3]
    assert len(drop_short(t, 1)) == 6
    assert list(drop_short(t).columns) == TRACK_COLUMNS
    assert len(drop_short(table([]))) == 0


def test_drop_unconfident_by_mean_score():
    # track 1: mean 0.8; track 2: mean (0.9 + 0.6) / 2 = 0.75; track 3: 0.95
    t = table([(1, 1, 0, 0, 1, 1, 0.8), (2, 1, 0, 0, 1, 1, 0.8), (1, 2, 5, 0, 1, 1, 0.9), (2, 2, 5, 0, 1, 1, 0.6),
               (1, 3, 9, 0, 1, 1, 0.95)])
    assert sorted(set(drop_unconfident(t, 0.76).id)) == [1, 3]
    assert sorted(set(drop_unconfident(t, 0.75).id)) == [1, 2, 3]
    assert sorted(set(drop_unconfident(t, 0.9).id)) == [3]
    assert len(drop_unconfident(t, 0.0)) == 5  # off
    # no track reaches it: another score scale, nothing is dropped
    assert len(drop_unconfident(t, 2.0)) == 5
    assert len(drop_unconfident(table([]), 0.5)) == 0


def test_drop_low_rank_by_mean_rank():
    # 5 rows; score ranks (r - 0.5) / 5: 0.6 -> 0.1, 0.8 -> 0.4 (x2, tied: rank 2.5), 0.9 -> 0.7, 0.95 -> 0.9
    t = table([(1, 1, 0, 0, 1, 1, 0.8), (2, 1, 0, 0, 1, 1, 0.8), (1, 2, 5, 0, 1, 1, 0.9), (2, 2, 5, 0, 1, 1, 0.6),
               (1, 3, 9, 0, 1, 1, 0.95)])
    # track means: 1 -> 0.4, 2 -> (0.7 + 0.1) / 2 = 0.4, 3 -> 0.9
    assert sorted(set(drop_low_rank(t, 0.41).id)) == [3]
    assert sorted(set(drop_low_rank(t, 0.39).id)) == [1, 2, 3]
    assert len(drop_low_rank(t, 0.0)) == 5
    # scale-free: the same tracks for log scores
    logt = t.assign(score=np.log(t.score))
    assert sorted(set(drop_low_rank(logt, 0.41).id)) == [3]
    assert len(drop_low_rank(table([]), 0.5)) == 0


def test_interpolate_closed_form():
    # track 7: frame 1 box (0, 0, 10, 20), frame 5 box (40, 80, 30, 60); centres (5, 10) -> (55, 110)
    # track 8 has no gap; track 9 gap of one frame
    t = table([(1, 7, 0, 0, 10, 20, 0.9), (5, 7, 40, 80, 30, 60, 0.6),
               (2, 8, 1, 1, 2, 2, 1.0), (3, 8, 1, 1, 2, 2, 1.0),
               (10, 9, 0, 0, 4, 4, 0.5), (12, 9, 2, 4, 4, 4, 0.7)])
    out = interpolate(t)
    assert len(out) == 6 + 3 + 1
    assert out[["frame", "id"]].equals(out.sort_values(["frame", "id"])[["frame", "id"]])
    t7 = out[out.id == 7].set_index("frame")
    for f in (2, 3, 4):
        a = (f - 1) / 4
        w, h = 10 + a * 20, 20 + a * 40
        cx, cy = 5 + a * 50, 10 + a * 100
        assert t7.loc[f, ["x", "y", "w", "h"]].tolist() == pytest.approx([cx - w / 2, cy - h / 2, w, h])
        assert t7.loc[f, "score"] == pytest.approx(0.6)
    t9 = out[(out.id == 9) & (out.frame == 11)].iloc[0]
    assert [t9.x, t9.y, t9.w, t9.h, t9.score] == pytest.approx([1, 2, 4, 4, 0.5])
    assert out.frame.dtype == np.int64 and out.id.dtype == np.int64


def test_interpolate_max_gap_and_noop():
    t = table([(1, 1, 0, 0, 2, 2, 1.0), (3, 1, 2, 0, 2, 2, 1.0), (10, 1, 9, 0, 2, 2, 1.0)])
    out = interpolate(t, max_gap=1)  # fills the 1-frame gap only, not the 6-frame one
    assert out.frame.tolist() == [1, 2, 3, 10]
    assert out.x.tolist() == pytest.approx([0, 1, 2, 9])
    assert interpolate(t).frame.tolist() == list(range(1, 11))
    assert interpolate(t).x.tolist() == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    one = table([(4, 2, 0, 0, 1, 1, 1.0)])
    assert len(interpolate(one)) == 1


def test_interpolate_rejects_duplicate_boxes():
    t = table([(1, 1, 0, 0, 2, 2, 1.0), (1, 1, 2, 0, 2, 2, 1.0)])
    with pytest.raises(ValueError):
        interpolate(t)
