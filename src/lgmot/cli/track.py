from __future__ import annotations

import time
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
    config: str = typer.Option("lgmot", help="Tracker config: lgmot | sushi | a YAML file."),
    model: Optional[Path] = typer.Option(None, help="Model checkpoint (.safetensors). Default: the shipped model."),
    split: Optional[str] = typer.Option(None, help="Named split of a dataset root (e.g. mot17-train)."),
    seqmap: Optional[Path] = typer.Option(None, help="Seqmap file selecting sequences of a dataset root."),
    oracle: bool = typer.Option(False, help="Score edges with GT identities (upper-bound diagnostic)."),
    interpolate: Optional[bool] = typer.Option(None, "--interpolate/--no-interpolate", help="Fill gaps inside tracks (default: the config's)."),
    save_video: bool = typer.Option(False, help="Also write <out>/<seq>.mp4 with ids and trails."),
    appearance: bool = typer.Option(True, help="Compute appearance embeddings when frames exist."),
    cache_dir: Optional[Path] = typer.Option(None, help="Where to cache embeddings (default: <out>/cache)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Track every sequence of SOURCE and write MOTChallenge result files."""
    from ..config import load_config
    from ..track.run import load_tracker, prepare_inputs, resolve_sources, track_sequence, write_sequence_results

    try:
        cfg = load_config(config) if (config != "lgmot" or not model) else None
        if cfg is None and oracle:
            cfg = load_config("lgmot")
        tracker, cfg = load_tracker(cfg, model, oracle)
        if interpolate is not None:
            from dataclasses import replace

            cfg = replace(cfg, tracker=replace(cfg.tracker, interpolate=interpolate))
            tracker.config = cfg
        seqs = resolve_sources(source, split, seqmap)
        for seq in seqs:
            t0 = time.perf_counter()
            inputs = prepare_inputs(seq, detections, min_score, appearance=appearance,
                                    cache_dir=cache_dir or out / "cache", progress=not quiet, need_gt_ids=oracle)
            tracks = track_sequence(tracker, inputs)
            path = write_sequence_results(out, seq, tracks)
            msg = f"{seq.name}: {len(inputs.dets)} detections -> {tracks.id.nunique()} tracks in {time.perf_counter() - t0:.1f}s -> {path}"
            if save_video:
                if not seq.has_images:
                    msg += " (no frames: video skipped)"
                else:
                    from ..viz import write_video

                    v = write_video(seq, tracks, out / f"{seq.name}.mp4", progress=not quiet)
                    msg += f", video {v}"
            typer.echo(msg)
    except (InputError, KeyError, ValueError) as e:
        fail(str(e).strip("'\""))
