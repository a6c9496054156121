"""Why SPG collapses: what the scene target asks of the edge embeddings, and what a trained model's
levels do.

1. The target. ``softmax(pool16(scene))`` for the synthetic scene sentences (MiniLM, L2-normalised,
   384-d pooled to 16 by block means of 24): how far it is from uniform.
2. Each model (``--runs``), run through the hierarchy on clips of ``--seq`` (150 frames, the
   tracker's own graphs; each level built from the previous level's rounded output): per level,
   the share of candidate edges scored above 0.5, the share of GT-positive edges scored above 0.5
   (recall), the largest score, and of the last step's edge embeddings (what the classifier reads;
   ReLU outputs) the share of exactly-zero entries, the mean per-dimension spread across edges,
   and the SPG KL to the sequence's scene target.

    python benchmarks/diagnostics/spg_collapse.py --runs runs/language_ablation/synth/SPG/seed0 ... \
        [--seq runs/synth_lang/data/source-150]

Writes ``benchmarks/results/spg_collapse.{md,json}`` (``--table`` to change).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def target_spread(texts: list[str]) -> dict:
    import torch

    from lgmot.language import load_text_encoder
    from lgmot.model.losses import pool16

    enc = load_text_encoder("minilm")
    q = torch.softmax(pool16(enc.encode(texts)), dim=-1).numpy()
    return {"sentences": len(texts), "max_rel_dev_from_uniform": float(np.abs(q * 16 - 1).max()),
            "mean_rel_dev_from_uniform": float(np.abs(q * 16 - 1).mean()),
            "pooled_std": float(pool16(enc.encode(texts)).std())}


def level_stats(run: Path, seq_path: Path, cache: Path, clip_frames: int = 150) -> list[dict]:
    import torch

    from lgmot.data import load_sequence
    from lgmot.graph import Tracklets, build_level, edge_labels, merge
    from lgmot.language import find_annotations, load_text_encoder, scene_target
    from lgmot.model import load_model
    from lgmot.model.losses import kl_softmax_rows, pool16
    from lgmot.solve import components, round_flow, undirected_probs
    from lgmot.track.run import prepare_inputs

    model, cfg = load_model(run / "model.safetensors")
    seq = load_sequence(seq_path)
    inp = prepare_inputs(seq, "public", appearance=True, cache_dir=cache, progress=False, need_gt_ids=True)
    keep = inp.dets.score.to_numpy() >= cfg.tracker.min_score
    dets, app, gid = inp.dets[keep].reset_index(drop=True), inp.app[keep], inp.gt_ids[keep]
    scene = torch.as_tensor(scene_target(find_annotations(seq), load_text_encoder("minilm")))
    acc: dict[int, dict] = {}
    frames = dets.frame.to_numpy()
    for start in range(1, seq.info.length + 1, clip_frames):
        sel = (frames >= start) & (frames < start + clip_frames)
        if sel.sum() < 2:
            continue
        t = Tracklets.from_detections(frames[sel], dets[["x", "y", "w", "h"]].to_numpy(np.float64)[sel],
                                      app=app[sel], has_app=np.ones(int(sel.sum()), bool), gt_ids=gid[sel],
                                      scores=dets.score.to_numpy()[sel])
        for level in range(cfg.tracker.depth):
            n = len(t.start_frame)
            if n <= 1:
                break
            g = build_level(t, level, cfg.tracker, seq.info.fps, start, cfg.model.graph_features)
            if len(g.edges) == 0:
                t = merge(t, np.arange(n), cfg.tracker.node_id_min_ratio)
                continue
            with torch.inference_mode():
                out = model.forward_graph(level, t, g, last_only=True)
            p = undirected_probs(out.logits[-1].numpy(), len(g.edges), from_logits=True)
            e = out.edge_embs[-1][:len(g.edges)]
            y = edge_labels(t, g.edges) > 0.5
            kl = kl_softmax_rows(pool16(scene, e.size(1)).expand_as(e), e).numpy()
            a = acc.setdefault(level, {"edges": 0, "above": 0, "pos": 0, "pos_above": 0, "max_p": 0.0,
                                       "zero": 0.0, "entries": 0, "spread": [], "kl": []})
            a["edges"] += len(p)
            a["above"] += int((p > 0.5).sum())
            a["pos"] += int(y.sum())
            a["pos_above"] += int((p[y] > 0.5).sum())
            a["max_p"] = max(a["max_p"], float(p.max()))
            a["zero"] += float((e == 0).sum())
            a["entries"] += e.numel()
            a["spread"].append(float(e.std(0).mean()))
            a["kl"].append(float(kl.mean()))
            active = round_flow(n, g.edges, p, method=cfg.tracker.rounding)
            t = merge(t, components(n, g.edges[active]), cfg.tracker.node_id_min_ratio)
    rows = []
    for level, a in sorted(acc.items()):
        rows.append({"run": str(run), "level": level, "edges": a["edges"],
                     "share_p>0.5": a["above"] / a["edges"], "recall_pos": a["pos_above"] / max(a["pos"], 1),
                     "max_p": a["max_p"], "zero_share": a["zero"] / a["entries"],
                     "edge_spread": float(np.mean(a["spread"])), "spg_kl": float(np.mean(a["kl"]))})
    return rows


def main() -> None:
    from lgmot.data.motio import atomic_write_text
    from lgmot.language import SequenceAnnotations

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", nargs="+", type=Path, required=True)
    ap.add_argument("--seq", type=Path, default=ROOT / "runs" / "synth_lang" / "data" / "source-150")
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "synth_lang" / "cache")
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "spg_collapse.md")
    a = ap.parse_args()
    scenes = sorted({SequenceAnnotations.read(p / "language.json").scene.text
                     for p in (ROOT / "runs" / "synth_lang" / "data").iterdir() if (p / "language.json").exists()})
    spread = target_spread(scenes)
    rows = [r for run in a.runs for r in level_stats(run, a.seq, a.cache)]
    lines = [f"Scene target softmax(pool16(MiniLM(scene))) over {spread['sentences']} synthetic scene sentences: "
             f"pooled values std {spread['pooled_std']:.4f}; largest relative deviation of a probability from "
             f"uniform (1/16) {100 * spread['max_rel_dev_from_uniform']:.2f}% (mean "
             f"{100 * spread['mean_rel_dev_from_uniform']:.2f}%).", "",
             f"Per level on {a.seq.name} (150-frame clips, the hierarchy on the model's own rounded output):", "",
             "| run | level | edges | p > 0.5 | GT-positive edges with p > 0.5 | max p | zero entries of e | "
             "spread of e across edges | SPG KL |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        name = "/".join(Path(r["run"]).parts[-2:])
        lines.append(f"| {name} | {r['level']} | {r['edges']} | {100 * r['share_p>0.5']:.1f}% | "
                     f"{100 * r['recall_pos']:.1f}% | {r['max_p']:.3f} | {100 * r['zero_share']:.1f}% | "
                     f"{r['edge_spread']:.4f} | {r['spg_kl']:.5f} |")
    atomic_write_text(a.table, "\n".join(lines) + "\n")
    atomic_write_text(a.table.with_suffix(".json"), json.dumps({"target": spread, "rows": rows}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
