from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

import typer

from . import app, fail, message, prepare_out_dir, terminate_like_interrupt
from ..errors import InputError, named_path

DEMO_SEQ = "pets09_s2l1"
# the copy shipped inside the package (video, gt, seqinfo; licences in its LICENSE.md)
PACKAGED_DEMO = Path(__file__).resolve().parents[1] / "assets" / "demo" / DEMO_SEQ


def find_demo_data(explicit: Path | None = None) -> Path:
    """The PETS09-S2L1 folder: --data, then $LGMOT_DATA/pets09_s2l1, then the copy shipped with the
    package, then ``shared/data`` next to the current folder or next to the lgmot checkout."""
    if explicit is not None:
        return explicit
    here = Path(__file__).resolve()
    candidates = []
    if os.environ.get("LGMOT_DATA"):
        candidates.append(Path(os.environ["LGMOT_DATA"]) / DEMO_SEQ)
    candidates.append(PACKAGED_DEMO)
    candidates += [Path.cwd() / ".." / "shared" / "data" / DEMO_SEQ, Path.cwd() / "shared" / "data" / DEMO_SEQ]
    candidates += [p / "shared" / "data" / DEMO_SEQ for p in here.parents[:6]]
    for c in candidates:
        if (c / "seqinfo.ini").is_file():
            return c.resolve()
    raise InputError(None, "PETS09-S2L1 not found (the package's copy is missing): set LGMOT_DATA to the folder "
                           "holding pets09_s2l1/ (video vtest.avi + gt/ + seqinfo.ini) or pass --data")


@app.command()
def demo(
    data: Optional[Path] = typer.Option(None, help="PETS09-S2L1 folder (default: $LGMOT_DATA/pets09_s2l1, else the copy shipped with lgmot)."),
    out: Path = typer.Option(Path("lgmot-demo"), "--out", "-o", help="Where results, video and metrics go."),
    frames: Optional[int] = typer.Option(None, help="Only the first N frames (quick look)."),
    reid: Optional[Path] = typer.Option(None, help="OSNet ReID weights (torchreid .pth): use the shipped model trained "
                                                   "with them. Default: $LGMOT_REID_WEIGHTS, else MobileNetV2."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Run the whole pipeline on PETS09-S2L1: video -> YOLOv3-tiny -> appearance (MobileNetV2, or OSNet
    with --reid / $LGMOT_REID_WEIGHTS) -> graph tracker (shipped model) -> annotated video + results ->
    HOTA / IDF1 / MOTA."""
    from ..evaluate import format_table
    from ..evaluate.sequences import evaluate_sequences
    from ..track.run import load_tracker, prepare_inputs, track_sequence, write_sequence_results
    from ..data import load_sequence
    from ..viz import write_video

    terminate_like_interrupt()
    try:
        prepare_out_dir(out)
        t_all = time.perf_counter()
        folder = find_demo_data(data)
        seq = load_sequence(folder)
        if frames is not None:
            seq = seq.truncated(frames)
        typer.echo(f"data:     {folder}\nsequence: {seq}")
        tracker, cfg = load_tracker(None, None, oracle=False, reid=reid)
        typer.echo(f"appearance: {tracker.appearance_note}")
        t0 = time.perf_counter()
        inputs = prepare_inputs(seq, "builtin", appearance=tracker.uses_appearance, cache_dir=out / "cache",
                                progress=not quiet, encoder=tracker.encoder)
        t_prep = time.perf_counter() - t0
        t0 = time.perf_counter()
        tracks = track_sequence(tracker, inputs)
        t_track = time.perf_counter() - t0
        res = write_sequence_results(out, seq, tracks)
        video = write_video(seq, tracks, named_path(out, seq.name, ".mp4"), progress=not quiet)
        df = evaluate_sequences([seq], {seq.name: tracks})
        df.to_csv(out / "metrics.csv")
        typer.echo(format_table(df, columns=["HOTA", "IDF1", "MOTA", "DetA", "AssA", "IDSW"]))
        row = df.loc[seq.name]
        typer.echo(f"{seq.name}: HOTA {row.HOTA:.1f}  IDF1 {row.IDF1:.1f}  MOTA {row.MOTA:.1f}  "
                   f"({len(inputs.dets)} detections, {tracks.id.nunique()} tracks)")
        typer.echo(f"detect+embed {t_prep:.1f}s, tracking {t_track:.1f}s, total {time.perf_counter() - t_all:.1f}s")
        typer.echo(f"results: {res}\nvideo:   {video}\nmetrics: {out / 'metrics.csv'}")
    except (InputError, ValueError, OSError) as e:
        fail(message(e, out))
