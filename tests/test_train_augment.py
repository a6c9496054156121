"""The reference's training augmentation: identity drop, detection drop, box jitter (IoU >= 0.85)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from lgmot.train.augment import EPS, MAX_DET_DROP, augment_clip
from lgmot.train.dataset import Clip, TrainSequence


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)


def clip(n_frames: int = 40, n_ids: int = 30) -> Clip:
    rng = np.random.default_rng(0)
    rows = [{"frame": f, "x": rng.uniform(0, 500), "y": rng.uniform(0, 300), "w": rng.uniform(10, 60),
             "h": rng.uniform(30, 150), "score": 1.0} for f in range(1, n_frames + 1) for _ in range(n_ids)]
    dets = pd.DataFrame(rows)
    dets["det_id"] = np.arange(len(dets))
    gid = np.tile(np.arange(n_ids), n_frames)
    gid[::7] = -1  # some false positives
    app = rng.standard_normal((len(dets), 4)).astype(np.float32)
    return Clip(TrainSequence("s", 25.0, dets, gid, app), 0, len(dets), 1)


def test_jitter_keeps_iou_and_drops_whole_identities():
    c = clip()
    orig = c.seq.dets.set_index("det_id")
    for seed in range(20):
        a = augment_clip(c, np.random.default_rng(seed))
        d = a.seq.dets
        assert len(d) < len(c.seq.dets) and len(d) == len(a.seq.gt_ids) == len(a.seq.app) == a.hi
        src = orig.loc[d.det_id]
        ious = iou(d[["x", "y", "w", "h"]].to_numpy(), src[["x", "y", "w", "h"]].to_numpy())
        assert ious.min() >= 0.85 - 1e-9 and ious.max() < 1.0
        # rows keep their own identity and appearance
        np.testing.assert_array_equal(a.seq.gt_ids, c.seq.gt_ids[d.det_id.to_numpy()])
        np.testing.assert_array_equal(a.seq.app, c.seq.app[d.det_id.to_numpy()])
        # at most 20% of the detections of surviving identities are dropped (plus sampling noise)
        survivors = np.isin(c.seq.gt_ids, np.unique(a.seq.gt_ids))
        assert survivors.sum() - len(d) <= (MAX_DET_DROP + 0.05) * survivors.sum()
    assert 0 < EPS < 0.05


def test_deterministic_and_leaves_the_input_alone():
    c = clip()
    before = c.seq.dets.copy()
    a1 = augment_clip(c, np.random.default_rng([1, 2, 3]))
    a2 = augment_clip(c, np.random.default_rng([1, 2, 3]))
    pd.testing.assert_frame_equal(a1.seq.dets, a2.seq.dets)
    pd.testing.assert_frame_equal(c.seq.dets, before)


def test_identity_drop_happens():
    c = clip()
    n_ids = [len(np.unique(augment_clip(c, np.random.default_rng(s)).seq.gt_ids)) for s in range(30)]
    full = len(np.unique(c.seq.gt_ids))
    assert min(n_ids) < full and max(n_ids) <= full


def test_subsample_clip_is_a_lower_frame_rate_view():
    from lgmot.train.augment import subsample_clip
    from lgmot.train.dataset import make_clips

    f = np.repeat(np.arange(1, 401), 2)  # two people, 400 frames, x = frame number
    dets = pd.DataFrame({"frame": f, "det_id": np.arange(len(f)), "x": f.astype(float), "y": 0.0,
                         "w": 10.0, "h": 20.0, "score": 1.0})
    seq = TrainSequence("s", 30.0, dets, np.tile([0, 1], 400), app=np.arange(len(f), dtype=np.float32)[:, None])
    c = make_clips(seq, 150, 20)[1]  # frames 21..170
    s = subsample_clip(c, 150, 3)  # frames 21, 24, ..., 468 -> capped by the sequence at 399
    d = s.seq.dets
    assert s.seq.fps == 10.0 and s.start == c.start == 21
    assert d.frame.min() == 21 and d.frame.max() == 21 + (399 - 21) // 3
    np.testing.assert_array_equal(np.unique(np.diff(np.unique(d.frame))), [1])
    np.testing.assert_array_equal(d.x.to_numpy()[::2], np.arange(21, 400, 3))  # the original frames
    np.testing.assert_array_equal(s.seq.gt_ids, np.tile([0, 1], len(d) // 2))
    np.testing.assert_array_equal(s.seq.app[:, 0], d.det_id.to_numpy())  # rows stay aligned
    assert len(seq.dets) == 800 and seq.fps == 30.0  # the sequence is unchanged
    assert subsample_clip(c, 150, 1) is c


def test_frame_rate_step_keeps_the_floor():
    from lgmot.train.augment import frame_rate_step

    rng = np.random.default_rng(0)
    steps = [frame_rate_step(30.0, 5.0, rng) for _ in range(400)]
    assert set(steps) == {1, 2, 3, 4, 5, 6} and 150 < steps.count(1) < 250
    assert {frame_rate_step(7.0, 5.0, rng) for _ in range(50)} == {1}
