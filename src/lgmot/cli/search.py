"""``lgmot search``: rank a sequence's tracks against a sentence (ISG-aligned node features)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app, fail
from ..errors import InputError


@app.command()
def search(
    source: Path = typer.Argument(..., help="The sequence folder or video that was tracked."),
    results: Path = typer.Option(..., "--results", help="Results folder of `lgmot track` (holds <seq>.txt)."),
    query: str = typer.Option(..., "--query", "-q", help='A sentence, e.g. "a person in a red top and dark trousers".'),
    top: int = typer.Option(5, "--top", min=1, help="Print (and show on the contact sheet) this many tracks."),
    as_json: bool = typer.Option(False, "--json", help='Print [{"id": int, "score": float}, ...] best first, nothing else.'),
    model: Optional[Path] = typer.Option(None, "--model", help="A model trained with ISG and appearance "
                                                                "(default: the shipped search model)."),
    sheet: Optional[Path] = typer.Option(None, "--sheet", help="Contact sheet PNG (default: RESULTS/<seq>_search.png)."),
    reduce: str = typer.Option("mean", "--reduce", help="mean: all of a track's detections; best: its --best-k closest."),
    score: str = typer.Option("kl", "--score", help="kl: minus the ISG divergence; relative: its drop below the "
                                                    "divergence to the uniform target (removes the query-independent part)."),
    best_k: int = typer.Option(8, "--best-k", min=1),
    max_dets: int = typer.Option(48, "--max-dets", min=1, help="Detections embedded per track (evenly spread)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Rank the tracks of SOURCE's result file by how well they match a sentence, and write a contact sheet."""
    from ..data import load_sequence
    from ..data.motio import read_results
    from ..language.search import SearchConfig, contact_sheet, load_search_model, ranking_json
    from ..language.search import search as run_search

    try:
        scfg = SearchConfig(reduce=reduce, best_k=best_k, max_dets=max_dets, score=score).validate()
        net, cfg = load_search_model(model)
        if not source.exists():
            raise InputError(source, "no such file or folder")
        seq = load_sequence(source)
        res_file = results / f"{seq.name}.txt"
        if not res_file.is_file():
            raise InputError(res_file, f"no result file for sequence {seq.name} (run `lgmot track {source} --out {results}`)")
        tracks = read_results(res_file, seq.info.length)
        out = run_search(seq, tracks, query, net, cfg, search_config=scfg, progress=not (quiet or as_json))
        best = out.ranking[:top]
        path = contact_sheet(sheet or results / f"{seq.name}_search.png", seq, out.index.rows, best,
                             title=f"{seq.name}: \"{query}\"")
    except (InputError, ValueError) as e:
        fail(str(e).strip("'\""))
    if as_json:
        typer.echo(ranking_json(best))
        typer.echo(f"contact sheet: {path}", err=True)
        return
    typer.echo(f"{seq.name}: {len(out.ranking)} tracks ranked for \"{query}\" (score: minus the mean ISG divergence)")
    for rank, (tid, score) in enumerate(best, 1):
        typer.echo(f"{rank:3d}. id {tid:5d}  score {score:.5f}")
    typer.echo(f"contact sheet: {path}")
