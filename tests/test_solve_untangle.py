"""Crossing repair (lgmot.solve.untangle_crossings) on constructed tracks with known identities."""
import numpy as np
import pandas as pd
import pytest

from lgmot.config import TrackerConfig
from lgmot.solve import finish_tracks
from lgmot.solve.untangle import untangle_crossings


def walker(tid, frames, x0, vx, y0=300.0, vy=0.0, h=100.0, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    f = np.asarray(frames, float)
    cx = x0 + vx * (f - f[0]) + rng.normal(0, noise, len(f))
    fy = y0 + vy * (f - f[0]) + rng.normal(0, noise, len(f))
    return pd.DataFrame({"frame": f.astype(int), "id": tid, "x": cx - 20, "y": fy - h, "w": 40.0, "h": h,
                         "score": 1.0})


def crossing(noise=0.0):
    """A walks right, B walks left 10 px lower; their feet pass at frame 20 (x = 200)."""
    frames = range(1, 41)
    return walker(1, frames, 10, 10, noise=noise, seed=1), walker(2, frames, 390, -10, y0=310, noise=noise, seed=2)


def swap_after(a, b, frame):
    a, b = a.copy(), b.copy()
    a.loc[a.frame > frame, "id"], b.loc[b.frame > frame, "id"] = 2, 1
    return pd.concat([a, b], ignore_index=True)


def ids_by_truth(out, truth):
    """Each true identity's set of output ids (one id each when the tracks are right)."""
    m = out.merge(truth, on=["frame", "x", "y"], suffixes=("", "_true"))
    return {k: sorted(set(g["id"])) for k, g in m.groupby("id_true")}


@pytest.mark.parametrize("noise", [0.0, 2.0])
def test_swapped_crossing_is_repaired(noise):
    a, b = crossing(noise)
    truth = pd.concat([a, b], ignore_index=True)
    out = untangle_crossings(swap_after(a, b, 20))
    groups = ids_by_truth(out, truth)
    assert len(groups[1]) == 1 and len(groups[2]) == 1 and groups[1] != groups[2]
    assert len(out) == len(truth)
    pd.testing.assert_frame_equal(out.sort_values(["frame", "x"])[["frame", "x", "y", "w", "h"]].reset_index(drop=True),
                                  truth.sort_values(["frame", "x"])[["frame", "x", "y", "w", "h"]].reset_index(drop=True))


@pytest.mark.parametrize("noise", [0.0, 2.0])
def test_correct_crossing_is_kept(noise):
    a, b = crossing(noise)
    tracks = pd.concat([a, b], ignore_index=True)
    out = untangle_crossings(tracks)
    assert ids_by_truth(out, tracks) == {1: [1], 2: [2]}


def test_parallel_walkers_and_far_tracks_are_kept():
    frames = range(1, 41)
    side_by_side = pd.concat([walker(1, frames, 100, 5), walker(2, frames, 120, 5, y0=305)], ignore_index=True)
    assert ids_by_truth(untangle_crossings(side_by_side), side_by_side) == {1: [1], 2: [2]}
    far = pd.concat([walker(1, frames, 10, 10), walker(2, frames, 390, -10, y0=900)], ignore_index=True)
    assert ids_by_truth(untangle_crossings(far), far) == {1: [1], 2: [2]}


def test_ratio_is_the_threshold():
    # a swap is made only when the crossed pairing's error is under ratio x the linked one's:
    # on a clean crossing the crossed error is 0, so every ratio repairs it
    a, b = crossing()
    for ratio in (0.05, 0.5, 1.0):
        out = untangle_crossings(swap_after(a, b, 20), ratio=ratio)
        assert all(len(v) == 1 for v in ids_by_truth(out, pd.concat([a, b])).values())
    with pytest.raises(ValueError):
        untangle_crossings(swap_after(a, b, 20), ratio=0.0)


def test_in_the_post_processing_order():
    a, b = crossing()
    a, b = a[a.frame != 30], b[b.frame != 31]  # gaps, filled by interpolation after the repair
    swapped = swap_after(a, b, 20)
    tc = TrackerConfig(untangle=True).validate()
    out = finish_tracks(swapped, tc, fps=10.0)
    assert len(out) == 80 and out.groupby("id").size().tolist() == [40, 40]
    groups = ids_by_truth(out, pd.concat(crossing(), ignore_index=True))
    assert len(groups[1]) == 1 and len(groups[2]) == 1
    assert TrackerConfig().untangle is False  # off unless a config turns it on


def test_track_option_sets_the_config():
    from lgmot.cli.track import with_tracking_options
    from lgmot.config import preset

    c = preset("lgmot")
    assert with_tracking_options(c, untangle=True).tracker.untangle is True
    assert with_tracking_options(c).tracker.untangle is c.tracker.untangle
