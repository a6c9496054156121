"""Training targets from a sequence's language annotations (B.2, B.3).

- :func:`find_annotations`: ``<seq.root>/language.json`` first, then the file shipped with lgmot,
  ``lgmot/assets/language/<seq.name>.json``; None when neither exists.
- :func:`scene_target`: the scene sentence's embedding, (D,) float32 at the encoder's dimension (the
  loss pools it to 16).
- :func:`instance_targets`: ``{gt track id: (128,) float32}``, each track's sentence embedded and
  reduced with the fixed projection of :mod:`lgmot.language.text`.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from .annotations import FILENAME, SequenceAnnotations
from .text import TextEncoder, reduce_instance



def asset_dir() -> Path:
    """Where lgmot's shipped annotation files live (``lgmot/assets/language``)."""
    return Path(str(resources.files("lgmot"))) / "assets" / "language"


def shipped_annotation_path(name: str) -> Path | None:
    """The shipped ``<name>.json``, or None."""
    from ..errors import named_path

    p = named_path(asset_dir(), name, ".json")
    return p if p.is_file() else None


def shipped_sequences() -> list[str]:
    d = asset_dir()
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".json")) if d.is_dir() else []


def find_annotations(seq) -> SequenceAnnotations | None:
    """The sequence's own ``language.json``, else lgmot's shipped file for its name, else None."""
    root = getattr(seq, "root", None)
    if root is not None and (Path(root) / FILENAME).is_file():
        return SequenceAnnotations.read(Path(root) / FILENAME)
    shipped = shipped_annotation_path(seq.name)
    return None if shipped is None else SequenceAnnotations.read(shipped)


def scene_target(ann: SequenceAnnotations, enc: TextEncoder) -> np.ndarray:
    return enc.encode([ann.scene.text])[0].detach().cpu().numpy().astype(np.float32)


def instance_targets(ann: SequenceAnnotations, enc: TextEncoder) -> dict[int, np.ndarray]:
    ids = sorted(ann.instances)
    if not ids:
        return {}
    emb = enc.encode([ann.instances[i].text for i in ids])
    red = reduce_instance(emb)
    return {int(i): red[k] for k, i in enumerate(ids)}
