"""SUSHI's time-aware hierarchical MPN with LG-MOT's language losses, and its checkpoints.

The names below are imported on first use (PEP 562): the torch network, its losses and the
checkpoint loader import torch (and the MPN torch_geometric), which tracking does not need
(:mod:`lgmot.model.infer` runs the trained network in numpy)."""
from __future__ import annotations

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
_WHERE = {name: mod for mod, names in _MODULES.items() for name in names}


def __getattr__(name: str):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
