"""How fast the synthetic world renders: 1,000 frames at 640x480 with 30 people, JPEGs written.

    python benchmarks/synth_speed.py [--frames 1000] [--people 30] [--preset source]

Writes benchmarks/results/synth_speed.json. Target: under 60 s on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2

from lgmot.data.motio import atomic_write_text
from lgmot.synth import build, preset, write_sequence

TARGET_S = 60.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--people", type=int, default=30)
    ap.add_argument("--preset", default="source")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "synth_speed.json"))
    args = ap.parse_args()
    cfg = preset(args.preset, frames=args.frames, people=args.people, width=640, height=480)

    t0 = time.perf_counter()
    seq = build(cfg)
    t_build = time.perf_counter() - t0
    t1 = time.perf_counter()
    for t in range(1, 51):
        seq.frame(t)
    t_render50 = time.perf_counter() - t1
    with tempfile.TemporaryDirectory() as tmp:
        t2 = time.perf_counter()
        path = write_sequence(seq, tmp)
        t_write = time.perf_counter() - t2
        mb = sum(p.stat().st_size for p in (path / "img1").iterdir()) / 1e6
    total = t_build + t_write
    result = {
        "frames": cfg.frames, "people": cfg.people, "size": [cfg.width, cfg.height], "preset": cfg.name,
        "gt_boxes": int(len(seq.gt)), "detections": int(len(seq.detections)), "identities": int(seq.world.n_ids),
        "simulate_s": round(t_build, 3),
        "render_only_ms_per_frame": round(1000 * t_render50 / 50, 3),
        "render_and_write_s": round(t_write, 3),
        "total_s": round(total, 3), "fps": round(cfg.frames / total, 1), "jpeg_mb": round(mb, 1),
        "target_s": TARGET_S, "passed": total < TARGET_S,
        "cpus": os.cpu_count(), "cv2_threads": cv2.getNumThreads(), "python": platform.python_version(),
        "opencv": cv2.__version__,
    }
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
