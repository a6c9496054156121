"""Whether MOT15's weak public detections carry anything for linking ("let the model decide").

Two questions, before training a network that takes the detections below ``min_score`` as graph
nodes (issue 20's optional variant):

1. What is there: the public detections of the 11 MOT15 train sequences by score, and the share of
   each score bin that matches a GT box (``data.assign.assign_gt_ids``: IoU >= 0.5, Hungarian per frame).
2. Whether the weak boxes tell a right link across a gap from a wrong one. Each fold model of a CV
   run tracks its held-out sequences (no post-processing). For every internal gap of a track (its
   links across frames without a box) and every pair of a track's end and a later track's start
   within 60 frames and 2 box heights (links the network did not make), the gap's *support* is the
   share of its frames with a weak box (score in [``recover_min_score``, ``min_score``)) at IoU >= 0.5
   with the box interpolated linearly between the two ends. A link is right when the majority GT
   identities of the last 5 boxes before and the first 5 after agree. Reports the mean support of
   right and wrong links and the AUC of support as a score for "right" (0.5: no information).

    python benchmarks/diagnostics/low_score_evidence.py --runs runs/cv_seed42 [--data ../shared/data]

Writes ``benchmarks/diagnostics/results/low_score_evidence.{md,csv}``.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

HERE = Path(__file__).resolve().parent
BINS = [0.0, 0.1, 0.3, 0.5, 0.65, 0.8, 0.9, 1.0]
PAIR_FRAMES, PAIR_HEIGHTS = 60, 2.0


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``positive`` (Mann-Whitney, ties counted half)."""
    positive = np.asarray(positive, bool)
    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def support(box_a: np.ndarray, fa: int, box_b: np.ndarray, fb: int, weak: dict[int, np.ndarray]) -> float:
    """Share of the frames strictly between ``fa`` and ``fb`` with a weak box at IoU >= 0.5 with the
    box interpolated linearly from ``box_a`` (frame fa) to ``box_b`` (frame fb); x, y, w, h."""
    from lgmot.data.assign import box_iou

    frames = np.arange(fa + 1, fb)
    w = ((frames - fa) / (fb - fa))[:, None]
    pred = (1 - w) * box_a + w * box_b
    hits = [len(weak.get(int(f), ())) > 0 and box_iou(p, weak[int(f)]).max() >= 0.5 for f, p in zip(frames, pred)]
    return float(np.mean(hits)) if len(hits) else 0.0


def link_rows(t: pd.DataFrame, weak: dict[int, np.ndarray], name: str) -> list[dict]:
    """Support and right/wrong of the internal gaps of ``t`` (with ``gid``) and of its end -> start pairs."""
    rows, ends = [], []
    for _, g in t.groupby("id"):
        g = g.sort_values("frame")
        f, box, gid = g.frame.to_numpy(), g[["x", "y", "w", "h"]].to_numpy(float), g.gid.to_numpy()
        for j in np.flatnonzero(np.diff(f) > 1):
            before, after = gid[max(0, j - 4):j + 1], gid[j + 1:j + 6]
            before, after = before[before >= 0], after[after >= 0]
            if len(before) and len(after):
                rows.append({"seq": name, "link": "made", "gap": int(f[j + 1] - f[j]),
                             "right": bool(pd.Series(before).mode()[0] == pd.Series(after).mode()[0]),
                             "support": support(box[j], f[j], box[j + 1], f[j + 1], weak)})
        known = gid[gid >= 0]
        if len(known):
            first, last = gid[:5][gid[:5] >= 0], gid[-5:][gid[-5:] >= 0]
            ends.append((f[0], f[-1], box[0], box[-1], pd.Series(first).mode()[0] if len(first) else -2,
                         pd.Series(last).mode()[0] if len(last) else -3))
    for a in ends:
        for b in ends:
            gap = b[0] - a[1]
            if 1 < gap <= PAIR_FRAMES:
                centre = lambda bx: bx[:2] + bx[2:] / 2  # noqa: E731
                if np.linalg.norm(centre(a[3]) - centre(b[2])) <= PAIR_HEIGHTS * a[3][3]:
                    rows.append({"seq": name, "link": "not made", "gap": int(gap), "right": bool(a[5] == b[4]),
                                 "support": support(a[3], a[1], b[2], b[0], weak)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "low_score_evidence")
    a = ap.parse_args()
    from lgmot.data import load_sequence
    from lgmot.data.assign import assign_gt_ids
    from lgmot.data.motio import atomic_write_text
    from lgmot.model.infer import load_inference_model
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs
    from lgmot.train.recipes import MOT15_FOLDS, mot15_paths

    scores, rows = [], []
    for i, run in enumerate(a.runs):
        for k in (1, 2, 3):
            model, mcfg = load_inference_model(run / f"fold{k}" / "model.safetensors")
            tc = replace(mcfg.tracker, recover=False, untangle=False, interpolate=False, smooth="none", min_track_len=2)
            with Tracker(replace(mcfg, tracker=tc), model, workers=1) as tr:
                for p in mot15_paths(a.data, MOT15_FOLDS[k - 1]):
                    s = load_sequence(p)
                    dets = prepare_inputs(s, "public", appearance=False, progress=False).dets.reset_index(drop=True)
                    if i == 0:
                        matched = assign_gt_ids(dets.assign(id=np.arange(len(dets))), s.gt) >= 0
                        scores.append(pd.DataFrame({"score": dets.score.to_numpy(), "matched": matched}))
                    low = dets[(dets.score >= tc.recover_min_score) & (dets.score < tc.min_score)]
                    weak = {int(f): g[["x", "y", "w", "h"]].to_numpy(float) for f, g in low.groupby("frame")}
                    t = tr.track_detections(dets, s.info.fps).reset_index(drop=True)
                    rows += [dict(r, run=run.name) for r in link_rows(t.assign(gid=assign_gt_ids(t, s.gt)), weak, s.name)]
    sc, df = pd.concat(scores), pd.DataFrame(rows)
    lines = ["# MOT15's weak public detections: what is there, and whether they tell right links from wrong", "",
             "## The public detections of the 11 MOT15 train sequences by score", "",
             "| score | detections | matching a GT box (IoU >= 0.5) |", "|---|---:|---:|"]
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        g = sc[(sc.score >= lo) & (sc.score < hi)] if hi < BINS[-1] else sc[sc.score >= lo]
        label = f"[{lo:g}, {hi:g})" if hi < BINS[-1] else f">= {lo:g}"
        lines.append(f"| {label} | {len(g)} | {g.matched.mean():.2f} |" if len(g) else f"| {label} | 0 | - |")
    lines += ["", f"## Support of links across a gap by weak boxes (fold models of {', '.join(r.name for r in a.runs)})", "",
              "Support: share of the gap's frames with a weak box (score in [recover_min_score, min_score)) at IoU >= 0.5 "
              "with the linearly interpolated box. Made: the network's links (internal gaps of its raw tracks); not made: "
              f"a track's end and a later track's start within {PAIR_FRAMES} frames and {PAIR_HEIGHTS:g} box heights.", "",
              "| links | n | wrong | mean support, right | mean support, wrong | AUC of support for right | share with support > 0 |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for link, g in df.groupby("link", sort=False):
        lines.append(f"| {link} | {len(g)} | {int((~g.right).sum())} | {g.support[g.right].mean():.3f} | "
                     f"{g.support[~g.right].mean():.3f} | {auc(g.support.to_numpy(), g.right.to_numpy()):.2f} | "
                     f"{(g.support > 0).mean():.2f} |")
    lines += ["", f"`python benchmarks/diagnostics/low_score_evidence.py --runs {' '.join(str(r) for r in a.runs)}`"]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out.with_suffix(".csv"), df.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
