"""``lgmot eval``: score tracker results against ground truth with TrackEval."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app, fail, run_guarded


@app.command("eval")
def eval_cmd(
    gt: Path = typer.Option(..., "--gt", help="GT root: folder of <seq>/gt/gt.txt or <seq>/gt.txt (or one sequence)."),
    results: Path = typer.Option(..., "--results", help="Folder with one <seq>.txt result per sequence."),
    seqmap: Optional[Path] = typer.Option(None, "--seqmap", help="Seqmap ('name' header, then sequences). "
                                          "Default: every sequence with GT."),
    preproc: bool = typer.Option(False, "--preproc/--no-preproc",
                                 help="TrackEval MOT17/MOT20 preprocessing (drop distractor matches, keep class 1)."),
    benchmark: str = typer.Option("MOT17", "--benchmark", help="MOT15, MOT16, MOT17 or MOT20 (MOT20 adds a distractor class)."),
    gt_file: str = typer.Option("gt.txt", "--gt-file", help="GT file name inside each sequence, e.g. gt_val_half.txt."),
    allow_missing: bool = typer.Option(False, "--allow-missing",
                                       help="Score a sequence without a result file as empty instead of failing."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write all metrics to this CSV file."),
) -> None:
    """Compute HOTA, CLEAR (MOTA) and Identity (IDF1) metrics with TrackEval; print a table."""
    from ..evaluate import evaluate, format_table, write_metrics_csv

    if benchmark.upper() not in ("MOT15", "MOT16", "MOT17", "MOT20"):
        fail(f"--benchmark must be MOT15, MOT16, MOT17 or MOT20, not {benchmark!r}")
    df = run_guarded(evaluate, gt, results, seqmap=seqmap, preproc=preproc, benchmark=benchmark.upper(),
                     gt_file=gt_file, allow_missing=allow_missing)
    typer.echo(format_table(df), nl=False)
    if out is not None:
        try:
            write_metrics_csv(df, out)
        except OSError as e:
            fail(f"{out}: cannot write ({e.strerror})")
        typer.echo(f"metrics written to {out}")
