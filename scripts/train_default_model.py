"""Recipe of the default model shipped in ``lgmot/assets/models/``.

Trains the ``lgmot`` preset (4 levels, 150-frame clips) with the CPU recipe's language loss, ISG
(with the offline MiniLM text encoder; SPG off), the directional motion edge features, the
reference's augmentation, and a focal loss that leaves out same-identity skip edges and weighs
positive edges by sqrt(negatives / positives) (see
``lgmot.train.recipes.cpu_recipe``), on the 11 MOT15 train sequences with their public Faster R-CNN
detections. PETS09-S2L1 is taken from its video folder so it also has appearance; the others have
no images and train the missing-appearance path. Fewer epochs and a faster level curriculum than
the GPU reference (150 epochs, a level every 500 iterations) so it trains in minutes on 2 CPU cores.

    python scripts/train_default_model.py --data ../shared/data --out runs/default
    cp runs/default/model.safetensors src/lgmot/assets/models/lgmot_mot15.safetensors
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from lgmot.data.motio import atomic_write_text
from lgmot.train import train
from lgmot.train.prepare import prepare_train_sequences
from lgmot.train.recipes import CPU_LANGUAGE, LANGUAGE, MOT15_TRAIN, cpu_recipe, language_losses, mot15_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("runs/default"))
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--depth-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--language", choices=sorted(LANGUAGE), default=CPU_LANGUAGE,
                    help="language losses (default: the CPU recipe's, ISG only)")
    ap.add_argument("--max-iterations", type=int, default=None)
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args()
    cfg = cpu_recipe(a.epochs, a.depth_every, a.seed, name="lgmot-mot15", **language_losses(a.language))
    t0 = time.perf_counter()
    seqs = prepare_train_sequences(mot15_paths(a.data, MOT15_TRAIN), cfg, "public", a.out / "cache")
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = train(cfg, seqs, a.out, resume=a.resume, max_iterations=a.max_iterations, progress=True)
    t_train = time.perf_counter() - t0
    summary = {"iterations": res.iterations, "prepare_seconds": round(t_prep, 1), "train_seconds": round(t_train, 1),
               "model": str(a.out / "model.safetensors")}
    atomic_write_text(a.out / "summary.json", json.dumps(summary, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
