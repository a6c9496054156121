"""The language annotation file: one JSON file per sequence, ``<seq>/language.json``.

::

    {"format": "lgmot-language/1",
     "sequence": "MOT17-02",
     "scene": {"text": "A scene captured by a static camera ...", "attributes": {...}, "provenance": "manual"},
     "instances": {"1": {"text": "A person in a red top ...", "attributes": {...}, "provenance": "auto"}, ...}}

``instances`` is keyed by the GT track id (as a string, JSON keys are strings). ``attributes`` is a
free JSON object; the keys understood by :func:`sentence_from_attributes` and :func:`scene_sentence`
are documented there. ``provenance`` says who wrote the text: ``auto`` (an annotation pipeline),
``manual`` (a person) or ``synthetic`` (lgmot's synthetic world, so the text is exactly true).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..data.motio import atomic_write_text
from ..errors import InputError, check_name, read_user_text

FORMAT = "lgmot-language/1"
FILENAME = "language.json"
PROVENANCES = ("auto", "manual", "synthetic")


@dataclass(frozen=True)
class Description:
    """One sentence plus the structured attributes it was made from."""

    text: str
    attributes: dict[str, Any] = field(default_factory=dict)
    provenance: str = "auto"

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "attributes": dict(self.attributes), "provenance": self.provenance}


def _check_json_value(v: Any) -> bool:
    if v is None or isinstance(v, (str, bool, int)):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, (list, tuple)):
        return all(_check_json_value(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _check_json_value(x) for k, x in v.items())
    return False


def _description(obj: Any, where: str, path: Path | None) -> Description:
    if not isinstance(obj, dict):
        raise InputError(path, f"{where} must be an object with 'text', 'attributes' and 'provenance'")
    unknown = set(obj) - {"text", "attributes", "provenance"}
    if unknown:
        raise InputError(path, f"{where} has unknown key(s): {', '.join(sorted(unknown))}")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(path, f"{where}.text must be a non-empty string")
    attrs = obj.get("attributes", {})
    if not isinstance(attrs, dict) or not _check_json_value(attrs):
        raise InputError(path, f"{where}.attributes must be an object of JSON values")
    prov = obj.get("provenance", "auto")
    if prov not in PROVENANCES:
        raise InputError(path, f"{where}.provenance must be one of {', '.join(PROVENANCES)}, found {prov!r}")
    return Description(text=text, attributes=dict(attrs), provenance=prov)


@dataclass
class SequenceAnnotations:
    """The language of one sequence: a scene description and one description per track id."""

    sequence: str
    scene: Description
    instances: dict[int, Description] = field(default_factory=dict)

    def instance_text(self, track_id: int) -> str | None:
        d = self.instances.get(int(track_id))
        return None if d is None else d.text

    # --- JSON -----------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "sequence": self.sequence, "scene": self.scene.to_json(),
                "instances": {str(k): self.instances[k].to_json() for k in sorted(self.instances)}}

    @classmethod
    def from_json(cls, obj: Any, path: str | Path | None = None) -> "SequenceAnnotations":
        """Validate a decoded JSON object; errors are :class:`InputError` naming ``path``."""
        p = None if path is None else Path(path)
        if not isinstance(obj, dict):
            raise InputError(p, "top level must be a JSON object")
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(p, "a string holds a lone UTF-16 surrogate (a \\udXXX escape without its pair)") from None
        except (TypeError, ValueError, RecursionError):
            pass  # other problems are named by the checks below
        if obj.get("format") != FORMAT:
            raise InputError(p, f"'format' must be {FORMAT!r}, found {obj.get('format')!r}")
        unknown = set(obj) - {"format", "sequence", "scene", "instances"}
        if unknown:
            raise InputError(p, f"unknown top-level key(s): {', '.join(sorted(unknown))}")
        seq = obj.get("sequence")
        if not isinstance(seq, str) or not seq:
            raise InputError(p, "'sequence' must be a non-empty string")
        check_name(seq, p, what="sequence name ('sequence')")
        if "scene" not in obj:
            raise InputError(p, "missing 'scene'")
        scene = _description(obj["scene"], "scene", p)
        raw = obj.get("instances", {})
        if not isinstance(raw, dict):
            raise InputError(p, "'instances' must be an object keyed by track id")
        instances: dict[int, Description] = {}
        for key, val in raw.items():
            try:
                tid = int(key)
            except ValueError:
                raise InputError(p, f"instance key {key!r} is not an integer track id") from None
            if str(tid) != key.strip():
                raise InputError(p, f"instance key {key!r} is not an integer track id")
            if tid in instances:
                raise InputError(p, f"track id {tid} appears twice in 'instances'")
            instances[tid] = _description(val, f"instances[{key}]", p)
        return cls(sequence=seq, scene=scene, instances=instances)

    # --- files ----------------------------------------------------------------------------------
    def write(self, path: str | Path) -> Path:
        """Write atomically. ``path`` may be the JSON file or the sequence folder."""
        path = Path(path)
        if path.is_dir():
            path = path / FILENAME
        # Validate what we write so a file we produce always reads back.
        SequenceAnnotations.from_json(json.loads(json.dumps(self.to_json())), path)
        atomic_write_text(path, json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def read(cls, path: str | Path) -> "SequenceAnnotations":
        """Read a ``language.json`` (or a sequence folder holding one)."""
        path = Path(path)
        if path.is_dir():
            path = path / FILENAME
        text = read_user_text(path, "language annotations")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(path, f"not valid JSON ({e.msg})", e.lineno) from None
        except RecursionError:
            raise InputError(path, "not valid JSON (nested too deeply)") from None
        return cls.from_json(obj, path)


def annotation_path(seq_root: str | Path) -> Path:
    return Path(seq_root) / FILENAME


# --- sentences ----------------------------------------------------------------------------------

def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _garment(color: str | None, pattern: str | None, garment: str, plural: bool) -> str:
    words = [w for w in (color, None if pattern in (None, "", "plain") else pattern, garment) if w]
    phrase = " ".join(words)
    return phrase if plural else _article(phrase)


_PLURAL_GARMENTS = {"trousers", "pants", "shorts", "jeans", "leggings", "shoes", "boots"}


def sentence_from_attributes(attrs: Mapping[str, Any]) -> str:
    """An instance sentence from attributes; every key is optional.

    Keys: ``category`` (default "person"), ``gender`` ("male"/"female"), ``hair_color``,
    ``upper_color``, ``upper_pattern`` ("striped", ...; "plain" is not said), ``upper_garment``
    (default "top"), ``lower_color``, ``lower_pattern``, ``lower_garment`` (default "trousers"),
    ``carrying`` (e.g. "a bag"), ``action`` (e.g. "walking left").

    >>> sentence_from_attributes({"upper_color": "red", "lower_color": "dark blue", "action": "walking left"})
    'A person in a red top and dark blue trousers walking left.'
    """
    subject = str(attrs.get("category") or "person")
    if attrs.get("gender"):
        subject = f"{attrs['gender']} {subject}"
    out = _article(subject)
    out = out[0].upper() + out[1:]
    if attrs.get("hair_color"):
        out += f" with {attrs['hair_color']} hair"
    clothes = []
    if attrs.get("upper_color") or attrs.get("upper_garment"):
        clothes.append(_garment(attrs.get("upper_color"), attrs.get("upper_pattern"),
                                str(attrs.get("upper_garment") or "top"), False))
    if attrs.get("lower_color") or attrs.get("lower_garment"):
        g = str(attrs.get("lower_garment") or "trousers")
        clothes.append(_garment(attrs.get("lower_color"), attrs.get("lower_pattern"), g, g in _PLURAL_GARMENTS))
    if clothes:
        out += " in " + " and ".join(clothes)
    if attrs.get("carrying"):
        out += f" carrying {attrs['carrying']}"
    if attrs.get("action"):
        out += f" {attrs['action']}"
    return out + "."


_CAMERA = {"static": "a static camera", "pan": "a panning camera", "panning": "a panning camera",
           "shake": "a shaking camera", "shaking": "a shaking camera", "moving": "a moving camera"}
_TIME = {"day": "during the day", "dusk": "at dusk", "night": "at night", "dawn": "at dawn"}


def scene_sentence(attrs: Mapping[str, Any]) -> str:
    """A scene sentence from attributes; every key is optional.

    Keys: ``camera`` (static/pan/shake/moving), ``viewpoint`` (low/medium/high), ``time``
    (day/dusk/night), ``weather`` (e.g. "sunny"), ``location`` (e.g. "street", "indoor"),
    ``blur`` (bool), ``crowd`` (sparse/moderate/crowded), ``background`` (plain/textured).

    >>> scene_sentence({"camera": "pan", "viewpoint": "high", "time": "dusk"})
    'A scene captured by a panning camera from a high viewpoint at dusk.'
    """
    out = "A scene"
    if attrs.get("location"):
        loc = str(attrs["location"])
        out += " indoors" if loc == "indoor" else " outdoors" if loc == "outdoor" else f" in {_article(loc)}"
    cam = attrs.get("camera")
    if cam:
        out += f" captured by {_CAMERA.get(str(cam), _article(str(cam) + ' camera'))}"
    elif attrs.get("viewpoint"):
        out += " captured"
    if attrs.get("viewpoint"):
        out += f" from {_article(str(attrs['viewpoint']) + ' viewpoint')}"
    t = attrs.get("time")
    weather = attrs.get("weather")
    if weather and (t in (None, "day")):
        out += f" on {_article(str(weather) + ' day')}"
    else:
        if t:
            out += f" {_TIME.get(str(t), 'at ' + str(t))}"
        if weather:
            out += f" in {weather} weather"
    extras = []
    if attrs.get("blur"):
        extras.append("with motion blur")
    crowd = attrs.get("crowd")
    if crowd == "crowded":
        extras.append("in a crowded place")
    elif crowd == "sparse":
        extras.append("with few people")
    if attrs.get("background") == "textured":
        extras.append("against a textured background")
    if extras:
        out += ", " + ", ".join(extras)
    return out + "."
