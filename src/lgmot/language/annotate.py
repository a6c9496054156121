"""Automatic scene and instance descriptions of a sequence from its GT boxes and (when it has them) frames.

Instance level, one description per GT track id:

- **clothing colours** (frames only): up to ``crops_per_track`` crops per track, taken at evenly
  spaced frames among its least occluded boxes. Every pixel of the upper-body band (20-50 % of the box
  height) and the lower-body band (55-90 %), central half of the width, gets a colour name by
  :func:`color_names` (closed-form HSV rules, palette :data:`PALETTE`); the name with the most pixels
  over all crops wins.
- **size**: small / medium / large by the track's median box height against the tertiles of all
  tracks' median heights in the sequence (said as "in the distance" / "in the foreground").
- **motion** (:func:`track_motion`): speed in body heights per second of the feet point over ~1 s
  steps; standing (< 0.15), walking slowly (< 0.25), walking, running (> 1.5). Direction from the net
  feet displacement: left/right when horizontal dominates, else towards (down the image) or away
  from the camera; "around" when the net displacement is under 30 % of the path. Image-plane motion:
  with a moving camera it includes the camera's own motion.
- **occlusion**: fraction of the track's boxes that are more than half hidden: by GT visibility when
  the file has it, else by overlap with a box whose bottom edge is lower (closer to the camera).

Scene level, measured: camera motion (:func:`estimate_shift`: phase correlation between consecutive
frames at 320 px width; moving if the median shift exceeds 0.5 px there), viewpoint (the slope of box
height against box bottom: on a ground plane it is person height / camera height; > 1.4 low, >= 0.6
medium, else high), lighting (mean grey level: < 70 dark, > 160 bright), crowd (boxes per frame:
< 4 sparse, > 10 crowded). The weather/conditions of MOT15 sequences come from
:mod:`lgmot.language.mot15_scenes`. Sequences **without frames** take the published MOT15 scene when
the name is known (else only viewpoint and crowd, from boxes), and instance descriptions without
colours (provenance ``auto-noimage`` when the annotation format knows it, else ``auto`` with
``attributes.source = "auto-noimage"``).

Vision-language hook: ``annotate_sequence(seq, vlm=fn)`` with ``fn(crops: list[np.ndarray]) -> str``
(BGR uint8 crops of one track). A non-empty answer becomes that track's text; the measured attributes
are kept and ``attributes.caption = "vlm"`` records it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import InputError
from .annotations import PROVENANCES, Description, SequenceAnnotations, scene_sentence, sentence_from_attributes
from .mot15_scenes import SOURCE as MOT15_SOURCE
from .mot15_scenes import crowd_class, published_scene

Vlm = Callable[[list[np.ndarray]], str]

PALETTE = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
UPPER_BAND = (0.20, 0.50)
LOWER_BAND = (0.55, 0.90)
WIDTH_BAND = (0.25, 0.75)
WORK_WIDTH = 320  # frames are resized to this width for the camera-motion estimate
CAMERA_SHIFT_PX = 0.5  # at WORK_WIDTH


@dataclass(frozen=True)
class AnnotateOptions:
    crops_per_track: int = 10
    scene_pairs: int = 20  # consecutive frame pairs for camera motion and lighting
    instances: bool = True


# --- colours ------------------------------------------------------------------------------------

def color_names(hsv: np.ndarray) -> np.ndarray:
    """Palette index for each OpenCV HSV pixel (``(..., 3)`` uint8: H in [0, 180), S and V in [0, 255]).

    In order: V < 60 black; S < 45: white if V >= 200 else grey; then by hue in degrees (2 H):
    red < 10 or >= 340 (pink if S < 140 and V >= 150, brown if V < 110), orange 10-40 (brown if
    V < 150), yellow 40-70 (brown if V < 110), green 70-165, blue 165-260, purple 260-315, pink 315-340.
    """
    hsv = np.asarray(hsv)
    h = hsv[..., 0].astype(np.int32) * 2
    s = hsv[..., 1].astype(np.int32)
    v = hsv[..., 2].astype(np.int32)
    idx = {n: i for i, n in enumerate(PALETTE)}
    out = np.full(h.shape, idx["grey"], np.int64)
    red = (h < 10) | (h >= 340)
    hue = np.select([red, h < 40, h < 70, h < 165, h < 260, h < 315],
                    [idx["red"], idx["orange"], idx["yellow"], idx["green"], idx["blue"], idx["purple"]],
                    idx["pink"])
    hue = np.where(red & (s < 140) & (v >= 150), idx["pink"], hue)
    hue = np.where(red & (v < 110), idx["brown"], hue)
    hue = np.where((h >= 10) & (h < 40) & (v < 150), idx["brown"], hue)
    hue = np.where((h >= 40) & (h < 70) & (v < 110), idx["brown"], hue)
    chroma = s >= 45
    out = np.where(chroma, hue, np.where(v >= 200, idx["white"], idx["grey"]))
    out = np.where(v < 60, idx["black"], out)
    return out


def _band(crop: np.ndarray, rows: tuple[float, float]) -> np.ndarray:
    h, w = crop.shape[:2]
    y1, y2 = int(math.floor(rows[0] * h)), max(int(math.ceil(rows[1] * h)), int(math.floor(rows[0] * h)) + 1)
    x1, x2 = int(math.floor(WIDTH_BAND[0] * w)), max(int(math.ceil(WIDTH_BAND[1] * w)), int(math.floor(WIDTH_BAND[0] * w)) + 1)
    return crop[y1:min(y2, h), x1:min(x2, w)]


def color_histogram(region_bgr: np.ndarray) -> np.ndarray:
    """Fraction of the region's pixels per palette colour, ``(len(PALETTE),)``."""
    import cv2

    if region_bgr.size == 0:
        return np.zeros(len(PALETTE))
    hsv = cv2.cvtColor(np.ascontiguousarray(region_bgr, dtype=np.uint8), cv2.COLOR_BGR2HSV)
    counts = np.bincount(color_names(hsv).ravel(), minlength=len(PALETTE)).astype(np.float64)
    return counts / counts.sum()


def dominant_color(region_bgr: np.ndarray) -> str:
    return PALETTE[int(np.argmax(color_histogram(region_bgr)))]


def clothing_colors(crops: list[np.ndarray]) -> tuple[str | None, str | None]:
    """(upper, lower) colour names voted over the crops; None when there is no usable crop."""
    up = np.zeros(len(PALETTE))
    lo = np.zeros(len(PALETTE))
    for c in crops:
        if c.ndim != 3 or c.shape[0] < 8 or c.shape[1] < 4:
            continue
        up += color_histogram(_band(c, UPPER_BAND))
        lo += color_histogram(_band(c, LOWER_BAND))
    if up.sum() == 0:
        return None, None
    return PALETTE[int(np.argmax(up))], PALETTE[int(np.argmax(lo))]


# --- motion, size, occlusion --------------------------------------------------------------------

def track_motion(frames: np.ndarray, boxes: np.ndarray, fps: float) -> dict[str, Any]:
    """Motion attributes of one track from its boxes (0-based xywh, any frame order).

    Returns ``{"motion": standing|walking|running, "direction": left|right|towards|away|around|None,
    "speed": body heights per second (3 decimals), "slow": bool}``; empty for a single-frame track.
    """
    order = np.argsort(frames, kind="stable")
    f = np.asarray(frames, np.float64)[order]
    b = np.asarray(boxes, np.float64)[order]
    if len(f) < 2 or f[-1] <= f[0]:
        return {}
    feet = np.stack([b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3]], axis=1)
    hm = float(np.median(b[:, 3]))
    step = max(1.0, round(fps))
    j = np.searchsorted(f, f + step)
    ok = j < len(f)
    if ok.sum() >= 1:
        i = np.flatnonzero(ok)
        jj = j[ok]
        disp = feet[jj] - feet[i]
        dt = (f[jj] - f[i]) / fps
        speeds = np.linalg.norm(disp, axis=1) / dt / hm
        speed = float(np.median(speeds))
        path = float(np.linalg.norm(np.diff(feet[_every(f, step)], axis=0), axis=1).sum())
    else:  # shorter than one step: the whole track is one step
        speed = float(np.linalg.norm(feet[-1] - feet[0]) / ((f[-1] - f[0]) / fps) / hm)
        path = float(np.linalg.norm(feet[-1] - feet[0]))
    net = feet[-1] - feet[0]
    out: dict[str, Any] = {"speed": round(speed, 3)}
    if speed < 0.15:
        out.update(motion="standing", direction=None, slow=False)
        return out
    out["motion"] = "running" if speed > 1.5 else "walking"
    out["slow"] = bool(speed < 0.25)
    if np.linalg.norm(net) < 0.3 * max(path, 1e-9):
        out["direction"] = "around"
    elif abs(net[0]) >= abs(net[1]):
        out["direction"] = "right" if net[0] > 0 else "left"
    else:
        out["direction"] = "towards" if net[1] > 0 else "away"
    return out


def _every(f: np.ndarray, step: float) -> np.ndarray:
    """Indices of a subsequence of sorted frames ``f`` spaced at least ``step`` apart (plus the last)."""
    keep = [0]
    for k in range(1, len(f)):
        if f[k] - f[keep[-1]] >= step:
            keep.append(k)
    if keep[-1] != len(f) - 1:
        keep.append(len(f) - 1)
    return np.asarray(keep)


def motion_phrase(m: dict[str, Any]) -> str | None:
    if not m or "motion" not in m:
        return None
    if m["motion"] == "standing":
        return "standing still"
    verb = m["motion"] + (" slowly" if m.get("slow") else "")
    d = m.get("direction")
    where = {"left": " left", "right": " right", "towards": " towards the camera",
             "away": " away from the camera", "around": " around"}.get(d, "")
    return verb + where


def size_classes(gt: pd.DataFrame) -> dict[int, str]:
    """Track id -> small/medium/large by its median box height vs the tertiles over all tracks."""
    med = gt.groupby("id")["h"].median()
    if len(med) == 0:
        return {}
    lo, hi = np.quantile(med.to_numpy(), [1 / 3, 2 / 3])
    return {int(i): ("small" if h < lo else "large" if h > hi else "medium") for i, h in med.items()}


def occlusion_fractions(gt: pd.DataFrame) -> np.ndarray:
    """Per GT row: hidden fraction (1 - visibility when the file has visibility, else overlap)."""
    vis = gt["vis"].to_numpy(np.float64)
    if len(vis) and (vis < 1).any() and (vis >= 0).all():
        return np.clip(1 - vis, 0, 1)
    out = np.zeros(len(gt))
    frames = gt["frame"].to_numpy()
    x1 = gt["x"].to_numpy(np.float64)
    y1 = gt["y"].to_numpy(np.float64)
    x2 = x1 + gt["w"].to_numpy(np.float64)
    y2 = y1 + gt["h"].to_numpy(np.float64)
    order = np.argsort(frames, kind="stable")
    bounds = np.flatnonzero(np.diff(frames[order])) + 1
    for grp in np.split(order, bounds):
        if len(grp) < 2:
            continue
        iw = np.clip(np.minimum(x2[grp, None], x2[None, grp]) - np.maximum(x1[grp, None], x1[None, grp]), 0, None)
        ih = np.clip(np.minimum(y2[grp, None], y2[None, grp]) - np.maximum(y1[grp, None], y1[None, grp]), 0, None)
        area = (x2[grp] - x1[grp]) * (y2[grp] - y1[grp])
        frac = iw * ih / area[:, None]
        in_front = y2[None, grp] > y2[grp, None]  # column box is closer to the camera than row box
        frac = np.where(in_front, frac, 0.0)
        out[grp] = frac.max(axis=1)
    return out


def occlusion_phrase(rate: float) -> str | None:
    if rate >= 0.4:
        return "often occluded"
    if rate >= 0.1:
        return "sometimes occluded"
    return None


# --- scene cues ---------------------------------------------------------------------------------

def _work_gray(img: np.ndarray) -> np.ndarray:
    import cv2

    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    scale = WORK_WIDTH / g.shape[1]
    if scale < 1:
        g = cv2.resize(g, (WORK_WIDTH, max(1, int(round(g.shape[0] * scale)))), interpolation=cv2.INTER_AREA)
    return g.astype(np.float32)


def estimate_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Global translation (dx, dy) from frame ``a`` to ``b`` in pixels of the :data:`WORK_WIDTH` image."""
    import cv2

    ga, gb = _work_gray(a), _work_gray(b)
    win = cv2.createHanningWindow((ga.shape[1], ga.shape[0]), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(ga, gb, win)
    return float(dx), float(dy)


def camera_motion(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[str, float]:
    """('static' | 'moving', median shift in work pixels) over consecutive frame pairs."""
    if not pairs:
        raise ValueError("camera_motion needs at least one frame pair")
    mags = [math.hypot(*estimate_shift(a, b)) for a, b in pairs]
    med = float(np.median(mags))
    return ("moving" if med > CAMERA_SHIFT_PX else "static"), med


def viewpoint_from_boxes(gt: pd.DataFrame) -> tuple[str | None, float | None]:
    """(low | medium | high, slope of box height against box bottom y); (None, None) if unreliable."""
    if len(gt) < 20:
        return None, None
    bottom = (gt["y"] + gt["h"]).to_numpy(np.float64)
    h = gt["h"].to_numpy(np.float64)
    if np.std(bottom) < 1e-6 or np.corrcoef(bottom, h)[0, 1] < 0.3:
        return None, None
    slope = float(np.polyfit(bottom, h, 1)[0])
    label = "low" if slope > 1.4 else "medium" if slope >= 0.6 else "high"
    return label, round(slope, 3)


def lighting(frames: list[np.ndarray]) -> tuple[str, float]:
    """('dark' | 'normal' | 'bright', mean grey level)."""
    m = float(np.mean([_work_gray(f).mean() for f in frames]))
    return ("dark" if m < 70 else "bright" if m > 160 else "normal"), round(m, 1)


# --- sequence -----------------------------------------------------------------------------------

def _noimage_provenance() -> tuple[str, dict[str, Any]]:
    if "auto-noimage" in PROVENANCES:
        return "auto-noimage", {}
    return "auto", {"source": "auto-noimage"}


def _sample_rows(frames: np.ndarray, occ: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` row indices, evenly spaced in time among the least occluded boxes."""
    order = np.argsort(frames, kind="stable")
    good = order[occ[order] < 0.3]
    pool = good if len(good) >= min(n, len(order)) else order
    if len(pool) <= n:
        return pool
    pick = np.unique(np.round(np.linspace(0, len(pool) - 1, n)).astype(int))
    return pool[pick]


def _scene_frames(length: int, pairs: int) -> list[int]:
    if length < 2:
        return []
    starts = np.unique(np.round(np.linspace(1, length - 1, min(pairs, length - 1))).astype(int))
    return [int(s) for s in starts]


def annotate_sequence(seq, vlm: Vlm | None = None, options: AnnotateOptions = AnnotateOptions(),
                      progress: bool = False) -> SequenceAnnotations:
    """Scene + per-track descriptions of ``seq`` (an :class:`lgmot.data.Sequence` with GT)."""
    gt = seq.gt
    if gt is None:
        raise InputError(seq.root, f"sequence {seq.name} has no ground truth (gt/gt.txt) to annotate")
    gt = gt.reset_index(drop=True)
    fps = float(seq.info.fps)
    has_images = bool(seq.has_images)
    occ = occlusion_fractions(gt)
    sizes = size_classes(gt)

    # frames to read: crops of every track, and the scene pairs
    want: dict[int, list[tuple[int, int]]] = {}  # frame -> [(row, track id)]
    if has_images and options.instances:
        for tid, idx in gt.groupby("id").indices.items():
            rows = idx[_sample_rows(gt["frame"].to_numpy()[idx], occ[idx], options.crops_per_track)]
            for r in rows:
                want.setdefault(int(gt.at[r, "frame"]), []).append((int(r), int(tid)))
    pair_starts = _scene_frames(seq.info.length, options.scene_pairs) if has_images else []
    scene_needed = set(pair_starts) | {s + 1 for s in pair_starts}

    crops: dict[int, list[np.ndarray]] = {}
    scene_imgs: dict[int, np.ndarray] = {}
    t0 = time.perf_counter()
    if has_images and (want or scene_needed):
        from ..embed.base import crop

        last = max(list(want) + list(scene_needed))
        for f, img in seq.frames():
            if f in scene_needed:
                scene_imgs[f] = img
            for r, tid in want.get(f, ()):
                crops.setdefault(tid, []).append(crop(img, gt.loc[r, ["x", "y", "w", "h"]].to_numpy(np.float64)))
            if f >= last:
                break
    if progress and has_images:
        print(f"{seq.name}: read frames in {time.perf_counter() - t0:.1f}s")

    scene = _scene_description(seq, gt, pair_starts, scene_imgs)
    instances: dict[int, Description] = {}
    if options.instances:
        noimg_prov, noimg_attrs = _noimage_provenance()
        frames_all = gt["frame"].to_numpy()
        boxes_all = gt[["x", "y", "w", "h"]].to_numpy(np.float64)
        for tid, idx in sorted(gt.groupby("id").indices.items()):
            tid = int(tid)
            m = track_motion(frames_all[idx], boxes_all[idx], fps)
            rate = float(np.mean(occ[idx] > 0.5))
            attrs: dict[str, Any] = {"size": sizes.get(tid, "medium"), "occlusion_rate": round(rate, 3)}
            attrs.update({k: v for k, v in m.items() if v is not None})
            action = _action(m, sizes.get(tid, "medium"), rate)
            if action:
                attrs["action"] = action
            track_crops = crops.get(tid, [])
            if has_images:
                up, lo = clothing_colors(track_crops)
                if up is not None:
                    attrs["upper_color"], attrs["lower_color"] = up, lo
                prov = "auto"
            else:
                attrs.update(noimg_attrs)
                prov = noimg_prov
            text = sentence_from_attributes(attrs)
            if vlm is not None and track_crops:
                cap = vlm(track_crops)
                if isinstance(cap, str) and cap.strip():
                    text = cap.strip()
                    attrs["caption"] = "vlm"
            instances[tid] = Description(text=text, attributes=attrs, provenance=prov)
    return SequenceAnnotations(sequence=seq.name, scene=scene, instances=instances)


def _action(m: dict[str, Any], size: str, occ_rate: float) -> str | None:
    parts = [p for p in (motion_phrase(m),
                         {"small": "in the distance", "large": "in the foreground"}.get(size)) if p]
    text = " ".join(parts)
    o = occlusion_phrase(occ_rate)
    if o:
        text = f"{text}, {o}" if text else o
    return text or None


def _scene_description(seq, gt: pd.DataFrame, pair_starts: list[int],
                       imgs: dict[int, np.ndarray]) -> Description:
    published = published_scene(seq.name)
    density = len(gt) / max(seq.info.length, 1)
    if not imgs:
        if published is not None:
            attrs = dict(published)
            attrs["source"] = MOT15_SOURCE
            return Description(scene_sentence(attrs), attrs, "auto")
        attrs = {"crowd": crowd_class(density), "boxes_per_frame": round(density, 2), "source": "gt boxes"}
        vp, slope = viewpoint_from_boxes(gt)
        if vp is not None:
            attrs.update(viewpoint=vp, height_slope=slope)
        return Description(scene_sentence(attrs), attrs, "auto")

    pairs = [(imgs[s], imgs[s + 1]) for s in pair_starts if s in imgs and s + 1 in imgs]
    cam, shift = camera_motion(pairs)
    light, grey = lighting([imgs[s] for s in pair_starts if s in imgs])
    attrs: dict[str, Any] = {"camera": cam, "camera_shift_px": round(shift, 3)}
    vp, slope = viewpoint_from_boxes(gt)
    if vp is not None:
        attrs.update(viewpoint=vp, height_slope=slope)
    attrs.update(lighting=light, mean_grey=grey, crowd=crowd_class(density), boxes_per_frame=round(density, 2))
    sources = {"camera": "measured", "viewpoint": "measured", "lighting": "measured", "crowd": "measured"}
    if published is not None:
        for k in ("weather", "time"):
            if k in published:
                attrs[k] = published[k]
                sources[k] = MOT15_SOURCE
    attrs["sources"] = sources
    text = scene_sentence(attrs)
    if "weather" not in attrs and "time" not in attrs and light != "normal":
        text = text[:-1] + (" in dim light." if light == "dark" else " in bright light.")
    return Description(text, attrs, "auto")
