"""Reading and writing MOTChallenge text files (det.txt, gt.txt, results).

Every row is ``frame, id, left, top, width, height, conf, x, y, z`` (10 columns, MOT15) or
``frame, id, left, top, width, height, consider, class, visibility`` (9 columns, MOT16/17/20,
DanceTrack, SportsMOT). Separators may be ``,`` or ``, `` (SportsMOT) and line ends CRLF (TUD).
Coordinates in files are 1-based; inside lgmot they are 0-based.
"""
from __future__ import annotations

import io
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, read_user_text
from .schema import DET_COLUMNS, GT_COLUMNS, TRACK_COLUMNS, empty, typed

ALLOWED_COLUMNS = (6, 7, 8, 9, 10)


INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_EXACT_FLOAT = 2 ** 53  # every integer of smaller magnitude is exact as a float64
MAX_FRAME = 2 ** 31 - 1


def _parse_id(field: str) -> int | None:
    """An id field as an exact integer (``7``, ``+7``, ``-1``, ``7.0``, ``7e2``), or None when it is not integral.

    Digits are parsed as an integer, never through a float, so ids beyond 2^53 keep every digit."""
    try:
        return int(field)
    except ValueError:
        pass
    try:
        v = float(field)
    except ValueError:
        return None
    if not math.isfinite(v) or v != int(v) or abs(v) >= _EXACT_FLOAT:
        return None  # a float spelling of a huge id may already have lost digits: refuse it
    return int(v)


def _parse_table(path: Path, min_cols: int = 6, seq_length: int | None = None) -> tuple[np.ndarray, int, np.ndarray]:
    """``(rows x ncols float array, ncols, 1-based line number of each row)``: :func:`_parse_table_ids` without ids."""
    return _parse_table_ids(path, min_cols, seq_length)[:3]


def _parse_table_ids(path: Path, min_cols: int = 6, seq_length: int | None = None
                     ) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Parse a MOT text file into ``(rows x ncols float array, ncols, 1-based line number of each row,
    exact int64 id of each row)``.

    Checks every row; errors name the file and line. Ids are parsed as integers (column 2 of the
    float array is their rounded value and is not used for identity).
    """
    text = read_user_text(path, "file")
    fast = _parse_fast(text, min_cols, seq_length)
    if fast is not None:
        return fast
    rows: list[list[float]] = []
    linenos: list[int] = []
    ids: list[int] = []
    ncols = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split(",")] if "," in line else line.split()
        if fields and fields[-1] == "":
            fields = fields[:-1]  # a trailing comma
        if len(fields) not in ALLOWED_COLUMNS or len(fields) < min_cols:
            raise InputError(path, f"expected {min_cols} to 10 comma-separated columns, found {len(fields)}", lineno)
        if ncols is None:
            ncols = len(fields)
        elif len(fields) != ncols:
            raise InputError(path, f"expected {ncols} columns like the lines above, found {len(fields)}", lineno)
        vals = []
        for i, f in enumerate(fields):
            try:
                v = float(f)
            except ValueError:
                raise InputError(path, f"column {i + 1} is not a number: {f!r}", lineno) from None
            vals.append(v)
        frame, w, h = vals[0], vals[4], vals[5]
        if not math.isfinite(frame) or frame != int(frame) or frame < 1:
            raise InputError(path, f"frame must be a positive integer, found {fields[0]!r}", lineno)
        if frame > MAX_FRAME:
            raise InputError(path, f"frame {fields[0]} is too large (at most {MAX_FRAME})", lineno)
        if seq_length is not None and frame > seq_length:
            raise InputError(path, f"frame {int(frame)} is outside the sequence (seqLength={seq_length})", lineno)
        if not all(math.isfinite(v) for v in vals[1:6]):
            raise InputError(path, "id or box has a NaN or infinite value", lineno)
        tid = _parse_id(fields[1])
        if tid is None:
            raise InputError(path, f"id must be an integer, found {fields[1]!r}", lineno)
        if not INT64_MIN <= tid <= INT64_MAX:
            raise InputError(path, f"id {fields[1]} does not fit in a 64-bit integer", lineno)
        if not (w > 0 and h > 0):
            raise InputError(path, f"box width and height must be positive, found w={fields[4]} h={fields[5]}", lineno)
        rows.append(vals)
        linenos.append(lineno)
        ids.append(tid)
    if not rows:
        return np.zeros((0, 10)), 0, np.zeros(0, np.int64), np.zeros(0, np.int64)
    arr = np.asarray(rows, dtype=np.float64)
    return arr, arr.shape[1], np.asarray(linenos, np.int64), np.asarray(ids, np.int64)


def _parse_fast(text: str, min_cols: int, seq_length: int | None
                ) -> tuple[np.ndarray, int, np.ndarray, np.ndarray] | None:
    """Vectorised parse of a clean comma-separated file; None whenever anything is unusual.

    The line-by-line parser then re-reads the text, so every error still names its line.
    """
    if "," not in text or "#" in text or '"' in text:  # (an empty file has no comma: numpy would warn)
        return None
    try:
        # numpy's reader converts each field as Python's float() does (correctly rounded), so both
        # parsers give identical tables; 2x faster than pandas' round-trip parser on MOT det files
        arr = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        return None
    if arr.ndim != 2 or arr.shape[1] not in ALLOWED_COLUMNS or arr.shape[1] < min_cols or len(arr) == 0:
        return None
    frame, ids, w, h = arr[:, 0], arr[:, 1], arr[:, 4], arr[:, 5]
    ok = (not np.isnan(arr).any() and np.isfinite(arr[:, :6]).all() and (frame >= 1).all() and (frame <= MAX_FRAME).all()
          and (frame == np.round(frame)).all() and (ids == np.round(ids)).all() and (w > 0).all() and (h > 0).all()
          and (np.abs(ids) < _EXACT_FLOAT).all()  # larger ids: parsed exactly, as integers, line by line
          and (seq_length is None or (frame <= seq_length).all()))
    if not ok:
        return None
    linenos = np.asarray([i for i, line in enumerate(text.splitlines(), start=1) if line.strip()], np.int64)
    if len(linenos) != len(arr):
        return None
    return arr, arr.shape[1], linenos, ids.astype(np.int64)


def _parse_rows(path: Path, min_cols: int = 6, seq_length: int | None = None) -> tuple[np.ndarray, int]:
    arr, ncols, _ = _parse_table(path, min_cols, seq_length)
    return arr, ncols


def _check_unique_ids(path: Path, arr: np.ndarray, linenos: np.ndarray, ids: np.ndarray, what: str) -> None:
    """Raise at the first line that repeats an id already seen in the same frame."""
    if len(arr) == 0:
        return
    frames = arr[:, 0].astype(np.int64)
    order = np.lexsort((linenos, ids, frames))
    f, k = frames[order], ids[order]
    dup = np.flatnonzero((f[1:] == f[:-1]) & (k[1:] == k[:-1]))
    if len(dup):
        rows = order[dup + 1]
        i = rows[np.argmin(linenos[rows])]
        raise InputError(path, f"{what} id {int(ids[i])} appears twice in frame {int(frames[i])}", int(linenos[i]))


def _check_finite_scores(path: Path, score: np.ndarray, linenos: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(score))
    if len(bad):
        v = score[bad[0]]
        raise InputError(path, f"{what} is NaN" if np.isnan(v) else f"{what} is infinite ({v}); it must be finite",
                         int(linenos[bad[0]]))


def read_detections(path: str | Path, seq_length: int | None = None, min_score: float | None = None) -> pd.DataFrame:
    """Read a ``det.txt``. An empty file is legal and gives an empty table."""
    path = Path(path)
    arr, ncols, linenos, _ = _parse_table_ids(path, 6, seq_length)
    if ncols == 0:
        return empty(DET_COLUMNS)
    score = arr[:, 6] if ncols >= 7 else np.ones(len(arr))
    _check_finite_scores(path, score, linenos, "detection score")
    df = pd.DataFrame({"frame": arr[:, 0], "x": arr[:, 2] - 1, "y": arr[:, 3] - 1,
                       "w": arr[:, 4], "h": arr[:, 5], "score": score})
    df["det_id"] = np.arange(len(df))
    df = typed(df, DET_COLUMNS).sort_values(["frame", "det_id"], kind="stable").reset_index(drop=True)
    if min_score is not None:
        df = df[df.score >= min_score].reset_index(drop=True)
    return df


def read_gt(path: str | Path, seq_length: int | None = None, unique_ids: bool = False) -> pd.DataFrame:
    """Read a ground-truth file of any flavour into GT_COLUMNS.

    MOT15 (10 columns, x/y/z world coordinates) has no class or visibility: class 1, visibility 1.
    MOT16/17/20, DanceTrack and SportsMOT (9 columns) carry consider, class and visibility
    (8 columns: consider and class). ``unique_ids`` rejects an id repeated within a frame.
    """
    path = Path(path)
    arr, ncols, linenos, ids = _parse_table_ids(path, 6, seq_length)
    if ncols == 0:
        return empty(GT_COLUMNS)
    if unique_ids:
        _check_unique_ids(path, arr, linenos, ids, "track")
    n = len(arr)
    consider = arr[:, 6] if ncols >= 7 else np.ones(n)
    cls = arr[:, 7] if ncols in (8, 9) else np.ones(n)
    vis = arr[:, 8] if ncols == 9 else np.ones(n)
    notint = ~np.isfinite(cls) | (cls != np.round(cls)) | (np.abs(cls) >= _EXACT_FLOAT)
    if ncols in (8, 9) and notint.any():
        bad = np.flatnonzero(notint)[0]
        raise InputError(path, f"class (column 8) must be an integer, found {arr[bad, 7]:g}", int(linenos[bad]))
    df = pd.DataFrame({"frame": arr[:, 0], "id": ids, "x": arr[:, 2] - 1, "y": arr[:, 3] - 1,
                       "w": arr[:, 4], "h": arr[:, 5], "consider": consider, "cls": cls, "vis": vis})
    return typed(df, GT_COLUMNS).sort_values(["frame", "id"], kind="stable").reset_index(drop=True)


def read_results(path: str | Path, seq_length: int | None = None, unique_ids: bool = False) -> pd.DataFrame:
    """Read a tracker result file into TRACK_COLUMNS. ``unique_ids`` rejects an id repeated within a frame."""
    path = Path(path)
    arr, ncols, linenos, ids = _parse_table_ids(path, 6, seq_length)
    if ncols == 0:
        return empty(TRACK_COLUMNS)
    if unique_ids:
        _check_unique_ids(path, arr, linenos, ids, "track")
    score = arr[:, 6] if ncols >= 7 else np.ones(len(arr))
    _check_finite_scores(path, score, linenos, "score (column 7)")
    df = pd.DataFrame({"frame": arr[:, 0], "id": ids, "x": arr[:, 2] - 1, "y": arr[:, 3] - 1,
                       "w": arr[:, 4], "h": arr[:, 5], "score": score})
    return typed(df, TRACK_COLUMNS).sort_values(["frame", "id"], kind="stable").reset_index(drop=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically (UTF-8): a temporary file in the same folder, then rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


#: lgmot's temporary files: ``.<target name>.lgmot-<pid>-<random><suffix>`` next to the target
TEMP_TAG = "lgmot"
_TEMP_RE = re.compile(r"^\..+\." + TEMP_TAG + r"-(\d+)-[A-Za-z0-9_]+(\.[A-Za-z0-9]+)?$")
_UMASK: int | None = None


def current_umask() -> int:
    """The process umask (read from /proc on Linux, where reading it does not change it)."""
    global _UMASK
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def temp_file(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """``mkstemp`` next to ``path``, named so :func:`remove_stale_temps` can tell it is ours and whose,
    with the mode an ordinary ``open`` would give (0666 less the umask; mkstemp makes 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{TEMP_TAG}-{os.getpid()}-", suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except OSError:  # a file system without modes
        pass
    return fd, tmp


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete lgmot temporary files in ``folder`` whose writing process is gone (left by a kill during
    a write); returns what was removed. Files of other naming and of live processes are left alone."""
    folder = Path(folder)
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _TEMP_RE.match(p.name)
        if m is None or int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
            continue
        try:
            if p.is_file() and not p.is_symlink():
                p.unlink()
                removed.append(p)
        except OSError:
            pass
    return removed


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write a file atomically: a temporary file in the same folder, fsync, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fmt(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def format_results(tracks: pd.DataFrame) -> str:
    """MOTChallenge result text: ``frame,id,x,y,w,h,conf,-1,-1,-1`` with 1-based boxes."""
    t = tracks.sort_values(["frame", "id"], kind="stable")
    lines = [
        f"{int(f)},{int(i)},{_fmt(x + 1)},{_fmt(y + 1)},{_fmt(w)},{_fmt(h)},{_fmt(s)},-1,-1,-1"
        for f, i, x, y, w, h, s in zip(t.frame, t.id, t.x, t.y, t.w, t.h, t.score)
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def write_results(path: str | Path, tracks: pd.DataFrame) -> Path:
    """Write tracker results atomically. ``tracks`` has TRACK_COLUMNS (score optional, default 1)."""
    t = tracks.copy()
    if "score" not in t:
        t["score"] = 1.0
    atomic_write_text(path, format_results(typed(t, TRACK_COLUMNS)))
    return Path(path)


def format_detections(dets: pd.DataFrame) -> str:
    d = dets.sort_values(["frame"], kind="stable")
    lines = [f"{int(f)},-1,{_fmt(x + 1)},{_fmt(y + 1)},{_fmt(w)},{_fmt(h)},{_fmt(s)},-1,-1,-1"
             for f, x, y, w, h, s in zip(d.frame, d.x, d.y, d.w, d.h, d.score)]
    return "\n".join(lines) + ("\n" if lines else "")


def write_detections(path: str | Path, dets: pd.DataFrame) -> Path:
    atomic_write_text(path, format_detections(dets))
    return Path(path)


def format_gt(gt: pd.DataFrame, flavour: str = "mot17") -> str:
    """GT text. ``flavour`` 'mot17' writes 9 columns, 'mot15' 10 columns with -1 world coordinates."""
    g = typed(gt, GT_COLUMNS).sort_values(["frame", "id"], kind="stable")
    if flavour == "mot15":
        lines = [f"{f},{i},{_fmt(x + 1)},{_fmt(y + 1)},{_fmt(w)},{_fmt(h)},{_fmt(c)},-1,-1,-1"
                 for f, i, x, y, w, h, c in zip(g.frame, g.id, g.x, g.y, g.w, g.h, g.consider)]
    else:
        lines = [f"{f},{i},{_fmt(x + 1)},{_fmt(y + 1)},{_fmt(w)},{_fmt(h)},{int(c)},{k},{_fmt(v)}"
                 for f, i, x, y, w, h, c, k, v in zip(g.frame, g.id, g.x, g.y, g.w, g.h, g.consider, g.cls, g.vis)]
    return "\n".join(lines) + ("\n" if lines else "")


def write_gt(path: str | Path, gt: pd.DataFrame, flavour: str = "mot17") -> Path:
    atomic_write_text(path, format_gt(gt, flavour))
    return Path(path)
