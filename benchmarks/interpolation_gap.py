"""What interpolation over the gaps inside tracks is worth, and what a limit on the gap does.

Uses the fold models of one or more ``benchmarks/mot15_cv.py`` runs (``RUN/fold{k}/model.safetensors``):
each fold's held-out sequences are tracked once without interpolation (public detections >= the
model's ``min_score``, no appearance), then ``lgmot.solve.interpolate`` fills the gaps of every
length, none, or only those up to a limit in frames or seconds (``tracker.interpolate_max_gap_s``).
TrackEval COMBINED over the 11 MOT15 train sequences, one row per variant and run, and the mean
over the runs. Diagnostic: the tracker's default (every gap, as the reference) is not changed here.

    python benchmarks/interpolation_gap.py --runs runs/cv_s6 runs/cv_s6_s0 runs/cv_s6_s1 --data ../shared/data

Writes ``benchmarks/results/interpolation_gap.{md,csv}``.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")
#: name -> (max gap in frames, or in seconds); None: no limit; 0 frames: no interpolation
VARIANTS = {
    "no interpolation": ("frames", 0),
    "every gap (default, the reference)": (None, None),
    "gaps <= 5 frames": ("frames", 5),
    "gaps <= 20 frames (ByteTrack's)": ("frames", 20),
    "gaps <= 0.5 s": ("seconds", 0.5),
    "gaps <= 1 s": ("seconds", 1.0),
    "gaps <= 2 s": ("seconds", 2.0),
}


def max_gap(kind, value, fps: float):
    if kind is None:
        return None
    return int(value) if kind == "frames" else int(math.floor(value * fps))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=Path, nargs="+", default=[ROOT / "runs" / "mot15_cv"])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "interpolation_gap")
    a = ap.parse_args()

    import pandas as pd

    from lgmot.data import load_sequence
    from lgmot.data.motio import atomic_write_text, write_results
    from lgmot.evaluate import evaluate
    from lgmot.model import load_model
    from lgmot.solve import interpolate
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs, track_sequence
    from lgmot.train.recipes import MOT15_FOLDS, MOT15_TRAIN

    t0 = time.perf_counter()
    mot15 = a.data / "mot15_train"
    seqs = {n: load_sequence(mot15 / n) for n in MOT15_TRAIN}
    inputs = {n: prepare_inputs(s, "public", appearance=False, progress=False) for n, s in seqs.items()}
    rows = []
    with tempfile.TemporaryDirectory(prefix="lgmot_interp_") as tmp:
        seqmap = Path(tmp) / "seqmap.txt"
        seqmap.write_text("name\n" + "\n".join(MOT15_TRAIN) + "\n")
        for run in a.runs:
            raw = {}
            for k, held in enumerate(MOT15_FOLDS):
                path = run / f"fold{k + 1}" / "model.safetensors"
                if not path.exists():
                    sys.exit(f"{path}: no fold model; run benchmarks/mot15_cv.py --out {run} first")
                model, cfg = load_model(path)
                cfg = replace(cfg, tracker=replace(cfg.tracker, interpolate=False))
                with Tracker(cfg, model) as tracker:
                    for n in held:
                        raw[n] = track_sequence(tracker, inputs[n])
            for name, (kind, value) in VARIANTS.items():
                res = Path(tmp) / f"{run.name}_{len(rows)}"
                for n, tracks in raw.items():
                    g = max_gap(kind, value, seqs[n].info.fps)
                    write_results(res / f"{n}.txt", tracks if g == 0 else interpolate(tracks, g))
                c = evaluate(mot15, res, seqmap=seqmap).loc["COMBINED"]
                rows.append({"run": run.name, "variant": name, **{m: float(c[m]) for m in METRICS}})
                print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df.round(2).to_csv(a.out.with_suffix(".csv.tmp"), index=False)
    a.out.with_suffix(".csv.tmp").replace(a.out.with_suffix(".csv"))
    mean = df.groupby("variant", sort=False)[list(METRICS)].mean()
    lines = ["# Interpolation of the gaps inside tracks, with and without a limit", "",
             f"Fold models from {', '.join(f'`{r}`' for r in a.runs)}; each fold's held-out sequences tracked "
             "once without interpolation, then filled as named. TrackEval COMBINED over the 11 MOT15 train "
             f"sequences, mean over the {len(a.runs)} run(s).", "",
             "| variant | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    for name, r in mean.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{r[m]:.0f}" if m == "IDSW" else f"{r[m]:.1f}" for m in METRICS) + " |")
    lines += ["", f"`python benchmarks/interpolation_gap.py --runs {' '.join(str(r) for r in a.runs)}`, "
              f"{time.perf_counter() - t0:.0f} s."]
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
