"""Pixels: the background canvas, people drawn with cv2 primitives, lighting, blur and sensor noise."""
from __future__ import annotations

import math

import cv2
import numpy as np

from .appearance import Look
from .config import SynthConfig
from .world import World

_SHIFT = 4          # cv2 fixed-point bits: sub-pixel drawing
_ONE = 1 << _SHIFT

# Per-channel (B, G, R) gain and a gamma per lighting.
_LIGHT = {"day": ((1.0, 1.0, 1.0), 1.0), "dusk": ((0.5, 0.6, 0.82), 1.15), "night": ((0.45, 0.36, 0.31), 1.4)}


def _pts(xy: list[tuple[float, float]]) -> np.ndarray:
    return (np.asarray(xy, np.float64) * _ONE).round().astype(np.int32)


def _quad(img: np.ndarray, xy: list[tuple[float, float]], color) -> None:
    cv2.fillConvexPoly(img, _pts(xy), color, cv2.LINE_8, _SHIFT)


def _limb(img: np.ndarray, a: tuple[float, float], b: tuple[float, float], thick: float, color) -> None:
    """A thick segment as a quad (cv2.line thickness is integer-only and rounds badly when small)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    n = math.hypot(dx, dy) or 1.0
    ox, oy = -dy / n * thick / 2, dx / n * thick / 2
    _quad(img, [(a[0] + ox, a[1] + oy), (b[0] + ox, b[1] + oy), (b[0] - ox, b[1] - oy), (a[0] - ox, a[1] - oy)], color)


def draw_person(img: np.ndarray, box: np.ndarray, look: Look, phase: float) -> None:
    """Draw a figure filling ``box`` (x, y, w, h): head, torso, arms and legs, legs swinging with ``phase``."""
    x, y, w, h = (float(v) for v in box)
    cx = x + w / 2
    swing = math.sin(phase)
    skin, up, lo = look.skin, look.upper_bgr, look.lower_bgr
    hip_y, knee_y, foot_y = y + 0.53 * h, y + 0.76 * h, y + 0.985 * h
    leg_t = 0.2 * w
    feet = [(cx - 0.12 * w + 0.22 * w * swing, foot_y), (cx + 0.12 * w - 0.22 * w * swing, foot_y)]
    hips = [(cx - 0.12 * w, hip_y), (cx + 0.12 * w, hip_y)]
    sh_y, hand_y = y + 0.19 * h, y + 0.52 * h
    hands = [(cx - 0.36 * w - 0.12 * w * swing, hand_y), (cx + 0.36 * w + 0.12 * w * swing, hand_y)]
    shoulders = [(cx - 0.3 * w, sh_y), (cx + 0.3 * w, sh_y)]
    arm_t = 0.13 * w
    elbow = lambda s, hnd: (0.5 * (s[0] + hnd[0]), 0.5 * (s[1] + hnd[1]))  # noqa: E731

    def arm(k: int) -> None:
        if look.upper_garment == "t-shirt":
            e = elbow(shoulders[k], hands[k])
            _limb(img, shoulders[k], e, arm_t * 1.2, up)
            _limb(img, e, hands[k], arm_t, skin)
        else:
            _limb(img, shoulders[k], hands[k], arm_t, up)

    arm(0)
    for k in range(2):
        knee = (0.5 * (hips[k][0] + feet[k][0]), knee_y)
        if look.lower_garment == "trousers":
            _limb(img, hips[k], feet[k], leg_t, lo)
        else:
            _limb(img, hips[k], feet[k], leg_t * 0.8, skin)
            if look.lower_garment == "shorts":
                _limb(img, hips[k], knee, leg_t * 1.1, lo)
        _limb(img, (feet[k][0], foot_y - 0.03 * h), (feet[k][0] + 0.06 * w, foot_y - 0.005 * h), leg_t, (30, 30, 35))
    _quad(img, [(cx - 0.22 * w, hip_y - 0.04 * h), (cx + 0.22 * w, hip_y - 0.04 * h),
                (cx + 0.22 * w, hip_y + 0.05 * h), (cx - 0.22 * w, hip_y + 0.05 * h)], lo)
    if look.lower_garment == "skirt":
        _quad(img, [(cx - 0.2 * w, hip_y - 0.03 * h), (cx + 0.2 * w, hip_y - 0.03 * h),
                    (cx + 0.33 * w, y + 0.74 * h), (cx - 0.33 * w, y + 0.74 * h)], lo)
    # Torso: a trapezoid from the shoulders to the hips.
    tt, tb = y + 0.16 * h, hip_y
    _quad(img, [(cx - 0.32 * w, tt), (cx + 0.32 * w, tt), (cx + 0.23 * w, tb), (cx - 0.23 * w, tb)], up)
    if look.pattern != "plain" and h >= 24:
        pc = look.pattern_bgr
        step = max(2.0, 0.055 * h)
        th = max(1.0, 0.4 * step)
        yy = tt + step * 0.7
        while yy < tb - th:
            f = (yy - tt) / (tb - tt)
            half = 0.32 * w - 0.09 * w * f
            _quad(img, [(cx - half, yy), (cx + half, yy), (cx + half, yy + th), (cx - half, yy + th)], pc)
            yy += step * (1.0 if look.pattern == "striped" else 1.6)
        if look.pattern == "checked":
            for fx in (-0.15, 0.0, 0.15):
                _quad(img, [(cx + fx * w - 0.02 * w, tt), (cx + fx * w + 0.02 * w, tt),
                            (cx + fx * w + 0.02 * w, tb), (cx + fx * w - 0.02 * w, tb)], pc)
    arm(1)
    # Head with hair on top.
    r = 0.08 * h
    hc = (cx, y + r)
    c16 = (int(round(hc[0] * _ONE)), int(round(hc[1] * _ONE)))
    ax = (max(_ONE, int(round(0.8 * r * _ONE))), max(_ONE, int(round(r * _ONE))))
    cv2.ellipse(img, c16, ax, 0, 0, 360, skin, -1, cv2.LINE_8, _SHIFT)
    cv2.ellipse(img, c16, ax, 0, 180, 360, look.hair_bgr, -1, cv2.LINE_8, _SHIFT)


def make_background(cfg: SynthConfig, world: World, rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """The static scene on a canvas larger than the image by the camera's travel; returns (canvas, mx, my)."""
    cam = world.camera
    mx = int(math.ceil(world.pan_margin)) + 2
    my = int(math.ceil(float(np.abs(world.offset[:, 1]).max()))) + 4
    H, W = cfg.height + 2 * my, cfg.width + 2 * mx
    hv = int(round(cam.horizon_v)) + my
    canvas = np.empty((H, W, 3), np.uint8)
    rows = np.arange(H, dtype=np.float64)[:, None]
    # Sky / far wall above the horizon, paved ground below it.
    sky = np.array([225, 205, 180.0]) - 40 * np.clip(1 - rows / max(hv, 1), 0, 1)
    ground = np.array([120, 135, 145.0]) + 30 * np.clip((rows - hv) / max(H - hv, 1), 0, 1)
    col = np.where(rows < hv, 1, 0)[..., None] * sky[:, None, :] + np.where(rows >= hv, 1, 0)[..., None] * ground[:, None, :]
    canvas[:] = np.broadcast_to(col, (H, W, 3)).astype(np.uint8)
    # Buildings along the horizon.
    if hv > 0:
        x0 = 0
        while x0 < W:
            bw = int(rng.integers(W // 10, W // 4))
            bh = int(rng.integers(max(4, hv // 3), max(5, int(hv * 0.95) + 1)))
            shade = rng.integers(90, 200, 3).tolist()
            cv2.rectangle(canvas, (x0, hv - bh), (x0 + bw, hv), shade, -1)
            x0 += bw
    # Low-frequency variation everywhere (smooth stains and light).
    small = rng.normal(0, 10, (max(2, H // 40), max(2, W // 40), 1))
    canvas = np.clip(canvas + cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)[..., None], 0, 255).astype(np.uint8)
    # Pavement lines in perspective: rows of constant depth, columns of constant ground x.
    z0, z1 = world.z_range
    dark = (95, 105, 112)
    textured = cfg.background == "textured"
    zs = np.geomspace(max(z0 * 0.6, 0.5), z1 * 3, 40 if textured else 12)
    xs = np.arange(-60, 61, 0.8 if textured else 2.5)
    for zi in zs:
        u, v, _ = cam.project(np.array([-200.0, 200.0]), np.zeros(2), np.array([zi, zi]))
        cv2.line(canvas, (int(u[0]) + mx, int(v[0]) + my), (int(u[1]) + mx, int(v[1]) + my), dark, 1)
    for xi in xs:
        u, v, _ = cam.project(np.array([xi, xi]), np.zeros(2), np.array([max(z0 * 0.5, 0.3), z1 * 4]))
        cv2.line(canvas, (int(u[0]) + mx, int(v[0]) + my), (int(u[1]) + mx, int(v[1]) + my), dark, 1)
    if textured:
        # High-frequency clutter: cobbles of random shade, speckle, lit windows and posters.
        tiles = rng.integers(-16, 17, (H // 5 + 1, W // 5 + 1, 1)).astype(np.float32)
        tiles = cv2.resize(tiles, (W, H), interpolation=cv2.INTER_NEAREST)[..., None]
        speck = rng.normal(0, 7, (H, W, 1)).astype(np.float32)
        canvas = np.clip(canvas.astype(np.float32) + tiles + speck, 0, 255).astype(np.uint8)
        for wy in range(4, max(hv - 6, 4), 9):
            for wx in range(3, W - 4, 8):
                if rng.random() < 0.7:
                    shade = int(rng.integers(40, 200))
                    cv2.rectangle(canvas, (wx, wy), (wx + 3, wy + 5), (shade, shade, int(shade * 0.9)), -1)
        for _ in range(W // 12):
            p0 = (int(rng.integers(0, W)), int(rng.integers(max(hv, 0), H)))
            cv2.ellipse(canvas, p0, (int(rng.integers(3, 10)), int(rng.integers(2, 5))), 0, 0, 360,
                        rng.integers(70, 170, 3).tolist(), -1)
    return canvas, mx, my


class Renderer:
    """Renders frame ``t`` of a world. Everything random is drawn up front, so frames can come in any order."""

    def __init__(self, world: World, looks: list[Look], rng: np.random.Generator):
        cfg = world.cfg
        self.world, self.looks, self.cfg = world, looks, cfg
        self.canvas, self.mx, self.my = make_background(cfg, world, rng)
        gains, gamma = _LIGHT[cfg.lighting]
        ramp = np.arange(256) / 255.0
        self.lut = np.stack([np.clip(255 * (g * ramp) ** gamma, 0, 255) for g in gains], -1)
        self.lut = self.lut.astype(np.uint8).reshape(1, 256, 3)
        self.noise_pos = self.noise_neg = None
        sigma = cfg.noise_std
        if sigma > 0:
            # A bank of noise frames with margins; each frame takes one at a random shift.
            bank = rng.normal(0, sigma, (4, cfg.height + 32, cfg.width + 32, 3))
            self.noise_pos = np.clip(bank, 0, 255).astype(np.uint8)
            self.noise_neg = np.clip(-bank, 0, 255).astype(np.uint8)
            self.noise_pick = rng.integers(0, [4, 33, 33], (cfg.frames, 3))
        self.order = np.argsort(-world.depth, axis=1, kind="stable")  # far to near

    def render(self, t: int) -> np.ndarray:
        """Frame ``t`` (0-based) as a BGR uint8 image."""
        cfg, w = self.cfg, self.world
        dx, dy = w.offset[t]
        ox, oy = self.mx + int(round(dx)), self.my + int(round(dy))
        img = self.canvas[oy:oy + cfg.height, ox:ox + cfg.width].copy()
        W, H = cfg.width, cfg.height
        for s in self.order[t]:
            pid = w.pid[t, s]
            if pid < 0:
                continue
            b = w.boxes[t, s]
            if b[0] > W or b[1] > H or b[0] + b[2] < 0 or b[1] + b[3] < 0:
                continue
            draw_person(img, b, self.looks[pid - 1], float(w.phase[t, s]))
        if cfg.blur > 1:
            img = cv2.blur(img, (int(cfg.blur), 1))
        if cfg.lighting != "day":
            img = cv2.LUT(img, self.lut)
        if self.noise_pos is not None:
            k, ny, nx = self.noise_pick[t]
            img = cv2.add(img, self.noise_pos[k, ny:ny + H, nx:nx + W])
            img = cv2.subtract(img, self.noise_neg[k, ny:ny + H, nx:nx + W])
        return img
