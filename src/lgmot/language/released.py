"""Adapter for the language annotations released with LG-MOT (MOT17-L, DanceTrack-L, SportsMOT-L).

They are on Hugging Face (``UHow/MOT17-L``, ``UHow/DanceTrack-L``, ``UHow/SportsMOT-L``); their exact
schema was not available when this was written, so the reader is tolerant. **Assumed schema**: a file
holds records, as

- a JSON list of objects, a JSON object with a list under ``annotations``/``data``/``records``/
  ``items``, a JSON object keyed by sequence name whose values are records or
  ``{"scene": ..., "instances"/"tracks"/"objects": {id: text | record} | [record]}``;
- JSON Lines (one object per line);
- CSV with a header row.

A record is either a **scene** record (no track id) or an **instance** record (a track id). Keys are
matched case-insensitively, ignoring ``_``, ``-`` and spaces:

- sequence: ``sequence``, ``seq``, ``seq_name``, ``video``, ``video_name``, ``video_id``, ``name``
  (``name`` only when it is not the text); a missing sequence takes the file's stem;
- track id: ``track_id``, ``trackid``, ``id``, ``object_id``, ``obj_id``, ``instance_id``, ``tid``;
- text: ``caption``, ``description``, ``text``, ``sentence``, ``prompt``, ``language``,
  ``instance_caption``/``instance_description`` (instance records), ``scene_caption``/
  ``scene_description``/``scene_text``/``scene`` (scene records; a ``scene`` key beside a track id
  is the scene text of that sequence too).

MOT17 detector copies (``MOT17-02-SDP``/``-FRCNN``/``-DPM``) are folded onto ``MOT17-02`` when
``fold_mot17`` is set. Everything read gets provenance ``manual`` (the released texts were produced by
the authors' pipeline and checked by people; see the paper). A sequence without a scene text gets
the placeholder ``"A scene."``, flagged by ``attributes.missing_scene = true``.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError, read_user_text
from .annotations import Description, SequenceAnnotations

_SEQ_KEYS = ("sequence", "seq", "seqname", "sequencename", "video", "videoname", "videoid", "vid", "name")
_ID_KEYS = ("trackid", "track", "id", "objectid", "objid", "instanceid", "tid", "targetid")
_TEXT_KEYS = ("caption", "description", "text", "sentence", "prompt", "language", "instancecaption",
              "instancedescription", "instancetext", "desc")
_SCENE_KEYS = ("scenecaption", "scenedescription", "scenetext", "sceneprompt", "scene")
_CONTAINER_KEYS = ("annotations", "data", "records", "items", "videos", "sequences")
_INSTANCE_CONTAINERS = ("instances", "tracks", "objects", "targets")


def _norm(k: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(k)).lower()


def _get(rec: dict[str, Any], keys: Iterable[str]) -> Any:
    nk = {_norm(k): v for k, v in rec.items()}
    for k in keys:
        v = nk.get(k)
        if v is not None and v != "":
            return v
    return None


def _text(v: Any) -> str | None:
    if isinstance(v, str) and v.strip():
        return v.strip()
    if isinstance(v, dict):
        return _text(_get(v, _TEXT_KEYS + _SCENE_KEYS))
    return None


def _track_id(v: Any, path: Path, where: str) -> int:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(path, f"{where}: track id {v!r} is not an integer") from None
    if f != int(f):
        raise InputError(path, f"{where}: track id {v!r} is not an integer")
    return int(f)


def fold_mot17_name(name: str) -> str:
    m = re.fullmatch(r"(MOT1[67]-\d\d)(-(SDP|FRCNN|DPM))?", name)
    return m.group(1) if m else name


def _records(path: Path) -> list[tuple[dict[str, Any], str]]:
    """Flat records with a 'where' label for errors."""
    raw = read_user_text(path, "annotations")
    suffix = path.suffix.lower()
    if suffix == ".csv" or suffix == ".tsv":
        dialect = "excel-tab" if suffix == ".tsv" else "excel"
        rows = list(csv.DictReader(io.StringIO(raw), dialect=dialect))
        return [(r, f"row {i + 2}") for i, r in enumerate(rows)]
    if suffix == ".jsonl" or (suffix != ".json" and raw.lstrip().startswith("{") and "\n{" in raw):
        out = []
        for i, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(path, f"not valid JSON Lines ({e.msg})", i) from None
            if not isinstance(obj, dict):
                raise InputError(path, "each JSON line must be an object", i)
            out.append((obj, f"line {i}"))
        return out
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(path, f"not valid JSON ({e.msg})", e.lineno) from None
    return list(_flatten(obj, path, None, "top level"))


def _flatten(obj: Any, path: Path, seq: str | None, where: str) -> Iterable[tuple[dict[str, Any], str]]:
    if isinstance(obj, list):
        for i, r in enumerate(obj):
            if not isinstance(r, dict):
                raise InputError(path, f"{where}[{i}] is not an object")
            yield from _flatten(r, path, seq, f"{where}[{i}]")
        return
    if not isinstance(obj, dict):
        raise InputError(path, f"{where} is not an object or a list")
    container = _get(obj, _CONTAINER_KEYS)
    if isinstance(container, (list, dict)) and not _get(obj, _TEXT_KEYS):
        yield from _flatten(container, path, seq or _seq_of(obj), f"{where}.annotations")
        return
    inst = _get(obj, _INSTANCE_CONTAINERS)
    if isinstance(inst, (dict, list)):
        s = _seq_of(obj) or seq
        scene = _text(_get(obj, _SCENE_KEYS))
        if scene:
            yield ({"sequence": s, "scene_text": scene}, where)
        items = inst.items() if isinstance(inst, dict) else ((None, v) for v in inst)
        for k, v in items:
            rec = dict(v) if isinstance(v, dict) else {"text": v}
            if k is not None and _get(rec, _ID_KEYS) is None:
                rec["track_id"] = k
            rec.setdefault("sequence", s)
            yield (rec, f"{where}.instances[{k}]")
        return
    if _is_record(obj):
        if seq is not None and _get(obj, _SEQ_KEYS[:-1]) is None:
            obj = {**obj, "sequence": seq}
        yield (obj, where)
        return
    # a mapping keyed by sequence name
    for k, v in obj.items():
        if isinstance(v, str):
            yield ({"sequence": k, "scene_text": v}, f"{where}.{k}")
        else:
            yield from _flatten(v, path, str(k), f"{where}.{k}")


def _is_record(obj: dict[str, Any]) -> bool:
    return _get(obj, _TEXT_KEYS + _SCENE_KEYS) is not None and not isinstance(_get(obj, _TEXT_KEYS + _SCENE_KEYS), (dict, list))


def _seq_of(rec: dict[str, Any]) -> str | None:
    v = _get(rec, _SEQ_KEYS)
    return None if v is None or isinstance(v, (dict, list)) else str(v)


def read_released(path: str | Path, fold_mot17: bool = True) -> dict[str, SequenceAnnotations]:
    """Read one released annotation file into ``{sequence: SequenceAnnotations}``."""
    path = Path(path)
    scenes: dict[str, str] = {}
    inst: dict[str, dict[int, str]] = {}
    for rec, where in _records(path):
        seq = _seq_of(rec) or path.stem
        if fold_mot17:
            seq = fold_mot17_name(seq)
        tid = _get(rec, _ID_KEYS)
        if tid is None or tid == "" or str(tid).strip() == "":
            text = _text(_get(rec, _SCENE_KEYS)) or _text(_get(rec, _TEXT_KEYS))
            if not text:
                raise InputError(path, f"{where}: record has neither a track id nor a scene text")
            if scenes.get(seq, text) != text:
                raise InputError(path, f"{where}: sequence {seq} has two different scene texts")
            scenes[seq] = text
            continue
        t = _track_id(tid, path, where)
        text = _text(_get(rec, _TEXT_KEYS))
        if not text:
            raise InputError(path, f"{where}: instance record for track {t} has no text")
        old = inst.setdefault(seq, {}).get(t)
        if old is not None and old != text:
            raise InputError(path, f"{where}: track {t} of {seq} has two different texts")
        inst[seq][t] = text
        scene = _text(_get(rec, _SCENE_KEYS))
        if scene:
            scenes.setdefault(seq, scene)
    out: dict[str, SequenceAnnotations] = {}
    for seq in sorted(set(scenes) | set(inst)):
        if seq in scenes:
            sc = Description(scenes[seq], {"source": path.name}, "manual")
        else:
            sc = Description("A scene.", {"source": path.name, "missing_scene": True}, "manual")
        out[seq] = SequenceAnnotations(seq, sc, {t: Description(x, {"source": path.name}, "manual")
                                                 for t, x in sorted(inst.get(seq, {}).items())})
    if not out:
        raise InputError(path, "no annotation records found")
    return out
