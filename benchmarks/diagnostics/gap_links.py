"""Whether a motion check could tell lgmot's wrong links across a gap from its right ones.

Each fold model of a CV run tracks its held-out sequences (public detections, no post-processing:
no recovery, crossing repair, interpolation or smoothing). For every internal gap of a track (a
frame without a box between two with one), the boxes just before and just after are matched to
the GT (``data.assign.assign_gt_ids``: IoU >= 0.5, Hungarian per frame) and the link counts as wrong when the majority GT
identities differ. A constant-velocity line through the last 5 feet points before the gap predicts
the first 5 after it, and the reverse; the mean error in box heights is the check a rule that
splits doubtful links would use. Reports how many wrong links each error threshold flags, and the
wrong rate by gap length.

    python benchmarks/diagnostics/gap_links.py --runs runs/cv_seed42 [--data ../shared/data]
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def line_error(fa, pa, fb, pb) -> float:
    t = fa - fa.mean()
    den = float(t @ t)
    vel = (t @ (pa - pa.mean(0))) / den if den > 0 else np.zeros(2)
    return float(np.linalg.norm(pa.mean(0) + (fb - fa.mean())[:, None] * vel - pb, axis=1).mean())


def gap_rows(tracks: pd.DataFrame, gid: np.ndarray, name: str, fps: float) -> list[dict]:
    t = tracks.assign(gid=gid, fx=tracks.x + tracks.w / 2, fy=tracks.y + tracks.h)
    rows = []
    for _, g in t.groupby("id"):
        g = g.sort_values("frame")
        f = g.frame.to_numpy()
        for j in np.flatnonzero(np.diff(f) > 1):
            before, after = g.iloc[max(0, j - 4):j + 1], g.iloc[j + 1:j + 6]
            gb, ga = before.gid[before.gid >= 0], after.gid[after.gid >= 0]
            if len(gb) == 0 or len(ga) == 0 or len(before) < 2 or len(after) < 2:
                continue
            h = float(pd.concat([before.h, after.h]).mean())
            pts = [(q.frame.to_numpy(float), q[["fx", "fy"]].to_numpy()) for q in (before, after)]
            err = (line_error(*pts[0], *pts[1]) + line_error(*pts[1], *pts[0])) / 2 / h
            rows.append({"seq": name, "gap": int(f[j + 1] - f[j]), "secs": (f[j + 1] - f[j]) / fps,
                         "wrong": bool(gb.mode().iloc[0] != ga.mode().iloc[0]), "err": err})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "gap_links")
    a = ap.parse_args()
    from lgmot.data import load_sequence
    from lgmot.data.assign import assign_gt_ids
    from lgmot.data.motio import atomic_write_text
    from lgmot.model.infer import load_inference_model
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs
    from lgmot.train.recipes import MOT15_FOLDS, mot15_paths

    rows = []
    for run in a.runs:
        for k in (1, 2, 3):
            model, mcfg = load_inference_model(run / f"fold{k}" / "model.safetensors")
            tc = replace(mcfg.tracker, recover=False, untangle=False, interpolate=False, smooth="none")
            with Tracker(replace(mcfg, tracker=tc), model, workers=1) as tr:
                for p in mot15_paths(a.data, MOT15_FOLDS[k - 1]):
                    s = load_sequence(p)
                    t = tr.track_detections(prepare_inputs(s, "public", appearance=False, progress=False).dets,
                                            s.info.fps).reset_index(drop=True)
                    rows += gap_rows(t, assign_gt_ids(t, s.gt), s.name, s.info.fps)
    df = pd.DataFrame(rows)
    lines = ["# Links across a gap in lgmot's raw tracks: right or wrong, and a motion check", "",
             f"Fold models of {', '.join(r.name for r in a.runs)} on their held-out sequences, no post-processing. "
             f"{len(df)} internal gaps, {int(df.wrong.sum())} of them join two GT identities (wrong). "
             "Error: mean distance between a constant-velocity line through 5 feet points on one side and the "
             "points on the other, both ways, in box heights.", "",
             "| flag when error > | gaps flagged | of them wrong | wrong links not flagged |", "|---:|---:|---:|---:|"]
    for thr in (0.25, 0.5, 1.0, 2.0):
        s = df.err > thr
        lines.append(f"| {thr:g} | {int(s.sum())} | {int((s & df.wrong).sum())} | {int((~s & df.wrong).sum())} |")
    lines += ["", "| gap (seconds) | gaps | wrong | wrong rate |", "|---|---:|---:|---:|"]
    for b, g in df.groupby(pd.cut(df.secs, [0, 0.2, 0.5, 1.0, 2.0, 60.0]), observed=True):
        lines.append(f"| {b} | {len(g)} | {int(g.wrong.sum())} | {g.wrong.mean():.2f} |")
    lines += ["", f"`python benchmarks/diagnostics/gap_links.py --runs {' '.join(str(r) for r in a.runs)}`"]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out.with_suffix(".csv"), df.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
