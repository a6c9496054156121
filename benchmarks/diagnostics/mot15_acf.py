"""Another detector at test time: the MOT15 CV fold models on the official ACF detections.

The CV fold models of ``benchmarks/mot15_cv.py`` were trained on SORT's Faster R-CNN detections
(scores 0.5-1). Seven MOT15 train sequences also ship the official ACF public detections
(``det/det_acf_public.txt``: other boxes, other misses, scores from about -0.8 to 139). Each of
those sequences is tracked by the fold model that did not train on it, with the model's own
settings (``min_score`` 0.65 applies on ACF's scale too), next to the ``trackers`` package's peers
with their defaults on all detections and on the same thresholded ones. boxmot's trackers are
left out: they reject scores outside [0, 1].

    python benchmarks/diagnostics/mot15_acf.py --runs runs/cv_seed42 --data ../shared/data

Writes ``benchmarks/diagnostics/results/mot15_acf.{md,csv}``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
sys.path.insert(0, str(ROOT / "benchmarks"))

PEERS = ("trackers-SORT", "trackers-ByteTrack", "trackers-OC-SORT", "trackers-BoT-SORT", "trackers-C-BIoU")


def acf_root(mot15: Path, dest: Path) -> list[str]:
    """``dest/<seq>`` for every sequence with ACF detections: links to its GT and seqinfo, and
    ``det/det.txt`` -> ``det_acf_public.txt``; plus ``dest/seqmap.txt``. Returns the names."""
    names = sorted(p.name for p in mot15.iterdir() if (p / "det" / "det_acf_public.txt").is_file())
    for n in names:
        (dest / n / "det").mkdir(parents=True)
        (dest / n / "gt").symlink_to((mot15 / n / "gt").resolve(), target_is_directory=True)
        (dest / n / "seqinfo.ini").symlink_to((mot15 / n / "seqinfo.ini").resolve())
        (dest / n / "det" / "det.txt").symlink_to((mot15 / n / "det" / "det_acf_public.txt").resolve())
    (dest / "seqmap.txt").write_text("name\n" + "\n".join(names) + "\n")
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "mot15_cv")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "diagnostics" / "results" / "mot15_acf")
    a = ap.parse_args()
    from folds import fold_models
    from mot15_peers import run_peer_on, score_results, sequences, write_table
    from peers import available

    from lgmot.data import load_sequence
    from lgmot.track import Tracker
    from lgmot.track.run import prepare_inputs, track_sequence, write_sequence_results

    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lgmot_acf_") as tmp:
        tmp = Path(tmp)
        root = tmp / "acf"
        names = acf_root(a.data / "mot15_train", root)
        for held, model, cfg in fold_models(a.runs):
            min_score = cfg.tracker.min_score
            with Tracker(cfg, model) as tracker:
                for n in (n for n in held if n in names):
                    seq = load_sequence(root / n)
                    inp = prepare_inputs(seq, "public", appearance=False, progress=False)
                    write_sequence_results(tmp / "lgmot", seq, track_sequence(tracker, inp))
        seqs = sequences(root)
        for s in (0.0, min_score):
            for name in PEERS:
                if not available(name):
                    sys.exit(f"{name}: not installed (pip install '.[peers]' torch==2.13.0)")
                label = name if s == 0 else f"{name} @ {s:g}"
                frames, sec = run_peer_on(name, seqs, tmp / label, min_score=s)
                rows.append(score_results(label, tmp / label, root, frames / sec))
                print(rows[-1], flush=True)
        rows.append(score_results("lgmot (CV fold models)", tmp / "lgmot", root))
        print(rows[-1], flush=True)
    runs = a.runs.relative_to(ROOT) if a.runs.is_relative_to(ROOT) else a.runs
    note = (f"MOT15 train, the {len(names)} sequences with official ACF public detections ({', '.join(names)}); "
            f"TrackEval COMBINED. lgmot: each sequence tracked by the `{runs}` fold model that did not train on it "
            f"(trained on Faster R-CNN detections; its min_score {min_score:g} applies on ACF's scale too), no "
            f"appearance. '@ {min_score:g}': the peers on the same thresholded detections. "
            f"`python benchmarks/diagnostics/mot15_acf.py --runs {runs}`, {time.perf_counter() - t0:.0f} s.")
    csv, md = write_table(rows, a.table, note)
    print(f"wrote {csv} and {md}")


if __name__ == "__main__":
    main()
