"""The demo's sequence (PETS09-S2L1, built-in YOLOv3-tiny detections) with and without the
post-processing, for lgmot (the shipped model, as `lgmot demo` runs it) and for ByteTrack and
BoT-SORT on the same detections with and without the same post-processing.

    python benchmarks/demo_postprocess.py [--data ../shared/data] [--out runs/demo_post]

The detector runs once (its boxes, down to the built-in preset's confidence floor, are cached in
``<out>/builtin_dets.txt``; delete it to re-detect), and so does the appearance encoder (cached in
``<out>/cache``; only the boxes the tracker links, >= its min_score, are embedded: the tracker
reads no other row). lgmot tracks once without post-processing; every variant is then
``solve.finish_tracks`` on that output with the settings named. The peers run on all built-in
boxes (their own second stage uses the weak ones) and on the boxes >= 0.65 (what lgmot links);
recovery applies to the latter. TrackEval on PETS09-S2L1's GT (HOTA / IDF1 / MOTA / DetA / AssA).
The shipped model trained on PETS09-S2L1: in-sample, a demo and not a benchmark of accuracy.

Writes ``benchmarks/results/demo_postprocess.{md,csv}``.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

PEERS = ("trackers-ByteTrack", "trackers-BoT-SORT", "boxmot-ByteTrack", "boxmot-BoT-SORT")
METRICS = ("HOTA", "IDF1", "MOTA", "DetA", "AssA", "IDSW")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "demo_post")
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "demo_postprocess.csv")
    ap.add_argument("--frames", type=int, default=None, help="only the first N frames (a quick check)")
    a = ap.parse_args()

    import postchoice
    from peers import available, run_peer

    from lgmot.data import load_sequence, read_detections, write_detections
    from lgmot.data.motio import atomic_write_text
    from lgmot.detect import confident, detect, detect_preset
    from lgmot.evaluate.sequences import evaluate_sequences
    from lgmot.solve import finish_tracks
    from lgmot.track.run import load_tracker

    t_all = time.perf_counter()
    seq = load_sequence(a.data / "pets09_s2l1")
    if a.frames:
        seq = seq.truncated(a.frames)
    info = seq.info
    floor = detect_preset("builtin").min_score
    cached = a.out / "builtin_dets.txt"
    if not cached.is_file():
        t0 = time.perf_counter()
        write_detections(cached, detect(seq, detect_preset("builtin"), progress=False))
        print(f"detected {info.length} frames in {time.perf_counter() - t0:.0f} s", flush=True)
    dets = read_detections(cached, info.length)
    tracker, cfg = load_tracker(None, None, oracle=False)
    tc = cfg.tracker
    linked = confident(dets.score.to_numpy(), tc.min_score)
    app = None
    if tracker.uses_appearance:
        from lgmot.embed import default_encoder, embed_sequence

        app = np.full((len(dets), default_encoder().dim), np.nan, np.float32)
        app[linked] = embed_sequence(seq, dets[linked].reset_index(drop=True), default_encoder(),
                                     cache_dir=a.out / "cache", progress=False)
    raw_settings = {"recover": False, "untangle": False, "interpolate": False, "smooth": "none", "min_track_len": 2}
    tracker.config = replace(cfg, tracker=postchoice.tracker_config(tc, raw_settings))
    raw = tracker.track_detections(dets, info.fps, appearance=app)
    tracker.close()
    cands = postchoice.candidates(dets, tc.min_score, floor)
    adopted = {k: getattr(tc, k) for k in postchoice.FIELDS}  # the recipe's (what `lgmot demo` now runs)
    # recovery is not in the recipe (no gain on the CV training folds); shown with the grid's middle setting
    what_if = {"recover": True, "recover_min_score": floor, "recover_min_iou": 0.5, "recover_extrapolate": 5}
    variants = {}
    for settings in (raw_settings, postchoice.INTERP_ONLY, {**postchoice.INTERP_ONLY, **what_if},
                     {**adopted, "untangle": False}, {**adopted, "min_track_len": 2}, adopted,
                     {**adopted, **what_if}):
        variants.setdefault(postchoice.label(settings), settings)
    rows = []

    def add(name: str, tracks: pd.DataFrame) -> None:
        r = evaluate_sequences([seq], {seq.name: tracks}).loc[seq.name]
        rows.append({"tracker": name, **{m: float(r[m]) for m in METRICS}})
        print(f"{name:70s} " + " ".join(f"{m} {rows[-1][m]:.1f}" for m in METRICS), flush=True)

    for name, settings in variants.items():
        add(f"lgmot, {name}", finish_tracks(raw, postchoice.tracker_config(tc, settings), info.fps, cands))
    for peer in PEERS:
        if not available(peer):
            continue
        for min_score in (0.0, tc.min_score):
            d = dets[confident(dets.score.to_numpy(), min_score)].reset_index(drop=True)
            tracks, _ = run_peer(peer, d, info.fps, info.width, info.height, info.length)
            tracks = tracks.drop_duplicates(["frame", "id"])
            label = f"{peer} @ {min_score:g}" if min_score else f"{peer} (all boxes >= {floor:g})"
            c = postchoice.candidates(dets, min_score, floor)
            add(label, tracks)
            add(f"{label} + interp.", finish_tracks(tracks, postchoice.tracker_config(tc, postchoice.INTERP_ONLY),
                                                   info.fps, c))
            for settings in (adopted, {**adopted, **what_if}) if min_score else (adopted,):
                if postchoice.label(settings) != postchoice.label(postchoice.INTERP_ONLY):
                    add(f"{label} + {postchoice.label(settings)}",
                        finish_tracks(tracks, postchoice.tracker_config(tc, settings), info.fps, c))
    df = pd.DataFrame(rows)
    atomic_write_text(a.table.with_suffix(".csv"), df.to_csv(index=False, float_format="%.2f"))
    lines = ["# The demo (PETS09-S2L1, built-in YOLOv3-tiny) with and without post-processing", "",
             f"{len(dets)} built-in boxes (confidence >= {floor:g}), {int(linked.sum())} of them >= {tc.min_score:g} "
             f"(linked by lgmot); lgmot: the shipped model, appearance {'on' if app is not None else 'off'}. "
             "'+ ...': `solve.finish_tracks` on the tracker's output (recovery from the boxes the tracker "
             "left out, in [floor, min_score); none for the peers run on all boxes). The recipe's post-processing "
             f"(what `lgmot demo` runs): {postchoice.label(adopted)}; rows with recovery are a what-if (recovery "
             "is not in the recipe). TrackEval on the GT.", "",
             "| tracker | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    for r in rows:
        lines.append(f"| {r['tracker']} | " + " | ".join(f"{r[m]:.0f}" if m == "IDSW" else f"{r[m]:.1f}"
                                                         for m in METRICS) + " |")
    lines += ["", f"`python benchmarks/demo_postprocess.py`, {time.perf_counter() - t_all:.0f} s "
              "(detections and embeddings cached in `runs/demo_post`)."]
    atomic_write_text(a.table.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
