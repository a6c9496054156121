"""SUSHI's time-aware hierarchical MPN with LG-MOT's language losses, and its checkpoints."""
from .checkpoint import CheckpointError, load_model, read_metadata, save_model
from .losses import (LossTerms, class_balance_weight, directed_labels, focal_loss, instance_targets, isg_loss, kl_softmax, level_loss,
                     pool16, spg_loss, total_loss)
from .mlp import MLP
from .mpn import MPN, HierarchicalMPN, MPNOutput, TimeAwareNodeUpdate, edge_feature_dim, graph_tensors, node_desc_tensor

__all__ = [
    "MLP", "MPN", "HierarchicalMPN", "MPNOutput", "TimeAwareNodeUpdate", "edge_feature_dim", "graph_tensors", "node_desc_tensor",
    "class_balance_weight", "focal_loss", "kl_softmax", "isg_loss", "spg_loss", "pool16", "instance_targets", "directed_labels",
    "LossTerms", "level_loss", "total_loss",
    "CheckpointError", "save_model", "load_model", "read_metadata",
]
