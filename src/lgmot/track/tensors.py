"""Graph arrays -> the MPN's tensors (symmetric edges: u->v first, then v->u)."""
from __future__ import annotations

import numpy as np
import torch


def graph_tensors(tracklets, graph) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x (N,D), edge_index (2,2E), edge_attr (2E,F), has_app (N,)) for one level's graph."""
    e = torch.as_tensor(np.asarray(graph.edges, dtype=np.int64))
    edge_index = torch.cat([e.T, e.T.flip(0)], dim=1)
    f = torch.as_tensor(np.asarray(graph.features, dtype=np.float32))
    edge_attr = torch.cat([f, f], dim=0)
    x = torch.as_tensor(np.asarray(tracklets.app, dtype=np.float32))
    has_app = torch.as_tensor(np.asarray(tracklets.has_app, dtype=bool))
    return x, edge_index, edge_attr, has_app
