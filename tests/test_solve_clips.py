import numpy as np
import pandas as pd
import pytest

from lgmot.solve import Stitcher, clip_ranges, stitch


def test_clip_ranges_known_values():
    assert clip_ranges(1, 300, 150) == [(1, 150), (76, 225), (151, 300)]
    assert clip_ranges(1, 160, 150) == [(1, 150), (76, 160)]
    assert clip_ranges(1, 100, 150) == [(1, 100)]
    assert clip_ranges(1, 150, 150) == [(1, 150)]
    # round(2.5) == 2 (half to even): stride 3
    assert clip_ranges(1, 12, 5) == [(1, 5), (4, 8), (7, 11), (10, 12)]
    assert clip_ranges(1, 1050, 512) == [(1, 512), (257, 768), (513, 1024), (769, 1050)]
    assert clip_ranges(1, 10, 4, overlap=0.0) == [(1, 4), (5, 8), (9, 10)]
    assert clip_ranges(5, 4, 10) == []


@pytest.mark.parametrize("clip_len", [1, 2, 3, 7, 75, 150, 512])
def test_clip_ranges_cover_and_overlap(clip_len):
    first, last = 3, 1003
    r = clip_ranges(first, last, clip_len)
    assert r[0][0] == first and r[-1][1] == last
    stride = clip_len - round(0.5 * clip_len)
    for (s0, e0), (s1, e1) in zip(r, r[1:]):
        assert e0 - s0 + 1 == clip_len
        assert s1 - s0 == stride and s1 <= e0 + 1
    assert all(e - s + 1 <= clip_len for s, e in r)


def test_clip_ranges_rejects_bad_args():
    with pytest.raises(ValueError):
        clip_ranges(1, 10, 0)
    with pytest.raises(ValueError):
        clip_ranges(1, 10, 4, overlap=1.0)
    with pytest.raises(ValueError):
        clip_ranges(1, 10, 1, overlap=0.9)  # round(0.9) = 1 leaves stride 0


def people(n_frames: int, starts_ends: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """One detection per person and frame; det ids in (frame, person) order."""
    rows = [(f, p) for f in range(1, n_frames + 1) for p, (s, e) in starts_ends.items() if s <= f <= e]
    df = pd.DataFrame(rows, columns=["frame", "person"])
    df["det_id"] = np.arange(len(df))
    return df


def clip(df: pd.DataFrame, start: int, end: int, labels: dict[str, int]) -> pd.DataFrame:
    c = df[(df.frame >= start) & (df.frame <= end)]
    return pd.DataFrame({"det_id": c.det_id, "frame": c.frame, "label": c.person.map(labels)})


def ids_by_person(df: pd.DataFrame, out: pd.DataFrame) -> dict[str, set[int]]:
    m = df.merge(out, on=["det_id", "frame"], validate="1:1")
    return {p: set(g["id"]) for p, g in m.groupby("person")}


def test_split_swapped_and_new_ids():
    df = people(10, {"P": (1, 10), "Q": (1, 10), "R": (8, 10), "S": (1, 3)})
    a = clip(df, 1, 6, {"P": 0, "Q": 1, "S": 2})
    b = clip(df, 4, 10, {"P": 7, "Q": 3, "R": 4})  # P under a new label, labels of a reused by nobody
    c = clip(df, 4, 10, {"P": 1, "Q": 0, "R": 2})  # P and Q swapped w.r.t. clip a
    for right in (b, c):
        out = stitch([a, right])
        assert len(out) == len(df) and out.det_id.is_unique
        got = ids_by_person(df, out)
        assert got == {"P": {0}, "Q": {1}, "S": {2}, "R": {3}}


def test_overlap_frames_keep_left_assignment():
    df = people(10, {"P": (1, 10), "Q": (1, 10)})
    a = clip(df, 1, 6, {"P": 0, "Q": 1})
    b = clip(df, 4, 10, {"P": 0, "Q": 1})
    # the right clip puts P's frame-5 detection into Q's track: ignored (frame 5 <= 6)
    wrong = df[(df.frame == 5) & (df.person == "P")].det_id.item()
    b.loc[b.det_id == wrong, "label"] = 1
    out = stitch([a, b])
    assert out.loc[out.det_id == wrong, "id"].item() == 0
    assert ids_by_person(df, out) == {"P": {0}, "Q": {1}}
    assert out.frame.is_monotonic_increasing


def test_hungarian_is_optimal_not_greedy():
    # overlap frames 1..4 with persons A..D. Left IDs: X = {A, B}, Y = {C}, plus D alone.
    # Right labels: a = {A, C}, b = {B}. Shared counts (X,a)=4, (X,b)=4, (Y,a)=4, (Y,b)=0.
    # Optimum: X-b, Y-a (8 shared) rather than greedy X-a (4).
    df = people(8, {"A": (1, 4), "B": (1, 8), "C": (1, 8)})
    left = clip(df, 1, 4, {"A": 10, "B": 10, "C": 11})
    right = clip(df, 1, 8, {"A": 0, "C": 0, "B": 1})
    s = Stitcher()
    s.add(left)
    new = s.add(right)
    got = ids_by_person(df[df.frame > 4], new)
    assert got == {"B": {0}, "C": {1}}


def test_pairs_without_shared_detections_never_match():
    df = people(10, {"P": (1, 5), "Q": (6, 10)})
    a = clip(df, 1, 5, {"P": 0})
    b = clip(df, 6, 10, {"Q": 0})  # no overlap at all
    out = stitch([a, b])
    assert ids_by_person(df, out) == {"P": {0}, "Q": {1}}


def test_streaming_long_sequence_bounded_state():
    rng = np.random.default_rng(3)
    n_frames, n_people = 600, 12
    spans = {}
    for k in range(n_people):
        s = int(rng.integers(1, n_frames - 20))
        spans[f"p{k}"] = (s, int(min(n_frames, s + rng.integers(10, 300))))
    df = people(n_frames, spans)
    st = Stitcher()
    clips = clip_ranges(1, n_frames, 60)
    for s, e in clips:
        perm = rng.permutation(n_people)
        st.add(clip(df, s, e, {f"p{k}": int(perm[k]) for k in range(n_people)}))
        assert len(st._prev_det) <= ((df.frame >= s) & (df.frame <= e)).sum()
    out = st.result()
    assert len(out) == len(df)
    got = ids_by_person(df, out)
    assert all(len(v) == 1 for v in got.values())  # every person kept one ID across all clips
    assert len(set().union(*got.values())) == n_people  # and no two people share one
    assert sorted(set(out.id)) == list(range(n_people))
    assert st.n_ids == n_people


def test_empty_and_bad_input():
    assert list(stitch([]).columns) == ["det_id", "frame", "id"]
    with pytest.raises(ValueError):
        Stitcher().add(pd.DataFrame({"det_id": [1], "frame": [1]}))
    with pytest.raises(ValueError):
        Stitcher().add(pd.DataFrame({"det_id": [1, 1], "frame": [1, 2], "label": [0, 0]}))


def test_clip_slices_are_the_rows_of_each_clip():
    from lgmot.solve import clip_ranges, clip_slices

    frames = np.array([3, 3, 4, 9, 30, 31, 31, 60])
    got = clip_slices(frames, 10, 0.5)
    want = []
    for start, end in clip_ranges(3, 60, 10, 0.5):
        rows = np.flatnonzero((frames >= start) & (frames <= end))
        if len(rows):
            want.append((start, int(rows[0]), int(rows[-1]) + 1))
    assert got == want and got[0] == (3, 0, 4)
    assert clip_slices(np.zeros(0, np.int64), 10) == []
