"""Fewer message-passing steps at inference, on the MOT15 CV training folds.

The recipe trains the edge classifier on the last ``num_class_steps`` (11) of ``num_steps`` (12)
steps, so every step from the second on has trained logits. This runs each fold model on its own
fold's training sequences (never the held-out ones) with the numpy inference stopped after k
steps, the recipe's tracker and post-processing otherwise, and reports TrackEval COMBINED per fold
and the time of one worker's ``track_detections`` (best of 2).

    python benchmarks/diagnostics/inference_steps.py --runs runs/cv_seed42 runs/cv_seed0 --steps 4 6 8 10 12
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import postchoice  # noqa: E402

from lgmot.data import load_sequence, write_results  # noqa: E402
from lgmot.model.infer import load_inference_model  # noqa: E402
from lgmot.track import Tracker  # noqa: E402
from lgmot.track.run import prepare_inputs  # noqa: E402
from lgmot.train.recipes import MOT15_FOLDS, cpu_recipe, mot15_paths  # noqa: E402


def with_steps(model, k: int):
    """``model`` (an :class:`~lgmot.model.infer.InferenceModel`) running ``k`` steps per forward."""
    mc = replace(model.cfg, num_steps=k, num_class_steps=min(model.cfg.num_class_steps, k))
    model.cfg = mc
    for m in (model.level0, model.upper):
        if m is not None:
            m.cfg = mc
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--steps", type=int, nargs="+", default=[4, 6, 8, 10, 12])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "inference_steps")
    a = ap.parse_args()
    tc0 = cpu_recipe().tracker
    rows = []
    for run in a.runs:
        for k in (1, 2, 3):
            path = run / f"fold{k}" / "model.safetensors"
            train = [n for i, f in enumerate(MOT15_FOLDS) if i != k - 1 for n in f]
            seqs = [load_sequence(p) for p in mot15_paths(a.data, train)]
            inputs = {s.name: prepare_inputs(s, "public", appearance=False, progress=False) for s in seqs}
            for steps in a.steps:
                model, mcfg = load_inference_model(path)
                with_steps(model, steps)
                cfg = replace(mcfg, model=model.cfg, tracker=tc0)
                tr = Tracker(cfg, model, workers=1)
                best = float("inf")
                with tempfile.TemporaryDirectory() as tmp:
                    for rep in range(2):
                        t = time.perf_counter()
                        out = {s.name: tr.track_detections(inputs[s.name].dets, s.info.fps) for s in seqs}
                        best = min(best, time.perf_counter() - t)
                    for s in seqs:
                        write_results(Path(tmp) / f"{s.name}.txt", out[s.name])
                    sc = postchoice.score(a.data / "mot15_train", Path(tmp), train)
                frames = sum(s.info.length for s in seqs)
                rows.append({"run": run.name, "fold": k, "steps": steps, "seconds": best, "fps": frames / best, **sc})
                print(f"{run.name} fold {k} steps {steps:2d} HOTA {sc['HOTA']:.2f} AssA {sc['AssA']:.2f} "
                      f"IDF1 {sc['IDF1']:.2f} {frames / best:.0f} FPS", flush=True)
    import pandas as pd

    from lgmot.data.motio import atomic_write_text

    df = pd.DataFrame(rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out.with_suffix(".csv"), df.to_csv(index=False, float_format="%.3f"))
    atomic_write_text(a.out.with_suffix(".md"), report(df, a.runs, max(a.steps)))
    print(report(df, a.runs, max(a.steps)))


def report(df, runs, ref: int) -> str:
    cols = ["HOTA", "AssA", "IDF1", "fps"]
    base = df[df.steps == ref].set_index(["run", "fold"])[cols]
    lines = ["# Message-passing steps at inference, MOT15 CV training folds", "",
             f"Each fold model ({', '.join(Path(r).name for r in runs)}, trained with 12 steps, logits trained on the "
             "last 11) tracks its own fold's training sequences (never the held-out ones), numpy inference stopped "
             "after k steps; recipe tracker and post-processing. TrackEval COMBINED per fold; mean over the "
             f"{len(base)} (run, fold) pairs and the change from {ref} steps on the same pair (mean [min, max]). "
             "FPS: one worker, best of 2, frames of the fold's training sequences.", "",
             "| steps | HOTA | AssA | IDF1 | ΔHOTA [min, max] | ΔIDF1 [min, max] | FPS (1 worker) |",
             "|---:|---:|---:|---:|---|---|---:|"]
    for s, g in df.groupby("steps"):
        g = g.set_index(["run", "fold"])[cols]
        d = g - base
        m = g.mean()
        lines.append(f"| {s} | {m.HOTA:.2f} | {m.AssA:.2f} | {m.IDF1:.2f} | {d.HOTA.mean():+.2f} [{d.HOTA.min():+.2f}, "
                     f"{d.HOTA.max():+.2f}] | {d.IDF1.mean():+.2f} [{d.IDF1.min():+.2f}, {d.IDF1.max():+.2f}] | "
                     f"{m.fps:,.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
