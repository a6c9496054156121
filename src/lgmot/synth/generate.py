"""Whole sequences: simulate, derive GT / detections / language, render and write a MOT folder."""
from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import pandas as pd

from ..data.motio import atomic_write_text, write_detections, write_gt
from ..data.schema import GT_COLUMNS, typed
from ..data.sequence import SeqInfo
from ..language.annotations import FILENAME, SequenceAnnotations
from .appearance import Look, action, instance_description, random_looks, scene_description
from .config import PRESETS, SynthConfig, preset
from .detections import make_detections
from .render import Renderer
from .world import World, simulate, visibility


@dataclass
class SynthSequence:
    """A generated sequence in memory; frames are rendered on demand."""

    cfg: SynthConfig
    world: World
    looks: list[Look]
    gt: pd.DataFrame            # GT_COLUMNS, 0-based boxes
    detections: pd.DataFrame    # DET_COLUMNS
    language: SequenceAnnotations
    renderer: Renderer

    @property
    def info(self) -> SeqInfo:
        c = self.cfg
        return SeqInfo(name=c.name, fps=c.fps, width=c.width, height=c.height, length=c.frames)

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` (1-based, as in MOT files) as BGR uint8."""
        return self.renderer.render(t - 1)

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        for t in range(1, self.cfg.frames + 1):
            yield t, self.frame(t)


def _gt_table(world: World) -> pd.DataFrame:
    in_frame, vis = visibility(world)
    keep = (world.pid >= 0) & (in_frame > 0)
    t, s = np.nonzero(keep)
    b = world.boxes[t, s]
    df = pd.DataFrame({"frame": t + 1, "id": world.pid[t, s], "x": b[:, 0], "y": b[:, 1], "w": b[:, 2], "h": b[:, 3],
                       "consider": 1.0, "cls": 1, "vis": np.round(vis[t, s], 3)})
    return typed(df, GT_COLUMNS).sort_values(["frame", "id"], kind="stable").reset_index(drop=True)


def build(cfg: SynthConfig) -> SynthSequence:
    """Simulate ``cfg`` (deterministic in ``cfg.seed``); nothing is rendered yet."""
    # Independent streams, so e.g. changing the detector knobs leaves the world and pixels unchanged.
    s_world, s_look, s_det, s_pix, s_cam = (np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(5))
    world = simulate(cfg, s_world, s_cam)
    looks = random_looks(world.n_ids, cfg, s_look)
    gt = _gt_table(world)
    dets = make_detections(gt, cfg, world.camera, world.z_range, world.offset, s_det)
    instances = {}
    seen = world.pid[:, None, :] == np.unique(gt.id.to_numpy())[None, :, None] if len(gt) else None
    for k, tid in enumerate(np.unique(gt.id.to_numpy())):
        tt, ss = np.nonzero(seen[:, k, :])
        act = action(world.vx[tt, ss], world.vz[tt, ss], world.moving[tt, ss])
        instances[int(tid)] = instance_description(looks[tid - 1], act)
    language = SequenceAnnotations(sequence=cfg.name, scene=scene_description(cfg), instances=instances)
    return SynthSequence(cfg, world, looks, gt, dets, language, Renderer(world, looks, s_pix))


def write_sequence(seq: SynthSequence, out_dir: str | Path, overwrite: bool = False,
                   progress: Callable[[int], None] | None = None, workers: int = 2) -> Path:
    """Write ``out_dir/<name>/`` as a MOT sequence folder; the folder appears whole or not at all."""
    out_dir = Path(out_dir)
    from ..errors import named_path

    dest = named_path(out_dir, seq.cfg.name)
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{dest} exists (pass overwrite=True to replace it)")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{seq.cfg.name}.", suffix=".tmp", dir=out_dir))
    try:
        img_dir = tmp / "img1"
        img_dir.mkdir()
        params = [cv2.IMWRITE_JPEG_QUALITY, int(seq.cfg.jpeg_quality)]
        pending: list[Future] = []
        # cv2 releases the GIL while encoding, so JPEG writing overlaps the next frame's drawing.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for t, img in seq.frames():
                path = str(img_dir / f"{t:06d}.jpg")
                pending.append(pool.submit(cv2.imwrite, path, img, params))
                if len(pending) > 4 * workers:
                    if not pending.pop(0).result():
                        raise OSError(f"could not write a frame in {img_dir}")
                if progress is not None:
                    progress(t)
            for fut in pending:
                if not fut.result():
                    raise OSError(f"could not write a frame in {img_dir}")
        write_gt(tmp / "gt" / "gt.txt", seq.gt)
        write_detections(tmp / "det" / "det.txt", seq.detections)
        atomic_write_text(tmp / "seqinfo.ini", seq.info.to_ini())
        seq.language.write(tmp / FILENAME)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def generate(cfg: SynthConfig, out_dir: str | Path, overwrite: bool = False,
             progress: Callable[[int], None] | None = None) -> Path:
    """Build and write one sequence; returns its folder ``out_dir/<cfg.name>``."""
    return write_sequence(build(cfg), out_dir, overwrite=overwrite, progress=progress)


def shift_suite(out_dir: str | Path, overwrite: bool = False, **overrides) -> list[Path]:
    """Every preset (source and targets), one sequence folder each under ``out_dir``."""
    return [generate(preset(name, **overrides), out_dir, overwrite=overwrite) for name in PRESETS]


def make_sequence(tmp_path: str | Path, preset: str = "source", frames: int = 30, people: int = 6, seed: int = 0,
                  size: tuple[int, int] = (320, 240), **overrides) -> Path:
    """A small sequence for tests: writes ``tmp_path/<preset>`` and returns it."""
    from .config import preset as _preset

    cfg = _preset(preset, frames=frames, people=people, seed=seed, width=size[0], height=size[1], **overrides)
    return generate(cfg, tmp_path, overwrite=True)
