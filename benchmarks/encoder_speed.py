"""Appearance-encoder throughput on CPU: crops per second for MobileNetV2 (128x64) and OSNet x0.25
(256x128) on PETS09-S2L1 ground-truth crops, with 1 and 2 intra-op threads.

The crops are cut once; each (encoder, threads) setting encodes them ``--repeats`` times and the
fastest pass counts (the machine is shared). The settings are interleaved in each round so that
their ratios come from the same load. The 1-minute load average before and after is printed.

    python benchmarks/encoder_speed.py --data ../shared/data --crops 512
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


from lgmot.config import EmbedConfig
from lgmot.data import load_sequence
from lgmot.data.motio import atomic_write_text
from lgmot.embed import crops_of, make_encoder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--crops", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/encoder_speed.json"))
    a = ap.parse_args()
    seq = load_sequence(a.data / "pets09_s2l1")
    gt = seq.gt[seq.gt.consider > 0]
    crops = []
    for f, img in seq.frames(1):
        g = gt[gt.frame == f]
        crops += crops_of(img, g[["x", "y", "w", "h"]].to_numpy())
        if len(crops) >= a.crops:
            break
    crops = crops[:a.crops]
    reid = a.data / "reid_osnet" / "osnet_x0_25_msmt17.pth"
    settings = [(label, threads, EmbedConfig(enc, weights=w, batch_size=a.batch, num_threads=threads))
                for label, enc, w in (("MobileNetV2 128x64", "mobilenetv2", None),
                                      ("OSNet x0.25 256x128", "osnet_x0_25", str(reid)))
                for threads in (1, 2)]
    encoders = {(label, t): make_encoder(cfg) for label, t, cfg in settings}
    for e in encoders.values():
        e.encode(crops[:a.batch])  # warm-up
    load0 = os.getloadavg()[0]
    best = {k: float("inf") for k in encoders}
    for _ in range(a.repeats):
        for k, e in encoders.items():
            t0 = time.perf_counter()
            e.encode(crops)
            best[k] = min(best[k], time.perf_counter() - t0)
    load1 = os.getloadavg()[0]
    rows = [{"encoder": k[0], "threads": k[1], "crops_per_s": round(len(crops) / s, 1)} for k, s in best.items()]
    res = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "crops": len(crops), "batch": a.batch,
           "load_average_1min": [round(load0, 2), round(load1, 2)], "rows": rows}
    print(json.dumps(res, indent=1))
    atomic_write_text(a.out, json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
