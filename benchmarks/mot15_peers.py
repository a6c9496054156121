"""MOT15 train (11 sequences, SORT's public Faster R-CNN detections): peer trackers side by side.

Runs every peer of ``benchmarks/peers.py`` with its library defaults on every sequence, writes
``<out>/<peer>/<seq>.txt``, scores each folder with ``lgmot.evaluate`` (TrackEval, no preprocessing:
MOT15 has no distractor classes) and writes one table (COMBINED over the sequences) as
``<table>.csv`` and ``<table>.md``.

    python benchmarks/mot15_peers.py [--data DIR] [--out DIR] [--table PATH] [--peers A,B] [--repeats N]
                                     [--lgmot-results DIR [--lgmot-name NAME] [--lgmot-fps FPS]]
                                     [--lgmot-row NAME=DIR ...] [--post-choice JSON]

Other scripts add rows with ``score_results(name, results_dir)`` and ``write_table(rows, path)``.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import PEERS, available, run_peer  # noqa: E402

from lgmot.data import Sequence, write_results  # noqa: E402
from lgmot.data.layouts import read_seqmap  # noqa: E402
from lgmot.data.motio import atomic_write_text  # noqa: E402
from lgmot.evaluate import COMBINED, evaluate  # noqa: E402
from lgmot.detect import confident  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mot15_train"
TABLE_COLUMNS = ["tracker", "HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "assoc_FPS"]


def sequences(data: Path = DATA) -> list[Sequence]:
    names = read_seqmap(data / "seqmap.txt") if (data / "seqmap.txt").is_file() else \
        sorted(p.name for p in data.iterdir() if (p / "gt").is_dir())
    return [Sequence.from_path(data / n) for n in names]


def run_peer_on(name: str, seqs: list[Sequence], out: Path, repeats: int = 1,
                min_score: float = 0.0, collect: dict | None = None) -> tuple[int, float]:
    """Track every sequence with ``name`` into ``out/<seq>.txt``; returns (frames, update seconds).
    ``min_score`` drops weaker detections first (the input lgmot gets with the same threshold).

    With ``repeats`` > 1 each sequence is re-run and its fastest update loop counts: the machine is
    shared, and the minimum is the least disturbed measurement (the tracks are deterministic).
    ``collect``: a dict that gets each sequence's tracks (name -> TRACK_COLUMNS table).
    """
    frames, seconds = 0, 0.0
    for s in seqs:
        i = s.info
        dets = s.detections
        dets = dets[confident(dets.score.to_numpy(), min_score)].reset_index(drop=True)  # as lgmot filters
        tracks, sec = run_peer(name, dets, i.fps, i.width, i.height, i.length)
        for _ in range(repeats - 1):
            sec = min(sec, run_peer(name, dets, i.fps, i.width, i.height, i.length)[1])
        write_results(out / f"{s.name}.txt", tracks)
        if collect is not None:
            collect[s.name] = tracks
        frames += i.length
        seconds += sec
    return frames, seconds


def score_results(name: str, results_dir: str | Path, data: str | Path = DATA,
                  assoc_fps: float | None = None) -> dict:
    """One table row for the ``<seq>.txt`` files in ``results_dir``: TrackEval's COMBINED over the
    sequences of ``data/seqmap.txt`` (every sequence must have a result file)."""
    data = Path(data)
    seqmap = data / "seqmap.txt"
    df = evaluate(data, results_dir, seqmap=seqmap if seqmap.is_file() else None, preproc=False)
    c = df.loc[COMBINED]
    return {"tracker": name, "HOTA": c.HOTA, "DetA": c.DetA, "AssA": c.AssA, "MOTA": c.MOTA,
            "IDF1": c.IDF1, "IDSW": int(c.IDSW), "assoc_FPS": math.nan if assoc_fps is None else assoc_fps}


def post_rows(label: str, folder: Path, seqs: list[Sequence], raw: dict, min_score: float, choice: dict,
              data: Path) -> list[dict]:
    """Rows for a tracker's raw output ``raw`` (sequence name -> tracks) post-processed as lgmot's:
    '+ interp.' (linear interpolation of every gap) and '+ lgmot post.' (each sequence with its fold's
    settings from ``choice``, sequence name -> settings; recovery from the detections in
    [floor, ``min_score``) that the tracker left out, so none at ``min_score`` 0). Result folders
    are ``folder`` + a suffix; a folder whose recorded key (settings and raw tracks) matches is
    scored once and reused."""
    import hashlib
    import json

    import postchoice

    from lgmot.config import TrackerConfig

    fps = {s.name: s.info.fps for s in seqs}
    cands = {s.name: postchoice.candidates(s.detections, min_score, postchoice.FLOOR) for s in seqs}
    raw = {n: t.drop_duplicates(["frame", "id"]) for n, t in raw.items()}
    digest = hashlib.sha256(b"".join(pd.util.hash_pandas_object(raw[n], index=False).values.tobytes()
                                     for n in sorted(raw))).hexdigest()[:16]
    rows = []
    for suffix, settings in (("interp.", {n: postchoice.INTERP_ONLY for n in raw}), ("lgmot post.", choice)):
        key = json.dumps({"raw": digest, "settings": {n: settings[n] for n in sorted(raw)},
                          "code": postchoice.code_key()}, sort_keys=True)
        out = folder.with_name(folder.name + "+" + suffix.replace(" ", "_").rstrip("."))
        cached = out / "score.json"
        if cached.is_file() and json.loads(cached.read_text()).get("key") == key:
            row = json.loads(cached.read_text())["row"]
        else:
            groups: dict[str, list[str]] = {}
            for n in raw:
                groups.setdefault(json.dumps(settings[n], sort_keys=True), []).append(n)
            for g, names in groups.items():
                tc = postchoice.tracker_config(TrackerConfig(), json.loads(g))
                postchoice.apply({n: raw[n] for n in names}, cands, fps, tc, out)
            row = score_results(f"{label} + {suffix}", out, data)
            atomic_write_text(cached, json.dumps({"key": key, "row": row}))
        rows.append(row)
    return rows


def _md(df: pd.DataFrame) -> str:
    def cell(col: str, v) -> str:
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        if col == "IDSW":
            return str(int(v))
        if col == "assoc_FPS":
            return f"{v:,.0f}"
        return f"{v:.1f}"

    lines = ["| " + " | ".join(df.columns) + " |",
             "|" + "|".join("---" if c == "tracker" else "---:" for c in df.columns) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(cell(c, r[c]) for c in df.columns) + " |")
    return "\n".join(lines) + "\n"


def write_table(rows: list[dict], path: str | Path, note: str = "") -> tuple[Path, Path]:
    """Write ``rows`` (dicts with TABLE_COLUMNS) as ``path`` with suffix .csv and .md; ``note`` goes
    under the markdown table."""
    path = Path(path)
    df = pd.DataFrame(rows).reindex(columns=TABLE_COLUMNS)
    csv, md = path.with_suffix(".csv"), path.with_suffix(".md")
    atomic_write_text(csv, df.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(md, _md(df) + (f"\n{note.strip()}\n" if note else ""))
    return csv, md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="MOT15 train root (<seq>/det/det.txt, gt, seqinfo)")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "mot15_peers", help="tracker result folders")
    ap.add_argument("--table", type=Path, default=ROOT / "benchmarks" / "results" / "mot15_peers.csv")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated peer names")
    ap.add_argument("--repeats", type=int, default=1, help="time each sequence this many times, keep the fastest")
    ap.add_argument("--min-score", type=float, nargs="+", default=[0.0],
                    help="detection score thresholds; every peer runs once per value (rows named 'peer @ s')")
    ap.add_argument("--lgmot-results", type=Path, help="folder of lgmot <seq>.txt results to score as a row")
    ap.add_argument("--lgmot-name", default="lgmot")
    ap.add_argument("--lgmot-fps", type=float, help="lgmot association FPS to show in its row")
    ap.add_argument("--lgmot-row", action="append", default=[], metavar="NAME=DIR",
                    help="another folder of lgmot results to score as a row (repeatable)")
    ap.add_argument("--post-choice", type=Path, help="JSON sequence -> post-processing settings "
                    "(benchmarks/postchoice.py): every peer also gets rows with interpolation and with these")
    args = ap.parse_args(argv)

    seqs = sequences(args.data)
    total = sum(s.info.length for s in seqs)
    rows = []
    runs = [(n.strip(), s) for s in args.min_score for n in args.peers.split(",") if n.strip()]
    for name, min_score in runs:
        if not available(name):
            print(f"skip {name}: library not installed (pip install '.[peers]')", file=sys.stderr)
            continue
        label = name if len(args.min_score) == 1 and min_score == 0 else f"{name} @ {min_score:g}"
        folder = args.out / (name if min_score == 0 else f"{name}@{min_score:g}")
        raw: dict = {}
        frames, sec = run_peer_on(name, seqs, folder, max(1, args.repeats), min_score, collect=raw)
        row = score_results(label, folder, args.data, frames / sec)
        rows.append(row)
        print(f"{label:26s} HOTA {row['HOTA']:5.1f} IDF1 {row['IDF1']:5.1f} MOTA {row['MOTA']:5.1f} "
              f"IDSW {row['IDSW']:4d}  {row['assoc_FPS']:7.0f} FPS", flush=True)
        if args.post_choice is not None:
            import postchoice

            for r in post_rows(label, folder, seqs, raw, min_score, postchoice.load_choice(args.post_choice),
                               args.data):
                rows.append(r)
                print(f"{r['tracker']:40s} HOTA {r['HOTA']:5.1f} IDF1 {r['IDF1']:5.1f} MOTA {r['MOTA']:5.1f}",
                      flush=True)
    for spec in args.lgmot_row:
        row_name, _, row_dir = spec.rpartition("=")
        row = score_results(row_name, row_dir, args.data)
        rows.append(row)
        print(f"{row_name:20s} HOTA {row['HOTA']:5.1f} IDF1 {row['IDF1']:5.1f}", flush=True)
    if args.lgmot_results is not None:
        row = score_results(args.lgmot_name, args.lgmot_results, args.data, args.lgmot_fps)
        rows.append(row)
        print(f"{args.lgmot_name:20s} HOTA {row['HOTA']:5.1f} IDF1 {row['IDF1']:5.1f}", flush=True)
    note = (f"MOT15 train, {len(seqs)} sequences, {total} frames, SORT's public Faster R-CNN detections; "
            "TrackEval COMBINED, no preprocessing. '@ s': detections with score < s dropped before tracking "
            "(no suffix: all detections). Peers use their library defaults (frame rate passed where "
            "the constructor takes it; ReID and camera-motion compensation off). assoc_FPS = total frames / "
            "total seconds inside the trackers' update loop (input building and file writing excluded)"
            + (f", fastest of {args.repeats} runs per sequence" if args.repeats > 1 else "") + "."
            + (" '+ interp.': the tracker's output with every gap inside a track filled by linear interpolation "
               "(lgmot's `solve.interpolate`). '+ lgmot post.': the same post-processing as lgmot's chosen "
               "row, per sequence its fold's settings (`solve.finish_tracks`: low-score recovery from the "
               "detections the tracker left out, crossing repair, interpolation, smoothing)." if args.post_choice else ""))
    csv, md = write_table(rows, args.table, note)
    print(f"wrote {csv} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
