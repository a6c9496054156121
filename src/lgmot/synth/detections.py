"""Detections derived from the GT with a known recall, precision, jitter and score distribution.

Expectations by construction (measured against GT rows with ``vis >= det_min_vis`` by IoU >= 0.5):
- a random ``det_recall`` share of such GT boxes is detected (no other GT box is detected);
- a detected box is jittered but keeps IoU >= 0.55 with its GT box;
- false positives are ``(1 - p) / p`` times the true positives (p = ``det_precision``), placed where
  they overlap every GT box of their frame with IoU < 0.4, so they never match.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.schema import DET_COLUMNS, GT_COLUMNS, empty, typed
from .config import SynthConfig
from .world import Camera

FP_MAX_IOU = 0.4
TP_MIN_IOU = 0.55


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between xywh boxes a (N, 4) and b (M, 4)."""
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return inter / np.maximum(union, 1e-12)


def _jitter(boxes: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Noisy copies of ``boxes``; the noise is halved until every copy keeps IoU >= TP_MIN_IOU."""
    n = len(boxes)
    e = np.clip(rng.standard_normal((n, 4)), -2.5, 2.5) * sigma
    out = boxes.copy()
    scale = np.ones(n)
    for _ in range(8):
        w = boxes[:, 2] * np.exp(e[:, 2] * scale)
        h = boxes[:, 3] * np.exp(e[:, 3] * scale)
        cx = boxes[:, 0] + boxes[:, 2] / 2 + e[:, 0] * scale * boxes[:, 2]
        cy = boxes[:, 1] + boxes[:, 3] / 2 + e[:, 1] * scale * boxes[:, 3]
        out = np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
        a, b = out, boxes
        iw = np.clip(np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
        ih = np.clip(np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
        iou = iw * ih / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - iw * ih)
        bad = iou < TP_MIN_IOU
        if not bad.any():
            break
        scale[bad] *= 0.5
    return out


def _fp_candidates(n: int, gt_boxes: np.ndarray, cfg: SynthConfig, cam: Camera, z_range: tuple[float, float],
                   offset: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Person-sized boxes: half anywhere on the ground in view, half as partial boxes beside a GT person."""
    z = rng.uniform(*z_range, n)
    u = rng.uniform(0, cfg.width, n)
    _, _, zc = cam.project(np.zeros(n), np.zeros(n), z)
    x = (u + offset[0] - cam.cx) * zc / cam.f
    boxes, _ = cam.boxes(x, z, rng.uniform(1.5, 1.9, n))
    boxes[:, 0] -= offset[0]
    boxes[:, 1] -= offset[1]
    if len(gt_boxes):
        near = rng.random(n) < 0.5
        k = int(near.sum())
        g = gt_boxes[rng.integers(len(gt_boxes), size=k)]
        side = rng.choice([-1.0, 1.0], k)
        shift = np.stack([side * rng.uniform(0.5, 1.0, k) * g[:, 2], rng.uniform(-0.3, 0.3, k) * g[:, 3]], 1)
        size = g[:, 2:] * rng.uniform(0.6, 1.2, (k, 1))
        boxes[near] = np.concatenate([g[:, :2] + shift, size], axis=1)
    return boxes


def make_detections(gt: pd.DataFrame, cfg: SynthConfig, cam: Camera, z_range: tuple[float, float],
                    offsets: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """A DET_COLUMNS table from a GT table (GT_COLUMNS, 0-based boxes) following ``cfg.det_*``."""
    gt = typed(gt, GT_COLUMNS)
    visible = gt[gt.vis >= cfg.det_min_vis]
    # Exactly round(recall * n) hits at random: the sequence's recall is the configured one, not a draw.
    hit = rng.permutation(len(visible)) < round(cfg.det_recall * len(visible))
    tp = visible[hit]
    tp_boxes = _jitter(tp[["x", "y", "w", "h"]].to_numpy(np.float64), cfg.det_jitter, rng)
    tp_score = rng.beta(*cfg.tp_score, len(tp))
    n_fp = int(round(len(tp) * (1 - cfg.det_precision) / cfg.det_precision))
    fp_frames = np.sort(rng.integers(1, cfg.frames + 1, n_fp))
    by_frame = {f: g[["x", "y", "w", "h"]].to_numpy(np.float64) for f, g in gt.groupby("frame")}
    fp_rows = []
    for f in np.unique(fp_frames):
        need = int((fp_frames == f).sum())
        gb = by_frame.get(int(f), np.zeros((0, 4)))
        got: list[np.ndarray] = []
        for _ in range(20):
            cand = _fp_candidates(4 * need, gb, cfg, cam, z_range, offsets[f - 1], rng)
            ok = (cand[:, 2] >= 2) & (cand[:, 3] >= 4)
            ok &= (cand[:, 0] + cand[:, 2] > 0) & (cand[:, 0] < cfg.width) & (cand[:, 1] + cand[:, 3] > 0) & (cand[:, 1] < cfg.height)
            if len(gb):
                ok &= iou_matrix(cand, gb).max(axis=1) < FP_MAX_IOU
            got.extend(cand[ok][: need - len(got)])
            if len(got) >= need:
                break
        if got:
            fp_rows.append(np.column_stack([np.full(len(got), f), np.asarray(got)]))
    fp = np.concatenate(fp_rows) if fp_rows else np.zeros((0, 5))
    fp_score = rng.beta(*cfg.fp_score, len(fp))
    frames = np.concatenate([tp.frame.to_numpy(np.float64), fp[:, 0]])
    boxes = np.concatenate([tp_boxes, fp[:, 1:]])
    scores = np.concatenate([tp_score, fp_score])
    if len(frames) == 0:
        return empty(DET_COLUMNS)
    order = np.lexsort((boxes[:, 0], frames))
    df = pd.DataFrame({"frame": frames[order], "x": boxes[order, 0], "y": boxes[order, 1], "w": boxes[order, 2],
                       "h": boxes[order, 3], "score": np.round(scores[order], 4)})
    df["det_id"] = np.arange(len(df))
    return typed(df, DET_COLUMNS)
