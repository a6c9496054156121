"""``lgmot synth``: write synthetic MOT sequences with true language annotations."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app, fail


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write into; each sequence goes to OUT/<preset>."),
    preset: str = typer.Option("source", "--preset", help="source, pan, shake, night, dusk-blur, high-view, "
                               "crowded, textured, or shift-suite for all of them."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same world)."),
    frames: Optional[int] = typer.Option(None, "--frames", help="Frames per sequence (preset default 300)."),
    people: Optional[int] = typer.Option(None, "--people", help="Mean number of people at once (default 12)."),
    width: Optional[int] = typer.Option(None, "--width", help="Image width (default 640)."),
    height: Optional[int] = typer.Option(None, "--height", help="Image height (default 480)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing sequence folders."),
) -> None:
    """Write synthetic sequences: img1/, gt/gt.txt, det/det.txt, seqinfo.ini and language.json."""
    from ..synth import PRESETS, SUITE
    from ..synth import preset as make_preset
    from ..synth.generate import generate

    names = list(PRESETS) if preset == SUITE else [preset]
    if preset != SUITE and preset not in PRESETS:
        fail(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)} or {SUITE}")
    for name, value in (("frames", frames), ("people", people), ("width", width), ("height", height)):
        if value is not None and value < 1:
            fail(f"--{name} must be a positive integer, found {value}")
    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a folder")
    try:
        cfgs = [make_preset(n, seed=seed, frames=frames, people=people, width=width, height=height) for n in names]
    except ValueError as e:
        fail(str(e))
    for cfg in cfgs:
        if (out / cfg.name).exists() and not overwrite:
            fail(f"{out / cfg.name}: already exists (use --overwrite to replace it)")
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        for cfg in cfgs:
            task = bar.add_task(f"synth {cfg.name}", total=cfg.frames)
            try:
                path = generate(cfg, out, overwrite=overwrite, progress=lambda t, task=task: bar.update(task, completed=t))
            except OSError as e:
                fail(f"{out}: cannot write ({e})")
            typer.echo(f"wrote {path}")
