"""What the post-processing is worth: interpolation of the gaps inside tracks (with and without a
limit on the gap) and dropping tracks of low mean detection score.

Uses the fold models of one or more ``benchmarks/mot15_cv.py`` runs (``RUN/fold{k}/model.safetensors``):
each fold's held-out sequences are tracked once (public detections >= the model's ``min_score``,
no appearance, tracks shorter than ``min_track_len`` dropped, no interpolation); then each variant
drops the tracks whose mean detection score, or mean score rank among the sequence's tracked
detections, is below a value (``tracker.min_track_score`` / ``min_track_rank``,
``lgmot.solve.drop_unconfident`` / ``drop_low_rank``) and fills the gaps of every length, none, or only those up to a
limit in frames or seconds (``tracker.interpolate_max_gap_s``). TrackEval COMBINED over the 11 MOT15
train sequences, and over folds 1-2 and fold 3 apart; mean over the runs. Diagnostic: the
tracker's defaults are the first two rows' settings.

    python benchmarks/diagnostics/postprocess.py --runs runs/cv_seed42 runs/cv_seed0 runs/cv_seed1 --data ../shared/data \
        --peers runs/mot15_peers

``--peers`` applies the track filters (not interpolation: online trackers do not fill gaps) to
the result files of the peer trackers of the same CV run (``benchmarks/mot15_peers.py`` writes
one folder per tracker, boxes with their detection scores), so the filters can be compared like
for like. Writes ``benchmarks/diagnostics/results/postprocess.{md,csv}``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
sys.path.insert(0, str(ROOT / "benchmarks"))  # folds.py, jobs.py
METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")
#: name -> (min mean track score, min mean track score rank, gap limit kind, value); kind None: every
#: gap; 0 frames: no interpolation
VARIANTS = {
    "no interpolation": (0.0, 0.0, "frames", 0),
    "every gap (default, the reference)": (0.0, 0.0, None, None),
    "gaps <= 5 frames": (0.0, 0.0, "frames", 5),
    "gaps <= 20 frames (ByteTrack's)": (0.0, 0.0, "frames", 20),
    "gaps <= 0.5 s": (0.0, 0.0, "seconds", 0.5),
    "gaps <= 1 s": (0.0, 0.0, "seconds", 1.0),
    "gaps <= 2 s": (0.0, 0.0, "seconds", 2.0),
    "track mean score >= 0.75": (0.75, 0.0, None, None),
    "track mean score >= 0.80": (0.80, 0.0, None, None),
    "track mean score >= 0.85": (0.85, 0.0, None, None),
    "track mean score >= 0.90": (0.90, 0.0, None, None),
    "track mean score rank >= 0.1": (0.0, 0.1, None, None),
    "track mean score rank >= 0.2": (0.0, 0.2, None, None),
    "track mean score rank >= 0.3": (0.0, 0.3, None, None),
}


def max_gap(kind, value, fps: float):
    from lgmot.solve import max_gap_frames

    return int(value) if kind == "frames" else max_gap_frames(value if kind else None, fps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=Path, nargs="+", default=[ROOT / "runs" / "mot15_cv"])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--peers", type=Path, default=None, help="peer result folders (one per tracker) to filter too")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "diagnostics" / "results" / "postprocess")
    a = ap.parse_args()

    import pandas as pd
    from folds import fold_models

    from lgmot.data import load_sequence
    from lgmot.data.motio import atomic_write_text, read_results, write_results
    from lgmot.evaluate import evaluate
    from lgmot.solve import drop_low_rank, drop_unconfident, interpolate
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs, track_sequence
    from lgmot.train.recipes import MOT15_FOLDS, MOT15_TRAIN

    t0 = time.perf_counter()
    mot15 = a.data / "mot15_train"
    seqs = {n: load_sequence(mot15 / n) for n in MOT15_TRAIN}
    inputs = {n: prepare_inputs(s, "public", appearance=False, progress=False) for n, s in seqs.items()}
    groups = {"all": MOT15_TRAIN, "folds 1-2": MOT15_FOLDS[0] + MOT15_FOLDS[1], "fold 3": MOT15_FOLDS[2]}
    rows = []
    with tempfile.TemporaryDirectory(prefix="lgmot_post_") as tmp:
        seqmaps = {}
        for g, names in groups.items():
            seqmaps[g] = Path(tmp) / f"seqmap_{len(seqmaps)}.txt"
            seqmaps[g].write_text("name\n" + "\n".join(names) + "\n")
        for run in a.runs:
            raw = {}
            for held, model, cfg in fold_models(run):
                cfg = replace(cfg, tracker=replace(cfg.tracker, interpolate=False, min_track_score=0.0,
                                                   min_track_rank=0.0))
                with Tracker(cfg, model) as tracker:
                    for n in held:
                        raw[n] = track_sequence(tracker, inputs[n])
            for name, (min_score, min_rank, kind, value) in VARIANTS.items():
                res = Path(tmp) / f"{run.name}_{len(rows)}"
                for n, tracks in raw.items():
                    g = max_gap(kind, value, seqs[n].info.fps)
                    kept = drop_low_rank(drop_unconfident(tracks, min_score), min_rank)
                    write_results(res / f"{n}.txt", kept if g == 0 else interpolate(kept, g))
                row = {"run": run.name, "variant": name}
                for group, seqmap in seqmaps.items():
                    c = evaluate(mot15, res, seqmap=seqmap).loc["COMBINED"]
                    row.update({m if group == "all" else f"{m} {group}": float(c[m]) for m in METRICS})
                rows.append(row)
                print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
        peer_rows = []
        filters = {name: v for name, v in VARIANTS.items() if v[2] is None}  # every gap = no interpolation step
        for d in sorted(a.peers.iterdir()) if a.peers else []:
            tables = {n: read_results(d / f"{n}.txt") for n in MOT15_TRAIN}
            row = {"tracker": d.name}
            for name, (min_score, min_rank, _, _) in filters.items():
                res = Path(tmp) / f"peer_{len(peer_rows)}_{len(row)}"
                for n, tracks in tables.items():
                    write_results(res / f"{n}.txt", drop_low_rank(drop_unconfident(tracks, min_score), min_rank))
                c = evaluate(mot15, res, seqmap=seqmaps["all"]).loc["COMBINED"]
                row[name] = (float(c["HOTA"]), float(c["IDF1"]), float(c["MOTA"]))
            peer_rows.append(row)
            print(row, flush=True)
    df = pd.DataFrame(rows)
    tmp_csv = a.out.with_suffix(".csv.tmp")
    df.round(2).to_csv(tmp_csv, index=False)
    tmp_csv.replace(a.out.with_suffix(".csv"))
    mean = df.groupby("variant", sort=False).mean(numeric_only=True)
    split = ("HOTA", "MOTA", "IDF1")
    lines = ["# Post-processing: interpolation of the gaps inside tracks, and dropping unconfident tracks", "",
             f"Fold models from {', '.join(f'`{r}`' for r in a.runs)}; each fold's held-out sequences tracked "
             "once without interpolation, then post-processed as named. TrackEval COMBINED, mean over the "
             f"{len(a.runs)} run(s): over the 11 MOT15 train sequences, and HOTA / MOTA / IDF1 over folds 1-2 "
             "(8 sequences) and fold 3 (3 sequences) apart.", "",
             "| variant | " + " | ".join(METRICS) + " | folds 1-2 | fold 3 |",
             "|---|" + "---:|" * len(METRICS) + "---|---|"]
    for name, r in mean.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{r[m]:.0f}" if m == "IDSW" else f"{r[m]:.1f}" for m in METRICS)
                     + " | " + " / ".join(f"{r[f'{m} folds 1-2']:.1f}" for m in split)
                     + " | " + " / ".join(f"{r[f'{m} fold 3']:.1f}" for m in split) + " |")
    if peer_rows:
        names = [n for n in filters if n != "every gap (default, the reference)"]
        lines += ["", "The same track filters on the peers' result files (HOTA / IDF1 / MOTA over the 11 sequences; "
                  "no interpolation for them) and on lgmot (mean of the runs, with interpolation):", "",
                  "| tracker | off | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
        fmt = (lambda v: " / ".join(f"{x:.1f}" for x in v))
        for row in peer_rows:
            lines.append(f"| {row['tracker']} | " + fmt(row["every gap (default, the reference)"]) + " | "
                         + " | ".join(fmt(row[n]) for n in names) + " |")
        lg = lambda n: (mean.loc[n, "HOTA"], mean.loc[n, "IDF1"], mean.loc[n, "MOTA"])  # noqa: E731
        lines.append("| **lgmot** | " + fmt(lg("every gap (default, the reference)")) + " | "
                     + " | ".join(fmt(lg(n)) for n in names) + " |")
    peers_arg = f" --peers {a.peers}" if a.peers else ""
    lines += ["", f"`python benchmarks/diagnostics/postprocess.py --runs {' '.join(str(r) for r in a.runs)}{peers_arg}`, "
              f"{time.perf_counter() - t0:.0f} s."]
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
