"""Mean ± std over training seeds of the MOT15 CV tables (``mot15_cv.py`` run once per seed):
lgmot's rows and every peer's, ranked by mean HOTA.

    python benchmarks/mot15_cv.py --data ../shared/data --jobs 2 --out runs/cv_seed42 --seed 42
    python benchmarks/mot15_cv.py --data ../shared/data --jobs 2 --out runs/cv_seed0 --seed 0 --table benchmarks/results/mot15_cv_seed0.csv
    python benchmarks/mot15_cv.py --data ../shared/data --jobs 2 --out runs/cv_seed1 --seed 1 --table benchmarks/results/mot15_cv_seed1.csv
    python benchmarks/mot15_cv_summary.py
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from lgmot.data.motio import atomic_write_text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
METRICS = ["HOTA", "DetA", "AssA", "MOTA", "IDF1"]


def summarize(tables: dict[str, Path]) -> pd.DataFrame:
    runs = pd.concat([pd.read_csv(p).assign(seed=s) for s, p in tables.items()])
    g = runs.groupby("tracker")[METRICS]
    out = g.mean().join(g.std(ddof=1), rsuffix="_std").join(g.size().rename("seeds"))
    return out.sort_values("HOTA", ascending=False)


def markdown(summary: pd.DataFrame, seeds: list[str], only: str) -> str:
    rows = summary[summary.index.str.contains(only)]
    lines = ["| tracker | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    for name, r in rows.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{r[m]:.1f} ± {r[m + '_std']:.1f}" for m in METRICS) + " |")
    return (f"Seeds {', '.join(seeds)} (lgmot's training seed; the peers' rows differ between seeds only "
            "through the post-processing each fold chose). Mean ± std (sample std over seeds), TrackEval "
            "COMBINED over the 11 MOT15 train sequences, ranked by mean HOTA.\n\n" + "\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", nargs="+", default=["42=mot15_cv", "0=mot15_cv_seed0", "1=mot15_cv_seed1"],
                    help="seed=name of a CSV in benchmarks/results written by mot15_cv.py --table")
    ap.add_argument("--out", default="mot15_cv_summary")
    a = ap.parse_args()
    tables = dict(t.split("=", 1) for t in a.tables)
    summary = summarize({s: RESULTS / f"{name}.csv" for s, name in tables.items()})
    seeds = list(tables)
    text = ("# MOT15 3-fold CV, mean ± std over seeds\n\n"
            "## Every tracker with lgmot's post-processing (chosen on each fold's training sequences)\n\n"
            + markdown(summary, seeds, r"lgmot post\.|chosen on training")
            + "\n## Interpolation only\n\n" + markdown(summary, seeds, r"interp\.$")
            + "\n## Raw output\n\n" + markdown(summary, seeds, r"@ [0-9.]+$")
            + f"\nCommand: `python benchmarks/mot15_cv_summary.py` (tables: {', '.join(a.tables)}).\n")
    atomic_write_text(RESULTS / f"{a.out}.md", text)
    summary.round(3).to_csv(RESULTS / f"{a.out}.csv")
    print(text)


if __name__ == "__main__":
    main()
