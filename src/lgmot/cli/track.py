from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from . import app, fail, message, prepare_out_dir, terminate_like_interrupt
from ..errors import InputError, named_path


@app.command()
def track(
    source: Path = typer.Argument(..., help="A MOT sequence folder, a dataset root (with --split/--seqmap), a video file or an image folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Results folder: one <seq>.txt per sequence."),
    detections: str = typer.Option("public", help="public | gt | builtin | builtin-fast | a MOT det FILE."),
    min_score: Optional[float] = typer.Option(None, help="Track the detections scoring at least this (sets the "
                                              "tracker's min_score; default: the model's). With low-score "
                                              "recovery on, the recovery floor is lowered to it if above."),
    recover: Optional[bool] = typer.Option(None, "--recover/--no-recover", help="Add low-score detections that "
                                           "continue a track (default: the config's)."),
    smooth: Optional[str] = typer.Option(None, help="Track smoother: none | gp | savgol (default: the config's)."),
    config: Optional[str] = typer.Option(None, help="Tracker config: lgmot | sushi | a YAML file. Default: the "
                                                    "model's own (tracking settings it was trained with); lgmot with --oracle."),
    model: Optional[Path] = typer.Option(None, help="Model checkpoint (.safetensors). Default: the shipped model."),
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

    terminate_like_interrupt()
    try:
        prepare_out_dir(out)
        cfg = load_config(config) if config else None
        tracker, cfg = load_tracker(cfg, model, oracle)
        cfg = with_tracking_options(cfg, min_score, interpolate, recover, smooth)
        tracker.config = cfg
        # the tracker applies min_score (with its fallback for other score scales); only the built-in
        # detector needs a confidence floor as it runs, low enough for the tracker and recovery
        min_score = load_floor(detections, cfg.tracker) if min_score is not None else None
        if clip_workers is not None:
            tracker.workers = clip_workers
        seqs = resolve_sources(source, split, seqmap)
        job = _Job(cfg, model, oracle, detections, min_score, appearance, cache_dir or out / "cache", out, save_video)
        if workers > 1 and len(seqs) > 1:
            errors = _track_parallel(job, seqs, min(workers, len(seqs)), quiet)
            if errors:
                fail(errors[0] if len(errors) == 1 else f"{len(errors)} sequences failed; first: {errors[0]}")
            return
        for seq in seqs:
            typer.echo(_track_one(job, seq, tracker, progress=not quiet))
    except (InputError, KeyError, ValueError, OSError) as e:
        fail(message(e, out))


def with_tracking_options(cfg, min_score: float | None = None, interpolate: bool | None = None,
                          recover: bool | None = None, smooth: str | None = None):
    """``cfg`` with the tracking options of the command line that are set (None: the config's).
    ``min_score`` is the tracker's threshold; a recovery floor above it comes down to it."""
    from dataclasses import replace

    from ..solve import SMOOTHERS

    tc = cfg.tracker
    if min_score is not None:
        tc = replace(tc, min_score=float(min_score), recover_min_score=min(tc.recover_min_score, float(min_score)))
    if interpolate is not None:
        tc = replace(tc, interpolate=interpolate)
    if recover is not None:
        tc = replace(tc, recover=recover)
    if smooth is not None:
        if smooth not in SMOOTHERS:
            raise ValueError(f"--smooth: choose from {', '.join(SMOOTHERS)}")
        tc = replace(tc, smooth=smooth)
    return replace(cfg, tracker=tc.validate())


def detection_floor(tc) -> float:
    """The lowest score a detection needs to be of any use to the tracker: the recovery floor when
    recovery is on, else the tracking threshold."""
    return min(tc.recover_min_score, tc.min_score) if tc.recover else tc.min_score


def load_floor(detections: str, tc) -> float | None:
    """The score floor detections are loaded with: the built-in detector's confidence threshold,
    lowered to :func:`detection_floor` when that is below the preset's; None (all) otherwise."""
    if detections not in ("builtin", "builtin-fast"):
        return None
    from ..detect import detect_preset

    return min(detect_preset(detections).min_score, detection_floor(tc))


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


def _track_one(job: _Job, seq, tracker, progress: bool) -> str:
    """Detect, embed, track and write one sequence; returns the summary line."""
    from ..track.run import prepare_inputs, track_sequence, write_sequence_results

    t0 = time.perf_counter()
    # a model trained without appearance cannot use it: do not compute it
    inputs = prepare_inputs(seq, job.detections, job.min_score, appearance=job.appearance and tracker.uses_appearance,
                            cache_dir=job.cache_dir, progress=progress, need_gt_ids=job.oracle)
    tracks = track_sequence(tracker, inputs)
    path = write_sequence_results(job.out, seq, tracks)  # atomic (temporary file + rename)
    msg = f"{seq.name}: {len(inputs.dets)} detections -> {tracks.id.nunique()} tracks in {time.perf_counter() - t0:.1f}s -> {path}"
    if job.appearance and seq.has_images and not tracker.uses_appearance:
        msg += " (appearance not computed: the model was trained without it)"
    if job.save_video:
        if not seq.has_images:
            msg += " (no frames: video skipped)"
        else:
            from ..viz import write_video

            v = write_video(seq, tracks, named_path(job.out, seq.name, ".mp4"), progress=progress)
            msg += f", video {v}"
    return msg


_WORKER_TRACKER = None


def _worker_init(job: _Job, threads: int, parent_pid: int) -> None:
    """Each worker process loads the tracker once."""
    global _WORKER_TRACKER
    import signal

    from ..workers import die_with_parent

    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    import torch

    from ..track.run import load_tracker

    torch.set_num_threads(threads)
    tracker, _ = load_tracker(job.cfg, job.model, job.oracle)
    tracker.config = job.cfg  # the parent's resolved config (checkpoint network + user tracking settings)
    tracker.workers = threads  # the cores are already split between the sequence processes
    _WORKER_TRACKER = tracker


def _worker_run(job: _Job, seq) -> tuple[bool, str]:
    try:
        return True, _track_one(job, seq, _WORKER_TRACKER, progress=False)
    except (InputError, KeyError, ValueError, OSError) as e:
        return False, message(e, job.out)


def _track_parallel(job: _Job, seqs: list, workers: int, quiet: bool) -> list[str]:
    """Track ``seqs`` in ``workers`` processes; one rich progress bar in this process.

    Each worker writes its own result file atomically, so an interrupted run never leaves a
    partial file. Returns the error messages of the sequences that failed."""
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    threads = max(1, (os.cpu_count() or 1) // workers)
    errors: list[str] = []
    console = Console(stderr=True, quiet=quiet)
    columns = (TextColumn("tracking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    from ..workers import kill_workers

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=_worker_init, initargs=(job, threads, os.getpid()))
    try:
        with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
            _collect(pool, job, seqs, bar, errors)
    except BaseException:  # Ctrl-C, SIGTERM: no worker may go on writing result files
        kill_workers(pool)
        raise
    pool.shutdown(wait=True)
    return errors


def _collect(pool, job: _Job, seqs: list, bar, errors: list[str]) -> None:
    from concurrent.futures import as_completed

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
