"""A contact sheet: one frame of every preset, labelled, to eyeball the domains side by side."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..data.motio import atomic_write_bytes
from .config import PRESETS, preset
from .generate import build


def contact_sheet(path: str | Path, frame: int = 80, seed: int = 0, size: tuple[int, int] = (320, 240),
                  cols: int = 4, boxes: bool = False) -> Path:
    """Render frame ``frame`` of each preset and write a labelled grid PNG to ``path``."""
    tiles = []
    for name in PRESETS:
        seq = build(preset(name, frames=frame, seed=seed, width=size[0], height=size[1]))
        img = seq.frame(frame)
        if boxes:
            for r in seq.gt[seq.gt.frame == frame].itertuples():
                cv2.rectangle(img, (int(r.x), int(r.y)), (int(r.x + r.w), int(r.y + r.h)), (0, 255, 0), 1)
        cv2.rectangle(img, (0, 0), (size[0], 18), (0, 0, 0), -1)
        cv2.putText(img, name, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(img)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)]
    ok, buf = cv2.imencode(".png", np.vstack(rows))
    if not ok:
        raise OSError("PNG encoding failed")
    atomic_write_bytes(path, buf.tobytes())
    return Path(path)
