"""Re-identification quality of the appearance encoders on PETS09-S2L1 ground-truth crops.

Every considered GT box of the 795 frames (19 identities) is cropped from the video and embedded.
The frames are cut into ``--windows`` equal time windows. Each window in turn gives the queries;
the gallery is every crop of the other windows except those within ``--gap`` frames of the query
window, so that a query's neighbouring frames (near-identical crops) are not in its gallery.
Ranking is by cosine similarity. Rank-1: the nearest gallery crop has the query's identity. AP:
average precision of the query's identity over the ranked gallery (queries whose identity is not in
the gallery are skipped). Reported over all queries pooled across windows.

    python benchmarks/reid_quality.py --data ../shared/data --out benchmarks/results/reid_quality

Writes ``<out>.csv`` and ``<out>.md``. OSNet rows need the torchreid model-zoo files in
``<data>/reid_osnet``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lgmot.config import EmbedConfig
from lgmot.data import load_sequence
from lgmot.data.motio import atomic_write_text
from lgmot.embed import embed_sequence, make_encoder


def gt_detections(seq) -> pd.DataFrame:
    gt = seq.gt
    gt = gt[gt.consider > 0].reset_index(drop=True)
    return pd.DataFrame({"frame": gt.frame.astype(np.int64), "det_id": np.arange(len(gt), dtype=np.int64),
                         "x": gt.x, "y": gt.y, "w": gt.w, "h": gt.h, "score": 1.0}), gt.id.to_numpy(np.int64)


def retrieval(emb: np.ndarray, ids: np.ndarray, frames: np.ndarray, windows: int, gap: int) -> dict:
    edges = np.linspace(frames.min(), frames.max() + 1, windows + 1)
    r1, aps = [], []
    for w in range(windows):
        lo, hi = edges[w], edges[w + 1]
        q = np.flatnonzero((frames >= lo) & (frames < hi))
        g = np.flatnonzero((frames < lo - gap) | (frames >= hi + gap))
        sims = emb[q] @ emb[g].T
        for qi, row in zip(q, sims):
            match = ids[g] == ids[qi]
            if not match.any():
                continue
            order = np.argsort(-row, kind="stable")
            hits = match[order]
            r1.append(bool(hits[0]))
            ranks = np.flatnonzero(hits) + 1
            aps.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
    return {"queries": len(r1), "rank1": 100 * float(np.mean(r1)), "mAP": 100 * float(np.mean(aps))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/reid_quality"))
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--gap", type=int, default=14, help="frames (2 s at 7 fps) left out around the query window")
    ap.add_argument("--cache", type=Path, default=Path("runs/reid_quality_cache"))
    ap.add_argument("--mobilenet-256", action="store_true", help="also MobileNetV2 on OSNet's 256x128 crops")
    a = ap.parse_args()
    seq = load_sequence(a.data / "pets09_s2l1")
    dets, ids = gt_detections(seq)
    reid = a.data / "reid_osnet"
    rows = [("MobileNetV2 (ImageNet), 128x64", EmbedConfig("mobilenetv2"))]
    if a.mobilenet_256:
        rows.append(("MobileNetV2 (ImageNet), 256x128", EmbedConfig("mobilenetv2", crop_size=(256, 128))))
    for f, label in (("osnet_x0_25_msmt17.pth", "MSMT17"), ("osnet_x0_25_market1501.pth", "Market-1501")):
        if (reid / f).is_file():
            rows.append((f"OSNet x0.25 ({label}), 256x128", EmbedConfig("osnet_x0_25", weights=str(reid / f))))
    out = []
    frames = dets.frame.to_numpy()
    for label, cfg in rows:
        enc = make_encoder(cfg)
        t0 = time.perf_counter()
        emb = embed_sequence(seq, dets, enc, cache_dir=a.cache, progress=False)
        secs = time.perf_counter() - t0
        m = retrieval(emb, ids, frames, a.windows, a.gap)
        out.append({"encoder": label, "name": enc.name, "dim": enc.dim, **m, "embed_seconds": round(secs, 1)})
        print(out[-1], flush=True)
    df = pd.DataFrame(out)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out.with_suffix(".csv"), df.to_csv(index=False, float_format="%.2f"))
    md = [f"# ReID quality on PETS09-S2L1 ground-truth crops ({time.strftime('%Y-%m-%d')})", "",
          f"{len(dets)} considered GT boxes, {len(np.unique(ids))} identities, 795 frames cut into "
          f"{a.windows} time windows; queries from one window, gallery from the others minus {a.gap} frames "
          "around the query window; cosine ranking; pooled over all queries.", "",
          "| encoder | dim | queries | rank-1 | mAP |", "| --- | --- | --- | --- | --- |"]
    md += [f"| {r['encoder']} | {r['dim']} | {r['queries']} | {r['rank1']:.1f} | {r['mAP']:.1f} |" for r in out]
    md += ["", f"Command: `python benchmarks/reid_quality.py --data ../shared/data` "
               f"(`--windows {a.windows} --gap {a.gap}`)."]
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
