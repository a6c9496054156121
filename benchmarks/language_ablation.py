"""Language ablation: no language vs ISG vs SPG vs ISG+SPG, same data and seeds, in- and cross-domain.

Two settings, each trained with the CPU recipe (``lgmot.train.recipes.cpu_recipe``) for every
variant and seed:

* **MOT15, static -> moving camera.** Train on static-camera sequences (PETS09-S2L1 from its video,
  so it has appearance, TUD-Stadtmitte, ADL-Rundle-6, KITTI-17); test in-domain on the held-out
  static ones (Venice-2, TUD-Campus) and cross-domain on the moving-camera ones (ETH-Bahnhof,
  ETH-Pedcross2, ETH-Sunnyday, ADL-Rundle-8, KITTI-13). Public detections; scene sentences from
  the shipped annotations, instance sentences for PETS09-S2L1.
* **Synthetic shift.** Train on two ``source``-domain synthetic sequences (images, true scene and
  instance sentences); test in-domain on a third ``source`` sequence (another seed) and
  cross-domain on every target preset of the shift suite. Detections from the synthetic detector.

Reports mean ± std over seeds of HOTA, IDF1 and IDSW (TrackEval COMBINED over each test set).

    python benchmarks/language_ablation.py --data ../shared/data [--seeds 0 1 2] [--epochs 8] [--synth-epochs 16] [--jobs 2]

Writes ``benchmarks/results/language_ablation.{csv,md,json}`` and per-run metrics under ``runs/``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

from lgmot.data import load_sequence  # noqa: E402
from lgmot.data.motio import atomic_write_text  # noqa: E402
from lgmot.evaluate.sequences import evaluate_sequences  # noqa: E402
from lgmot.track import Tracker  # noqa: E402
from lgmot.track.run import prepare_inputs, track_sequence  # noqa: E402
from lgmot.train import train  # noqa: E402
from lgmot.train.prepare import prepare_train_sequences  # noqa: E402
from lgmot.train.recipes import cpu_recipe, mot15_paths  # noqa: E402

from jobs import run_jobs  # noqa: E402  (benchmarks/, the script's folder)

VARIANTS = {"none": (0.0, 0.0), "ISG": (1.0, 0.0), "SPG": (0.0, 1.0), "ISG+SPG": (1.0, 1.0)}
MOT15_TRAIN_STATIC = ("PETS09-S2L1", "TUD-Stadtmitte", "ADL-Rundle-6", "KITTI-17")
MOT15_TEST_STATIC = ("Venice-2", "TUD-Campus")
MOT15_TEST_MOVING = ("ETH-Bahnhof", "ETH-Pedcross2", "ETH-Sunnyday", "ADL-Rundle-8", "KITTI-13")


def synth_data(out: Path, frames: int, people: int) -> dict[str, list[Path]]:
    from lgmot.synth import PRESETS, generate, preset

    def gen(name: str, seed: int, tag: str) -> Path:
        cfg = preset(name, frames=frames, people=people, seed=seed, width=640, height=480)
        cfg = cfg.with_(name=f"{tag}")
        dest = out / tag
        return dest if (dest / "seqinfo.ini").exists() else generate(cfg, out, overwrite=True)

    return {"train": [gen("source", 100, "source-train-a"), gen("source", 101, "source-train-b")],
            "in": [gen("source", 200, "source-test")],
            "cross": [gen(n, 300, f"{n}-test") for n in PRESETS if n != "source"]}


def setting_inputs(setting: str, data: Path, out: Path, frames: int, people: int):
    if setting == "mot15":
        return {"train": mot15_paths(data, MOT15_TRAIN_STATIC), "in": mot15_paths(data, MOT15_TEST_STATIC),
                "cross": mot15_paths(data, MOT15_TEST_MOVING)}, "public"
    return synth_data(out / "synth_data", frames, people), "public"


def evaluate_model(run: Path, tests: dict[str, list], cache: Path) -> dict[str, dict]:
    from lgmot.model import load_model

    model, cfg = load_model(run / "model.safetensors")
    tracker = Tracker(cfg, model)
    out = {}
    for domain, inputs in tests.items():
        results = {inp.seq.name: track_sequence(tracker, inp) for inp in inputs}
        df = evaluate_sequences([inp.seq for inp in inputs], results)
        row = df.loc["COMBINED"]
        out[domain] = {"HOTA": float(row.HOTA), "IDF1": float(row.IDF1), "IDSW": int(row.IDSW),
                       "MOTA": float(row.MOTA), "AssA": float(row.AssA)}
    return out


def run_one(setting: str, variant: str, seed: int, data: Path, out: Path, epochs: int, depth_every: int,
            synth_frames: int, synth_people: int) -> list[dict]:
    """Train one (variant, seed) of a setting and score it in- and cross-domain; one row per domain."""
    paths, dets = setting_inputs(setting, data, out, synth_frames, synth_people)
    cache = out / setting / "cache"
    isg, spg = VARIANTS[variant]
    cfg = cpu_recipe(epochs, depth_every, seed, isg, spg, name=f"{setting}-{variant}-s{seed}")
    train_seqs = prepare_train_sequences(paths["train"], cfg, dets, cache)
    # test inputs: appearance where frames exist (synthetic, PETS); no text is needed to track
    tests = {d: [prepare_inputs(load_sequence(p), dets, appearance=True, cache_dir=cache, progress=False)
                 for p in paths[d]] for d in ("in", "cross")}
    run = out / setting / variant / f"seed{seed}"
    t0 = time.perf_counter()
    train(cfg, train_seqs, run, progress=False, overwrite=True)
    t_train = time.perf_counter() - t0
    m = evaluate_model(run, tests, cache)
    print(setting, variant, seed, {d: (round(v["HOTA"], 1), round(v["IDF1"], 1)) for d, v in m.items()},
          f"{t_train:.0f}s", flush=True)
    return [{"setting": setting, "variant": variant, "seed": seed,
             "domain": "in-domain" if domain == "in" else "cross-domain", **vals, "train_s": round(t_train, 1)}
            for domain, vals in m.items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "language_ablation")
    ap.add_argument("--settings", nargs="+", default=["mot15", "synth"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--depth-every", type=int, default=25)
    ap.add_argument("--synth-epochs", type=int, default=16,
                    help="the two short synthetic training sequences give 10 iterations an epoch; 8 epochs trained nothing")
    ap.add_argument("--synth-frames", type=int, default=200)
    ap.add_argument("--synth-people", type=int, default=8)
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "language_ablation.csv")
    ap.add_argument("--jobs", type=int, default=1, help="runs trained in parallel processes (one core each)")
    a = ap.parse_args()
    rows = []
    t_all = time.perf_counter()
    for setting in a.settings:
        setting_inputs(setting, a.data, a.out, a.synth_frames, a.synth_people)  # generate data once
        epochs = a.synth_epochs if setting == "synth" else a.epochs
        jobs = [(setting, variant, seed, a.data, a.out, epochs, a.depth_every, a.synth_frames, a.synth_people)
                for seed in a.seeds for variant in a.variants]  # seed-major: a cut-short run is still balanced
        for r in run_jobs(run_one, jobs, a.jobs):
            rows += r
            pd.DataFrame(rows).to_csv(a.out / "runs.csv", index=False)
    df = pd.DataFrame(rows)
    agg = df.groupby(["setting", "domain", "variant"], sort=False).agg(
        HOTA_mean=("HOTA", "mean"), HOTA_std=("HOTA", "std"), IDF1_mean=("IDF1", "mean"), IDF1_std=("IDF1", "std"),
        IDSW_mean=("IDSW", "mean"), IDSW_std=("IDSW", "std"), seeds=("seed", "count")).reset_index()
    a.table.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.table, agg.to_csv(index=False))
    lines = ["| setting | domain | variant | HOTA | IDF1 | IDSW | seeds |", "|---|---|---|---:|---:|---:|---:|"]
    for r in agg.itertuples():
        lines.append(f"| {r.setting} | {r.domain} | {r.variant} | {r.HOTA_mean:.1f} ± {r.HOTA_std:.1f} | "
                     f"{r.IDF1_mean:.1f} ± {r.IDF1_std:.1f} | {r.IDSW_mean:.0f} ± {r.IDSW_std:.0f} | {r.seeds} |")
    atomic_write_text(a.table.with_suffix(".md"), "\n".join(lines) + "\n")
    atomic_write_text(a.table.with_suffix(".json"), json.dumps(
        {"epochs": a.epochs, "synth_epochs": a.synth_epochs, "depth_every": a.depth_every, "seeds": a.seeds, "recipe": "lgmot.train.recipes.cpu_recipe",
         "min_score": cpu_recipe().tracker.min_score, "lr_schedule": cpu_recipe().train.lr_schedule, "runs": rows,
         "total_seconds": round(time.perf_counter() - t_all, 1)}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
