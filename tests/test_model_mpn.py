"""Time-aware MPN: shapes, weight sharing, time-awareness and the update order, checked against a
dense loop reference that uses the module's own weights."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from lgmot.config import ModelConfig
from lgmot.model import MLP, MPN, HierarchicalMPN, edge_feature_dim, graph_tensors

D = 12  # small appearance dim keeps the tests fast
CFG = ModelConfig(node_in_dim=D)
EDGES = [(0, 1), (0, 2), (1, 3), (2, 3), (1, 4), (3, 4), (0, 4)]  # u < v: u earlier


def sym(edges):
    e = torch.tensor(edges, dtype=torch.long).t()
    return torch.cat([e, e.flip(0)], dim=1)


def make_inputs(level, cfg=CFG, n=5, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, cfg.node_in_dim, generator=g, dtype=dtype)
    attr = torch.randn(len(EDGES), edge_feature_dim(level, cfg), generator=g, dtype=dtype)
    return x, sym(EDGES), attr


# --- dense reference --------------------------------------------------------------------------
def reference_forward(mpn: MPN, x, edges, attr, level):
    """Python loops over nodes and directed edges; only the module's Linear layers are reused."""
    directed = [(u, v) for u, v in edges] + [(v, u) for u, v in edges]
    attr2 = torch.cat([attr, attr])
    mid = mpn.node_mlp1(x)
    h = mpn.node_mlp2(mid)
    e0 = mpn.edge_encoder(attr2) + mpn.level_embedding.weight[level]
    e = e0
    logits, embs = [], []
    cfg = mpn.cfg
    msg = cfg.node_msg_dims[-1]
    for step in range(cfg.num_steps):
        e = torch.stack([mpn.edge_update(torch.cat([h[s], h[d], e0[k], e[k]]))
                         for k, (s, d) in enumerate(directed)])
        new_h = []
        for i in range(x.shape[0]):
            agg_in = torch.zeros(msg, dtype=x.dtype)
            agg_out = torch.zeros(msg, dtype=x.dtype)
            for k, (s, d) in enumerate(directed):
                if s != i:
                    continue
                inp = torch.cat([h[d], e[k]])
                if d > i:
                    agg_out = agg_out + mpn.node_update.mlp_out(inp)
                else:
                    agg_in = agg_in + mpn.node_update.mlp_in(inp)
            new_h.append(torch.relu(mpn.node_update.combine[0](torch.cat([agg_in, agg_out]))))
        h = torch.stack(new_h)
        if step >= cfg.num_steps - cfg.num_class_steps:
            logits.append(mpn.classifier(e).squeeze(1))
            embs.append(e)
    return logits, embs, mid


@pytest.mark.parametrize("level", [0, 2])
def test_matches_dense_reference(level):
    cfg = replace(CFG, num_steps=3, num_class_steps=2)
    torch.manual_seed(1)
    model = HierarchicalMPN(cfg).double()
    x, ei, attr = make_inputs(level, cfg, dtype=torch.float64)
    out = model(level, x, ei, attr)
    with torch.no_grad():
        ref_logits, ref_embs, ref_mid = reference_forward(model.mpn(level), x, EDGES, attr, level)
    assert len(out.logits) == 2
    for a, b in zip(out.logits, ref_logits):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
    for a, b in zip(out.edge_embs, ref_embs):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(out.node_mid, ref_mid)


def test_shapes_and_classified_steps():
    model = HierarchicalMPN(CFG)
    x, ei, attr = make_inputs(1)
    out = model(1, x, ei, attr)
    assert len(out.logits) == len(out.edge_embs) == 11
    assert all(t.shape == (2 * len(EDGES),) for t in out.logits)
    assert all(t.shape == (2 * len(EDGES), 16) for t in out.edge_embs)
    assert out.node_mid.shape == (5, 128)
    out3 = HierarchicalMPN(replace(CFG, num_steps=4, num_class_steps=3))(1, x, ei, attr)
    assert len(out3.logits) == 3


def test_edge_attr_half_is_duplicated():
    model = HierarchicalMPN(CFG)
    x, ei, attr = make_inputs(0)
    a = model(0, x, ei, attr).logits[-1]
    b = model(0, x, ei, torch.cat([attr, attr])).logits[-1]
    torch.testing.assert_close(a, b)


def test_predict_probs_is_last_step_sigmoid():
    model = HierarchicalMPN(CFG)
    x, ei, attr = make_inputs(1)
    p = model.predict_probs(1, x, ei, attr)
    assert p.shape == (14,) and not p.requires_grad
    torch.testing.assert_close(p, torch.sigmoid(model(1, x, ei, attr).logits[-1]).detach())


def test_parameter_sharing():
    model = HierarchicalMPN(CFG)
    assert model.mpn(1) is model.mpn(2) is model.mpn(3)
    ids0 = {id(p) for p in model.mpn(0).parameters()}
    ids1 = [id(p) for p in model.mpn(1).parameters()]
    assert ids1 == [id(p) for p in model.mpn(3).parameters()]
    assert not ids0 & set(ids1)
    # level 0 takes 6 features (+1 indicator), levels >= 1 take 7 (+1)
    assert model.mpn(0).edge_encoder[0].in_features == 7
    assert model.mpn(2).edge_encoder[0].in_features == 8
    assert edge_feature_dim(0, replace(CFG, appearance_indicator=False)) == 6
    assert edge_feature_dim(3, replace(CFG, appearance_indicator=False)) == 7
    # directional motion adds 4 columns at levels >= 1 only
    assert edge_feature_dim(0, replace(CFG, directional_motion=True)) == 7
    assert edge_feature_dim(1, replace(CFG, directional_motion=True)) == 12
    # the level embedding is what tells shared levels apart
    x, ei, attr = make_inputs(1)
    assert not torch.allclose(model(1, x, ei, attr).logits[-1], model(2, x, ei, attr).logits[-1])
    with pytest.raises(ValueError):
        model.mpn(4)


def test_architecture_dims():
    mpn = MPN(CFG)
    assert [m.out_features for m in mpn.edge_encoder if isinstance(m, nn.Linear)] == [18, 18, 16]
    assert mpn.node_mlp1[0].in_features == D and mpn.node_mlp1[0].out_features == 128
    assert [m.out_features for m in mpn.node_mlp2 if isinstance(m, nn.Linear)] == [32]
    assert mpn.edge_update[0].in_features == 96
    assert [m.out_features for m in mpn.edge_update if isinstance(m, nn.Linear)] == [80, 16]
    for mlp in (mpn.node_update.mlp_in, mpn.node_update.mlp_out):
        assert mlp[0].in_features == 48 and [m.out_features for m in mlp if isinstance(m, nn.Linear)] == [56, 32]
    assert mpn.node_update.combine[0].in_features == 64 and mpn.node_update.combine[0].out_features == 32
    assert [m.out_features for m in mpn.classifier if isinstance(m, nn.Linear)] == [8, 1]
    assert mpn.level_embedding.weight.shape == (4, 16)
    assert not isinstance(mpn.classifier[-1], nn.ReLU) and isinstance(mpn.edge_encoder[-1], nn.ReLU)


def test_mlp_relu_placement():
    assert [type(m) for m in MLP([3, 4, 1])] == [nn.Linear, nn.ReLU, nn.Linear]
    assert [type(m) for m in MLP([3, 2])] == [nn.Linear, nn.ReLU]
    with pytest.raises(ValueError):
        MLP([3])


def _zero_last_linear(mlp):
    last = [m for m in mlp if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()


@pytest.mark.parametrize("silenced", ["mlp_out", "mlp_in"])
def test_time_aware_messages(silenced):
    """With MLP_out silenced only past (earlier-node) information reaches a node, and vice versa."""
    torch.manual_seed(0)
    upd = MPN(CFG).node_update
    _zero_last_linear(getattr(upd, silenced))
    edges = [(0, 1), (1, 2), (0, 2)]
    ei = sym(edges)
    h = torch.randn(3, 32)
    e = torch.randn(6, 16)
    base = upd(h, ei, e)
    probe = 0 if silenced == "mlp_out" else 2  # the node whose state we perturb
    h2 = h.clone()
    h2[probe] += 5.0
    changed = (upd(h2, ei, e) - base).abs().sum(1) > 1e-6
    if silenced == "mlp_out":  # node 0 is in the past of 1 and 2
        assert changed.tolist() == [False, True, True]
    else:  # node 2 is in the future of 0 and 1
        assert changed.tolist() == [True, True, False]
    # a node with no neighbours in the open direction gets ReLU(bias) of the combine layer
    lone = 0 if silenced == "mlp_out" else 2
    torch.testing.assert_close(base[lone], torch.relu(upd.combine[0].bias))


def test_edge_update_uses_pre_update_node_states():
    cfg = replace(CFG, num_steps=2, num_class_steps=2)
    torch.manual_seed(3)
    model = HierarchicalMPN(cfg)
    mpn = model.mpn(1)
    x, ei, attr = make_inputs(1, cfg)
    out = model(1, x, ei, attr)
    with torch.no_grad():
        _, h0 = mpn.encode_nodes(x)
        e0 = mpn.encode_edges(torch.cat([attr, attr]), 1)
        src, dst = ei
        e1 = mpn.edge_update(torch.cat([h0[src], h0[dst], e0, e0], 1))
        h1 = mpn.node_update(h0, ei, e1)
        e2 = mpn.edge_update(torch.cat([h1[src], h1[dst], e0, e1], 1))
        e2_wrong = mpn.edge_update(torch.cat([mpn.node_update(h1, ei, e1)[src],
                                              mpn.node_update(h1, ei, e1)[dst], e0, e1], 1))
    torch.testing.assert_close(out.edge_embs[0], e1)
    torch.testing.assert_close(out.edge_embs[1], e2)
    assert not torch.allclose(out.edge_embs[1], e2_wrong)
    torch.testing.assert_close(out.logits[0], mpn.classifier(e1).squeeze(1))


def test_zero_nodes_makes_node_mid_constant():
    model = HierarchicalMPN(replace(CFG, zero_nodes=True))
    x, ei, attr = make_inputs(0)
    out = model(0, x, ei, attr, torch.tensor([True, False, True, True, False]))
    mid = out.node_mid
    assert torch.equal(mid, mid[:1].expand_as(mid))
    torch.testing.assert_close(mid[0], torch.relu(model.mpn(0).node_mlp1[0].bias))


def test_missing_appearance_uses_learned_vector_and_ignores_garbage():
    torch.manual_seed(0)
    model = HierarchicalMPN(CFG)
    mpn = model.mpn(1)
    with torch.no_grad():
        mpn.missing_mid.copy_(torch.randn(128))
    x, ei, attr = make_inputs(1)
    has = torch.tensor([True, False, True, True, False])
    x[~has] = float("nan")
    out = model(1, x, ei, attr, has)
    assert torch.equal(out.node_mid[1], mpn.missing_mid.detach()) and torch.equal(out.node_mid[4], out.node_mid[1])
    torch.testing.assert_close(out.node_mid[0], mpn.node_mlp1(x[:1])[0])
    out.logits[-1].sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in mpn.parameters() if p.grad is not None)
    assert mpn.missing_mid.grad.abs().sum() > 0


def test_input_validation():
    model = HierarchicalMPN(CFG)
    x, ei, attr = make_inputs(1)
    with pytest.raises(ValueError, match="columns"):
        model(0, x, ei, attr)  # level 0 wants 7 columns, got 8
    with pytest.raises(ValueError, match="level"):
        model(4, x, ei, attr)
    with pytest.raises(ValueError, match="rows"):
        model(1, x, ei, attr[:3])
    with pytest.raises(ValueError, match="x must be"):
        model(1, x[:, :5], ei, attr)
    with pytest.raises(ValueError, match="edge_update_dims"):
        MPN(replace(CFG, edge_update_dims=(80, 12)))


def test_empty_graph():
    model = HierarchicalMPN(CFG)
    out = model(0, torch.randn(3, D), torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, 7))
    assert len(out.logits) == 11 and out.logits[-1].shape == (0,) and out.node_mid.shape == (3, 128)


def test_graph_tensors():
    t = SimpleNamespace(app=np.arange(6, dtype=np.float32).reshape(3, 2), has_app=np.array([True, False, True]))
    g = SimpleNamespace(edges=np.array([[0, 1], [1, 2]]), features=np.array([[1.0], [2.0]]))
    x, ei, attr, has = graph_tensors(t, g)
    assert x.dtype == torch.float32 and x.shape == (3, 2)
    assert ei.tolist() == [[0, 1, 1, 2], [1, 2, 0, 1]]
    assert attr.squeeze(1).tolist() == [1.0, 2.0, 1.0, 2.0]
    assert has.tolist() == [True, False, True]


def test_gradient_reaches_every_parameter():
    from lgmot.model import total_loss

    torch.manual_seed(0)
    model = HierarchicalMPN(CFG)
    x, ei, attr = make_inputs(1)
    has = torch.tensor([True, False, True, True, True])
    out = model(1, x, ei, attr, has)
    labels = torch.tensor([1.0, 0, 1, 0, 0, 1, 0])
    loss = total_loss([out], [labels], scene_text=torch.randn(512), inst_text=[torch.randn(5, 128)]).total
    loss.backward()
    mpn = model.mpn(1)
    for name, p in mpn.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    emb_grad = mpn.level_embedding.weight.grad
    assert emb_grad[1].abs().sum() > 0 and emb_grad[[0, 2, 3]].abs().sum() == 0
    assert all(p.grad is None for p in model.mpn(0).parameters())


def test_any_column_order_gives_the_same_per_edge_outputs():
    """The canonical layout takes a fast path; a shuffled edge_index must give permuted outputs."""
    torch.manual_seed(5)
    model = HierarchicalMPN(replace(CFG, num_steps=3, num_class_steps=2)).double()
    x, ei, attr = make_inputs(1, model.cfg, dtype=torch.float64)
    attr2 = torch.cat([attr, attr])
    perm = torch.randperm(ei.size(1), generator=torch.Generator().manual_seed(1))
    a = model(1, x, ei, attr2)
    b = model(1, x, ei[:, perm], attr2[perm])
    for la, lb, ea, eb in zip(a.logits, b.logits, a.edge_embs, b.edge_embs):
        torch.testing.assert_close(la[perm], lb)
        torch.testing.assert_close(ea[perm], eb)
    upd = model.mpn(1).node_update
    h, e = torch.randn(5, 32, dtype=torch.float64), torch.randn(14, 16, dtype=torch.float64)
    torch.testing.assert_close(upd(h, ei, e), upd(h, ei[:, perm], e[perm]))


def test_node_descriptors_enters_the_mid_feature():
    cfg = replace(CFG, node_descriptors=True)
    torch.manual_seed(0)
    mpn = MPN(cfg, edge_feature_dim(1, cfg))
    x, ei, attr = make_inputs(1, cfg)
    geo = torch.randn(5, 5)
    out = mpn(x, ei, attr, 1, node_desc=geo)
    np.testing.assert_allclose(out.node_mid.detach(), (mpn.node_mlp1(x) + mpn.descriptor_mlp(geo)).detach(), rtol=1e-6)
    # other node descriptors change the edge scores; a missing one is an error, not a silent zero
    assert not torch.allclose(out.logits[0], mpn(x, ei, attr, 1, node_desc=geo + 1).logits[0])
    with pytest.raises(ValueError, match="node_desc"):
        mpn(x, ei, attr, 1)
