"""Annotated video: boxes, ids and short trails, one colour per id."""
from __future__ import annotations

import os
from collections import defaultdict, deque
from pathlib import Path

import numpy as np
import pandas as pd


def id_color(i: int) -> tuple[int, int, int]:
    """A stable, well-spread BGR colour for an id (golden-ratio hue steps)."""
    import cv2

    hue = int((i * 0.618033988749895 % 1.0) * 179)
    hsv = np.uint8([[[hue, 220, 255]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def draw_tracks(img: np.ndarray, rows: pd.DataFrame, trails: dict[int, deque]) -> np.ndarray:
    import cv2

    for i, x, y, w, h in zip(rows.id.astype(int), rows.x, rows.y, rows.w, rows.h):
        c = id_color(i)
        p1, p2 = (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h)))
        cv2.rectangle(img, p1, p2, c, 2)
        label = str(i)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        cv2.rectangle(img, (p1[0], p1[1] - th - 4), (p1[0] + tw + 4, p1[1]), c, -1)
        cv2.putText(img, label, (p1[0] + 2, p1[1] - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        trails[i].append((int(round(x + w / 2)), int(round(y + h))))
        pts = np.array(trails[i], np.int32)
        if len(pts) > 1:
            cv2.polylines(img, [pts], False, c, 2, cv2.LINE_AA)
    return img


def write_video(sequence, tracks: pd.DataFrame, out: str | Path, trail: int = 20, progress: bool = False) -> Path:
    """Render ``tracks`` over the sequence's frames into ``out`` (mp4v), written atomically."""
    import cv2

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from .data.motio import temp_file

    fd, tmp = temp_file(out, suffix=out.suffix or ".mp4")
    os.close(fd)
    by_frame = {f: g for f, g in tracks.groupby("frame")}
    trails: dict[int, deque] = defaultdict(lambda: deque(maxlen=trail))
    writer = None
    try:
        frames = sequence.frames()
        if progress:
            from tqdm.auto import tqdm

            frames = tqdm(frames, total=sequence.info.length, desc="video", unit="frame")
        for f, img in frames:
            if writer is None:
                h, w = img.shape[:2]
                writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), float(sequence.info.fps), (w, h))
                if not writer.isOpened():
                    raise RuntimeError(f"OpenCV cannot write video {out}")
            rows = by_frame.get(f)
            if rows is not None:
                draw_tracks(img, rows, trails)
            cv2.putText(img, f"frame {f}", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
            writer.write(img)
        if writer is not None:
            writer.release()
            writer = None
        os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.release()
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
