"""Dataset layouts, seqmaps and named splits.

``list_sequences(root, split=None, seqmap=None)`` returns the sequence folders of a dataset root:

- a single sequence folder -> ``[root]``;
- a named split (``SPLITS``) -> its sequences, resolved under ``root`` (the dataset root, e.g. ``MOT17/``,
  or directly the folder that holds the split's sequences, e.g. ``MOT17/train``);
- a seqmap file -> the named sequences, found under ``root`` or one of its split folders;
- otherwise every sequence folder directly under ``root`` (MOT15 style), or the ``seqmap.txt`` at the root.

MOT17 val-half (CenterTrack/ByteTrack convention, 0-based frame index i of N frames):
train_half is i in [0, N//2], val_half is i in [N//2+1, N-1]. ``half_range`` gives it as 1-based frames;
``write_half_gt`` writes ``gt/gt_val_half.txt`` with frames renumbered from 1 (as ByteTrack does).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError, check_name, read_user_text
from . import motio
from .sequence import IMAGE_EXTS, VIDEO_EXTS, read_seqinfo

MOT17_TRAIN = ("02", "04", "05", "09", "10", "11", "13")
MOT17_TEST = ("01", "03", "06", "07", "08", "12", "14")
MOT17_DETECTORS = ("DPM", "FRCNN", "SDP")
#: SUSHI's 3-fold cross-validation over the MOT17 train videos (``src/data/splits.py``)
MOT17_CV = {
    1: (("04", "05", "09", "11"), ("02", "10", "13")),
    2: (("02", "05", "09", "10", "13"), ("04", "11")),
    3: (("02", "04", "10", "11", "13"), ("05", "09")),
}
MOT20_TRAIN = ("01", "02", "03", "05")
MOT20_TEST = ("04", "06", "07", "08")


@dataclass(frozen=True)
class Split:
    """A named split: which folder under the dataset root and which sequences.

    ``names`` None means every sequence of the folder (or of the split's seqmap file when present).
    ``half`` is 'train' or 'val' for the MOT17 half protocol (see ``half_range``).
    """

    dataset: str
    folder: str
    names: tuple[str, ...] | None = None
    half: str | None = None
    seqmap_files: tuple[str, ...] = ()


def _mot(prefix: str, vids: tuple[str, ...], dets: tuple[str, ...] | None) -> tuple[str, ...]:
    if dets is None:
        return tuple(f"{prefix}-{v}" for v in vids)
    return tuple(f"{prefix}-{v}-{d}" for v in vids for d in dets)


def _build_splits() -> dict[str, Split]:
    s: dict[str, Split] = {}
    for part, vids in (("train", MOT17_TRAIN), ("test", MOT17_TEST)):
        s[f"mot17-{part}"] = Split("mot17", part, _mot("MOT17", vids, MOT17_DETECTORS))
        for d in MOT17_DETECTORS:
            s[f"mot17-{part}-{d}"] = Split("mot17", part, _mot("MOT17", vids, (d,)))
    for k, (tr, va) in MOT17_CV.items():
        s[f"mot17-cv{k}-train"] = Split("mot17", "train", _mot("MOT17", tr, MOT17_DETECTORS))
        s[f"mot17-cv{k}-val"] = Split("mot17", "train", _mot("MOT17", va, MOT17_DETECTORS))
    s["mot17-train-half"] = Split("mot17", "train", _mot("MOT17", MOT17_TRAIN, ("FRCNN",)), half="train")
    s["mot17-val-half"] = Split("mot17", "train", _mot("MOT17", MOT17_TRAIN, ("FRCNN",)), half="val")
    s["mot20-train"] = Split("mot20", "train", _mot("MOT20", MOT20_TRAIN, None))
    s["mot20-test"] = Split("mot20", "test", _mot("MOT20", MOT20_TEST, None))
    for part in ("train", "val", "test"):
        s[f"dancetrack-{part}"] = Split("dancetrack", part, None, seqmap_files=(f"{part}_seqmap.txt",))
        s[f"sportsmot-{part}"] = Split("sportsmot", f"dataset/{part}", None,
                                       seqmap_files=(f"splits_txt/{part}.txt", f"{part}_seqmap.txt"))
    return s


#: Every named split. Keys look like ``mot17-train``, ``mot17-train-FRCNN``, ``mot17-cv1-val``,
#: ``mot17-val-half``, ``mot20-train``, ``dancetrack-val``, ``sportsmot-train``.
SPLITS: dict[str, Split] = _build_splits()


# --- seqmaps ------------------------------------------------------------------------------------
def read_seqmap(path: str | Path) -> list[str]:
    """Sequence names of a seqmap: an optional ``name`` header, then one name per line (first CSV field)."""
    path = Path(path)
    text = read_user_text(path, "seqmap")
    names: list[str] = []
    seen: dict[str, int] = {}
    first = True
    for lineno, raw in enumerate(text.splitlines(), start=1):
        name = raw.split(",")[0].strip()
        if not name:
            continue
        if first and name.lower() == "name":
            first = False
            continue
        first = False
        check_name(name, path, lineno)
        if name in seen:
            raise InputError(path, f"sequence {name!r} is listed twice (first on line {seen[name]})", lineno)
        seen[name] = lineno
        names.append(name)
    return names


def write_seqmap(path: str | Path, names: list[str] | tuple[str, ...]) -> Path:
    """Write a TrackEval seqmap (``name`` header then the names), atomically."""
    motio.atomic_write_text(path, "name\n" + "".join(f"{n}\n" for n in names))
    return Path(path)


def _seqmap_line(path: Path, name: str) -> int | None:
    for i, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if raw.split(",")[0].strip() == name:
            return i
    return None


# --- sequence folders ---------------------------------------------------------------------------
def is_sequence_dir(path: Path) -> bool:
    """True for a folder that holds one sequence (seqinfo, gt, det, img1 or a video)."""
    if not path.is_dir():
        return False
    if any((path / p).exists() for p in ("seqinfo.ini", "gt/gt.txt", "gt.txt", "det/det.txt", "det.txt", "img1")):
        return True
    return any(p.suffix.lower() in VIDEO_EXTS and p.is_file() for p in path.iterdir())


def is_image_folder(path: Path) -> bool:
    return path.is_dir() and any(p.suffix.lower() in IMAGE_EXTS for p in path.iterdir())


def _child_sequences(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".") and is_sequence_dir(p)),
                  key=lambda p: p.name)


def detect_layout(root: str | Path) -> str:
    """Guess a dataset root's layout: 'sequence', 'mot17', 'mot20', 'dancetrack', 'sportsmot' or 'folder'."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "no such folder")
    if is_sequence_dir(root):
        return "sequence"
    if (root / "dataset").is_dir() and any((root / "dataset" / p).is_dir() for p in ("train", "val", "test")):
        return "sportsmot"
    if any((root / f"{p}_seqmap.txt").is_file() for p in ("train", "val", "test")) or \
            any(p.name.startswith("dancetrack") for part in ("train", "val", "test") if (root / part).is_dir()
                for p in (root / part).iterdir()):
        return "dancetrack"
    names = [p.name for part in ("", "train", "test") if (root / part).is_dir() for p in (root / part).iterdir()]
    if any(n.startswith("MOT17-") for n in names):
        return "mot17"
    if any(n.startswith("MOT20-") for n in names):
        return "mot20"
    return "folder"


def _split_folder(root: Path, split_name: str, sp: Split) -> Path:
    """The folder holding the split's sequences: ``root/<folder>``, else ``root`` itself."""
    cand = root / sp.folder
    if cand.is_dir():
        return cand
    if sp.names is not None and all((root / n).is_dir() for n in sp.names):
        return root
    if sp.names is None and _child_sequences(root):
        return root
    raise InputError(root, f"split '{split_name}' expects the folder {sp.folder}/ under this root")


def _resolve_names(base: Path, names: list[str] | tuple[str, ...], source: Path | None, search: list[Path]) -> list[Path]:
    out = []
    for n in names:
        hit = next((d / n for d in search if (d / n).is_dir()), None)
        if hit is None:
            line = _seqmap_line(source, n) if source is not None else None
            raise InputError(source if source is not None else base, f"sequence '{n}' not found under {base}", line)
        out.append(hit)
    return out


def list_sequences(root: str | Path, split: str | None = None, seqmap: str | Path | None = None) -> list[Path]:
    """Sequence folders of ``root`` for a named split and/or a seqmap (see the module doc)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "no such folder")
    smap = Path(seqmap) if seqmap is not None else None
    wanted = read_seqmap(smap) if smap is not None else None
    if split is not None:
        if split not in SPLITS:
            raise InputError(None, f"unknown split '{split}' (known: {', '.join(sorted(SPLITS))})")
        sp = SPLITS[split]
        folder = _split_folder(root, split, sp)
        names: tuple[str, ...] | list[str] | None = sp.names
        source = None
        if names is None:
            files = [root / f for f in sp.seqmap_files] + [folder.parent / f for f in sp.seqmap_files]
            source = next((f for f in files if f.is_file()), None)
            names = read_seqmap(source) if source is not None else [p.name for p in _child_sequences(folder)]
        if wanted is not None:
            unknown = [n for n in wanted if n not in names]
            if unknown:
                raise InputError(smap, f"sequence '{unknown[0]}' is not in split '{split}'",
                                 _seqmap_line(smap, unknown[0]))
            names = [n for n in names if n in set(wanted)]
        return _resolve_names(folder, list(names), source, [folder])
    if wanted is not None:
        search = [root] + [root / p for p in ("train", "val", "test", "dataset/train", "dataset/val", "dataset/test")
                           if (root / p).is_dir()]
        return _resolve_names(root, wanted, smap, search)
    if is_sequence_dir(root):
        return [root]
    if (root / "seqmap.txt").is_file():
        return _resolve_names(root, read_seqmap(root / "seqmap.txt"), root / "seqmap.txt", [root])
    seqs = _child_sequences(root)
    if not seqs:
        raise InputError(root, "no sequence folders here (a sequence has seqinfo.ini, gt/, det/, img1/ or a video)")
    return seqs


def split_frame_range(split: str | None, length: int) -> tuple[int, int]:
    """1-based inclusive frames of a sequence used by ``split`` (the whole sequence unless a half split)."""
    sp = SPLITS.get(split) if split is not None else None
    if sp is None or sp.half is None:
        return 1, length
    return half_range(length, sp.half)


# --- MOT17 half protocol --------------------------------------------------------------------------
def half_range(length: int, half: str) -> tuple[int, int]:
    """1-based inclusive frame range of 'train' (0-based [0, N//2]) or 'val' ([N//2+1, N-1]) half."""
    if length < 2:
        raise ValueError("a half split needs at least 2 frames")
    if half == "train":
        return 1, length // 2 + 1
    if half == "val":
        return length // 2 + 2, length
    raise ValueError("half is 'train' or 'val'")


def half_gt(gt: pd.DataFrame, length: int, half: str = "val") -> pd.DataFrame:
    """The GT rows of one half, frames renumbered so the half starts at frame 1."""
    first, last = half_range(length, half)
    out = gt[(gt.frame >= first) & (gt.frame <= last)].copy()
    out["frame"] = out["frame"] - (first - 1)
    return out.reset_index(drop=True)


def half_gt_path(seq_dir: str | Path, half: str = "val") -> Path:
    return Path(seq_dir) / "gt" / f"gt_{half}_half.txt"


def write_half_gt(seq_dir: str | Path, half: str = "val", out: str | Path | None = None) -> Path:
    """Write ``<seq>/gt/gt_<half>_half.txt`` (9 columns) from ``gt/gt.txt`` and ``seqinfo.ini``."""
    seq_dir = Path(seq_dir)
    info = read_seqinfo(seq_dir / "seqinfo.ini")
    gt = motio.read_gt(seq_dir / "gt" / "gt.txt", info.length)
    dest = Path(out) if out is not None else half_gt_path(seq_dir, half)
    return motio.write_gt(dest, half_gt(gt, info.length, half))


def read_half_gt(seq_dir: str | Path, half: str = "val") -> pd.DataFrame:
    """Read ``gt_<half>_half.txt``; frames are checked against the half's length."""
    seq_dir = Path(seq_dir)
    info = read_seqinfo(seq_dir / "seqinfo.ini")
    first, last = half_range(info.length, half)
    return motio.read_gt(half_gt_path(seq_dir, half), last - first + 1)
