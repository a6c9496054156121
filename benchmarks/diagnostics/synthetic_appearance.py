"""Does appearance learned on the synthetic world carry over to real video?

Of the 11 MOT15 train sequences only PETS09-S2L1 has video here, so a CV fold model learns to use
appearance from it alone, and the fold that holds PETS09-S2L1 out (fold 2) never sees any. This
benchmark adds four synthetic sequences (``lgmot synth`` presets source, pan, crowded, high-view;
300 frames each, rendered people with their true identities) to fold 2's training data, once with
their appearance (MobileNetV2 embeddings of the rendered crops) and once without, and tracks the
held-out PETS09-S2L1 (public detections) with and without its appearance, and fold 2's four
held-out sequences without appearance as in the CV. ``--baseline RUN`` adds the rows of a plain
CV run's fold-2 model (e.g. ``runs/cv_seed42``). A second table runs the other direction: the shipped
model (whose appearance was learned on PETS09-S2L1 only) on the four synthetic sequences, video it
never saw, with and without their appearance.

    python benchmarks/diagnostics/synthetic_appearance.py --data ../shared/data --jobs 2 --baseline runs/cv_seed42

Writes ``runs/synthetic_appearance/`` (sequences, models) and
``benchmarks/diagnostics/results/synthetic_appearance.{md,csv}``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
sys.path.insert(0, str(ROOT / "benchmarks"))

from jobs import run_jobs  # noqa: E402

SYNTH = (("source", 0), ("pan", 1), ("crowded", 2), ("high-view", 3))
FOLD = 1  # MOT15_FOLDS[1] holds out PETS09-S2L1


def synthetic_sequences(out: Path) -> list[Path]:
    from lgmot.synth import generate
    from lgmot.synth.config import preset

    paths = []
    for name, seed in SYNTH:
        root = out / f"s{seed}"
        if not (root / name / "gt" / "gt.txt").exists():
            generate(preset(name, frames=300, seed=seed), root, overwrite=True)
        paths.append(root / name)
    return paths


def train_variant(variant: str, data: Path, out: Path) -> tuple[Path, bool]:
    """Fold 2's model with the synthetic sequences, their appearance used ('app') or not ('noapp')."""
    from dataclasses import replace

    from folds import train_or_reuse

    from lgmot.train.prepare import prepare_train_sequences
    from lgmot.train.recipes import MOT15_FOLDS, MOT15_TRAIN, cpu_recipe, mot15_paths

    cfg = replace(cpu_recipe(), name=f"synapp-{variant}")

    def sequences() -> list:
        names = [n for n in MOT15_TRAIN if n not in MOT15_FOLDS[FOLD]]
        seqs = prepare_train_sequences(mot15_paths(data, names), cfg, "public", out / "cache")
        return seqs + prepare_train_sequences(synthetic_sequences(out), cfg, "public", out / "cache",
                                              appearance=variant == "app")

    return train_or_reuse(cfg, sequences, out / variant, variant)


def score(model_path: Path, data: Path, cache: Path) -> list[dict]:
    from lgmot.data import load_sequence
    from lgmot.evaluate import evaluate
    from lgmot.model import load_model
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs, track_sequence, write_sequence_results
    from lgmot.train.recipes import MOT15_FOLDS, mot15_paths

    model, cfg = load_model(model_path)
    held = MOT15_FOLDS[FOLD]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Tracker(cfg, model) as tracker:
        tmp = Path(tmp)
        pets = load_sequence(data / "pets09_s2l1")
        runs = [(f"PETS09-S2L1, appearance {'on' if a else 'off'}", [pets], a) for a in (False, True)]
        runs.append(("fold 2 held-out, appearance off", [load_sequence(p) for p in mot15_paths(data, held)], False))
        for k, (label, seqs, app) in enumerate(runs):
            res = tmp / str(k)
            for seq in seqs:
                inp = prepare_inputs(seq, "public", appearance=app, progress=False, cache_dir=cache)
                write_sequence_results(res, seq, track_sequence(tracker, inp))
            seqmap = tmp / f"seqmap{k}.txt"
            seqmap.write_text("name\n" + "\n".join(s.name for s in seqs) + "\n")
            r = evaluate(data / "mot15_train", res, seqmap=seqmap).loc["COMBINED"]
            rows.append({"test": label, **{c: round(float(r[c]), 1) for c in ("HOTA", "AssA", "MOTA", "IDF1")},
                         "IDSW": int(r["IDSW"])})
    return rows


def shipped_on_synthetic(out: Path) -> list[dict]:
    """The shipped model on the synthetic sequences (their own detections), appearance off and on."""
    from lgmot.data import load_sequence
    from lgmot.evaluate import evaluate
    from lgmot.track.run import load_tracker, prepare_inputs, track_sequence, write_sequence_results

    paths = synthetic_sequences(out)
    tracker, _ = load_tracker(None, None, oracle=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, tracker:
        gt = Path(tmp) / "gt"
        gt.mkdir()
        for p in paths:
            (gt / p.name).symlink_to(p.resolve(), target_is_directory=True)
        for app in (False, True):
            res = Path(tmp) / str(app)
            for p in paths:
                seq = load_sequence(p)
                inp = prepare_inputs(seq, "public", appearance=app, progress=False, cache_dir=out / "cache")
                write_sequence_results(res, seq, track_sequence(tracker, inp))
            r = evaluate(gt, res).loc["COMBINED"]
            rows.append({"appearance": "on" if app else "off",
                         **{c: round(float(r[c]), 1) for c in ("HOTA", "AssA", "MOTA", "IDF1")}, "IDSW": int(r["IDSW"])})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "synthetic_appearance")
    ap.add_argument("--baseline", type=Path, help="a mot15_cv.py run whose fold2 model to score as well")
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    import pandas as pd

    from lgmot.data.motio import atomic_write_text

    t0 = time.perf_counter()
    synthetic_sequences(a.out)  # once, before the parallel trainings read them
    models = list(run_jobs(train_variant, [(v, a.data, a.out) for v in ("app", "noapp")], a.jobs))
    reused = all(r for _, r in models)
    variants = [("+ synthetic sequences with appearance", models[0][0]),
                ("+ synthetic sequences, no appearance", models[1][0])]
    if a.baseline:
        variants.insert(0, (f"the recipe ({a.baseline.name}/fold2)", a.baseline / "fold2" / "model.safetensors"))
    rows = [{"fold-2 model": label, **r} for label, path in variants for r in score(path, a.data, a.out / "cache")]
    for r in rows:
        print(r, flush=True)
    path = ROOT / "benchmarks" / "diagnostics" / "results" / "synthetic_appearance"
    atomic_write_text(path.with_suffix(".csv"), pd.DataFrame(rows).to_csv(index=False))
    lines = ["# Synthetic appearance in training, real video at test", "",
             "Fold 2 of the MOT15 CV (PETS09-S2L1 held out), seed 42, public detections; TrackEval COMBINED.", "",
             "| fold-2 model | test | HOTA | AssA | MOTA | IDF1 | IDSW |", "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['fold-2 model']} | {r['test']} | {r['HOTA']} | {r['AssA']} | {r['MOTA']} | {r['IDF1']} | {r['IDSW']} |"
              for r in rows]
    shipped = shipped_on_synthetic(a.out)
    lines += ["", "The shipped model (appearance learned on PETS09-S2L1 only) on the four synthetic sequences "
              "(their own detections; TrackEval COMBINED):", "",
              "| appearance | HOTA | AssA | MOTA | IDF1 | IDSW |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['appearance']} | {r['HOTA']} | {r['AssA']} | {r['MOTA']} | {r['IDF1']} | {r['IDSW']} |" for r in shipped]
    cmd = " ".join(["python benchmarks/diagnostics/synthetic_appearance.py"] + sys.argv[1:])
    lines += ["", f"`{cmd}`, {time.perf_counter() - t0:.0f} s"
              + (" (both fold models reused from an earlier run of this command; training them takes about 10 min)."
                 if reused else ".")]
    atomic_write_text(path.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
