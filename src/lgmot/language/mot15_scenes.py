"""Published scene attributes of the 11 MOT15 (2D MOT 2015) training sequences.

Source: the sequence table of the MOTChallenge 2015 benchmark (L. Leal-Taixé, A. Milan, I. Reid,
S. Roth, K. Schindler, "MOTChallenge 2015: Towards a Benchmark for Multi-Target Tracking",
arXiv:1504.01942, and the same table on motchallenge.net/data/MOT15): columns *Camera*
(static/moving), *Viewpoint* (low/medium/high) and *Conditions* (cloudy/sunny/night), plus the
density (boxes per frame).

Honesty note on provenance: no copy of that table could be retrieved while writing this module
(the searchable copies of the paper were cut before the table). The categorical values below were
written from memory of the published table. The numeric columns of the same rows (tracks, boxes and
density) were checked against the MOT15 ground truth shipped in ``shared/data/mot15_train``
(considered rows: e.g. ETH-Bahnhof 171 tracks / 5415 boxes, KITTI-13 762 boxes over 340 frames =
2.2 per frame, Venice-2 7141 / 600 = 11.9) and all 11 agree, but the camera, viewpoint and
condition values themselves are **not verified** here. The only independent hints found agree:
ETH sequences come from a moving platform and PETS09 looks at walkers from above.
"""
from __future__ import annotations

from typing import Any

SOURCE = ("MOTChallenge 2015 sequence table (Leal-Taixé et al., arXiv:1504.01942); categorical values "
          "recalled, not verified against a copy")

#: name -> (camera, viewpoint, conditions, boxes per frame)
MOT15_TRAIN: dict[str, tuple[str, str, str, float]] = {
    "ADL-Rundle-6": ("static", "low", "cloudy", 9.5),
    "ADL-Rundle-8": ("moving", "medium", "night", 10.4),
    "ETH-Bahnhof": ("moving", "low", "cloudy", 5.4),
    "ETH-Pedcross2": ("moving", "low", "sunny", 7.5),
    "ETH-Sunnyday": ("moving", "low", "sunny", 5.2),
    "KITTI-13": ("moving", "medium", "sunny", 2.2),
    "KITTI-17": ("static", "medium", "sunny", 4.7),
    "PETS09-S2L1": ("static", "high", "cloudy", 5.6),
    "TUD-Campus": ("static", "medium", "cloudy", 5.1),
    "TUD-Stadtmitte": ("static", "medium", "cloudy", 6.5),
    "Venice-2": ("static", "medium", "sunny", 11.9),
}


def crowd_class(boxes_per_frame: float) -> str:
    """sparse (< 4 people per frame), moderate, crowded (> 10)."""
    if boxes_per_frame < 4:
        return "sparse"
    return "crowded" if boxes_per_frame > 10 else "moderate"


def published_scene(name: str) -> dict[str, Any] | None:
    """Scene attributes (keys of :func:`lgmot.language.scene_sentence`) for a MOT15 train sequence.

    Matches the exact name, or a name that starts with it (e.g. ``PETS09-S2L1-video``). None if unknown.
    """
    key = name if name in MOT15_TRAIN else next((k for k in MOT15_TRAIN if name.startswith(k)), None)
    if key is None:
        return None
    camera, viewpoint, cond, density = MOT15_TRAIN[key]
    attrs: dict[str, Any] = {"camera": camera, "viewpoint": viewpoint}
    if cond == "night":
        attrs["time"] = "night"
    else:
        attrs["weather"] = cond
    attrs["crowd"] = crowd_class(density)
    attrs["boxes_per_frame"] = density
    return attrs
