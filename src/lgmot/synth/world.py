"""The synthetic world: a pinhole camera over a ground plane and people walking on it.

Everything here is simulation and geometry (no pixels): per frame and per slot the person id,
ground position, gait phase and the image box, plus the camera offset of each frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import SynthConfig

# Camera height (m) and downward tilt (degrees) per viewpoint.
VIEWPOINT_GEOMETRY = {"low": (1.6, 3.0), "medium": (4.0, 12.0), "high": (9.0, 32.0)}
BODY_WIDTH = 0.42  # box width / body height


@dataclass(frozen=True)
class Camera:
    f: float
    cx: float
    cy: float
    height: float
    tilt: float  # radians, positive looks down

    @classmethod
    def for_config(cls, cfg: SynthConfig) -> "Camera":
        h, tilt_deg = VIEWPOINT_GEOMETRY[cfg.viewpoint]
        return cls(f=0.95 * cfg.width * cfg.scale, cx=cfg.width / 2, cy=cfg.height / 2, height=h,
                   tilt=math.radians(tilt_deg))

    def project(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World (x right, y up, z forward on the ground) -> image (u, v) and camera depth."""
        s, c = math.sin(self.tilt), math.cos(self.tilt)
        ry = y - self.height
        yc = -ry * c - z * s
        zc = -ry * s + z * c
        return self.cx + self.f * x / zc, self.cy + self.f * yc / zc, zc

    @property
    def horizon_v(self) -> float:
        return self.cy - self.f * math.tan(self.tilt)

    def boxes(self, x: np.ndarray, z: np.ndarray, body_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image boxes (..., 4) xywh of upright people standing at ground (x, z), and foot depth."""
        u, vb, zc = self.project(x, np.zeros_like(z), z)
        _, vt, zt = self.project(x, body_h, z)
        h = vb - vt
        w = self.f * BODY_WIDTH * body_h / (0.5 * (zc + zt))
        return np.stack([u - w / 2, vt, w, h], axis=-1), zc

    def depth_range(self, img_h: int, min_px: float) -> tuple[float, float]:
        """Ground depths where feet are inside the image and a 1.7 m person is at least ``min_px`` tall."""
        a = (0.97 * img_h - self.cy) / self.f
        s, c = math.sin(self.tilt), math.cos(self.tilt)
        z_near = max(0.5, self.height * (c - a * s) / (s + a * c))
        zs = np.linspace(z_near, z_near + 120.0, 2400)
        b, _ = self.boxes(np.zeros_like(zs), zs, np.full_like(zs, 1.7))
        ok = (b[:, 3] >= min_px) & (b[:, 1] + b[:, 3] > self.horizon_v + 2)
        z_far = float(zs[ok][-1]) if ok.any() else z_near + 1.0
        return z_near, max(z_far, z_near + 1.0)

    def half_width_x(self, z: np.ndarray, px: float) -> np.ndarray:
        """Ground x at which a point at depth z is ``px`` pixels right of the image centre."""
        _, _, zc = self.project(np.zeros_like(z), np.zeros_like(z), z)
        return px * zc / self.f


@dataclass
class World:
    """Simulated sequence. Arrays are (T, S): T frames, S person slots; ``pid`` is -1 where empty."""

    cfg: SynthConfig
    camera: Camera
    pid: np.ndarray         # (T, S) int64, track id (1-based) or -1
    x: np.ndarray           # (T, S) ground position (m)
    z: np.ndarray
    phase: np.ndarray       # (T, S) gait phase (rad)
    moving: np.ndarray      # (T, S) bool
    vx: np.ndarray          # (T, S) ground velocity (m/s)
    vz: np.ndarray
    body_h: np.ndarray      # (T, S) body height (m) of the slot's current person
    offset: np.ndarray      # (T, 2) camera offset in px (image = projection - offset)
    boxes: np.ndarray       # (T, S, 4) image boxes xywh (0-based)
    depth: np.ndarray       # (T, S) camera depth (m)
    n_ids: int
    z_range: tuple[float, float]
    pan_margin: float       # px the camera can move sideways (for the background canvas)


def camera_offsets(cfg: SynthConfig, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """Per-frame (dx, dy) camera offsets, and the x / y margins they need."""
    T = cfg.frames
    off = np.zeros((T, 2))
    if cfg.camera == "pan":
        amp = cfg.pan_range * cfg.width
        travel = np.arange(T) * cfg.pan_speed / cfg.fps
        # Triangle wave: sweep right to +amp, back to -amp, and so on.
        period = 4 * amp
        p = np.mod(travel + amp, period)
        off[:, 0] = np.where(p < 2 * amp, p - amp, 3 * amp - p)
        return off, amp + 2, 2.0
    if cfg.camera == "shake":
        rho = 0.6
        e = rng.standard_normal((T, 2)) * cfg.shake_px * math.sqrt(1 - rho ** 2)
        e[0] = rng.standard_normal(2) * cfg.shake_px
        for t in range(1, T):
            e[t] += rho * e[t - 1]
        e[:, 1] *= 0.6
        lim = 3 * cfg.shake_px
        off = np.clip(e, -lim, lim)
        return off, lim + 2, lim + 2
    return off, 2.0, 2.0


def simulate(cfg: SynthConfig, rng: np.random.Generator, cam_rng: np.random.Generator | None = None) -> World:
    """Walk ``cfg.n_people`` slots of people over ``cfg.frames`` frames (vectorised over slots).

    ``cam_rng`` drives camera shake; a separate stream keeps the same people across camera presets.
    """
    cam = Camera.for_config(cfg)
    T, S, dt = cfg.frames, cfg.n_people, 1.0 / cfg.fps
    offset, mx, my = camera_offsets(cfg, rng if cam_rng is None else cam_rng)
    z0, z1 = cam.depth_range(cfg.height, 0.09 * cfg.height)
    edge_px = cfg.width / 2 + mx  # the widest image half-width the camera ever sees
    out_px = edge_px + 0.45 * cfg.width * 0.5  # spawn/leave line, beyond any box half-width

    alive = np.zeros(S, bool)
    pid = np.full(S, -1, np.int64)
    x, z = np.zeros(S), np.zeros(S)
    heading, speed = np.zeros(S), np.zeros(S)
    stop_left, respawn = np.zeros(S), np.zeros(S)
    phase, body_h = np.zeros(S), np.full(S, 1.7)
    leader = np.full(S, -1, np.int64)
    next_id = 1

    def spawn(slots: np.ndarray, inside: bool) -> None:
        nonlocal next_id
        for i in slots:
            if alive[i]:
                continue
            alive[i] = True
            pid[i] = next_id
            next_id += 1
            z[i] = z0 * (z1 / z0) ** rng.uniform(0, 1)  # log-uniform: as many near people as far ones
            side = rng.choice([-1.0, 1.0])
            hw_in = float(cam.half_width_x(np.array([z[i]]), edge_px)[0])
            hw_out = float(cam.half_width_x(np.array([z[i]]), out_px)[0])
            x[i] = rng.uniform(-hw_in, hw_in) if inside else side * rng.uniform(hw_in, hw_out)
            # Walk across the view, mostly sideways, towards the inside if entering.
            direction = -side if not inside else rng.choice([-1.0, 1.0])
            heading[i] = (0.0 if direction > 0 else math.pi) + rng.normal(0, 0.35)
            speed[i] = rng.uniform(*cfg.speed)
            body_h[i] = float(np.clip(rng.normal(1.72, 0.08), 1.5, 1.95))
            phase[i] = rng.uniform(0, 2 * math.pi)
            stop_left[i] = 0.0
            leader[i] = -1
            # A companion walks alongside, in step with this one.
            free = np.flatnonzero(~alive)
            if len(free) and rng.random() < cfg.group_prob:
                j = int(free[0])
                alive[j] = True
                pid[j] = next_id
                next_id += 1
                z[j] = float(np.clip(z[i] + rng.uniform(0.5, 1.2) * rng.choice([-1, 1]), z0, z1))
                x[j] = x[i] + rng.normal(0, 0.4)
                heading[j], speed[j] = heading[i], speed[i]
                body_h[j] = float(np.clip(rng.normal(1.72, 0.08), 1.5, 1.95))
                phase[j] = rng.uniform(0, 2 * math.pi)
                stop_left[j] = 0.0
                leader[j] = i

    spawn(np.arange(S), inside=True)
    rec = {k: np.zeros((T, S)) for k in ("x", "z", "phase", "vx", "vz", "body_h")}
    rec_pid = np.full((T, S), -1, np.int64)
    rec_moving = np.zeros((T, S), bool)

    for t in range(T):
        if t > 0:
            # Random events for leaders: turns, stops, restarts.
            solo = alive & (leader < 0)
            turn = solo & (rng.random(S) < cfg.turn_rate * dt)
            heading[turn] += rng.choice([-1.0, 1.0], turn.sum()) * rng.uniform(0.5, 1.8, turn.sum())
            stop = solo & (stop_left <= 0) & (rng.random(S) < cfg.stop_rate * dt)
            stop_left[stop] = rng.uniform(*cfg.stop_time, stop.sum())
            # Followers copy their leader while both are alive.
            fol = alive & (leader >= 0)
            if fol.any():
                ld = leader[fol]
                ok = alive[ld]
                idx = np.flatnonzero(fol)
                heading[idx[ok]] = heading[ld[ok]]
                speed[idx[ok]] = speed[ld[ok]]
                stop_left[idx[ok]] = stop_left[ld[ok]]
                leader[idx[~ok]] = -1
            moving = alive & (stop_left <= 0)
            stop_left[alive & ~moving] -= dt
            v = np.where(moving, speed, 0.0)
            x += v * np.cos(heading) * dt
            z += v * np.sin(heading) * dt * 0.6
            # Keep depths inside the walkable band by turning back.
            bounce = alive & ((z < z0) | (z > z1))
            heading[bounce] = -heading[bounce]
            np.clip(z, z0, z1, out=z)
            phase += np.where(moving, v * dt * 2 * math.pi / 1.4, 0.0)
            # Leave once past the spawn line; come back as a new person later.
            gone = alive & (np.abs(x) > cam.half_width_x(z, out_px) * 1.02)
            alive[gone] = False
            respawn[gone] = rng.exponential(0.8, gone.sum())
            leader[np.isin(leader, np.flatnonzero(gone))] = -1
            respawn[~alive] -= dt
            spawn(np.flatnonzero(~alive & (respawn <= 0)), inside=False)
        moving_now = alive & (stop_left <= 0)
        v = np.where(moving_now, speed, 0.0)
        rec_pid[t] = np.where(alive, pid, -1)
        rec_moving[t] = moving_now
        rec["x"][t], rec["z"][t], rec["phase"][t] = x, z, phase
        rec["vx"][t], rec["vz"][t] = v * np.cos(heading), v * np.sin(heading) * 0.6
        rec["body_h"][t] = body_h

    boxes, depth = cam.boxes(rec["x"], rec["z"], rec["body_h"])
    boxes[..., 0] -= offset[:, None, 0]
    boxes[..., 1] -= offset[:, None, 1]
    return World(cfg=cfg, camera=cam, pid=rec_pid, x=rec["x"], z=rec["z"], phase=rec["phase"], moving=rec_moving,
                 vx=rec["vx"], vz=rec["vz"], body_h=rec["body_h"], offset=offset, boxes=boxes, depth=depth,
                 n_ids=next_id - 1, z_range=(z0, z1), pan_margin=mx)


def visibility(world: World, grid: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Per (frame, slot): fraction of the box inside the image, and fraction inside and not covered
    by a nearer person's box. Sampled on a ``grid`` x ``grid`` lattice of each box."""
    T, S = world.pid.shape
    W, H = world.cfg.width, world.cfg.height
    g = (np.arange(grid) + 0.5) / grid
    gx, gy = np.meshgrid(g, g)
    gx, gy = gx.ravel(), gy.ravel()
    in_frame = np.zeros((T, S))
    vis = np.zeros((T, S))
    for t in range(T):
        b = world.boxes[t]
        alive = world.pid[t] >= 0
        px = b[:, None, 0] + gx[None] * b[:, None, 2]  # (S, G)
        py = b[:, None, 1] + gy[None] * b[:, None, 3]
        inside = (px >= 0) & (px < W) & (py >= 0) & (py < H)
        d = world.depth[t]
        nearer = alive[None, :] & (d[None, :] < d[:, None])  # (S, S): j is in front of i
        covered = ((px[:, :, None] >= b[None, None, :, 0]) & (px[:, :, None] < b[None, None, :, 0] + b[None, None, :, 2])
                   & (py[:, :, None] >= b[None, None, :, 1]) & (py[:, :, None] < b[None, None, :, 1] + b[None, None, :, 3])
                   & nearer[:, None, :]).any(axis=2)
        in_frame[t] = np.where(alive, inside.mean(axis=1), 0.0)
        vis[t] = np.where(alive, (inside & ~covered).mean(axis=1), 0.0)
    return in_frame, vis
