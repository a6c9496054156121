"""Text-to-track retrieval through the ISG-aligned node features: R@1, R@5, mAP against chance.

Every GT track of a held-out sequence that has an instance sentence is one query: its own sentence
ranks all GT-matched tracks of its sequence (the sequence's detections assigned to GT at IoU 0.5,
grouped by GT identity: the nodes ISG sees in training) with ``lgmot.language.search`` (minus the
mean ISG divergence of a track's detections, at most 48 per track; and the 'relative' score, that
divergence's drop below the divergence to the uniform target, see ``SearchConfig``). The relevant tracks are the
ones whose sentence is the query's sentence word for word (two people can share one). Metrics:

* R@k: the share of queries with a relevant track in the top k;
* mAP: the mean over queries of the average precision of the ranking;
* chance: the same three for a uniformly random ranking (exact for R@k, 2,000 permutations for AP).

Models: the ISG run and the no-language run of the same recipe and seeds
(``benchmarks/synth_runs.py``; trained when missing). Test sets: the held-out source-domain
sequences (``SYNTH_TEST_IN``), each shift preset (``SYNTH_TEST_SHIFT``), and PETS09-S2L1 (real video,
public detections, the shipped automatic sentences: ``lgmot/assets/language/PETS09-S2L1.json``).

    python benchmarks/text_search.py --data ../shared/data [--seeds 0 1 2 3 4] [--variants ISG none]

Writes ``benchmarks/results/text_search.{md,csv,json}``.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

from synth_runs import CACHE, DATA, OUT, train_run  # noqa: E402  (benchmarks/, the script's folder)


def relevant_sets(sentences: dict[int, str], ids: np.ndarray) -> dict[int, np.ndarray]:
    """Query id -> bool mask over ``ids`` of the tracks with the same sentence."""
    text = np.array([sentences[int(i)] for i in ids], dtype=object)
    return {int(q): text == sentences[int(q)] for q in ids}


def average_precision(rel_sorted: np.ndarray) -> float:
    """AP of a ranking given the relevance of its items in rank order."""
    hits = np.flatnonzero(rel_sorted)
    if len(hits) == 0:
        return 0.0
    return float(np.mean(np.arange(1, len(hits) + 1) / (hits + 1)))


def chance(n: int, r: int, k: int) -> float:
    """P(a random ranking of n items, r relevant, has a relevant one in the top k)."""
    k = min(k, n)
    return 1.0 - math.comb(n - r, k) / math.comb(n, k)


def chance_ap(n: int, r: int, rng: np.random.Generator, draws: int = 2000) -> float:
    rel = np.zeros(n, bool)
    rel[:r] = True
    return float(np.mean([average_precision(rng.permutation(rel)) for _ in range(draws)]))


def retrieval(index, sentences: dict[int, str], text_encoder) -> dict:
    from lgmot.language.search import query_target

    ids = index.ids
    rel = relevant_sets(sentences, ids)
    targets = query_target([sentences[int(q)] for q in ids], text_encoder)
    r1 = r5 = ap = c1 = c5 = cap = 0.0
    rng = np.random.default_rng(0)
    for q, t in zip(ids, targets):
        ranked = np.array([i for i, _ in index.rank(t)])
        m = rel[int(q)][np.searchsorted(ids, ranked)]
        r1 += float(m[:1].any())
        r5 += float(m[:5].any())
        ap += average_precision(m)
        n, r = len(ids), int(rel[int(q)].sum())
        c1 += chance(n, r, 1)
        c5 += chance(n, r, 5)
        cap += chance_ap(n, r, rng)
    nq = len(ids)
    return {"queries": nq, "R@1": 100 * r1 / nq, "R@5": 100 * r5 / nq, "mAP": 100 * ap / nq,
            "chance R@1": 100 * c1 / nq, "chance R@5": 100 * c5 / nq, "chance mAP": 100 * cap / nq}


def gallery(path: Path, detections, cache: Path):
    """(sequence, GT-matched detection rows as a track table, their appearance, {gt id: sentence})."""
    from lgmot.data import load_sequence
    from lgmot.language import find_annotations
    from lgmot.track.run import prepare_inputs

    seq = load_sequence(path)
    inp = prepare_inputs(seq, detections, appearance=True, cache_dir=cache, progress=False, need_gt_ids=True)
    ann = find_annotations(seq)
    sentences = {int(i): d.text for i, d in ann.instances.items()}
    keep = np.isin(inp.gt_ids, list(sentences))
    rows = inp.dets[keep].assign(id=inp.gt_ids[keep])[["frame", "id", "x", "y", "w", "h", "score"]]
    counts = rows.id.value_counts()
    ok = rows.id.isin(counts.index[counts >= 2]).to_numpy()
    return seq, rows[ok].reset_index(drop=True), inp.app[keep][ok], sentences


def main() -> None:
    from lgmot.language import load_text_encoder
    from lgmot.language.search import SCORES, SearchConfig, TrackIndex
    from lgmot.model import load_model
    from lgmot.data.motio import atomic_write_text
    from lgmot.train.recipes import SYNTH_EPOCHS, SYNTH_TEST_IN, SYNTH_TEST_SHIFT, synth_paths

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--epochs", type=int, default=SYNTH_EPOCHS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--variants", nargs="+", default=["ISG", "none"],
                    help="runs of benchmarks/synth_runs.py to compare (the ISG model first)")
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "text_search.csv")
    a = ap.parse_args()
    t_all = time.perf_counter()
    sets = [("in-domain", p) for p in synth_paths(DATA, SYNTH_TEST_IN)]
    sets += [(p.name.rsplit("-", 1)[0], p) for p in synth_paths(DATA, SYNTH_TEST_SHIFT)]
    pets = a.data / "pets09_s2l1"
    galleries = [(dom, *gallery(p, "public", CACHE)) for dom, p in sets]
    if (pets / "vtest.avi").exists():
        galleries.append(("PETS09-S2L1", *gallery(pets, "public", CACHE)))
    rows = []
    for variant in a.variants:
        for seed in a.seeds:
            run = train_run(variant, seed, a.epochs, a.out)
            model, cfg = load_model(run / "model.safetensors")
            enc = load_text_encoder(cfg.train.text_encoder)
            for dom, seq, trk, app, sentences in galleries:
                index = TrackIndex.build(model, cfg, seq, trk, SearchConfig(), appearance=app)
                for score in SCORES:
                    index.config = SearchConfig(score=score)
                    m = retrieval(index, sentences, enc)
                    rows.append({"model": variant, "score": score, "seed": seed, "domain": dom, "sequence": seq.name, **m})
                    print(variant, score, seed, seq.name, {k: round(v, 1) for k, v in m.items()}, flush=True)
    df = pd.DataFrame(rows)
    # sequences of a domain pooled by query, then mean (± std) over seeds
    metric = ["R@1", "R@5", "mAP", "chance R@1", "chance R@5", "chance mAP"]
    w = df.assign(**{k: df[k] * df["queries"] for k in metric})
    per_seed = w.groupby(["model", "score", "domain", "seed"], sort=False)[metric + ["queries"]].sum().reset_index()
    for k in metric:
        per_seed[k] = per_seed[k] / per_seed["queries"]
    agg = per_seed.groupby(["model", "score", "domain"], sort=False).agg(
        **{f"{k}_mean": (k, "mean") for k in metric}, R1_std=("R@1", "std"), queries=("queries", "mean"),
        seeds=("seed", "count")).reset_index()
    a.table.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.table, agg.to_csv(index=False))
    lines = ["| model | score | test set | queries | R@1 | R@5 | mAP | chance R@1 / R@5 / mAP | seeds |",
             "|---|---|---|---:|---:|---:|---:|---|---:|"]
    for d in agg.to_dict("records"):
        sd = "" if d["seeds"] < 2 else f" ± {d['R1_std']:.1f}"
        lines.append(f"| {d['model']} | {d['score']} | {d['domain']} | {d['queries']:.0f} | {d['R@1_mean']:.1f}{sd} | {d['R@5_mean']:.1f} | "
                     f"{d['mAP_mean']:.1f} | {d['chance R@1_mean']:.1f} / {d['chance R@5_mean']:.1f} / "
                     f"{d['chance mAP_mean']:.1f} | {d['seeds']} |")
    atomic_write_text(a.table.with_suffix(".md"), "\n".join(lines) + "\n")
    atomic_write_text(a.table.with_suffix(".json"), json.dumps(
        {"seeds": a.seeds, "epochs": a.epochs, "recipe": "lgmot.train.recipes.synth_recipe", "rows": rows,
         "total_seconds": round(time.perf_counter() - t_all, 1)}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
