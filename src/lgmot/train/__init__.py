"""Training: clips from MOT sequences, hierarchical focal + language losses, resumable runs.

The names below are imported on first use (PEP 562), as in :mod:`lgmot.model`: the training loop
imports torch, which tracking (reading ``train.recipes``) does not need."""
from __future__ import annotations

from ..lazy import lazy_exports

__all__ = ["TrainSequence", "Clip", "make_clips", "train", "clip_loss", "TrainResult"]

_MODULES = {"dataset": ("Clip", "TrainSequence", "make_clips"), "loop": ("TrainResult", "clip_loss", "train")}
__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
