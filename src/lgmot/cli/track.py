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
    source: Path = typer.Argument(..., help="A MOT sequence folder, a dataset root (with --split/--seqmap), a video file or an "
                                              "image folder; with --show also a camera index or a stream URL."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Results folder: one <seq>.txt per sequence "
                                                                  "(required unless --show)."),
    detections: str = typer.Option("public", help="public | gt | builtin | builtin-fast | a MOT det FILE."),
    min_score: Optional[float] = typer.Option(None, help="Track the detections scoring at least this (sets the "
                                              "tracker's min_score; default: the model's). With low-score "
                                              "recovery on, the recovery floor is lowered to it if above."),
    recover: Optional[bool] = typer.Option(None, "--recover/--no-recover", help="Add low-score detections that "
                                           "continue a track (default: the config's)."),
    untangle: Optional[bool] = typer.Option(None, "--untangle/--no-untangle", help="Swap back the continuations of "
                                            "two tracks that met where their motion says they crossed (default: "
                                            "the config's)."),
    smooth: Optional[str] = typer.Option(None, help="Track smoother: none | gp | savgol (default: the config's)."),
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
    online: bool = typer.Option(False, "--online", help="Track frame by frame (lgmot.track.OnlineTracker): a frame's "
                                                        "ids are final --latency frames after it arrives."),
    latency: int = typer.Option(30, min=0, help="With --online: frames between a frame's arrival and its final ids "
                                                "(0: the newest frame's ids)."),
    smooth_lag: int = typer.Option(0, min=0, help="With --online: smooth each track (the config's smoother, see "
                                                   "--smooth) with this many later frames; output then lags "
                                                   "--latency + this many frames."),
    show: bool = typer.Option(False, "--show", help="With --online: show the annotated stream live in an OpenCV window "
                                                    "(SOURCE may be a camera index or a stream URL)."),
) -> None:
    """Track every sequence of SOURCE and write MOTChallenge result files."""
    from ..config import load_config
    from ..track.run import load_tracker, resolve_sources

    terminate_like_interrupt()
    if smooth_lag and not online:
        fail("--smooth-lag needs --online (offline tracking smooths whole tracks)")
    if show:
        if not online:
            fail("--show needs --online (the offline tracker has no ids until the whole sequence is read)")
        problem = _no_display()
        if problem:
            fail(f"--show needs a display: {problem}; write result files with --out (and --save-video) instead")
    elif out is None:
        fail("--out is required (the results folder)")
    try:
        if out is not None:
            prepare_out_dir(out)
        cfg = load_config(config) if config else None
        tracker, cfg = load_tracker(cfg, model, oracle, reid, appearance)
        cfg = with_tracking_options(cfg, min_score, interpolate, recover, smooth, untangle)
        tracker.config = cfg
        # the tracker applies min_score (with its fallback for other score scales); only the built-in
        # detector needs a confidence floor as it runs, low enough for the tracker and recovery
        min_score = load_floor(detections, cfg.tracker) if min_score is not None else None
        if clip_workers is not None:
            tracker.workers = clip_workers
        if online and oracle:
            fail("--online does not take --oracle")
        if show:
            _show_live(str(source), tracker, latency, smooth_lag, detections, min_score, appearance, out, split, seqmap)
            return
        seqs = resolve_sources(source, split, seqmap)
        job = _Job(cfg, model, oracle, detections, min_score, appearance, cache_dir or out / "cache", out, save_video,
                   online, latency, reid, smooth_lag)
        if workers > 1 and len(seqs) > 1:
            errors = _track_parallel(job, seqs, min(workers, len(seqs)), quiet)
            if errors:
                fail(errors[0] if len(errors) == 1 else f"{len(errors)} sequences failed; first: {errors[0]}")
            return
        _track_in_turn(job, seqs, tracker, quiet)
    except (InputError, KeyError, ValueError, OSError) as e:
        fail(message(e, out))


def _exit_interrupted() -> None:
    """Leave at once after Ctrl-C or SIGTERM, once the workers are killed: no thread of this process
    (one finishing a sequence, one linking the next) may go on and write a result file after the
    interrupt, and none may keep the interpreter from exiting. Result files are written atomically,
    so none is left half-written."""
    import os
    import sys

    typer.echo("Aborted!", err=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(130)


def _track_in_turn(job: "_Job", seqs: list, tracker, quiet: bool) -> None:
    """Track ``seqs`` one after another in this process, printing each summary line in order.

    Each sequence's track filters, post-processing and result file are done on a thread while the
    clip workers link the next sequence; a video, with its own progress bar, is written before the
    next sequence starts. With clip worker processes the next sequence's linking also starts
    (its detections read on this thread, its clips queued behind the current sequence's) before the
    current one is linked, so the workers do not wait at the boundary between two sequences. Every
    sequence is linked exactly as alone: the same files, in the same order."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from ..track.parallel import resolve_backend

    ahead = int(not job.online and not job.save_video and tracker.workers > 1
                and resolve_backend(tracker.backend) == "process")
    with ThreadPoolExecutor(1, thread_name_prefix="lgmot-finish") as finishing, \
            ThreadPoolExecutor(1 + ahead, thread_name_prefix="lgmot-link") as linking:
        pending = None

        def hand_over(rest) -> None:  # in sequence order: print the previous summary, finish this one
            nonlocal pending
            rest = rest.result() if ahead else rest
            if pending is not None:
                typer.echo(pending.result())
            pending = finishing.submit(rest)
            if job.save_video:
                typer.echo(pending.result())
                pending = None

        linked: deque = deque()

        def drain() -> None:  # finish every sequence linked so far, in order, and print the last summary
            nonlocal pending
            while linked:
                hand_over(linked.popleft())
            if pending is not None:
                typer.echo(pending.result())
                pending = None

        try:
            for seq in seqs:
                try:
                    started = _start_one(job, seq, tracker, progress=not quiet, linking=linking if ahead else None)
                except Exception:  # this sequence's inputs are bad: the ones before it still finish
                    drain()
                    raise
                linked.append(started)
                while len(linked) > ahead:
                    hand_over(linked.popleft())
            drain()
        except BaseException as e:  # Ctrl-C, SIGTERM or a failed sequence: start nothing more, stop the workers now
            for ex in (linking, finishing):
                ex.shutdown(wait=False, cancel_futures=True)
            tracker.stop()  # also keeps a thread still linking ahead from forking new workers
            if isinstance(e, KeyboardInterrupt):
                _exit_interrupted()
            raise


def with_tracking_options(cfg, min_score: float | None = None, interpolate: bool | None = None,
                          recover: bool | None = None, smooth: str | None = None, untangle: bool | None = None):
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
    if untangle is not None:
        tc = replace(tc, untangle=untangle)
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
    online: bool = False
    latency: int = 30
    reid: Optional[Path] = None
    smooth_lag: int = 0


def _track_one(job: _Job, seq, tracker, progress: bool) -> str:
    """Detect, embed, track and write one sequence; returns the summary line."""
    return _start_one(job, seq, tracker, progress)()


def _start_one(job: _Job, seq, tracker, progress: bool, linking=None):
    """Detect, embed and link one sequence. Returns the rest as a function (track filters,
    post-processing, the result file and video; it returns the summary line), which may run on
    another thread while the tracker links the next sequence. With ``linking`` (an executor) the
    linking is submitted there and the future of that function is returned."""
    from ..track.run import prepare_inputs

    t0 = time.perf_counter()
    # a model trained without appearance cannot use it: do not compute it
    inputs = prepare_inputs(seq, job.detections, job.min_score, appearance=job.appearance and tracker.uses_appearance,
                            cache_dir=job.cache_dir, progress=progress, need_gt_ids=job.oracle,
                            encoder=tracker.encoder)
    if linking is not None:
        return linking.submit(_link_one, job, seq, tracker, inputs, t0, progress)
    return _link_one(job, seq, tracker, inputs, t0, progress)


def _link_one(job: _Job, seq, tracker, inputs, t0: float, progress: bool):
    """Link one sequence's prepared inputs; the rest as a function (see :func:`_start_one`)."""
    if job.online:
        from ..track.online import OnlineTracker, track_online

        on = OnlineTracker.from_tracker(tracker, latency=job.latency, fps=seq.info.fps, smooth_lag=job.smooth_lag)
        online_tracks = track_online(on, inputs.dets, seq.info.length, inputs.app)
        finish = (lambda: online_tracks)
    else:
        finish = tracker.link_detections(inputs.dets, seq.info.fps, appearance=inputs.app, gt_ids=inputs.gt_ids).finish
    return lambda: _finish_one(job, seq, tracker, inputs, finish(), t0, progress)


def _finish_one(job: _Job, seq, tracker, inputs, tracks, t0: float, progress: bool) -> str:
    from ..track.run import write_sequence_results

    path = write_sequence_results(job.out, seq, tracks)  # atomic (temporary file + rename)
    mode = f" online, latency {job.latency}," if job.online else ""
    if job.online and job.smooth_lag:
        mode += f" smoothing lag {job.smooth_lag},"
    msg = (f"{seq.name}:{mode} {len(inputs.dets)} detections -> {tracks.id.nunique()} tracks in "
           f"{time.perf_counter() - t0:.1f}s -> {path}")
    if job.appearance and seq.has_images and not tracker.uses_appearance:
        msg += " (appearance not computed: the model was trained without it)"
    elif inputs.app is not None:
        msg += f" (appearance: {tracker.appearance_note})"
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
    import sys

    from ..track.run import load_tracker

    tracker, _ = load_tracker(job.cfg, job.model, job.oracle, job.reid, job.appearance)
    if "torch" in sys.modules:  # the numpy inference path never imports it
        sys.modules["torch"].set_num_threads(threads)
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
    except BaseException as e:  # Ctrl-C, SIGTERM: no worker may go on writing result files
        kill_workers(pool)
        if isinstance(e, KeyboardInterrupt):
            _exit_interrupted()
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


def _no_display() -> str:
    """Why no OpenCV window can open here ('' when one can)."""
    import os
    import sys

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no DISPLAY or WAYLAND_DISPLAY is set"
    import cv2

    info = cv2.getBuildInformation()
    gui = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.strip().startswith("GUI:")), "")
    if gui.upper() in ("", "NONE"):
        return "this OpenCV build has no GUI (opencv-python-headless); install opencv-python"
    return ""


def _open_stream(source: str):
    """(cv2.VideoCapture, fps) of a camera index, a stream URL or a video file."""
    import cv2

    cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not cap.isOpened():
        raise InputError(source, "cannot open this camera, stream or video")
    fps = cap.get(cv2.CAP_PROP_FPS)
    return cap, (fps if fps and 0 < fps < 1000 else 30.0)


def _show_live(source: str, tracker, latency: int, smooth_lag: int, detections: str, min_score, appearance: bool,
               out, split, seqmap) -> None:
    """Online tracking of a camera, stream URL, video or sequence, drawn live; 'q' or Esc stops.
    A frame is drawn when its ids are final and its boxes smoothed (``latency + smooth_lag`` frames
    after it arrives)."""
    from collections import defaultdict, deque
    from pathlib import Path as _P

    import cv2
    import numpy as np
    import pandas as pd

    from ..data.motio import write_results
    from ..detect import detect_preset
    from ..detect.yolo import YoloV3TinyDetector
    from ..track.online import OnlineTracker
    from ..viz import draw_tracks

    path = _P(source)
    frames_of = None
    public = None
    name = "camera" if source.isdigit() else (path.stem if path.exists() else "stream")
    if path.exists() and (path.is_dir() or path.suffix.lower() not in (".mp4", ".avi", ".mkv", ".mov", ".webm")):
        from ..track.run import resolve_sources

        seq = resolve_sources(path, split, seqmap)[0]
        fps, frames_of, name = seq.info.fps, (img for _, img in seq.frames()), seq.name
        if detections == "public" and seq.detections is not None:
            public = seq.detections
    else:
        cap, fps = _open_stream(source)

        def _read():
            while True:
                ok, img = cap.read()
                if not ok:
                    return
                yield img
        frames_of = _read()
    detector = None
    if public is None:
        dcfg = detect_preset("builtin" if detections in ("public", "gt") else detections)
        detector = YoloV3TinyDetector(dcfg.input_size, conf_threshold=min_score or dcfg.min_score,
                                      nms_threshold=dcfg.nms)
    on = OnlineTracker.from_tracker(tracker, latency=latency, fps=fps, smooth_lag=smooth_lag)
    delay = on.delay
    if not appearance:
        on.uses_appearance = False
    window = f"lgmot online (latency {latency}) - {name}"
    cv2.namedWindow(window, cv2.WINDOW_NORMAL)
    held: deque = deque()
    trails: dict = defaultdict(lambda: deque(maxlen=20))
    rows_all = []

    def draw(img, res, f) -> bool:
        rows = pd.DataFrame({"id": res[:, 4].astype(int), "x": res[:, 0], "y": res[:, 1],
                             "w": res[:, 2] - res[:, 0], "h": res[:, 3] - res[:, 1]})
        if out is not None and len(res):
            rows_all.append(rows.assign(frame=f, id=rows.id - 1, score=res[:, 5]))
        cv2.imshow(window, draw_tracks(img, rows, trails))
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)

    f = 0
    try:
        for img in frames_of:
            f += 1
            if public is not None:
                d = public[public.frame == f]
                b = d[["x", "y", "w", "h"]].to_numpy(np.float64)
                det = np.column_stack([b[:, :2], b[:, :2] + b[:, 2:], d.score.to_numpy(), np.zeros(len(d))])
            else:
                r = detector(img)
                det = np.column_stack([r, np.zeros(len(r))]) if len(r) else np.zeros((0, 6))
            res = on.update(det, img)
            held.append(img)
            if f > delay:
                if not draw(held.popleft(), res, f - delay):
                    break
        else:
            for g, res in on.flush(per_frame=True):
                if not draw(held.popleft(), res, g):
                    break
    finally:
        cv2.destroyAllWindows()
    if out is not None and rows_all:
        p = write_results(named_path(out, name, ".txt"), pd.concat(rows_all, ignore_index=True))
        typer.echo(f"{name}: online, latency {latency} -> {p}")
