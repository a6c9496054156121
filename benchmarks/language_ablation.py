"""Language ablation: no language vs ISG vs SPG vs ISG+SPG, paired seeds, in- and cross-domain.

Two settings; every variant of a setting is trained on the same data with the same seeds, so the
runs pair by seed. Reported per test set: mean ± std over seeds of HOTA, IDF1 and IDSW (TrackEval
COMBINED), and for each variant its paired difference to "none" (mean over seeds of variant minus
none, same seed) with a 95% t-interval (n - 1 degrees of freedom; none with one seed).

* **synth** (default). The synthetic world (``lgmot.synth``: frames, true scene and instance
  sentences). Train on the source domain, day and static camera (``SYNTH_TRAIN``: 8 sequences,
  3,200 frames; ``--train-sequences``), with ``lgmot.train.recipes.synth_recipe`` (the CPU recipe; ``--epochs``); test
  in-domain on 6 held-out source sequences (``SYNTH_TEST_IN``) and on 3 sequences of each shifted
  preset (night, dusk-blur, pan, shake, high-view, crowded, textured; "cross-domain" pools them).
  Runs are ``benchmarks/synth_runs.py`` (reused when present). ``SPG-last`` / ``ISG+SPG-last`` are
  SPG on the last classified step only (``train.spg_steps: last``, the fix for SPG's collapse).
* **mot15**: static -> moving camera on MOT15 train (``--settings mot15``). Train on the static-camera
  sequences (PETS09-S2L1 from its video, the only MOT15 sequence here with frames, hence the only
  one with appearance; TUD-Stadtmitte, ADL-Rundle-6, KITTI-17); test in-domain on Venice-2 and
  TUD-Campus and cross-domain on the moving-camera ones (ETH-Bahnhof, ETH-Pedcross2, ETH-Sunnyday,
  ADL-Rundle-8, KITTI-13). CPU recipe, public detections; instance sentences only for PETS09-S2L1.

    python benchmarks/language_ablation.py [--seeds 0 1 2 3 4] [--variants none ISG SPG ISG+SPG SPG-last] [--jobs 2]
    python benchmarks/language_ablation.py --settings mot15 --data ../shared/data --seeds 0 1 2

Writes ``benchmarks/results/language_ablation_<setting>.{md,csv,json}``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

from jobs import run_jobs  # noqa: E402  (benchmarks/, the script's folder)
from synth_runs import CACHE, DATA, N_TRAIN, OUT, VARIANTS, train_run  # noqa: E402

MOT15_VARIANTS = {"none": (0.0, 0.0), "ISG": (1.0, 0.0), "SPG": (0.0, 1.0), "ISG+SPG": (1.0, 1.0)}
MOT15_TRAIN_STATIC = ("PETS09-S2L1", "TUD-Stadtmitte", "ADL-Rundle-6", "KITTI-17")
MOT15_TEST_STATIC = ("Venice-2", "TUD-Campus")
MOT15_TEST_MOVING = ("ETH-Bahnhof", "ETH-Pedcross2", "ETH-Sunnyday", "ADL-Rundle-8", "KITTI-13")
METRICS = ("HOTA", "IDF1", "IDSW")


def score(model_path: Path, tests: dict[str, list], cache: Path) -> dict[str, dict]:
    """Track every test sequence; TrackEval COMBINED per test set."""
    from lgmot.data import load_sequence
    from lgmot.evaluate.sequences import evaluate_sequences
    from lgmot.model import load_model
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs, track_sequence

    model, cfg = load_model(model_path)
    out = {}
    with Tracker(cfg, model, workers=1) as tracker:
        for name, paths in tests.items():
            inputs = [prepare_inputs(load_sequence(p), "public", appearance=True, cache_dir=cache, progress=False)
                      for p in paths]
            results = {inp.seq.name: track_sequence(tracker, inp) for inp in inputs}
            row = evaluate_sequences([inp.seq for inp in inputs], results).loc["COMBINED"]
            out[name] = {"HOTA": float(row.HOTA), "IDF1": float(row.IDF1), "IDSW": int(row.IDSW),
                         "MOTA": float(row.MOTA), "AssA": float(row.AssA)}
    return out


def synth_tests() -> dict[str, list[Path]]:
    from lgmot.train.recipes import SYNTH_TEST_IN, SYNTH_TEST_SHIFT, synth_paths

    shift = synth_paths(DATA, SYNTH_TEST_SHIFT)
    tests = {"in-domain": synth_paths(DATA, SYNTH_TEST_IN), "cross-domain": shift}
    for p in shift:
        tests.setdefault(p.name.rsplit("-", 1)[0], []).append(p)
    return tests


def test_spec() -> list:
    """The synthetic test splits, stored beside each run's scores so that a changed split re-scores it."""
    from lgmot.train.recipes import SYNTH_TEST_IN, SYNTH_TEST_SHIFT

    return [list(t) for t in SYNTH_TEST_IN + SYNTH_TEST_SHIFT]


def synth_one(variant: str, seed: int, epochs: int, n_train: int = N_TRAIN) -> list[dict]:
    run = train_run(variant, seed, epochs, OUT, n_train=n_train)
    cached = run / "eval.json"
    stored = json.loads(cached.read_text()) if cached.exists() else {}
    if stored.get("tests") == test_spec():
        m = stored["scores"]
    else:
        from lgmot.data.motio import atomic_write_text

        m = score(run / "model.safetensors", synth_tests(), CACHE)
        atomic_write_text(cached, json.dumps({"tests": test_spec(), "scores": m}, indent=2))
    summary = json.loads((run / "summary.json").read_text())
    print("synth", variant, seed, {d: (round(v["HOTA"], 1), round(v["IDF1"], 1)) for d, v in m.items()}, flush=True)
    return [{"setting": "synth", "variant": variant, "seed": seed, "test": d, **v,
             "train_s": summary.get("train_seconds")} for d, v in m.items()]


def mot15_one(variant: str, seed: int, data: Path, out: Path, epochs: int) -> list[dict]:
    from lgmot.train import train
    from lgmot.train.prepare import prepare_train_sequences
    from lgmot.train.recipes import cpu_recipe, mot15_paths

    cache = out / "mot15" / "cache"
    isg, spg = MOT15_VARIANTS[variant]
    cfg = cpu_recipe(epochs, 25, seed, isg, spg, name=f"mot15-{variant}-s{seed}")
    run = out / "mot15" / variant / f"seed{seed}"
    t0 = time.perf_counter()
    if not (run / "model.safetensors").exists():
        train(cfg, prepare_train_sequences(mot15_paths(data, MOT15_TRAIN_STATIC), cfg, "public", cache), run,
              progress=False, overwrite=True)
    t_train = time.perf_counter() - t0
    m = score(run / "model.safetensors", {"in-domain": mot15_paths(data, MOT15_TEST_STATIC),
                                          "cross-domain": mot15_paths(data, MOT15_TEST_MOVING)}, cache)
    return [{"setting": "mot15", "variant": variant, "seed": seed, "test": d, **v, "train_s": round(t_train, 1)}
            for d, v in m.items()]


def paired_ci(diff: np.ndarray) -> tuple[float, float, float]:
    """Mean of paired differences and its 95% t-interval (NaN bounds with fewer than 2 pairs)."""
    from scipy import stats

    n = len(diff)
    mean = float(np.mean(diff))
    if n < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, n - 1) * np.std(diff, ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def summarise(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    rows = []
    for (test, variant), g in df.groupby(["test", "variant"], sort=False):
        r = {"test": test, "variant": variant, "seeds": len(g)}
        base = df[(df.test == test) & (df.variant == "none")].set_index("seed")
        for k in METRICS:
            r[f"{k}_mean"], r[f"{k}_std"] = float(g[k].mean()), float(g[k].std(ddof=1)) if len(g) > 1 else float("nan")
            if variant != "none" and len(base):
                common = sorted(set(g.seed) & set(base.index))
                d = g.set_index("seed").loc[common, k].to_numpy(float) - base.loc[common, k].to_numpy(float)
                r[f"d{k}"], r[f"d{k}_lo"], r[f"d{k}_hi"] = paired_ci(d) if len(d) else (np.nan,) * 3
                r["pairs"] = len(d)
        rows.append(r)
    agg = pd.DataFrame(rows)

    def ms(m, s, f):
        return f"{m:{f}}" if np.isnan(s) else f"{m:{f}} ± {s:{f}}"

    def ci(r, k, f):
        if r["variant"] == "none" or f"d{k}" not in r or pd.isna(r.get(f"d{k}")):
            return ""
        lo, hi = r[f"d{k}_lo"], r[f"d{k}_hi"]
        return f"{r[f'd{k}']:+{f}}" + ("" if np.isnan(lo) else f" [{lo:+{f}}, {hi:+{f}}]")

    lines = ["| test | variant | HOTA | IDF1 | IDSW | ΔHOTA vs none [95% CI] | ΔIDF1 [95% CI] | ΔIDSW [95% CI] | seeds |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in agg.to_dict("records"):
        lines.append(f"| {r['test']} | {r['variant']} | {ms(r['HOTA_mean'], r['HOTA_std'], '.1f')} | "
                     f"{ms(r['IDF1_mean'], r['IDF1_std'], '.1f')} | {ms(r['IDSW_mean'], r['IDSW_std'], '.0f')} | "
                     f"{ci(r, 'HOTA', '.1f')} | {ci(r, 'IDF1', '.1f')} | {ci(r, 'IDSW', '.0f')} | {r['seeds']} |")
    return agg, lines


def main() -> None:
    from lgmot.data.motio import atomic_write_text
    from lgmot.train.recipes import SYNTH_EPOCHS

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "language_ablation")
    ap.add_argument("--settings", nargs="+", default=["synth"], choices=["synth", "mot15"])
    ap.add_argument("--variants", nargs="+", default=["none", "ISG", "SPG", "ISG+SPG", "SPG-last"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=SYNTH_EPOCHS, help="synthetic recipe epochs")
    ap.add_argument("--mot15-epochs", type=int, default=8)
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--jobs", type=int, default=1, help="runs trained in parallel processes (one core each)")
    ap.add_argument("--train-sequences", type=int, default=N_TRAIN,
                    help="synth: source sequences to train on (recipes.synth_train; the recipe's by default)")
    a = ap.parse_args()
    if "synth" in a.settings:
        from lgmot.train.recipes import synth_paths, synth_train

        # generated once, before the run processes start (two of them would write the same folders)
        synth_paths(DATA, synth_train(a.train_sequences))
        synth_tests()
    for setting in a.settings:
        t_all = time.perf_counter()
        if setting == "synth":
            bad = sorted(set(a.variants) - set(VARIANTS))
            # seed-major: a cut-short run stays paired
            jobs = [(v, s, a.epochs, a.train_sequences) for s in a.seeds for v in a.variants]
            fn = synth_one
        else:
            bad = sorted(set(a.variants) - set(MOT15_VARIANTS))
            jobs = [(v, s, a.data, a.out, a.mot15_epochs) for s in a.seeds for v in a.variants]
            fn = mot15_one
        if bad:
            ap.error(f"unknown variants for {setting}: {bad}")
        rows = []
        for r in run_jobs(fn, jobs, a.jobs):
            rows += r
        df = pd.DataFrame(rows)
        agg, lines = summarise(df)
        base = a.results / f"language_ablation_{setting}"
        atomic_write_text(base.with_suffix(".csv"), agg.to_csv(index=False))
        atomic_write_text(base.with_suffix(".md"), "\n".join(lines) + "\n")
        atomic_write_text(base.with_suffix(".json"), json.dumps(
            {"setting": setting, "seeds": a.seeds, "variants": a.variants,
             "train_sequences": a.train_sequences if setting == "synth" else None,
             "epochs": a.epochs if setting == "synth" else a.mot15_epochs, "runs": rows,
             "total_seconds": round(time.perf_counter() - t_all, 1)}, indent=2))
        print("\n".join(lines))


if __name__ == "__main__":
    main()
