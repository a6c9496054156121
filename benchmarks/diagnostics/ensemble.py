"""Seed ensembles on the MOT15 CV: each fold's models of several training seeds score every
candidate edge together (mean of their edge probabilities), against each model alone; the
recipe's tracker settings and post-processing for all. Scored on the held-out sequences
(COMBINED over the 11) and, for the choice, on each fold's own training sequences.

    python benchmarks/diagnostics/ensemble.py --runs runs/cv_seed42 runs/cv_seed0 runs/cv_seed1
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import postchoice  # noqa: E402

from lgmot.data import load_sequence, write_results  # noqa: E402
from lgmot.model.infer import load_inference_model  # noqa: E402
from lgmot.track import ModelScorer, Tracker  # noqa: E402
from lgmot.track.run import prepare_inputs  # noqa: E402
from lgmot.train.recipes import MOT15_FOLDS, cpu_recipe, mot15_paths  # noqa: E402


class MeanScorer:
    """Mean edge probability of several scorers (objectness, if any, averaged too)."""

    def __init__(self, scorers):
        self.scorers = scorers

    def __call__(self, level, tracklets, graph):
        outs = [s(level, tracklets, graph) for s in self.scorers]
        if isinstance(outs[0], tuple):
            return tuple(np.mean([o[i] for o in outs], axis=0) for i in range(2))
        return np.mean(outs, axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--on", choices=("held-out", "training"), default="held-out")
    a = ap.parse_args()
    tc = cpu_recipe().tracker
    names = [r.name for r in a.runs]
    variants = {n: [i] for i, n in enumerate(names)} | {"mean of " + " + ".join(names): list(range(len(names)))}
    results = {v: Path(tempfile.mkdtemp(prefix="lgmot_ens_")) for v in variants}
    scored = []
    for k in (1, 2, 3):
        models = [load_inference_model(r / f"fold{k}" / "model.safetensors") for r in a.runs]
        seqs_names = (MOT15_FOLDS[k - 1] if a.on == "held-out" else
                      [n for i, f in enumerate(MOT15_FOLDS) if i != k - 1 for n in f])
        seqs = [load_sequence(p) for p in mot15_paths(a.data, seqs_names)]
        for v, idx in variants.items():
            cfg = replace(models[idx[0]][1], tracker=tc)
            scorer = MeanScorer([ModelScorer(models[i][0]) for i in idx])
            tr = Tracker(cfg, scorer=scorer, workers=1)
            folder = results[v] / (f"fold{k}" if a.on == "training" else "")
            for s in seqs:
                dets = prepare_inputs(s, "public", appearance=False, progress=False).dets
                write_results(folder / f"{s.name}.txt", tr.track_detections(dets, s.info.fps))
            if a.on == "training":
                sc = postchoice.score(a.data / "mot15_train", folder, seqs_names)
                scored.append((v, k, sc))
                print(f"fold {k} training {v:40s} HOTA {sc['HOTA']:.2f} AssA {sc['AssA']:.2f} IDF1 {sc['IDF1']:.2f}",
                      flush=True)
    if a.on == "held-out":
        all_names = [n for f in MOT15_FOLDS for n in f]
        for v, folder in results.items():
            sc = postchoice.score(a.data / "mot15_train", folder, all_names)
            print(f"held-out {v:40s} HOTA {sc['HOTA']:.2f} DetA {sc['DetA']:.2f} AssA {sc['AssA']:.2f} "
                  f"MOTA {sc['MOTA']:.2f} IDF1 {sc['IDF1']:.2f}", flush=True)


if __name__ == "__main__":
    main()
