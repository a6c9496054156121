"""Time per stage of ``lgmot track --detections builtin --oracle --save-video`` on PETS09-S2L1.

    python benchmarks/stages.py [--data ../shared/data/pets09_s2l1] [--frames N] [--rounding exact]

Stages: model loading, decode + detect (built-in YOLOv3-tiny), embed (MobileNetV2 crops), GT assignment (the
oracle's identities), then inside the tracker: graph building (``build_level``), edge scoring
(the oracle scorer: flow labels; a model would run the MPN here), rounding (``round_flow`` +
``components``), merging tracklets between levels, stitching clips, post-processing (drop short
tracks + interpolation); then the annotated video and TrackEval. Tracker stages are timed by
wrapping the functions ``lgmot.track`` calls (no change to the library), so the numbers are those
of the real code path. Writes benchmarks/results/stages.json and stages.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import torch

from lgmot.data import load_sequence
from lgmot.data.motio import atomic_write_text

RESULTS = Path(__file__).parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pets09_s2l1"

TIMES: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


@contextmanager
def timed(stage: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        TIMES[stage] += time.perf_counter() - t0
        CALLS[stage] += 1


def wrap(stage: str, fn):
    def inner(*a, **kw):
        with timed(stage):
            return fn(*a, **kw)

    return inner


def instrument() -> None:
    """Time the tracker's internals where ``lgmot.track`` looks them up."""
    from lgmot.track import hierarchy, tracker

    hierarchy.build_level = wrap("graph", hierarchy.build_level)
    hierarchy.round_flow = wrap("rounding", hierarchy.round_flow)
    hierarchy.components = wrap("rounding", hierarchy.components)
    hierarchy.merge = wrap("merge", hierarchy.merge)
    tracker.drop_short = wrap("postprocess", tracker.drop_short)
    tracker.interpolate = wrap("postprocess", tracker.interpolate)

    class TimedStitcher(tracker.Stitcher):
        def add(self, clip):
            with timed("stitching"):
                return super().add(clip)

        def result(self):
            with timed("stitching"):
                return super().result()

    tracker.Stitcher = TimedStitcher


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--frames", type=int, default=None, help="only the first N frames (default: all)")
    ap.add_argument("--config", default="lgmot", help="lgmot | sushi | a YAML file")
    ap.add_argument("--no-video", action="store_true", help="skip the annotated video")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    from lgmot.config import load_config
    from lgmot.detect import detect_preset
    from lgmot.detect.base import run_detector
    from lgmot.detect.yolo import YoloV3TinyDetector
    from lgmot.embed import default_encoder, embed_sequence
    from lgmot.evaluate.sequences import evaluate_sequences
    from lgmot.track import Tracker
    from lgmot.track.run import gt_identities
    from lgmot.viz import write_video

    instrument()
    seq = load_sequence(args.data)
    if args.frames is not None:
        seq = seq.truncated(args.frames)
    cfg = load_config(args.config)
    t_all = time.perf_counter()
    dcfg = detect_preset("builtin")
    with timed("detect_load"):  # what lgmot.detect.detect does for 'builtin', split in load + run
        det = YoloV3TinyDetector(dcfg.input_size, conf_threshold=dcfg.min_score, nms_threshold=dcfg.nms)
    with timed("detect"):
        dets = run_detector(det, seq, progress=False)
    with timed("embed_load"):
        enc = default_encoder()
    with timed("embed"):
        app = embed_sequence(seq, dets, enc, cache_dir=None, progress=False)
    with timed("gt_assign"):
        gid = gt_identities(seq, dets)
    trk = Tracker(cfg, oracle=True)
    trk.scorer = wrap("scoring", trk.scorer)
    with timed("track_total"):
        tracks = trk.track_detections(dets, seq.info.fps, appearance=app, gt_ids=gid)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_video:
            with timed("video"):
                write_video(seq, tracks, Path(tmp) / f"{seq.name}.mp4")
    with timed("eval"):
        m = evaluate_sequences([seq], {seq.name: tracks}).loc[seq.name]
    wall = time.perf_counter() - t_all

    inner = ("graph", "scoring", "rounding", "merge", "stitching", "postprocess")
    TIMES["track_other"] = TIMES["track_total"] - sum(TIMES[k] for k in inner)
    order = ["detect_load", "detect", "embed_load", "embed", "gt_assign", *inner, "track_other", "track_total", "video", "eval"]
    n = seq.info.length
    res = {
        "sequence": seq.name, "frames": n, "detections": int(len(dets)), "tracks": int(tracks.id.nunique()),
        "config": cfg.name, "scorer": "oracle", "rounding": cfg.tracker.rounding,
        "stages_s": {k: round(TIMES[k], 3) for k in order if k in TIMES},
        "calls": {k: CALLS[k] for k in order if CALLS.get(k)},
        "ms_per_frame": {k: round(1000 * TIMES[k] / n, 2) for k in order if k in TIMES},
        "wall_s": round(wall, 2),
        "metrics": {k: round(float(m[k]), 2) for k in ("HOTA", "IDF1", "MOTA", "DetA", "AssA")} | {"IDSW": int(m["IDSW"])},
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                    "torch": torch.__version__, "note": "2 shared cores, other jobs running"},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "stages.json", json.dumps(res, indent=2) + "\n")
    lines = [f"# Stage timings: {seq.name}, {n} frames, builtin detections, oracle scorer ({cfg.name} config)", "",
             f"{len(dets)} detections -> {res['tracks']} tracks; wall {wall:.1f} s. "
             f"HOTA {res['metrics']['HOTA']:.2f}, IDF1 {res['metrics']['IDF1']:.2f}, MOTA {res['metrics']['MOTA']:.2f}.",
             "Tracker stages are inside `track_total`; `scoring` is the oracle (a trained model runs the MPN there).", "",
             "| stage | seconds | ms / frame | calls |", "|---|---:|---:|---:|"]
    for k in order:
        if k in TIMES:
            lines.append(f"| {k} | {TIMES[k]:.3f} | {1000 * TIMES[k] / n:.2f} | {CALLS.get(k, '')} |")
    atomic_write_text(args.out / "stages.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
