"""The online benchmark's track-length rule for a peer's output (benchmarks/online.py): a row is
kept when its track has ``min_len`` boxes up to ``look_ahead`` frames after it, as lgmot's online
tracker judges ``min_track_len`` when it outputs a row at that latency."""
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from online import drop_short_causal  # noqa: E402


def _tracks(spec: dict[int, list[int]]) -> pd.DataFrame:
    rows = [{"frame": f, "id": i, "x": 10.0 * i, "y": 0.0, "w": 5.0, "h": 10.0, "score": 1.0}
            for i, frames in spec.items() for f in frames]
    return pd.DataFrame(rows).sort_values(["frame", "id"]).reset_index(drop=True)


def test_rows_are_kept_once_their_track_is_long_enough_within_the_look_ahead():
    t = _tracks({1: list(range(1, 13)), 2: list(range(1, 6)), 3: [1, 2, 3, 20, 21, 22, 23, 24, 25, 26]})
    out = drop_short_causal(t, 10, 3)
    # track 1: the row at frame f sees frames <= f + 3, so 10 boxes from f = 7 on
    assert out[out.id == 1].frame.tolist() == list(range(7, 13))
    # track 2 never has 10 boxes; track 3 reaches 10 at frame 26, seen from frame 23 on
    assert 2 not in set(out.id)
    assert out[out.id == 3].frame.tolist() == [23, 24, 25, 26]
    assert list(out.columns) == list(t.columns)


def test_with_a_look_ahead_longer_than_every_track_it_is_the_offline_filter():
    t = _tracks({1: list(range(1, 13)), 2: list(range(1, 6)), 3: [1, 2, 3, 20, 21, 22, 23, 24, 25, 26]})
    out = drop_short_causal(t, 10, 100)
    assert out.equals(t[t.id != 2].reset_index(drop=True))
    assert drop_short_causal(t, 1, 0).equals(t)  # nothing to drop
