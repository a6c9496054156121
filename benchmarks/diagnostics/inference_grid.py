"""Inference-time tracker settings on the MOT15 CV training folds: each fold's model tracks its own
training sequences (never its held-out ones) with one ``TrackerConfig`` change at a time, the
recipe's post-processing kept; TrackEval COMBINED per fold.

    python benchmarks/diagnostics/inference_grid.py --runs runs/cv_seed42 [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import postchoice  # noqa: E402

from lgmot.data import load_sequence, write_results  # noqa: E402
from lgmot.model import load_model  # noqa: E402
from lgmot.track import Tracker  # noqa: E402
from lgmot.track.run import prepare_inputs  # noqa: E402
from lgmot.train.recipes import MOT15_FOLDS, cpu_recipe, mot15_paths  # noqa: E402

VARIANTS = {
    "recipe": {},
    "top_k_nns 20": {"top_k_nns": 20},
    "top_k_nns 5": {"top_k_nns": 5},
    "graph_overlap 0.75": {"graph_overlap": 0.75},
    "min_track_len 5": {"min_track_len": 5},
    "min_track_len 10": {"min_track_len": 10},
    "min_score 0.6": {"min_score": 0.6},
    "min_score 0.7": {"min_score": 0.7},
    "static_singletons": {"static_singletons": True},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "inference_grid",
                    help="result files' stem (.csv and .md)")
    a = ap.parse_args()
    tc0 = cpu_recipe().tracker
    rows = []
    for run in a.runs:
        for k in (1, 2, 3):
            model, mcfg = load_model(run / f"fold{k}" / "model.safetensors")
            train = [n for i, f in enumerate(MOT15_FOLDS) if i != k - 1 for n in f]
            seqs = [load_sequence(p) for p in mot15_paths(a.data, train)]
            inputs = {s.name: prepare_inputs(s, "public", appearance=False, progress=False) for s in seqs}
            for name in a.variants:
                cfg = replace(mcfg, tracker=replace(tc0, **VARIANTS[name]).validate())
                tr = Tracker(cfg, model, workers=1)
                with tempfile.TemporaryDirectory() as tmp:
                    for s in seqs:
                        write_results(Path(tmp) / f"{s.name}.txt", tr.track_detections(inputs[s.name].dets, s.info.fps))
                    sc = postchoice.score(a.data / "mot15_train", Path(tmp), train)
                rows.append({"run": run.name, "fold": k, "variant": name, **sc})
                print(f"{run.name} fold {k} {name:22s} HOTA {sc['HOTA']:.2f} AssA {sc['AssA']:.2f} "
                      f"IDF1 {sc['IDF1']:.2f}", flush=True)
    import pandas as pd

    from lgmot.data.motio import atomic_write_text

    df = pd.DataFrame(rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out.with_suffix(".csv"), df.to_csv(index=False, float_format="%.3f"))
    atomic_write_text(a.out.with_suffix(".md"), report(df, a.runs))
    print(report(df, a.runs))


def report(df, runs) -> str:
    cols = ["HOTA", "AssA", "IDF1"]
    base = df[df.variant == "recipe"].set_index(["run", "fold"])[cols]
    stats = []
    for v, g in df.groupby("variant", sort=False):
        g = g.set_index(["run", "fold"])[cols]
        d = g - base
        stats.append((v, g.mean(), d.mean(), d.min(), d.max()))
    lines = ["# Inference-time tracker settings on the MOT15 CV training folds", "",
             f"Each fold model ({', '.join(Path(r).name for r in runs)}) tracks its own fold's training sequences "
             "(never the held-out ones) with one `TrackerConfig` change from the CPU recipe; the recipe's "
             "post-processing (interpolation + GP smoothing) is kept. TrackEval COMBINED per fold; the mean over "
             f"the {len(base)} (run, fold) pairs, and the change from the recipe on the same pair (mean, worst, best).",
             "", "| variant | HOTA | AssA | IDF1 | ΔHOTA mean [min, max] | ΔIDF1 mean [min, max] |",
             "|---|---:|---:|---:|---|---|"]
    for v, m, dm, dn, dx in sorted(stats, key=lambda r: -r[1].HOTA):
        lines.append(f"| {v} | {m.HOTA:.2f} | {m.AssA:.2f} | {m.IDF1:.2f} | {dm.HOTA:+.2f} [{dn.HOTA:+.2f}, "
                     f"{dx.HOTA:+.2f}] | {dm.IDF1:+.2f} [{dn.IDF1:+.2f}, {dx.IDF1:+.2f}] |")
    return "\n".join(lines) + "\n"

if __name__ == "__main__":
    main()
