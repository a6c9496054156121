"""Choosing ISG's weight on training-side data: retrieval and tracking on ``SYNTH_VAL``.

``SYNTH_VAL`` (source-150) is a source-domain sequence that is neither a training nor a test
sequence. For each run (``benchmarks/synth_runs.py --validate``, so its ``val.csv`` holds the
validation HOTA / IDF1 after every epoch; '-' for a run without it) this measures text-to-track retrieval on that sequence,
exactly as ``benchmarks/text_search.py`` does on the test sequences, and prints it beside the
last epoch's validation tracking scores.

    python benchmarks/diagnostics/isg_weight.py RUN [RUN ...]

Writes ``benchmarks/diagnostics/results/isg_weight.md``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from synth_runs import CACHE, DATA  # noqa: E402
from text_search import gallery, retrieval  # noqa: E402


def main() -> None:
    from lgmot.data.motio import atomic_write_text
    from lgmot.language import load_text_encoder
    from lgmot.language.search import SearchConfig, TrackIndex
    from lgmot.model import load_model
    from lgmot.train.recipes import SYNTH_VAL, synth_paths

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run folders with model.safetensors and val.csv")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "diagnostics" / "results" / "isg_weight.md")
    a = ap.parse_args()
    seq, rows, app, sentences = gallery(synth_paths(DATA, SYNTH_VAL)[0], "public", CACHE)
    lines = ["| run | ISG weight | epochs | val HOTA | val IDF1 | queries | R@1 | R@5 | mAP | chance R@1 / R@5 / mAP |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for run in a.runs:
        model, cfg = load_model(run / "model.safetensors")
        val = pd.read_csv(run / "val.csv").iloc[-1] if (run / "val.csv").exists() else None
        index = TrackIndex.build(model, cfg, seq, rows, SearchConfig(), appearance=app)
        m = retrieval(index, sentences, load_text_encoder(cfg.train.text_encoder))
        name = f"{run.parent.name}/{run.name}"
        hota, idf1 = ("-", "-") if val is None else (f"{val.HOTA:.1f}", f"{val.IDF1:.1f}")
        lines.append(f"| {name} | {cfg.train.isg_weight:g} | {cfg.train.epochs} | {hota} | {idf1} | "
                     f"{m['queries']} | {m['R@1']:.1f} | {m['R@5']:.1f} | {m['mAP']:.1f} | "
                     f"{m['chance R@1']:.1f} / {m['chance R@5']:.1f} / {m['chance mAP']:.1f} |")
        print(lines[-1], flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out, "# ISG weight on SYNTH_VAL (source-150; no training or test sequence)\n\n"
                      "`python benchmarks/diagnostics/isg_weight.py " + " ".join(
                          f"{r.parent.name}/{r.name}" for r in a.runs) + "` (run folders of `benchmarks/synth_runs.py "
                      "--validate`)\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
