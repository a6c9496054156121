"""Training runs on the synthetic language world, shared by the language ablation and the text-search
benchmark (one run per (variant, seed), reused when its model exists with the same config).

    python benchmarks/synth_runs.py --variant ISG --seed 0 [--validate]   # one run (convergence curve with --validate)
    python benchmarks/synth_runs.py --variant none --seed 0 --train-sequences 4 --epochs 12   # another training set

A config's name ends in ``-t<N>``, its number of training sequences (``recipes.synth_train(N)``); runs
with another N than the recipe's (``SYNTH_TRAIN``) live in ``<out>/train<N>/<variant>/seed<seed>/``.

Runs live in ``<out>/<variant>/seed<seed>/`` (``model.safetensors``, ``metrics.csv``, and with
``--validate`` a per-epoch ``val.csv`` on ``SYNTH_VAL``, which is neither a training nor a test sequence;
the model is always the last epoch's, never a selected one).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from lgmot.train.recipes import SYNTH_TRAIN, language_losses

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "runs" / "synth_lang" / "data"
CACHE = ROOT / "runs" / "synth_lang" / "cache"
OUT = ROOT / "runs" / "language_ablation" / "synth"
#: the recipe's number of training sequences
N_TRAIN = len(SYNTH_TRAIN)

#: variant -> synth_recipe keyword arguments. "SPG" is B.4's literal form (every classified step of
#: every level); "SPG-last" applies it to the last classified step only (``train.spg_steps``).
VARIANTS = {"none": dict(isg=0.0, spg=0.0), "ISG": dict(isg=1.0, spg=0.0), "SPG": dict(isg=0.0, spg=1.0),
            "ISG+SPG": dict(isg=1.0, spg=1.0), "SPG-last": dict(isg=0.0, spg=1.0, spg_steps="last"),
            "ISG+SPG-last": dict(isg=1.0, spg=1.0, spg_steps="last"),
            # ISG's KL between near-uniform softmaxes is about 1e-3 against a focal loss of 4-10
            # (docs/language.md): the same loss at a weight where it can move the node features;
            # ISG-w100 is the search model's recipe (scripts/train_search_model.py, the same losses
            # by construction), 1000 was the other candidate
            "ISG-w100": language_losses("isg-w100"), "ISG-w1000": dict(isg=1000.0, spg=0.0)}


def variant_config(variant: str, seed: int, epochs: int, n_train: int = N_TRAIN):
    from lgmot.train.recipes import synth_recipe, synth_run_name

    return synth_recipe(epochs, seed, name=synth_run_name(variant, seed, n_train), **VARIANTS[variant])


def run_dir(variant: str, seed: int, out: Path = OUT, n_train: int = N_TRAIN) -> Path:
    base = Path(out) if n_train == N_TRAIN else Path(out) / f"train{n_train}"
    return base / variant / f"seed{seed}"


def train_run(variant: str, seed: int, epochs: int, out: Path = OUT, validate: bool = False,
              n_train: int = N_TRAIN) -> Path:
    """Train (or reuse) one run; returns its folder."""
    from lgmot.config import Config
    from lgmot.data import load_sequence
    from lgmot.data.motio import atomic_write_text
    from lgmot.model import read_metadata
    from lgmot.track.run import prepare_inputs
    from lgmot.train import train
    from lgmot.train.prepare import make_validator, prepare_train_sequences
    from lgmot.train.recipes import SYNTH_VAL, synth_paths, synth_train

    cfg = variant_config(variant, seed, epochs, n_train)
    run = run_dir(variant, seed, out, n_train)
    ck = run / "model.safetensors"
    if ck.exists() and (run / "summary.json").exists() and Config.from_dict(read_metadata(ck)["config"]) == cfg:
        return run
    seqs = prepare_train_sequences(synth_paths(DATA, synth_train(n_train)), cfg, "public", CACHE)
    val = None
    if validate:
        vpaths = synth_paths(DATA, SYNTH_VAL)
        vseqs = [load_sequence(p) for p in vpaths]
        inputs = [prepare_inputs(s, "public", appearance=True, cache_dir=CACHE, progress=False) for s in vseqs]
        val = make_validator(cfg, inputs, vseqs)
    t0 = time.perf_counter()
    res = train(cfg, seqs, run, validate=val, select_best=False, progress=False, overwrite=True)
    summary = {"variant": variant, "seed": seed, "epochs": epochs, "train_sequences": n_train,
               "iterations": res.iterations,
               "train_seconds": round(time.perf_counter() - t0, 1), "validated": validate}
    atomic_write_text(run / "summary.json", json.dumps(summary, indent=2))
    return run


def main() -> None:
    from lgmot.train.recipes import SYNTH_EPOCHS

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=SYNTH_EPOCHS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--validate", action="store_true")
    ap.add_argument("--train-sequences", type=int, default=N_TRAIN,
                    help="source sequences to train on (recipes.synth_train)")
    a = ap.parse_args()
    print(train_run(a.variant, a.seed, a.epochs, a.out, a.validate, a.train_sequences))


if __name__ == "__main__":
    main()
