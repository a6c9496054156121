"""The Stitcher's bounded-memory matching (per connected group) reaches the dense optimum."""
from __future__ import annotations

import numpy as np
import pandas as pd

from lgmot.solve import Stitcher
from lgmot.solve.clips import _assign_max_shared, _assign_max_shared_sparse


def test_sparse_matching_has_the_dense_optimum():
    rng = np.random.default_rng(0)
    for _ in range(100):
        m = int(rng.integers(1, 300))
        li = rng.integers(0, 40, m)
        ri = (li + rng.integers(0, 3, m)) % 45
        nl, nr = int(li.max()) + 1, int(ri.max()) + 1
        shared = np.zeros((nl, nr), int)
        np.add.at(shared, (li, ri), 1)
        r1, c1 = _assign_max_shared(li, ri, nl, nr)
        r2, c2 = _assign_max_shared_sparse(li, ri, nl, nr)
        assert shared[r1, c1].sum() == shared[r2, c2].sum()
        assert len(set(r2)) == len(r2) and len(set(c2)) == len(c2) and (shared[r2, c2] > 0).all()


def test_stitcher_sparse_path_gives_the_same_ids_without_ties():
    # two clips sharing frames 3-4; every right label overlaps exactly one left id
    det = np.arange(40)
    frame = np.repeat(np.arange(1, 9), 5)
    left = pd.DataFrame({"det_id": det[:25], "frame": frame[:25], "label": det[:25] % 5})
    right = pd.DataFrame({"det_id": det[10:], "frame": frame[10:], "label": (det[10:] % 5 + 2) % 5})
    out = []
    for cells in (10**9, 0):
        s = Stitcher()
        s.max_dense_cells = cells
        s.add(left)
        s.add(right)
        out.append(s.result())
    pd.testing.assert_frame_equal(out[0], out[1])
