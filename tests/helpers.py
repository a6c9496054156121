"""Shared test fixtures-as-functions: a tiny training config and a weight-free text encoder."""
from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np
import torch

from lgmot.config import Config, TrackerConfig, preset


def tiny_config(num_steps: int = 4, num_class_steps: int = 3, **train) -> Config:
    """3 levels (2, 4, 8) on 8-frame clips, a 16-d node input and a few MP steps: trains in seconds."""
    lv = (2, 4, 8)
    base = preset("lgmot")
    return replace(
        base, name="tiny",
        tracker=TrackerConfig(frames_per_graph=8, frames_per_level=lv, pruning=("geometry", "motion_005", "motion_005"),
                              motion_max_length=lv[:2], motion_pred_length=lv[:2], use_motion=(False, True, True)),
        model=replace(base.model, node_in_dim=16, depth=3, num_steps=num_steps, num_class_steps=num_class_steps),
        train=replace(base.train, epochs=2, batch_size=2, depth_pretrain_iteration=3, train_frame_overlap=4, **train))


class HashTextEncoder:
    """A deterministic stand-in for MiniLM (384-d, L2-normalised): no weights needed."""

    name, dim = "hash", 384

    def encode(self, texts):
        rows = [np.random.default_rng(zlib.crc32(t.encode())).standard_normal(self.dim) for t in texts]
        x = torch.as_tensor(np.stack(rows), dtype=torch.float32)
        return x / x.norm(dim=1, keepdim=True)
