"""TrackerConfig.interpolate_max_gap_s: gaps up to that many seconds are filled, longer ones kept."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lgmot.config import Config, preset
from lgmot.errors import InputError
from lgmot.track import Tracker


def one_person_with_gaps() -> tuple[pd.DataFrame, np.ndarray]:
    frames = [f for f in range(1, 41) if not (6 <= f <= 8 or 21 <= f <= 30)]  # gaps of 3 and 10 frames
    dets = pd.DataFrame({"frame": frames, "det_id": range(len(frames)), "x": [100.0 + 2 * f for f in frames],
                         "y": 100.0, "w": 40.0, "h": 100.0, "score": 0.9})
    return dets, np.zeros(len(frames), np.int64)


@pytest.mark.parametrize("max_gap_s, filled", [(None, 13), (0.5, 3), (1.0, 13), (0.2, 0)])
def test_gaps_longer_than_the_limit_stay_open(max_gap_s, filled):
    dets, gid = one_person_with_gaps()
    cfg = preset("lgmot")
    cfg = replace(cfg, tracker=replace(cfg.tracker, interpolate_max_gap_s=max_gap_s))
    out = Tracker(cfg, oracle=True).track_detections(dets, 10.0, gt_ids=gid)
    assert out.id.nunique() == 1
    assert len(out) == len(dets) + filled
    # a filled box lies on the line between its neighbours
    row = out[out.frame == 7]
    if filled:
        assert row.x.item() == pytest.approx(100.0 + 2 * 7)


def test_negative_limit_is_rejected(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("base: lgmot\ntracker:\n  interpolate_max_gap_s: -1\n")
    with pytest.raises(InputError, match="bad.yaml.*interpolate_max_gap_s"):
        Config.load(p)
