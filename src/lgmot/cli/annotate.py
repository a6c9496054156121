from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from . import app, fail
from ..errors import InputError, named_path


@app.command()
def annotate(
    seqs: list[Path] = typer.Argument(..., help="MOT sequence folder(s) with gt/gt.txt (frames optional)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output JSON file (one sequence) or folder "
                                       "(<out>/<seq>.json). Default: <seq>/language.json."),
    crops_per_track: int = typer.Option(10, min=1, help="Crops sampled per track for clothing colours."),
    instances: bool = typer.Option(True, help="Also describe every GT track (instance level)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Write automatic scene and instance descriptions (language.json) for each sequence."""
    from ..data import load_sequence
    from ..language.annotate import AnnotateOptions, annotate_sequence

    try:
        if out is not None and len(seqs) > 1 and out.suffix.lower() == ".json":
            raise InputError(out, "several sequences need --out to be a folder")
        opts = AnnotateOptions(crops_per_track=crops_per_track, instances=instances)
        for p in seqs:
            t0 = time.perf_counter()
            seq = load_sequence(p)
            ann = annotate_sequence(seq, options=opts, progress=not quiet)
            if out is None:
                if seq.root is None:
                    raise InputError(p, "a plain video has no folder to write language.json into; pass --out")
                dest = seq.root / "language.json"
            elif out.suffix.lower() == ".json":
                dest = out
            else:
                dest = named_path(out, seq.name, ".json")
            try:
                ann.write(dest)
            except OSError as e:
                raise InputError(dest, f"cannot write ({e.strerror})") from None
            if not quiet:
                typer.echo(f"{seq.name}: scene + {len(ann.instances)} instances in "
                           f"{time.perf_counter() - t0:.1f}s -> {dest}")
    except InputError as e:
        fail(str(e))
