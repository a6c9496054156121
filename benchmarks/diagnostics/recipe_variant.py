"""A change to the CPU recipe, judged on chosen folds of the MOT15 cross-validation.

Trains the fold models of ``lgmot.train.recipes.MOT15_FOLDS`` with the CPU recipe plus ``--set``
overrides (``section.field=value``, YAML values), tracks each fold's held-out sequences (public
detections, no appearance, as ``benchmarks/mot15_cv.py``) once per ``--track`` setting of the
tracker (inference only, same models), and scores them with TrackEval over the held-out
sequences of those folds. ``--compare DIR`` adds the rows of other runs' result files (e.g. the
plain recipe's ``runs/cv_seed42/results``) scored on the same sequences. For a model with a node
head (``model.node_classifier``) it also reports how well its objectness and the raw detection
score tell the real detections (IoU >= 0.5 with a GT box) from the false ones (AUC per sequence).

    python benchmarks/diagnostics/recipe_variant.py --name objectness --folds 1 2 --jobs 2 \\
        --set model.node_classifier=true --set model.node_descriptors=true \\
        --track tracker.min_track_objectness=0 --track tracker.min_track_objectness=0.5 \\
        --compare runs/cv_seed42/results

Choose on folds 1-2 and confirm on fold 3. Writes ``runs/variant_<name>/`` (models, results) and
``benchmarks/diagnostics/results/variant_<name>.{md,csv}``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]  # the repository
sys.path.insert(0, str(ROOT / "benchmarks"))

from folds import with_overrides  # noqa: E402
from jobs import run_jobs  # noqa: E402


def run_fold(k: int, data: Path, out: Path, sets: list[str], tracks: list[str]) -> dict:
    from dataclasses import replace

    from folds import train_or_reuse

    from lgmot.data import load_sequence
    from lgmot.model import load_model
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs, track_sequence, write_sequence_results
    from lgmot.train.prepare import prepare_train_sequences
    from lgmot.train.recipes import MOT15_FOLDS, MOT15_TRAIN, cpu_recipe, mot15_paths

    held = MOT15_FOLDS[k]
    cfg = with_overrides(replace(cpu_recipe(), name=f"variant-fold{k + 1}"), sets)
    run = out / f"fold{k + 1}"
    path, _ = train_or_reuse(cfg, lambda: prepare_train_sequences(
        mot15_paths(data, [n for n in MOT15_TRAIN if n not in held]), cfg, "public", out / "cache"), run, f"fold {k + 1}")
    model, mcfg = load_model(path)
    inputs = [prepare_inputs(load_sequence(p), "public", appearance=False, progress=False, need_gt_ids=True)
              for p in mot15_paths(data, held)]
    for i, setting in enumerate([""] + tracks):
        tcfg = with_overrides(mcfg, [setting] if setting else [])
        with Tracker(tcfg, model) as tracker:
            for inp in inputs:
                write_sequence_results(out / f"results_{i}", inp.seq, track_sequence(tracker, inp))
    auc = objectness_auc(model, mcfg, inputs) if mcfg.model.node_classifier else {}
    return {"names": list(held), "auc": auc}


def objectness_auc(model, cfg, inputs) -> dict[str, tuple[float, float]]:
    """Per sequence: (AUC of the level-0 objectness, AUC of the detection score) for real against false
    detections among the tracked ones (each detection scored in the first clip that holds it)."""
    from edge_separability import auc
    from folds import clip_tracklets

    from lgmot.track import ModelScorer, run_levels

    tc, scorer, out = cfg.tracker, ModelScorer(model), {}
    for inp in inputs:
        d, gt, clips = clip_tracklets(inp, tc)
        scores = d.score.to_numpy()
        obj = np.full(len(d), np.nan)
        for start, lo, hi, t0 in clips:
            res = run_levels(t0, tc, inp.seq.info.fps, start, scorer, cfg.model.graph_features)
            if res.objectness is not None:
                part = obj[lo:hi]
                part[np.isnan(part)] = res.objectness[np.isnan(part)]
        ok, real = ~np.isnan(obj), gt >= 0
        out[inp.seq.name] = (auc(obj[ok], real[ok]), auc(scores[ok], real[ok]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--set", action="append", default=[], help="training/model override section.field=value")
    ap.add_argument("--track", action="append", default=[], help="an extra tracking setting section.field=value")
    ap.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--compare", type=Path, action="append", default=[], help="other result folders to score")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    import pandas as pd

    from lgmot.data.motio import atomic_write_text
    from lgmot.evaluate import evaluate
    from lgmot.train.recipes import cpu_recipe

    with_overrides(cpu_recipe(), a.set + a.track)  # a bad override fails before any training
    t0 = time.perf_counter()
    out = ROOT / "runs" / f"variant_{a.name}"
    done = list(run_jobs(run_fold, [(k - 1, a.data, out, a.set, a.track) for k in a.folds], a.jobs))
    names = sorted(n for d in done for n in d["names"])
    labels = ["recipe" + "".join(f" + {s}" for s in a.set)]
    labels += [f"{labels[0]}, {t}" for t in a.track]
    dirs = [out / f"results_{i}" for i in range(len(labels))] + a.compare
    labels += [f"results in {c}" for c in a.compare]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        seqmap = Path(tmp) / "seqmap.txt"
        seqmap.write_text("name\n" + "\n".join(names) + "\n")
        for label, d in zip(labels, dirs):
            r = evaluate(a.data / "mot15_train", d, seqmap=seqmap).loc["COMBINED"]
            rows.append({"variant": label, **{c: round(float(r[c]), 1) for c in ("HOTA", "DetA", "AssA", "MOTA", "IDF1")},
                         "IDSW": int(r["IDSW"])})
            print(rows[-1], flush=True)
    path = ROOT / "benchmarks" / "diagnostics" / "results" / f"variant_{a.name}"
    atomic_write_text(path.with_suffix(".csv"), pd.DataFrame(rows).to_csv(index=False))
    lines = [f"# Recipe variant `{a.name}`", "", f"Folds {a.folds} of the MOT15 CV ({', '.join(names)}), seed "
             f"{cpu_recipe().train.seed}; TrackEval COMBINED over those sequences.", "",
             "| variant | HOTA | DetA | AssA | MOTA | IDF1 | IDSW |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['variant']} | {r['HOTA']} | {r['DetA']} | {r['AssA']} | {r['MOTA']} | {r['IDF1']} | {r['IDSW']} |"
              for r in rows]
    aucs = {n: v for d in done for n, v in d["auc"].items()}
    if aucs:
        lines += ["", "Real (IoU >= 0.5 with a GT box) against false tracked detections, AUC:", "",
                  "| sequence | objectness | detection score |", "|---|---:|---:|"]
        lines += [f"| {n} | {o:.3f} | {s:.3f} |" for n, (o, s) in sorted(aucs.items())]
    cmd = " ".join(["python benchmarks/diagnostics/recipe_variant.py"] + sys.argv[1:])
    lines += ["", f"`{cmd}`, {time.perf_counter() - t0:.0f} s."]
    atomic_write_text(path.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
