"""Can the ISG space carry the sentence at all? ``node_mlp1`` fitted by the ISG loss alone.

The ISG-trained run of the synthetic recipe ranks tracks at chance (``benchmarks/text_search.md``).
This separates the two possible reasons: (a) MobileNetV2 appearance through one ReLU(Linear) layer
cannot express the reduced sentence embedding, or (b) the recipe's ISG term is too weak to shape it
in the schedule (its KL is about 0.003 against a focal loss of 4-10, and two different people's
targets differ by a KL of about 0.002). It fits a fresh ``node_mlp1`` (1280 -> 128, ReLU) on the
training sequences' detections with the ISG loss only (full batch, Adam), puts it into the ISG
run's model, and measures retrieval exactly as ``benchmarks/text_search.py`` does, on the same
held-out sequences. The fitted layer is not a tracking model (nothing else was trained with it).

    python benchmarks/diagnostics/isg_alignment.py [--steps 400]

Writes ``benchmarks/results/isg_alignment.md``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from synth_runs import CACHE, DATA, OUT  # noqa: E402
from text_search import gallery, retrieval  # noqa: E402


def main() -> None:
    import torch

    from lgmot.data.motio import atomic_write_text
    from lgmot.language import load_text_encoder
    from lgmot.language.search import SearchConfig, TrackIndex
    from lgmot.model import isg_loss, load_model
    from lgmot.train.prepare import prepare_train_sequences
    from lgmot.train.recipes import SYNTH_TEST_IN, SYNTH_TEST_SHIFT, SYNTH_TRAIN, synth_paths

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, default=OUT / "ISG" / "seed0")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "isg_alignment.md")
    a = ap.parse_args()
    model, cfg = load_model(a.run / "model.safetensors")
    enc = load_text_encoder(cfg.train.text_encoder)
    seqs = prepare_train_sequences(synth_paths(DATA, SYNTH_TRAIN), cfg, "public", CACHE, text_encoder=enc)
    xs, ts = [], []
    for s in seqs:
        keep = np.array([int(i) in s.inst_emb for i in s.gt_ids]) & ~np.isnan(s.app).any(axis=1)
        xs.append(s.app[keep])
        ts.append(np.stack([s.inst_emb[int(i)] for i in s.gt_ids[keep]]))
    x, t = torch.as_tensor(np.concatenate(xs)), torch.as_tensor(np.concatenate(ts))
    torch.manual_seed(0)
    layer = type(model.level0.node_mlp1)([x.size(1), t.size(1)])
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    with torch.no_grad():
        start = float(isg_loss(model.level0.node_mlp1(x), t))
    for _ in range(a.steps):
        opt.zero_grad()
        loss = isg_loss(layer(x), t)
        loss.backward()
        opt.step()
    model.level0.node_mlp1.load_state_dict(layer.state_dict())
    sets = [("in-domain", p) for p in synth_paths(DATA, SYNTH_TEST_IN)]
    sets += [(p.name.rsplit("-", 1)[0], p) for p in synth_paths(DATA, SYNTH_TEST_SHIFT)]
    lines = [f"ISG loss on the {len(x)} training detections: {start:.5f} (the ISG run's node_mlp1) -> "
             f"{float(loss.detach()):.5f} (fitted by ISG alone, {a.steps} full-batch Adam steps).", "",
             "| test set | queries | R@1 | R@5 | mAP | chance R@1 / R@5 / mAP |", "|---|---:|---:|---:|---:|---|"]
    pooled: dict[str, list] = {}
    for dom, path in sets:
        seq, trk, app, sentences = gallery(path, "public", CACHE)
        m = retrieval(TrackIndex.build(model, cfg, seq, trk, SearchConfig(), appearance=app), sentences, enc)
        pooled.setdefault(dom, []).append(m)
        print(dom, seq.name, {k: round(v, 1) for k, v in m.items()}, flush=True)
    for dom, ms in pooled.items():
        n = sum(m["queries"] for m in ms)
        avg = {k: sum(m[k] * m["queries"] for m in ms) / n for k in ms[0] if k != "queries"}
        lines.append(f"| {dom} | {n} | {avg['R@1']:.1f} | {avg['R@5']:.1f} | {avg['mAP']:.1f} | "
                     f"{avg['chance R@1']:.1f} / {avg['chance R@5']:.1f} / {avg['chance mAP']:.1f} |")
    atomic_write_text(a.table, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
