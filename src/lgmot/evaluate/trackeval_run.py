"""HOTA, CLEAR and Identity metrics computed by the ``trackeval`` package (never re-implemented here).

``evaluate`` reads and checks every file with lgmot's readers (so a bad line is reported as
``file:line: reason``), writes them normalised into a temporary folder in TrackEval's MOTChallenge
layout (``gt/<seq>/gt/gt.txt`` + ``seqinfo.ini``, ``trackers/lgmot/data/<seq>.txt``, a seqmap) and runs
``trackeval.Evaluator`` with ``MotChallenge2DBox``. Normalising matters: MOT15 GT and results carry world
coordinates in columns 8-10, which TrackEval would otherwise read as classes.

A sequence that has GT but no result file is an error (``InputError``) unless ``allow_missing`` is set,
in which case it is scored as an empty result (every GT box a miss).
"""
from __future__ import annotations

import contextlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import motio
from ..data.layouts import read_seqmap, write_seqmap
from ..data.schema import TRACK_COLUMNS, empty
from ..data.sequence import read_seqinfo
from ..errors import InputError, check_name

TRACKER = "lgmot"
HOTA_ARRAY = ["HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA"]
HOTA_SCALAR = ["HOTA(0)", "LocA(0)", "HOTALocA(0)"]
CLEAR_FLOAT = ["MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA", "CLR_F1", "MOTAL"]
CLEAR_INT = ["CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames"]
ID_FLOAT = ["IDF1", "IDR", "IDP"]
ID_INT = ["IDTP", "IDFN", "IDFP"]
COUNT_INT = ["Dets", "GT_Dets", "IDs", "GT_IDs"]
#: percentages (0-100) first, then FP_per_frame (a rate), then integer counts
COLUMNS = HOTA_ARRAY + HOTA_SCALAR + CLEAR_FLOAT + ID_FLOAT + ["FP_per_frame"] + CLEAR_INT + ID_INT + COUNT_INT
INT_COLUMNS = CLEAR_INT + ID_INT + COUNT_INT
COMBINED = "COMBINED"


@dataclass(frozen=True)
class GTSeq:
    name: str
    gt_path: Path
    seq_dir: Path


def find_gt(gt_root: str | Path, gt_file: str = "gt.txt") -> dict[str, GTSeq]:
    """Sequences with GT under ``gt_root``: ``<seq>/gt/<gt_file>`` or ``<seq>/<gt_file>``.

    ``gt_root`` may also be a single sequence folder. A sequence is named by its ``seqinfo.ini``
    (as ``lgmot track`` names result files), else by its folder.
    """
    root = Path(gt_root)
    if not root.is_dir():
        raise InputError(root, "GT root is not a folder")

    def gt_of(d: Path) -> Path | None:
        return next((p for p in (d / "gt" / gt_file, d / gt_file) if p.is_file()), None)

    def name_of(d: Path) -> str:
        # the name lgmot track writes results under: seqinfo.ini's name, else the folder's
        ini = d / "seqinfo.ini"
        return read_seqinfo(ini).name if ini.is_file() else check_name(d.name, d, what="sequence folder name")

    own = gt_of(root) if (root / "gt").is_dir() else None
    if own is not None:
        n = name_of(root)
        return {n: GTSeq(n, own, root)}
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        g = gt_of(d)
        if g is not None:
            n = name_of(d)
            out[n] = GTSeq(n, g, d)
    return out


def _result_path(results_dir: Path, seq: str) -> Path | None:
    return next((p for p in (results_dir / f"{seq}.txt", results_dir / "data" / f"{seq}.txt") if p.is_file()), None)


def _relabel(ids: np.ndarray) -> np.ndarray:
    # Order-preserving, so metrics are unchanged; it only protects TrackEval from negative ids.
    return np.unique(ids, return_inverse=True)[1].astype(np.int64) if len(ids) else ids


def _write_gt(path: Path, gt: pd.DataFrame) -> None:
    arr = np.column_stack([gt.frame, _relabel(gt.id.to_numpy()), gt.x + 1, gt.y + 1, gt.w, gt.h,
                           gt.consider, gt.cls, gt.vis]) if len(gt) else np.zeros((0, 9))
    buf = io.StringIO()
    np.savetxt(buf, arr, fmt=["%d", "%d", "%.10g", "%.10g", "%.10g", "%.10g", "%.10g", "%d", "%.10g"], delimiter=",")
    motio.atomic_write_text(path, buf.getvalue())


def _write_results(path: Path, tr: pd.DataFrame) -> None:
    n = len(tr)
    arr = np.column_stack([tr.frame, _relabel(tr.id.to_numpy()), tr.x + 1, tr.y + 1, tr.w, tr.h, tr.score,
                           -np.ones(n), -np.ones(n), -np.ones(n)]) if n else np.zeros((0, 10))
    buf = io.StringIO()
    np.savetxt(buf, arr, fmt=["%d", "%d"] + ["%.10g"] * 5 + ["%d"] * 3, delimiter=",")
    motio.atomic_write_text(path, buf.getvalue())


def _row(res: dict) -> dict[str, float | int]:
    h, c, i, n = res["HOTA"], res["CLEAR"], res["Identity"], res["Count"]
    row: dict[str, float | int] = {}
    for k in HOTA_ARRAY:
        row[k] = 100.0 * float(np.mean(h[k]))
    for k in HOTA_SCALAR:
        row[k] = 100.0 * float(h[k])
    for k in CLEAR_FLOAT:
        row[k] = 100.0 * float(c[k])
    for k in ID_FLOAT:
        row[k] = 100.0 * float(i[k])
    row["FP_per_frame"] = float(c["FP_per_frame"])
    for src, keys in ((c, CLEAR_INT), (i, ID_INT), (n, COUNT_INT)):
        for k in keys:
            row[k] = int(round(float(src[k])))
    return row


def evaluate(gt_root: str | Path, results_dir: str | Path, seqmap: str | Path | None = None,
             preproc: bool = False, benchmark: str = "MOT17", gt_file: str = "gt.txt",
             allow_missing: bool = False) -> pd.DataFrame:
    """Score the ``<seq>.txt`` files of ``results_dir`` against the GT under ``gt_root`` with TrackEval.

    Returns one row per sequence (seqmap order, else sorted names) plus ``COMBINED`` (TrackEval's
    combination over sequences, not a mean), columns ``COLUMNS``: percentages on a 0-100 scale,
    counts as integers. ``preproc`` turns on TrackEval's MOT17/MOT20 preprocessing (``benchmark``
    'MOT20' adds class 6 to the distractors; 'MOT15' never preprocesses).
    """
    import trackeval

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise InputError(results_dir, "results folder does not exist")
    available = find_gt(gt_root, gt_file)
    if seqmap is not None:
        smap = Path(seqmap)
        names = read_seqmap(smap)
        if not names:
            raise InputError(smap, "seqmap lists no sequence")
        for n in names:
            if n not in available:
                line = next((k for k, l in enumerate(smap.read_text(encoding="utf-8-sig").splitlines(), 1)
                             if l.split(",")[0].strip() == n), None)
                raise InputError(smap, f"sequence '{n}' has no GT under {gt_root}", line)
    else:
        names = sorted(available)
        if not names:
            raise InputError(gt_root, f"no sequence with GT here (looked for <seq>/gt/{gt_file} and <seq>/{gt_file})")

    with tempfile.TemporaryDirectory(prefix="lgmot_eval_") as tmp:
        t = Path(tmp)
        lengths = {}
        for n in names:
            seq = available[n]
            rpath = _result_path(results_dir, n)
            if rpath is None and not allow_missing:
                raise InputError(results_dir / f"{n}.txt", f"no result file for sequence '{n}', which has GT")
            ini = seq.seq_dir / "seqinfo.ini"
            known = read_seqinfo(ini).length if ini.is_file() else None
            gt = motio.read_gt(seq.gt_path, known, unique_ids=True)
            res = motio.read_results(rpath, known, unique_ids=True) if rpath is not None else None
            # without seqinfo.ini (e.g. motmetrics' TUD files) the length is the last frame of either file
            length = known if known is not None else max(
                [int(t.frame.max()) for t in (gt, res) if t is not None and len(t)] + [1])
            lengths[n] = length
            _write_gt(t / "gt" / n / "gt" / "gt.txt", gt)
            motio.atomic_write_text(t / "gt" / n / "seqinfo.ini",
                                    f"[Sequence]\nname={n}\nseqLength={length}\n")
            _write_results(t / "trackers" / TRACKER / "data" / f"{n}.txt",
                           res if res is not None else empty(TRACK_COLUMNS))
        write_seqmap(t / "seqmap.txt", names)

        eval_cfg = {"USE_PARALLEL": False, "BREAK_ON_ERROR": True, "RETURN_ON_ERROR": False, "LOG_ON_ERROR": None,
                    "PRINT_RESULTS": False, "PRINT_ONLY_COMBINED": False, "PRINT_CONFIG": False,
                    "TIME_PROGRESS": False, "DISPLAY_LESS_PROGRESS": True, "OUTPUT_SUMMARY": False,
                    "OUTPUT_EMPTY_CLASSES": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False}
        ds_cfg = {"GT_FOLDER": str(t / "gt"), "TRACKERS_FOLDER": str(t / "trackers"), "OUTPUT_FOLDER": str(t / "out"),
                  "TRACKERS_TO_EVAL": [TRACKER], "CLASSES_TO_EVAL": ["pedestrian"], "BENCHMARK": benchmark.upper(),
                  "SPLIT_TO_EVAL": "train", "SKIP_SPLIT_FOL": True, "SEQMAP_FILE": str(t / "seqmap.txt"),
                  "DO_PREPROC": bool(preproc), "PRINT_CONFIG": False, "INPUT_AS_ZIP": False}
        metric_cfg = {"PRINT_CONFIG": False, "THRESHOLD": 0.5}
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                evaluator = trackeval.Evaluator(eval_cfg)
                dataset = trackeval.datasets.MotChallenge2DBox(ds_cfg)
                metrics = [trackeval.metrics.HOTA(metric_cfg), trackeval.metrics.CLEAR(metric_cfg),
                           trackeval.metrics.Identity(metric_cfg)]  # Count is always added by TrackEval
                out, _ = evaluator.evaluate([dataset], metrics)
            except trackeval.utils.TrackEvalException as e:
                raise InputError(results_dir, f"TrackEval: {' '.join(str(e).split())}") from None
    per = out["MotChallenge2DBox"][TRACKER]
    rows = {n: _row(per[n]["pedestrian"]) for n in names}
    rows[COMBINED] = _row(per["COMBINED_SEQ"]["pedestrian"])
    df = pd.DataFrame.from_dict(rows, orient="index")[COLUMNS]
    for k in INT_COLUMNS:
        df[k] = df[k].astype(np.int64)
    df.index.name = "seq"
    return df


def write_metrics_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the metrics table as CSV (index column ``seq``), atomically."""
    motio.atomic_write_text(path, df.to_csv(float_format="%.6g"))
    return Path(path)


DEFAULT_TABLE = ["HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDP", "IDR", "MOTP", "IDSW", "MT", "ML", "Frag",
                 "CLR_FP", "CLR_FN", "GT_IDs", "IDs"]


def format_table(df: pd.DataFrame, columns: list[str] | None = None, width: int = 160) -> str:
    """A readable rich table of the metrics (one line per sequence, COMBINED last), as text."""
    from rich.console import Console
    from rich.table import Table

    cols = [c for c in (columns or DEFAULT_TABLE) if c in df.columns]
    table = Table(show_header=True, header_style="bold")
    table.add_column("seq")
    for c in cols:
        table.add_column(c, justify="right")
    names = list(df.index)
    for k, (name, row) in enumerate(df.iterrows()):
        cells = [str(int(row[c])) if c in INT_COLUMNS else f"{row[c]:.2f}" for c in cols]
        before_combined = k + 1 < len(names) and names[k + 1] == COMBINED
        table.add_row(str(name), *cells, end_section=before_combined)
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(table)
    return console.file.getvalue()
