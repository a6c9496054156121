from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from . import app, fail, message, prepare_out_dir, terminate_like_interrupt
from ..errors import InputError


@app.command()
def train(
    data: Path = typer.Option(..., help="Dataset root, or one sequence folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: checkpoints, metrics.csv, val.csv, config.yaml."),
    config: str = typer.Option("lgmot", help="lgmot | sushi | a YAML file."),
    split: Optional[str] = typer.Option(None, help="Training split of the dataset root."),
    seqmap: Optional[Path] = typer.Option(None, help="Seqmap of training sequences."),
    val_split: Optional[str] = typer.Option(None, help="Validation split (best checkpoint by IDF1)."),
    val_seqmap: Optional[Path] = typer.Option(None, help="Seqmap of validation sequences."),
    detections: str = typer.Option("public", help="public | gt | a det FILE name inside each sequence."),
    epochs: Optional[int] = typer.Option(None, help="Override train.epochs."),
    resume: bool = typer.Option(False, help="Continue from <out>/last.safetensors exactly where it stopped."),
    overwrite: bool = typer.Option(False, help="Start afresh in an --out folder that holds an earlier run "
                                               "(its metrics.csv and val.csv are replaced)."),
    appearance: bool = typer.Option(True, help="Use appearance embeddings where frames exist."),
    text_encoder: Optional[str] = typer.Option(None, help="Text encoder for language losses (minilm | clip). Default: the config's."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Train the hierarchical MPN (focal loss + optional ISG/SPG language guidance)."""
    from ..config import load_config
    from ..train import train as run_train
    from ..train.distributed import DistContext
    from ..train.prepare import make_validator, prepare_train_sequence
    from ..track.run import prepare_inputs, resolve_sources

    terminate_like_interrupt()
    try:
        prepare_out_dir(out)
        cfg = load_config(config)
        if epochs is not None:
            cfg = replace(cfg, train=replace(cfg.train, epochs=epochs))
        if os.environ.get("RANK", "0") == "0":  # before any preparation, and before config.yaml is replaced
            from ..train.loop import check_run_dir

            check_run_dir(out, cfg, resume, overwrite)
        dist = DistContext.from_env()
        enc = None
        if cfg.train.isg_weight > 0 or cfg.train.spg_weight > 0:
            from ..language import load_text_encoder

            try:
                enc = load_text_encoder(text_encoder or cfg.train.text_encoder)
            except ImportError as e:
                typer.echo(f"warning: language losses off ({e})", err=True)
        train_seqs = resolve_sources(data, split, seqmap)
        cache = out / "cache"
        tseqs = [prepare_train_sequence(s, cfg, detections, appearance, cache, not quiet, enc) for s in train_seqs]
        validate = None
        if val_split or val_seqmap:
            vseqs = resolve_sources(data, val_split, val_seqmap)
            vin = [prepare_inputs(s, detections, appearance=appearance, cache_dir=cache, progress=False) for s in vseqs]
            validate = make_validator(cfg, vin, vseqs)
        cfg.save(out / "config.yaml")
        res = run_train(cfg, tseqs, out, validate=validate, resume=resume, overwrite=overwrite, progress=not quiet,
                        log=typer.echo, distributed=dist)
        typer.echo(f"done: {res.iterations} iterations; last {res.last_checkpoint}; best {res.best_checkpoint}")
    except (InputError, ValueError, KeyError, OSError) as e:
        fail(message(e, out))
