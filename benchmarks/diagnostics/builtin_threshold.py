"""Whether the built-in detector's weak boxes should be used: lgmot at several tracking thresholds,
and low-score recovery, on PETS09-S2L1 with YOLOv3-tiny boxes, chosen on one half of the sequence and
scored on the other.

The shipped model (trained with the public detections >= 0.65) tracks the built-in boxes >= each
threshold with MobileNetV2 appearance, as ``lgmot demo`` does, and the recipe's post-processing.
TrackEval scores frames 1-397 (where a threshold would be chosen) and 398-795 (where it is judged)
separately, and the whole sequence. Recovery: the setting of the CV's grid (``postchoice.RECOVERY_GRID``)
that scores best on frames 1-397 by (HOTA + IDF1) / 2, added to the recipe's post-processing at the
model's threshold. trackers ByteTrack on the same boxes with the same
post-processing, on all of them (its second stage uses the weak ones) and on those >= 0.65, for
reference. The shipped model trained on PETS09-S2L1's public detections: this is a check of a
setting, not a benchmark of accuracy.

    python benchmarks/diagnostics/builtin_threshold.py [--data ../shared/data] [--out runs/demo_post]

The detections are those of ``benchmarks/demo_postprocess.py`` (``<out>/builtin_dets.txt``; made here
if missing). Writes ``benchmarks/diagnostics/results/builtin_threshold.md``.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

PARTS = {"frames 1-397": (1, 397), "frames 398-795": (398, 795), "all frames": (1, 795)}
METRICS = ("HOTA", "IDF1", "MOTA", "DetA", "AssA")
RAW = {"recover": False, "untangle": False, "interpolate": False, "smooth": "none"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "demo_post")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.2, 0.3, 0.4, 0.5, 0.65])
    a = ap.parse_args()

    import postchoice
    from peers import run_peer

    from lgmot.data import load_sequence, read_detections, write_detections
    from lgmot.data.motio import atomic_write_text
    from lgmot.data.sequence import Sequence
    from lgmot.detect import confident, detect, detect_preset
    from lgmot.evaluate.sequences import evaluate_sequences
    from lgmot.solve import finish_tracks
    from lgmot.track.run import load_tracker

    seq = load_sequence(a.data / "pets09_s2l1")
    cached = a.out / "builtin_dets.txt"
    if not cached.is_file():
        write_detections(cached, detect(seq, detect_preset("builtin"), progress=False))
    dets = read_detections(cached, seq.info.length)
    tracker, cfg = load_tracker(None, None, oracle=False)
    app = None
    if tracker.uses_appearance:
        from lgmot.embed import default_encoder, embed_sequence

        keep = confident(dets.score.to_numpy(), min(a.thresholds))
        app = np.full((len(dets), default_encoder().dim), np.nan, np.float32)
        app[keep] = embed_sequence(seq, dets[keep].reset_index(drop=True), default_encoder(),
                                   cache_dir=a.out / "cache_thresholds", progress=False)

    def part(first: int, last: int) -> Sequence:
        s = Sequence(seq.info, seq.root, video=seq.video, images=seq._images, det_path=seq.det_path,
                     gt_path=seq.gt_path)
        s.__dict__["gt"] = seq.gt[(seq.gt.frame >= first) & (seq.gt.frame <= last)].reset_index(drop=True)
        return s

    rows = []

    def add(name: str, tracks) -> None:
        row = {"tracker": name}
        for label, (first, last) in PARTS.items():
            t = tracks[(tracks.frame >= first) & (tracks.frame <= last)]
            r = evaluate_sequences([part(first, last)], {seq.name: t}).loc[seq.name]
            row[label] = " / ".join(f"{float(r[m]):.1f}" for m in METRICS)
        rows.append(row)
        print(row, flush=True)

    for s in a.thresholds:
        tracker.config = replace(cfg, tracker=replace(cfg.tracker, min_score=s))
        add(f"lgmot @ {s:g}" + (" (the model's)" if s == cfg.tracker.min_score else ""),
            tracker.track_detections(dets, seq.info.fps, appearance=app))
    # low-score recovery from the boxes below the model's threshold, on top of the recipe's
    # post-processing: each setting of the CV's grid, chosen on frames 1-397 by (HOTA + IDF1) / 2
    tc = cfg.tracker
    raw_tc = postchoice.tracker_config(tc, RAW)
    tracker.config = replace(cfg, tracker=raw_tc)
    raw = tracker.track_detections(dets, seq.info.fps, appearance=app)
    tracker.close()
    cands = postchoice.candidates(dets, tc.min_score, postchoice.FLOOR)
    first = part(*PARTS["frames 1-397"])

    def on_first(settings: dict) -> float:
        t = finish_tracks(raw, postchoice.tracker_config(tc, settings), seq.info.fps, cands)
        r = evaluate_sequences([first], {seq.name: t[t.frame <= PARTS["frames 1-397"][1]]}).loc[seq.name]
        return (float(r["HOTA"]) + float(r["IDF1"])) / 2

    best = max(postchoice.RECOVERY_GRID, key=on_first)
    chosen = postchoice.tracker_config(tc, best)
    what = (f"IoU {best['recover_min_iou']:g}, ends {best['recover_extrapolate']} f" if best.get("recover") else "off")
    add(f"lgmot @ {tc.min_score:g} + recovery chosen on frames 1-397 ({what})",
        finish_tracks(raw, chosen, seq.info.fps, cands))
    for s in (0.0, cfg.tracker.min_score):
        d = dets[confident(dets.score.to_numpy(), s)].reset_index(drop=True)
        tracks, _ = run_peer("trackers-ByteTrack", d, seq.info.fps, seq.info.width, seq.info.height, seq.info.length)
        tracks = tracks.drop_duplicates(["frame", "id"])
        add(f"trackers ByteTrack {'@ %g' % s if s else '(all boxes)'} + the same post-processing",
            finish_tracks(tracks, tc, seq.info.fps))
        if s and best.get("recover"):
            add(f"trackers ByteTrack @ {s:g} + the same post-processing with lgmot's chosen recovery",
                finish_tracks(tracks, chosen, seq.info.fps, postchoice.candidates(dets, s, postchoice.FLOOR)))
    lines = [f"# The built-in detector's tracking threshold, PETS09-S2L1 ({time.strftime('%Y-%m-%d')})", "",
             f"{len(dets)} YOLOv3-tiny boxes (confidence >= {detect_preset('builtin').min_score:g}); lgmot: the shipped "
             "model, MobileNetV2 appearance, the recipe's post-processing (crossing repair, interpolation, GP "
             "smoothing), tracking the boxes >= the threshold. Each cell: " + " / ".join(METRICS) + ".", "",
             "| tracker | " + " | ".join(PARTS) + " |", "|---|" + "---|" * len(PARTS)]
    lines += [f"| {r['tracker']} | " + " | ".join(r[p] for p in PARTS) + " |" for r in rows]
    lines += ["", "`python benchmarks/diagnostics/builtin_threshold.py` (detections cached in `runs/demo_post`)."]
    atomic_write_text(HERE / "results" / "builtin_threshold.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
