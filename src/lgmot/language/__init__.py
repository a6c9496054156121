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
