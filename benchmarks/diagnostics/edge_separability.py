"""Can the edge features tell the upper levels' edges apart better than the network does?

Tracks each fold's held-out MOT15 sequences with the fold model of ``benchmarks/mot15_cv.py`` (as
``benchmarks/diagnostics/level_headroom.py``), records every edge the network scores at levels 1-3 (its
features, its flow label, the network's probability, whether both ends are real tracklets), and
fits a gradient-boosted tree classifier (scikit-learn's ``HistGradientBoostingClassifier``) on the
same features, one edge at a time, across folds: trained on the edges of two folds' held-out
sequences, scored on the third. If the trees beat the network, the network is short of training
or capacity; if not, the features (no appearance here) are the limit, and better association
needs more information than the edges carry. A "+ speed" variant adds the speed an edge implies
(feet distance over time gap, in box heights per second) and its size change per second.

    python benchmarks/diagnostics/edge_separability.py --runs runs/cv_seed42 --data ../shared/data

Needs scikit-learn (``pip install scikit-learn``; the ``peers`` extra brings it). Writes
``benchmarks/diagnostics/results/edge_separability.{md,csv}``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]  # the repository


def collect(runs: Path, data: Path) -> dict[int, dict[str, np.ndarray]]:
    """Per level >= 1: features 'f', labels 'y', network probabilities 'p', real-real mask 'real',
    fold index 'fold' of every edge the network scored on the held-out sequences."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from folds import clip_tracklets, fold_models
    from level_headroom import edge_kinds

    from lgmot.data import load_sequence
    from lgmot.graph import edge_labels
    from lgmot.track import ModelScorer, run_hierarchy
    from lgmot.track.run import prepare_inputs

    parts: dict[int, dict[str, list]] = {}
    for k, (held, model, cfg) in enumerate(fold_models(runs)):
        scorer, tc = ModelScorer(model), cfg.tracker
        for name in held:
            inp = prepare_inputs(load_sequence(data / "mot15_train" / name), "public", appearance=False,
                                 progress=False, need_gt_ids=True)

            def on_level(level, t, g, p, k=k):
                if level == 0:
                    return
                r = parts.setdefault(level, {"f": [], "y": [], "p": [], "real": [], "fold": []})
                r["f"].append(np.asarray(g.features, np.float64))
                r["y"].append(edge_labels(t, g.edges) > 0.5)
                r["p"].append(np.asarray(p, np.float64))
                r["real"].append(edge_kinds(t, g.edges)["real"])
                r["fold"].append(np.full(len(g.edges), k))

            for start, _, _, t0 in clip_tracklets(inp, tc)[2]:
                run_hierarchy(t0, tc, inp.seq.info.fps, start, scorer, cfg.model.graph_features, on_level)
    return {lv: {key: np.concatenate(v) for key, v in r.items()} for lv, r in parts.items()}


def auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    from scipy.stats import rankdata

    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    return float((rankdata(score)[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def design(f: np.ndarray, speed: bool) -> np.ndarray:
    """The edge features, plus their absolute position/size differences (trees split on one side
    at a time), plus, with ``speed``, the implied speed and size change per second."""
    cols = [f, np.abs(f[:, 1:5])]
    if speed:
        dt = np.maximum(f[:, 0], 1e-3)
        cols.append(np.column_stack([np.hypot(f[:, 1], f[:, 2]) / dt, np.abs(f[:, 3]) / dt]))
    return np.column_stack(cols)


def cross_fold(x: np.ndarray, y: np.ndarray, fold: np.ndarray, seed: int = 0) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier

    q = np.zeros(len(y))
    for k in np.unique(fold):
        train = fold != k
        clf = HistGradientBoostingClassifier(max_iter=200, random_state=seed).fit(x[train], y[train])
        q[~train] = clf.predict_proba(x[~train])[:, 1]
    return q


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "mot15_cv")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "diagnostics" / "results" / "edge_separability")
    a = ap.parse_args()
    try:
        import sklearn.ensemble  # noqa: F401  (checked before the long run)
    except ImportError:
        sys.exit("edge_separability needs scikit-learn: pip install scikit-learn (or the 'peers' extra)")
    import pandas as pd

    from lgmot.data.motio import atomic_write_text

    t0 = time.perf_counter()
    edges = collect(a.runs, a.data)
    rows = []
    for lv, r in sorted(edges.items()):
        scores = {"network": r["p"], "trees": cross_fold(design(r["f"], False), r["y"], r["fold"]),
                  "trees + speed": cross_fold(design(r["f"], True), r["y"], r["fold"])}
        for subset, m in (("all", np.ones(len(r["y"]), bool)), ("real-real", r["real"])):
            y = r["y"][m]
            for name, q in scores.items():
                on = q[m] > 0.5
                rows.append({"level": lv, "edges": subset, "classifier": name, "n": int(m.sum()), "positives": int(y.sum()),
                             "AUC": round(auc(q[m], y), 3), "recall": round(float((on & y).sum() / max(y.sum(), 1)), 2),
                             "precision": round(float((on & y).sum() / max(on.sum(), 1)), 2)})
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out.with_suffix(".csv"), table.to_csv(index=False))
    runs = a.runs.relative_to(ROOT) if a.runs.is_relative_to(ROOT) else a.runs
    lines = ["# Upper-level edges: the network against trees on the same features", "",
             f"Fold models from `{runs}`; the edges each network scored at levels 1-3 on its fold's held-out "
             "sequences (public detections, no appearance). Trees: scikit-learn HistGradientBoostingClassifier, "
             "one edge at a time, trained on two folds' edges and scored on the third. Recall and precision at 0.5 "
             "before the flow rounding.", "",
             "| level | edges | classifier | n | positives | AUC | recall | precision |", "|---:|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['level']} | {r['edges']} | {r['classifier']} | {r['n']} | {r['positives']} | {r['AUC']:.3f} | "
              f"{r['recall']:.2f} | {r['precision']:.2f} |" for r in rows]
    lines += ["", f"`python benchmarks/diagnostics/edge_separability.py --runs {runs}`, {time.perf_counter() - t0:.0f} s."]
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
