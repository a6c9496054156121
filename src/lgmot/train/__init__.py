"""Training: clips from MOT sequences, hierarchical focal + language losses, resumable runs."""
from .dataset import Clip, TrainSequence, make_clips
from .loop import TrainResult, clip_loss, train

__all__ = ["TrainSequence", "Clip", "make_clips", "train", "clip_loss", "TrainResult"]
