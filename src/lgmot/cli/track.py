from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from . import app, fail
from ..errors import InputError


@app.command()
def track(
    source: Path = typer.Argument(..., help="A MOT sequence folder, a dataset root (with --split/--seqmap), a video file or an image folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Results folder: one <seq>.txt per sequence."),
    detections: str = typer.Option("public", help="public | gt | builtin | builtin-fast | a MOT det FILE."),
    min_score: Optional[float] = typer.Option(None, help="Drop detections below this score."),
    config: Optional[str] = typer.Option(None, help="Tracker config: lgmot | sushi | a YAML file. Default: the "
                                                    "model's own (tracking settings it was trained with); lgmot with --oracle."),
    model: Optional[Path] = typer.Option(None, help="Model checkpoint (.safetensors). Default: the shipped model "
                                                   "(with --reid: the shipped model trained with those weights)."),
    reid: Optional[Path] = typer.Option(None, help="ReID weights file (torchreid OSNet .pth) for a model trained with "
                                                   "OSNet appearance. Default: $LGMOT_REID_WEIGHTS."),
    split: Optional[str] = typer.Option(None, help="Named split of a dataset root (e.g. mot17-train)."),
    seqmap: Optional[Path] = typer.Option(None, help="Seqmap file selecting sequences of a dataset root."),
    oracle: bool = typer.Option(False, help="Score edges with GT identities (upper-bound diagnostic)."),
    interpolate: Optional[bool] = typer.Option(None, "--interpolate/--no-interpolate", help="Fill gaps inside tracks (default: the config's)."),
    save_video: bool = typer.Option(False, help="Also write <out>/<seq>.mp4 with ids and trails."),
    appearance: bool = typer.Option(True, help="Compute appearance embeddings when frames exist."),
    cache_dir: Optional[Path] = typer.Option(None, help="Where to cache embeddings (default: <out>/cache)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    workers: int = typer.Option(1, "--workers", "-j", min=1,
                                help="Track this many sequences at once, one process each (one progress display)."),
    clip_workers: Optional[int] = typer.Option(None, min=1, help="Clips of a sequence tracked concurrently, in forked "
                                               "processes where possible (default: LGMOT_TRACK_WORKERS, else "
                                               "min(2, CPUs)); same tracks."),
) -> None:
    """Track every sequence of SOURCE and write MOTChallenge result files."""
    from ..config import load_config
    from ..track.run import load_tracker, resolve_sources

    try:
        cfg = load_config(config) if config else None
        tracker, cfg = load_tracker(cfg, model, oracle, reid, appearance)
        if interpolate is not None:
            from dataclasses import replace

            cfg = replace(cfg, tracker=replace(cfg.tracker, interpolate=interpolate))
            tracker.config = cfg
        if clip_workers is not None:
            tracker.workers = clip_workers
        seqs = resolve_sources(source, split, seqmap)
        job = _Job(cfg, model, oracle, detections, min_score, appearance, cache_dir or out / "cache", out, save_video,
                   reid)
        if workers > 1 and len(seqs) > 1:
            errors = _track_parallel(job, seqs, min(workers, len(seqs)), quiet)
            if errors:
                fail(errors[0] if len(errors) == 1 else f"{len(errors)} sequences failed; first: {errors[0]}")
            return
        for seq in seqs:
            typer.echo(_track_one(job, seq, tracker, progress=not quiet))
    except (InputError, KeyError, ValueError) as e:
        fail(str(e).strip("'\""))


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs to track one sequence (picklable)."""

    cfg: object
    model: Optional[Path]
    oracle: bool
    detections: str
    min_score: Optional[float]
    appearance: bool
    cache_dir: Path
    out: Path
    save_video: bool
    reid: Optional[Path] = None


def _track_one(job: _Job, seq, tracker, progress: bool) -> str:
    """Detect, embed, track and write one sequence; returns the summary line."""
    from ..track.run import prepare_inputs, track_sequence, write_sequence_results

    t0 = time.perf_counter()
    # a model trained without appearance cannot use it: do not compute it
    inputs = prepare_inputs(seq, job.detections, job.min_score, appearance=job.appearance and tracker.uses_appearance,
                            cache_dir=job.cache_dir, progress=progress, need_gt_ids=job.oracle,
                            encoder=tracker.encoder)
    tracks = track_sequence(tracker, inputs)
    path = write_sequence_results(job.out, seq, tracks)  # atomic (temporary file + rename)
    msg = f"{seq.name}: {len(inputs.dets)} detections -> {tracks.id.nunique()} tracks in {time.perf_counter() - t0:.1f}s -> {path}"
    if job.appearance and seq.has_images and not tracker.uses_appearance:
        msg += " (appearance not computed: the model was trained without it)"
    elif inputs.app is not None:
        msg += f" (appearance: {tracker.appearance_note})"
    if job.save_video:
        if not seq.has_images:
            msg += " (no frames: video skipped)"
        else:
            from ..viz import write_video

            v = write_video(seq, tracks, job.out / f"{seq.name}.mp4", progress=progress)
            msg += f", video {v}"
    return msg


_WORKER_TRACKER = None


def _worker_init(job: _Job, threads: int) -> None:
    """Each worker process loads the tracker once."""
    global _WORKER_TRACKER
    import torch

    from ..track.run import load_tracker

    torch.set_num_threads(threads)
    tracker, _ = load_tracker(job.cfg, job.model, job.oracle, job.reid, job.appearance)
    tracker.config = job.cfg  # the parent's resolved config (checkpoint network + user tracking settings)
    tracker.workers = threads  # the cores are already split between the sequence processes
    _WORKER_TRACKER = tracker


def _worker_run(job: _Job, seq) -> tuple[bool, str]:
    try:
        return True, _track_one(job, seq, _WORKER_TRACKER, progress=False)
    except (InputError, KeyError, ValueError) as e:
        return False, str(e).strip("'\"")


def _track_parallel(job: _Job, seqs: list, workers: int, quiet: bool) -> list[str]:
    """Track ``seqs`` in ``workers`` processes; one rich progress bar in this process.

    Each worker writes its own result file atomically, so an interrupted run never leaves a
    partial file. Returns the error messages of the sequences that failed."""
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    threads = max(1, (os.cpu_count() or 1) // workers)
    errors: list[str] = []
    console = Console(stderr=True, quiet=quiet)
    columns = (TextColumn("tracking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_worker_init, initargs=(job, threads)) as pool, \
            Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task("", total=len(seqs))
        futures = {pool.submit(_worker_run, job, seq): seq for seq in seqs}
        for fut in as_completed(futures):
            seq = futures[fut]
            try:
                ok, msg = fut.result()
            except Exception as e:  # a worker died (e.g. out of memory)
                ok, msg = False, f"{seq.name}: worker failed ({type(e).__name__}: {e})"
            if ok:
                typer.echo(msg)
            else:
                errors.append(msg)
            bar.update(task, advance=1, description=seq.name)
    return errors
