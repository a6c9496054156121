"""Where the cross-validated model loses accuracy: each hierarchy level replaced by the oracle.

Uses the fold models written by ``benchmarks/mot15_cv.py`` (``RUNS/fold{k}/model.safetensors``) and
tracks each fold's held-out sequences again, with the edges of some levels scored by the ground
truth instead of the network (everything else unchanged: public detections >= the model's
``min_score``, no appearance). The gap between a row and ``model`` is what perfect edge scores at
those levels would be worth. Two calibration rows add a logit offset at levels >= 1 (the
rounding threshold 0.5 moved to ~0.38 / ~0.27): if they closed the gap, the levels would only be
miscalibrated; if not, they cannot tell the edges apart. Diagnostic only: nothing here is used
by the tracker (a -0.5 row checks the other direction: a stricter threshold).

A second table follows the network's own run level by level: of the positive edges among all
candidates of a level (flow labels over every pair in a window, before pruning), how many the
reciprocal top-k pruning keeps, and how many the network scores above 0.5.

    python benchmarks/diagnostics/level_headroom.py --runs runs/mot15_cv --data ../shared/data

Writes ``benchmarks/diagnostics/results/level_headroom.{md,csv}`` (TrackEval COMBINED over the 11 sequences).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

ROOT = Path(__file__).resolve().parents[2]  # the repository
sys.path.insert(0, str(ROOT / "benchmarks"))  # folds.py, jobs.py


def edge_kinds(tracklets, edges: np.ndarray) -> dict[str, np.ndarray]:
    """(E,) masks: 'real' edges join two tracklets whose (majority) GT identity is a real object;
    'singleton' edges have an end made of one detection."""
    u, v = edges[:, 0], edges[:, 1]
    n = np.bincount(tracklets.det_node, minlength=tracklets.n_nodes)
    return {"real": (tracklets.gt_id[u] != -1) & (tracklets.gt_id[v] != -1),
            "singleton": (n[u] == 1) | (n[v] == 1)}


class MixedScorer:
    """The network's edge probabilities, with the GT's at ``oracle_levels`` (only on the edges of
    kind ``only``, see :func:`edge_kinds`, when given) and a logit offset ``shift`` at levels >= 1."""

    def __init__(self, model, oracle_levels=(), shift: float = 0.0, only: str | None = None):
        from lgmot.track import ModelScorer

        self.net, self.oracle_levels, self.shift, self.only = ModelScorer(model), set(oracle_levels), shift, only

    def __call__(self, level, tracklets, graph):
        from lgmot.track.hierarchy import oracle_scorer

        if level in self.oracle_levels and self.only is None:
            return oracle_scorer(level, tracklets, graph)
        p = self.net(level, tracklets, graph)
        if self.shift and level >= 1:
            p = expit(logit(np.clip(p, 1e-9, 1 - 1e-9)) + self.shift)
        if level in self.oracle_levels:
            m = edge_kinds(tracklets, graph.edges)[self.only]
            p = np.array(p, dtype=np.float64)
            p[m] = oracle_scorer(level, tracklets, graph)[m]
        return p


VARIANTS = {
    "model": {},
    "oracle at level 0": {"oracle_levels": (0,)},
    "oracle at level 1": {"oracle_levels": (1,)},
    "oracle at levels 2-3": {"oracle_levels": (2, 3)},
    "oracle at levels 1-3": {"oracle_levels": (1, 2, 3)},
    "oracle at levels 1-3, edges with a singleton end only": {"oracle_levels": (1, 2, 3), "only": "singleton"},
    "oracle at levels 1-3, edges between real tracklets only": {"oracle_levels": (1, 2, 3), "only": "real"},
    "logit +0.5 at levels 1-3": {"shift": 0.5},
    "logit +1.0 at levels 1-3": {"shift": 1.0},
    "logit -0.5 at levels 1-3": {"shift": -0.5},
}


def level_recall(model, cfg, inputs) -> dict[int, np.ndarray]:
    """Per level: [candidate positives, kept by pruning, scored > 0.5 by the network, and among the
    kept edges between real tracklets: positives, positives scored > 0.5, all scored > 0.5, edges
    with a false tracklet end, those scored > 0.5], summed over the clips of ``inputs`` (one
    process, the tracker's clips)."""
    from folds import clip_tracklets

    from lgmot.graph import edge_labels
    from lgmot.graph.edges import candidate_edges
    from lgmot.track import ModelScorer
    from lgmot.track.hierarchy import run_hierarchy

    scorer, tc, out = ModelScorer(model), cfg.tracker, {}
    for inp in inputs:
        for start, _, _, t0 in clip_tracklets(inp, tc)[2]:
            def on_level(level, t, g, p, start=start):
                cand = candidate_edges(t.start_frame, t.end_frame, tc.frames_per_level[level], start)
                pos = {tuple(e) for e in cand[edge_labels(t, cand) == 1].tolist()}
                kept = np.array([tuple(e) in pos for e in g.edges.tolist()], bool)
                on = np.asarray(p) > 0.5
                real = edge_kinds(t, g.edges)["real"]
                out.setdefault(level, np.zeros(8, np.int64))[:] += [
                    len(pos), kept.sum(), (kept & on).sum(), (real & kept).sum(), (real & kept & on).sum(),
                    (real & on).sum(), (~real).sum(), (~real & on).sum()]

            run_hierarchy(t0, tc, inp.seq.info.fps, start, scorer, cfg.model.graph_features, on_level)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "mot15_cv")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "diagnostics" / "results" / "level_headroom")
    a = ap.parse_args()

    import pandas as pd
    from folds import fold_models

    from lgmot.data import load_sequence
    from lgmot.data.motio import atomic_write_text
    from lgmot.evaluate import evaluate
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs, track_sequence, write_sequence_results
    from lgmot.train.recipes import MOT15_TRAIN

    t0 = time.perf_counter()
    mot15 = a.data / "mot15_train"
    folds = []
    for held, model, cfg in fold_models(a.runs):
        inputs = [prepare_inputs(load_sequence(mot15 / n), "public", appearance=False, progress=False,
                                 need_gt_ids=True) for n in held]
        folds.append((model, cfg, inputs))
    rows = []
    with tempfile.TemporaryDirectory(prefix="lgmot_headroom_") as tmp:
        seqmap = Path(tmp) / "seqmap.txt"
        seqmap.write_text("name\n" + "\n".join(MOT15_TRAIN) + "\n")
        for name, kw in VARIANTS.items():
            res = Path(tmp) / name.replace(" ", "_")
            for model, cfg, inputs in folds:
                with Tracker(cfg, scorer=MixedScorer(model, **kw)) as tracker:
                    for inp in inputs:
                        write_sequence_results(res, inp.seq, track_sequence(tracker, inp))
            df = evaluate(mot15, res, seqmap=seqmap)
            row = df.loc["COMBINED"]
            rows.append({"variant": name, **{c: round(float(row[c]), 1) for c in ("HOTA", "DetA", "AssA", "MOTA", "IDF1")},
                         "IDSW": int(row["IDSW"])})
            print(rows[-1], flush=True)
    recall: dict[int, np.ndarray] = {}
    for model, cfg, inputs in folds:
        for level, c in level_recall(model, cfg, inputs).items():
            recall[level] = recall.get(level, 0) + c
    table = pd.DataFrame(rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out.with_suffix(".csv"), table.to_csv(index=False))
    lines = ["# Where the cross-validated model loses accuracy", "",
             f"Fold models from `{a.runs.relative_to(ROOT) if a.runs.is_relative_to(ROOT) else a.runs}`; "
             "each fold's held-out sequences tracked again with some levels scored by the GT. "
             "TrackEval COMBINED over the 11 MOT15 train sequences.", "",
             "| variant | HOTA | DetA | AssA | MOTA | IDF1 | IDSW |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['variant']} | {r['HOTA']} | {r['DetA']} | {r['AssA']} | {r['MOTA']} | {r['IDF1']} | {r['IDSW']} |"
              for r in rows]
    lines += ["", "The network's own run, per level: positive edges among all candidates (before pruning), "
              "kept by the pruning, and scored > 0.5.", "",
              "| level | candidate positives | kept by pruning | found by the network |", "|---:|---:|---:|---:|"]
    lines += [f"| {lv} | {c[0]} | {c[1]} ({c[1] / max(c[0], 1):.2f}) | {c[2]} ({c[2] / max(c[0], 1):.2f}) |"
              for lv, c in sorted(recall.items())]
    lines += ["", "The same run, kept edges split by their ends: between two real tracklets (majority GT identity "
              "a real object), the network's recall and precision at 0.5; with a false tracklet end "
              "(majority of false detections; never a positive), how many it scores > 0.5.", "",
              "| level | real-real positives | recall | precision | edges with a false end | scored > 0.5 |",
              "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {lv} | {c[3]} | {c[4] / max(c[3], 1):.2f} | {c[4] / max(c[5], 1):.2f} | {c[6]} | {c[7]} "
              f"({c[7] / max(c[6], 1):.2f}) |" for lv, c in sorted(recall.items())]
    lines += ["", f"`python benchmarks/diagnostics/level_headroom.py --runs {a.runs}`, {time.perf_counter() - t0:.0f} s."]
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
