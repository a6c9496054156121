"""The MPN's inference form (no autograd: split first Linears, no padding) equals the literal one."""
from __future__ import annotations

import pytest
import torch

from lgmot.config import ModelConfig
from lgmot.model import HierarchicalMPN
from lgmot.model.mpn import edge_feature_dim

CFG = ModelConfig(node_in_dim=24)


def graph(n: int, e: int, level: int, seed: int, shuffle: bool):
    g = torch.Generator().manual_seed(seed)
    u = torch.randint(0, n - 1, (e,), generator=g)
    v = u + 1 + torch.randint(0, n, (e,), generator=g) % (n - 1 - u)
    ei = torch.cat([torch.stack([u, v]), torch.stack([v, u])], dim=1)
    attr = torch.randn(e, edge_feature_dim(level, CFG), generator=g, dtype=torch.float64)
    attr = torch.cat([attr, attr])
    if shuffle:  # not future-first: exercises the reordering
        perm = torch.randperm(2 * e, generator=g)
        ei, attr = ei[:, perm], attr[perm]
    x = torch.randn(n, CFG.node_in_dim, generator=g, dtype=torch.float64)
    has = torch.rand(n, generator=g) > 0.3
    return x, ei, attr, has


@pytest.mark.parametrize("level,shuffle,app", [(0, False, "some"), (1, True, "some"), (2, False, "none"),
                                               (3, True, "all")])
def test_inference_matches_training_form(level, shuffle, app):
    torch.manual_seed(0)
    model = HierarchicalMPN(CFG).double().eval()
    x, ei, attr, has = graph(40, 120, level, seed=level, shuffle=shuffle)
    has = {"some": has, "none": torch.zeros_like(has), "all": torch.ones_like(has)}[app]
    ref = model(level, x, ei, attr, has)  # grad enabled: the literal form
    with torch.inference_mode():
        fast = model(level, x, ei, attr, has)
    for a, b in zip(ref.logits + ref.edge_embs + [ref.node_mid], fast.logits + fast.edge_embs + [fast.node_mid]):
        torch.testing.assert_close(b, a.detach(), atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("grad", [True, False])
def test_last_only_equals_last_step(grad):
    """``last_only`` skips the final node update and earlier classifiers; the last step is unchanged."""
    torch.manual_seed(1)
    model = HierarchicalMPN(CFG).double().eval()
    x, ei, attr, has = graph(30, 90, 1, seed=7, shuffle=True)
    with torch.set_grad_enabled(grad):
        full = model(1, x, ei, attr, has)
        last = model(1, x, ei, attr, has, last_only=True)
    assert len(last.logits) == len(last.edge_embs) == 1 and len(full.logits) == CFG.num_class_steps
    torch.testing.assert_close(last.logits[0], full.logits[-1], atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(last.edge_embs[0], full.edge_embs[-1], atol=1e-12, rtol=1e-12)
