"""Recipe of the shipped model trained with OSNet x0.25 (MSMT17) appearance,
``lgmot/assets/models/lgmot_mot15_osnet_x0_25_msmt17.safetensors``.

Fine-tunes the shipped default model (``scripts/train_default_model.py``: the CPU recipe,
``lgmot.train.recipes.cpu_recipe``, 8 epochs on the 11 MOT15 train sequences with MobileNetV2
appearance on PETS09-S2L1) on the same data and recipe for one epoch over clips starting every 60
frames, all levels from the start, lr 1e-3 (a third of the from-scratch rate), with these changes:
the appearance encoder is lgmot's OSNet x0.25 on 256x128 crops (the node input layer, 1280 -> 512
inputs, starts fresh; in the default model it had learned from PETS09-S2L1 alone) with the torchreid model-zoo file
``osnet_x0_25_msmt17.pth`` (``embed.encoder: osnet_x0_25``, 512-d node input), and PETS09-S2L1 --
the one MOT15 train sequence with images -- appears ``--pets-repeat`` times in the clip pool so the
appearance path sees more of it. The model records the weights' SHA-256; ``lgmot track --reid
osnet_x0_25_msmt17.pth`` without ``--model`` picks it by that hash. The weights file is the user's
own: it is not in the package.

    python scripts/train_reid_model.py --data ../shared/data --reid ../shared/data/reid_osnet/osnet_x0_25_msmt17.pth \\
        --out runs/reid_model
    cp runs/reid_model/model.safetensors src/lgmot/assets/models/lgmot_mot15_osnet_x0_25_msmt17.safetensors
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from lgmot.config import EmbedConfig
from lgmot.data.motio import atomic_write_text
from lgmot.train import train
from lgmot.train.prepare import prepare_train_sequences
from lgmot.train.recipes import CPU_LANGUAGE, LANGUAGE, MOT15_TRAIN, cpu_recipe, language_losses, mot15_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--reid", type=Path, default=None, help="default: <data>/reid_osnet/osnet_x0_25_msmt17.pth")
    ap.add_argument("--out", type=Path, default=Path("runs/reid_model"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--depth-every", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--init", type=Path, default=None, help="model to start from (default: the shipped default model)")
    ap.add_argument("--pets-repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--language", choices=sorted(LANGUAGE), default=CPU_LANGUAGE)
    ap.add_argument("--clip-stride", type=int, default=60, help="frames between training clip starts (recipe: 20)")
    ap.add_argument("--cache", type=Path, default=None, help="embedding cache folder (default: <out>/cache)")
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args()
    reid = a.reid or a.data / "reid_osnet" / "osnet_x0_25_msmt17.pth"
    cfg = cpu_recipe(a.epochs, a.depth_every, a.seed, name="lgmot-mot15-osnet", lr=a.lr,
                     **language_losses(a.language))
    cfg = replace(cfg, embed=EmbedConfig("osnet_x0_25", weights=str(reid)), model=replace(cfg.model, node_in_dim=512),
                  train=replace(cfg.train, train_frame_overlap=a.clip_stride))
    t0 = time.perf_counter()
    seqs = prepare_train_sequences(mot15_paths(a.data, MOT15_TRAIN), cfg, "public", a.cache or a.out / "cache")
    pets = [s for s in seqs if s.app is not None]
    seqs = seqs + pets * (a.pets_repeat - 1)
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    from lgmot.track.run import DEFAULT_MODEL

    init = a.init or DEFAULT_MODEL
    res = train(cfg, seqs, a.out, resume=a.resume, progress=True, init=init)
    t_train = time.perf_counter() - t0
    summary = {"iterations": res.iterations, "prepare_seconds": round(t_prep, 1), "train_seconds": round(t_train, 1),
               "init": init.name, "lr": a.lr,
               "epochs": a.epochs, "depth_every": a.depth_every, "clip_stride": a.clip_stride,
               "pets_repeat": a.pets_repeat, "seed": a.seed,
               "model": str(a.out / "model.safetensors")}
    atomic_write_text(a.out / "summary.json", json.dumps(summary, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
