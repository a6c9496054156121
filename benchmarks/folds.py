"""Shared by the benchmarks that train or re-run MOT15 CV fold models: training one unless it is
already there, loading a CV run's, and the tracker's clips of a held-out sequence as level-0
tracklets."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np


def fold_models(runs: Path) -> Iterator[tuple[tuple[str, ...], object, object]]:
    """(held-out sequence names, model, config) of each fold of a ``benchmarks/mot15_cv.py`` run
    (``runs/fold{k}/model.safetensors``); exits naming the command that trains a missing one."""
    from lgmot.model import load_model
    from lgmot.train.recipes import MOT15_FOLDS

    for k, held in enumerate(MOT15_FOLDS):
        path = runs / f"fold{k + 1}" / "model.safetensors"
        if not path.exists():
            sys.exit(f"{path}: no fold model; run benchmarks/mot15_cv.py --out {runs} first")
        model, cfg = load_model(path)
        yield held, model, cfg


def clip_tracklets(inp, tc):
    """The tracker's view of one sequence's inputs (``track.run.prepare_inputs`` with GT ids): the
    tracked detections, their GT ids, and per clip (start frame, first row, end row, level-0
    Tracklets with GT ids and scores; built lazily), as ``Tracker.track_detections`` cuts them."""
    from lgmot.graph import Tracklets
    from lgmot.solve import clip_slices
    from lgmot.track.tracker import tracked_detections

    d, _, gt = tracked_detections(inp.dets, tc.min_score, gt_ids=inp.gt_ids)
    frames, scores = d.frame.to_numpy(), d.score.to_numpy()
    boxes = d[["x", "y", "w", "h"]].to_numpy(np.float64)
    clips = ((start, lo, hi, Tracklets.from_detections(frames[lo:hi], boxes[lo:hi], gt_ids=gt[lo:hi],
                                                        scores=scores[lo:hi]))
             for start, lo, hi in clip_slices(frames, tc.frames_per_graph, tc.graph_overlap))
    return d, gt, clips


def train_or_reuse(cfg, sequences: Callable[[], list], run: Path, label: str) -> tuple[Path, bool]:
    """``run/model.safetensors`` trained with ``cfg`` on ``sequences()``, unless the file there was
    trained with the same training and model config (then it is reused; only its metadata is read).
    Returns (path, reused)."""
    from lgmot.config import Config
    from lgmot.model import read_metadata
    from lgmot.train import train

    path = run / "model.safetensors"
    saved = Config.from_dict(read_metadata(path)["config"], path) if path.exists() else None
    if saved is not None and (saved.train, saved.model) == (cfg.train, cfg.model):
        print(f"{label}: reusing {path}", flush=True)
        return path, True
    t0 = time.perf_counter()
    res = train(cfg, sequences(), run, progress=False, overwrite=True)
    print(f"{label}: {res.iterations} iterations, {time.perf_counter() - t0:.0f} s", flush=True)
    return path, False


def with_overrides(cfg, sets: list[str]):
    """``cfg`` with each ``section.field=value`` applied (validated as a config file would be)."""
    import yaml

    from lgmot.config import Config

    d = cfg.to_dict()
    for s in sets:
        key, sep, value = s.partition("=")
        section, dot, field = key.partition(".")
        if not sep or not dot or section not in d:
            raise SystemExit(f"--set/--track {s!r}: expected section.field=value")
        d[section][field] = yaml.safe_load(value)
    return Config.from_dict(d, source="--set")
