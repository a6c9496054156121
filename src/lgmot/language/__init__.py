"""Language descriptions of sequences (scene level) and tracks (instance level)."""
from .annotations import (
    FILENAME,
    FORMAT,
    PROVENANCES,
    Description,
    SequenceAnnotations,
    annotation_path,
    scene_sentence,
    sentence_from_attributes,
)

__all__ = ["FILENAME", "FORMAT", "PROVENANCES", "Description", "SequenceAnnotations", "annotation_path",
           "scene_sentence", "sentence_from_attributes"]

# Training targets and text encoders import torch: loaded on first use.
_LAZY = {
    "find_annotations": "targets", "scene_target": "targets", "instance_targets": "targets",
    "shipped_annotation_path": "targets",
    "TextEncoder": "text", "load_text_encoder": "text", "reduce_instance": "text",
    "instance_projection": "text", "INSTANCE_DIM": "text",
    "annotate_sequence": "annotate", "AnnotateOptions": "annotate",
    "read_released": "released",
}
__all__ += sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
