"""lgmot on MOT15 train by leave-sequences-out cross-validation, against peer trackers, one table.

For each of the 3 folds of ``lgmot.train.recipes.MOT15_FOLDS`` a model is trained (the CPU recipe
of the shipped model) on the other 8 sequences only, then tracks the fold's held-out sequences
from their public Faster R-CNN detections. The 11 result files are scored together with TrackEval,
and the peer trackers of ``benchmarks/peers.py`` run on the same detections in the same process
(``mot15_peers.main``), so the table compares like with like.

    python benchmarks/mot15_cv.py --data ../shared/data [--epochs 8] [--seed 42] [--language isg|isg+spg|isg+spg-last|none] [--jobs 2] [--reuse] [--no-choose] [--synthetic] [--steps 12] [--set SECTION.FIELD=VALUE] [--table FILE.csv]

The detection threshold is the recipe's (``min_score`` 0.65, the reference's byte065 value); the
peers run on all detections with their own defaults and again on the same thresholded detections.

Post-processing (``benchmarks/postchoice.py``): each fold's model also tracks its 8 *training*
sequences, and the low-score recovery and smoother settings that score best there ((HOTA + IDF1) / 2)
are applied to its held-out sequences; the held-out sequences never take part in the choice.
Every peer row appears three times: raw, + the same linear interpolation, and + the same
post-processing as lgmot's (per sequence, its fold's chosen settings; recovery only where the peer
left low-score detections out, i.e. at '@ 0.65'). lgmot has two rows: interpolation only (the
reference's post-processing) and the chosen post-processing. ``--no-choose``: interpolation only.

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

import postchoice  # noqa: E402
from jobs import run_jobs  # noqa: E402

from lgmot.data import load_sequence  # noqa: E402
from lgmot.track import Tracker  # noqa: E402
from lgmot.track.run import prepare_inputs, track_sequence  # noqa: E402
from lgmot.train import train  # noqa: E402
from lgmot.train.prepare import prepare_train_sequences  # noqa: E402
from lgmot.train.recipes import (CPU_LANGUAGE, LANGUAGE, MOT15_FOLDS, MOT15_SYNTH_EXTRA, MOT15_TRAIN,  # noqa: E402
                                  cpu_recipe, language_losses, mot15_paths, synth_paths)

#: the tracker's own post-processing off (single boxes dropped, the reference's): the benchmark
#: applies it (``postchoice``)
RAW = {"recover": False, "untangle": False, "interpolate": False, "smooth": "none", "min_track_len": 2}


def _file_sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_fold(k: int, data: Path, out: Path, epochs: int, depth_every: int, seed: int, language: str,
             reuse: bool = False, choose: bool = True, synthetic: bool = False, steps: int = 12, sets: tuple = (),
             log=print) -> tuple[float, int, dict]:
    """Train (or reuse) fold ``k``'s model, track its held-out sequences, choose the post-processing
    on its training sequences (``choose``; else interpolation only, the reference's) and write the
    held-out results: ``out/results`` (chosen post-processing), ``out/results_interp`` (interpolation
    only), ``out/post/fold{k}.json`` (the choice and every setting tried). Returns (tracking seconds,
    frames, sequence -> chosen settings)."""
    held = MOT15_FOLDS[k]
    train_names = [n for n in MOT15_TRAIN if n not in held]
    cfg = cpu_recipe(epochs, depth_every, seed, name=f"lgmot-mot15-fold{k + 1}" + ("-synth" if synthetic else "")
                     + ("" if steps == 12 else f"-steps{steps}") + "".join(f" {x}" for x in sets),
                     num_steps=steps, **language_losses(language))
    if sets:
        from folds import with_overrides

        cfg = with_overrides(cfg, list(sets))
    run = out / f"fold{k + 1}"
    cache = out / "cache"
    from lgmot.model import load_model

    path = run / "model.safetensors"
    done = out / "post" / f"fold{k + 1}.json"
    if reuse and path.exists() and done.exists():
        rec = json.loads(done.read_text())
        if rec.get("model_sha256") == _file_sha(path) and rec.get("choose") == choose and rec.get("grid") == postchoice.grid_key() and all(
                (out / d / f"{n}.txt").exists() for d in ("results", "results_interp") for n in held):
            log(f"fold {k + 1}: its held-out results and post-processing choice are already in {out} (same model)")
            return rec["assoc_seconds"], rec["frames"], {n: rec["chosen"] for n in held}
    if reuse and path.exists():
        model, mcfg = load_model(path)
        if (mcfg.train, mcfg.model, mcfg.name) != (cfg.train, cfg.model, cfg.name):
            raise SystemExit(f"{path}: trained with another recipe; --reuse needs the same one")
        log(f"fold {k + 1}: reusing the trained model in {run}")
    else:
        seqs = prepare_train_sequences(mot15_paths(data, train_names), cfg, "public", cache)
        if synthetic:
            seqs += prepare_train_sequences(synth_paths(out / "synth_data", MOT15_SYNTH_EXTRA), cfg, "public",
                                            appearance=False)
        t0 = time.perf_counter()
        res = train(cfg, seqs, run, progress=False, overwrite=True)
        log(f"fold {k + 1}: trained on {len(train_names)} sequences, {res.iterations} iterations, "
            f"{time.perf_counter() - t0:.0f}s")
        model, mcfg = load_model(path)
    # the recipe's tracker settings (inference only), so a reused model tracks as a new one would;
    # tracked once without post-processing, which is then chosen on the training sequences
    base_tc = cfg.tracker
    tracker = Tracker(replace(mcfg, tracker=postchoice.tracker_config(base_tc, RAW)), model)

    def track(names):
        raw, cands, fps, seconds = {}, {}, {}, 0.0
        for p in mot15_paths(data, names):
            seq = load_sequence(p)
            # public detections, no appearance (MOT15 has no images; PETS is scored the same way as the others)
            inp = prepare_inputs(seq, "public", appearance=False, progress=False)  # the model's min_score applies
            t0 = time.perf_counter()
            raw[seq.name] = track_sequence(tracker, inp)
            seconds += time.perf_counter() - t0
            cands[seq.name] = postchoice.candidates(inp.dets, base_tc.min_score)
            fps[seq.name] = seq.info.fps
        return raw, cands, fps, seconds

    raw, cands, fps, assoc_s = track(held)
    frames = sum(load_sequence(p).info.length for p in mot15_paths(data, held))
    if choose:
        tr_raw, tr_cands, tr_fps, _ = track(train_names)
        log(f"fold {k + 1}: choosing the post-processing on its {len(train_names)} training sequences")
        chosen, tried = postchoice.choose(base_tc, tr_raw, tr_cands, tr_fps, data / "mot15_train", log=log)
    else:
        chosen, tried = dict(postchoice.INTERP_ONLY), []
    log(f"fold {k + 1}: chosen {postchoice.label(chosen)}")
    postchoice.apply(raw, cands, fps, postchoice.tracker_config(base_tc, postchoice.INTERP_ONLY), out / "results_interp")
    # the choice without its last stage (the reference's shortest track, 2 boxes), to show what that stage does
    postchoice.apply(raw, cands, fps, postchoice.tracker_config(base_tc, {**chosen, "min_track_len": 2}),
                     out / "results_len2")
    t0 = time.perf_counter()
    postchoice.apply(raw, cands, fps, postchoice.tracker_config(base_tc, chosen), out / "results")
    assoc_s += time.perf_counter() - t0  # the post-processing counts in lgmot's time (file writing too)
    (out / "post").mkdir(parents=True, exist_ok=True)
    (out / "post" / f"fold{k + 1}.json").write_text(json.dumps(
        {"held_out": list(held), "chosen": chosen, "choose": choose, "model_sha256": _file_sha(path), "grid": postchoice.grid_key(),
         "assoc_seconds": assoc_s, "frames": frames, "tried_on_training": tried}, indent=1))
    return assoc_s, frames, {n: chosen for n in raw}


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
    ap.add_argument("--no-choose", action="store_true",
                    help="interpolation only (the reference's post-processing), no choice on the training folds")
    ap.add_argument("--folds", type=int, nargs="+", choices=[1, 2, 3],
                    help="run only these folds (no table); a later --reuse run of all folds picks their results up")
    ap.add_argument("--synthetic", action="store_true",
                    help="add the synthetic sequences of recipes.MOT15_SYNTH_EXTRA (positions only) "
                         "to every fold's training set")
    ap.add_argument("--steps", type=int, default=12, help="message-passing steps of the network (the recipe's 12)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="a change to the CPU recipe (YAML value), e.g. tracker.prune_directional=true; repeatable")
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "mot15_cv.csv")
    a = ap.parse_args()
    if a.set:
        from folds import with_overrides

        with_overrides(cpu_recipe(), a.set)  # a bad override fails before any training
    if a.synthetic:
        synth_paths(a.out / "synth_data", MOT15_SYNTH_EXTRA)  # generated once, before the fold processes start
    t_all = time.perf_counter()
    folds = [k - 1 for k in a.folds] if a.folds else list(range(len(MOT15_FOLDS)))
    args = [(k, a.data, a.out, a.epochs, a.depth_every, a.seed, a.language, a.reuse, not a.no_choose, a.synthetic,
             a.steps, tuple(a.set)) for k in folds]
    done = list(run_jobs(run_fold, args, a.jobs))
    if len(folds) < len(MOT15_FOLDS):
        print(f"folds {a.folds} done in {a.out}; the table needs all three (with --reuse, finished folds are not re-run)")
        return
    assoc_s, frames = sum(d[0] for d in done), sum(d[1] for d in done)
    choice = {n: c for d in done for n, c in d[2].items()}
    postchoice.save_choice(a.out / "post" / "choice.json", choice)
    fps = frames / assoc_s
    recipe = cpu_recipe()
    min_score = recipe.tracker.min_score
    name = ("lgmot (3-fold CV)" + ("" if a.language == CPU_LANGUAGE else f", language {a.language}")
            + (", + synthetic training sequences" if a.synthetic else "") + ("" if a.steps == 12 else f", {a.steps} steps")
            + "".join(f", {x}" for x in a.set))
    import mot15_peers

    mot15_peers.main(["--data", str(a.data / "mot15_train"), "--table", str(a.table),
                      "--min-score", "0", str(min_score), "--post-choice", str(a.out / "post" / "choice.json"),
                      "--lgmot-row", f"{name}, interp.={a.out / 'results_interp'}",
                      "--lgmot-results", str(a.out / "results"),
                      "--lgmot-name", f"{name}, post-processing chosen on training folds",
                      "--lgmot-fps", f"{fps:.1f}"])
    meta = {"synthetic": [list(s) for s in MOT15_SYNTH_EXTRA] if a.synthetic else [],
            "epochs": a.epochs, "depth_every": a.depth_every, "seed": a.seed, "language": a.language, "steps": a.steps, "set": a.set,
            "min_score": min_score, "lr_schedule": recipe.train.lr_schedule, "jobs": a.jobs,
            "directional_motion": recipe.model.directional_motion,
            "frame_rate_augmentation": recipe.train.frame_rate_augmentation,
            "augmentation": recipe.train.augmentation, "loss_ignore": list(recipe.train.loss_ignore),
            "class_balance": recipe.train.class_balance,
            "folds": [list(f) for f in MOT15_FOLDS], "lgmot_assoc_fps": round(fps, 1), "reused_models": a.reuse,
            "post_processing_by_fold": [postchoice.label(choice[f[0]]) for f in MOT15_FOLDS],
            "total_seconds": round(time.perf_counter() - t_all, 1)}
    a.table.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
