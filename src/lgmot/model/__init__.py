"""SUSHI's time-aware hierarchical MPN with LG-MOT's language losses, and its checkpoints.

The names below are imported on first use (PEP 562): the torch network, its losses and the
checkpoint loader import torch (and the MPN torch_geometric), which tracking does not need
(:mod:`lgmot.model.infer` runs the trained network in numpy)."""
from __future__ import annotations

from ..lazy import lazy_exports

__all__ = [
    "MLP", "MPN", "HierarchicalMPN", "MPNOutput", "TimeAwareNodeUpdate", "edge_feature_dim", "graph_tensors", "node_desc_tensor",
    "class_balance_weight", "focal_loss", "kl_softmax", "isg_loss", "spg_loss", "pool16", "instance_targets", "directed_labels",
    "LossTerms", "level_loss", "total_loss",
    "CheckpointError", "save_model", "load_model", "read_metadata",
    "InferenceModel", "load_inference_model",
]

_MODULES = {
    "mlp": ("MLP",),
    "mpn": ("MPN", "HierarchicalMPN", "MPNOutput", "TimeAwareNodeUpdate", "edge_feature_dim", "graph_tensors",
            "node_desc_tensor"),
    "losses": ("class_balance_weight", "focal_loss", "kl_softmax", "isg_loss", "spg_loss", "pool16", "instance_targets",
               "directed_labels", "LossTerms", "level_loss", "total_loss"),
    "checkpoint": ("CheckpointError", "save_model", "load_model", "read_metadata"),
    "infer": ("InferenceModel", "load_inference_model"),
}
__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
