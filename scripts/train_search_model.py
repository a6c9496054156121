"""Recipe of the search model shipped in ``lgmot/assets/models/lgmot_search.safetensors``.

``lgmot search`` ranks tracks by their ISG-aligned node features, so its model must have been
trained with ISG on real appearance. The MOT15 default model saw appearance on one sequence only
(PETS09-S2L1); this one is trained on the synthetic world, where every person has a true instance
sentence and every sequence has frames: the eight source-domain training sequences of
``lgmot.train.recipes.SYNTH_TRAIN`` (static camera, day; 3,200 frames), with the CPU recipe
(``cpu_recipe``: ISG on at ``SEARCH_ISG_WEIGHT``, SPG off, the offline MiniLM text encoder, the
default MobileNetV2 appearance) and ``--epochs`` epochs. The held-out synthetic sequences and every shift preset are
left for ``benchmarks/text_search.py``.

    python scripts/train_search_model.py --out runs/search_model
    cp runs/search_model/model.safetensors src/lgmot/assets/models/lgmot_search.safetensors
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from lgmot.data.motio import atomic_write_text
from lgmot.train import train
from lgmot.train.prepare import prepare_train_sequences
from lgmot.train.recipes import (SYNTH_EPOCHS, SYNTH_TRAIN, language_losses, synth_paths, synth_recipe,
                                  synth_run_name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/search_model"))
    ap.add_argument("--data", type=Path, default=Path("runs/synth_lang/data"), help="where the synthetic sequences are (generated once)")
    ap.add_argument("--cache", type=Path, default=Path("runs/synth_lang/cache"))
    ap.add_argument("--epochs", type=int, default=SYNTH_EPOCHS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--language", choices=["isg-w100", "isg", "none", "isg+spg"], default="isg-w100")
    ap.add_argument("--max-iterations", type=int, default=None)
    a = ap.parse_args()
    variant = {"isg-w100": "ISG-w100", "isg": "ISG", "none": "none", "isg+spg": "ISG+SPG"}[a.language]
    cfg = synth_recipe(a.epochs, a.seed, name=synth_run_name(variant, a.seed), **language_losses(a.language))
    t0 = time.perf_counter()
    seqs = prepare_train_sequences(synth_paths(a.data, SYNTH_TRAIN), cfg, "public", a.cache)
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = train(cfg, seqs, a.out, max_iterations=a.max_iterations, progress=False)
    t_train = time.perf_counter() - t0
    summary = {"iterations": res.iterations, "epochs": a.epochs, "seed": a.seed, "language": a.language,
               "prepare_seconds": round(t_prep, 1), "train_seconds": round(t_train, 1),
               "model": str(a.out / "model.safetensors")}
    atomic_write_text(a.out / "summary.json", json.dumps(summary, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
