"""lgmot on MOT15 train by leave-sequences-out cross-validation, against peer trackers, one table.

For each of the 3 folds of ``lgmot.train.recipes.MOT15_FOLDS`` a model is trained (the CPU recipe
of the shipped model) on the other 8 sequences only, then tracks the fold's held-out sequences
from their public Faster R-CNN detections. The 11 result files are scored together with TrackEval,
and the peer trackers of ``benchmarks/peers.py`` run on the same detections in the same process
(``mot15_peers.main``), so the table compares like with like.

    python benchmarks/mot15_cv.py --data ../shared/data [--epochs 8] [--seed 42] [--language isg|isg+spg|none] [--jobs 2] [--reuse]

The detection threshold is the recipe's (``min_score`` 0.65, the reference's byte065 value); the
peers run on all detections with their own defaults and again on the same thresholded detections.

Writes ``runs/mot15_cv/`` (models, results) and ``benchmarks/results/mot15_cv.{csv,md,json}``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from jobs import run_jobs  # noqa: E402

from lgmot.data import load_sequence  # noqa: E402
from lgmot.track import Tracker  # noqa: E402
from lgmot.track.run import prepare_inputs, track_sequence, write_sequence_results  # noqa: E402
from lgmot.train import train  # noqa: E402
from lgmot.train.prepare import prepare_train_sequences  # noqa: E402
from lgmot.train.recipes import CPU_LANGUAGE, LANGUAGE, MOT15_FOLDS, MOT15_TRAIN, cpu_recipe, mot15_paths  # noqa: E402


def run_fold(k: int, data: Path, out: Path, epochs: int, depth_every: int, seed: int, language: str,
             reuse: bool = False, log=print) -> tuple[float, int]:
    isg, spg = LANGUAGE[language]
    held = MOT15_FOLDS[k]
    train_names = [n for n in MOT15_TRAIN if n not in held]
    cfg = cpu_recipe(epochs, depth_every, seed, isg, spg, name=f"lgmot-mot15-fold{k + 1}")
    run = out / f"fold{k + 1}"
    cache = out / "cache"
    from lgmot.model import load_model

    path = run / "model.safetensors"
    if reuse and path.exists():
        model, mcfg = load_model(path)
        if (mcfg.train, mcfg.model) != (cfg.train, cfg.model):
            raise SystemExit(f"{path}: trained with another recipe; --reuse needs the same one")
        log(f"fold {k + 1}: reusing the trained model in {run}")
    else:
        seqs = prepare_train_sequences(mot15_paths(data, train_names), cfg, "public", cache)
        t0 = time.perf_counter()
        res = train(cfg, seqs, run, progress=False, overwrite=True)
        log(f"fold {k + 1}: trained on {len(train_names)} sequences, {res.iterations} iterations, "
            f"{time.perf_counter() - t0:.0f}s")
        model, mcfg = load_model(path)
    # the recipe's tracker settings (inference only), so a reused model tracks as a new one would
    tracker = Tracker(replace(mcfg, tracker=cfg.tracker), model)
    assoc_s, frames = 0.0, 0
    for p in mot15_paths(data, held):
        seq = load_sequence(p)
        # public detections, no appearance (MOT15 has no images; PETS is scored the same way as the others)
        inp = prepare_inputs(seq, "public", appearance=False, progress=False)  # the model's min_score applies
        t0 = time.perf_counter()
        tracks = track_sequence(tracker, inp)
        assoc_s += time.perf_counter() - t0
        frames += seq.info.length
        write_sequence_results(out / "results", seq, tracks)
    return assoc_s, frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "mot15_cv")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--depth-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--language", choices=sorted(LANGUAGE), default=CPU_LANGUAGE,
                    help="language losses in training (default: the CPU recipe's, ISG only)")
    ap.add_argument("--jobs", type=int, default=1, help="folds trained in parallel processes (one core each)")
    ap.add_argument("--reuse", action="store_true",
                    help="track with the fold models already in --out (same training recipe) instead of retraining")
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "mot15_cv.csv")
    a = ap.parse_args()
    t_all = time.perf_counter()
    args = [(k, a.data, a.out, a.epochs, a.depth_every, a.seed, a.language, a.reuse) for k in range(len(MOT15_FOLDS))]
    done = list(run_jobs(run_fold, args, a.jobs))
    assoc_s, frames = sum(d[0] for d in done), sum(d[1] for d in done)
    fps = frames / assoc_s
    recipe = cpu_recipe()
    min_score = recipe.tracker.min_score
    name = "lgmot (3-fold CV)" + ("" if a.language == CPU_LANGUAGE else f", language {a.language}")
    import mot15_peers

    mot15_peers.main(["--data", str(a.data / "mot15_train"), "--table", str(a.table),
                      "--min-score", "0", str(min_score),
                      "--lgmot-results", str(a.out / "results"), "--lgmot-name", name, "--lgmot-fps", f"{fps:.1f}"])
    meta = {"epochs": a.epochs, "depth_every": a.depth_every, "seed": a.seed, "language": a.language,
            "min_score": min_score, "lr_schedule": recipe.train.lr_schedule, "jobs": a.jobs,
            "directional_motion": recipe.model.directional_motion,
            "frame_rate_augmentation": recipe.train.frame_rate_augmentation,
            "augmentation": recipe.train.augmentation, "loss_ignore": list(recipe.train.loss_ignore),
            "class_balance": recipe.train.class_balance,
            "folds": [list(f) for f in MOT15_FOLDS], "lgmot_assoc_fps": round(fps, 1), "reused_models": a.reuse,
            "total_seconds": round(time.perf_counter() - t_all, 1)}
    a.table.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
