"""Focal, ISG and SPG losses on hand-computed tensors."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lgmot.model import (MPNOutput, directed_labels, focal_loss, instance_targets, isg_loss, level_loss, pool16,
                         spg_loss, total_loss)


def sig(z):
    return 1 / (1 + math.exp(-z))


def test_focal_gamma0_is_bce():
    logits = torch.tensor([-3.0, -0.5, 0.0, 1.2, 4.0])
    labels = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    torch.testing.assert_close(focal_loss(logits, labels, gamma=0.0),
                               F.binary_cross_entropy_with_logits(logits, labels))


def test_focal_closed_form_two_elements():
    # logit 0, label 1: p_t = 1/2, BCE = ln 2 -> (1/2) ln 2
    # logit 2, label 0: p_t = sigmoid(-2), BCE = ln(1 + e^2) -> sigmoid(2) ln(1 + e^2)
    logits, labels = torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.0])
    a = 0.5 * math.log(2)
    b = sig(2) * math.log(1 + math.e ** 2)
    assert focal_loss(logits, labels).item() == pytest.approx((a + b) / 2, rel=1e-6)
    # gamma 2 and alpha 0.25
    a2 = 0.25 * 0.5 ** 2 * math.log(2)
    b2 = 0.25 * sig(2) ** 2 * math.log(1 + math.e ** 2)
    assert focal_loss(logits, labels, gamma=2.0, alpha=0.25).item() == pytest.approx((a2 + b2) / 2, rel=1e-6)


def test_focal_positive_weight_and_mask():
    logits, labels = torch.tensor([0.0, 2.0, -1.0]), torch.tensor([1.0, 0.0, 1.0])
    a = 0.5 * math.log(2)  # logit 0, label 1
    b = sig(2) * math.log(1 + math.e ** 2)  # logit 2, label 0
    c = sig(1) * math.log(1 + math.e)  # logit -1, label 1: p_t = sigmoid(-1), 1 - p_t = sigmoid(1)
    assert focal_loss(logits, labels, pos_weight=3.0).item() == pytest.approx((3 * a + b + 3 * c) / 3, rel=1e-6)
    mask = torch.tensor([True, False, True])
    assert focal_loss(logits, labels, mask=mask).item() == pytest.approx((a + c) / 2, rel=1e-6)
    assert focal_loss(logits, labels, mask=torch.zeros(3, dtype=torch.bool)).item() == 0.0


def test_class_balance_weight_closed_form():
    from lgmot.model import class_balance_weight

    y = [1, 0, 0, 0, 0, 0, 0, 0, 0]  # 8 negatives per positive
    assert class_balance_weight(y, 0.0) == 1.0
    assert class_balance_weight(y, 1.0) == pytest.approx(8.0)
    assert class_balance_weight(y, 0.5) == pytest.approx(math.sqrt(8.0))
    assert class_balance_weight([1, 1, 1, 0], 0.5) == 1.0  # positives in the majority: not down-weighted
    assert class_balance_weight([0, 0], 1.0) == 1.0 and class_balance_weight([1], 1.0) == 1.0


def test_focal_stable_for_extreme_logits():
    logits = torch.tensor([100.0, -100.0, 100.0], requires_grad=True)
    labels = torch.tensor([1.0, 0.0, 0.0])
    loss = focal_loss(logits, labels)
    assert loss.item() == pytest.approx(100.0 / 3, rel=1e-5)  # the wrong one: (1 - ~0) * 100
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert focal_loss(torch.zeros(0), torch.zeros(0)).item() == 0.0
    with pytest.raises(ValueError):
        focal_loss(torch.zeros(3), torch.zeros(4))


def test_isg_equal_distributions_zero():
    t = torch.randn(6, 128)
    assert isg_loss(t, t).item() == pytest.approx(0.0, abs=1e-6)
    assert isg_loss(t + 3.0, t).item() == pytest.approx(0.0, abs=1e-6)  # softmax is shift-invariant


def test_isg_closed_form_and_mask():
    # row 0: q = [1/2, 1/2], p = [1/4, 3/4] -> KL = 1/2 ln(4/3); row 1: identical -> 0
    text = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    mid = torch.tensor([[0.0, math.log(3)], [1.0, 2.0]], requires_grad=True)
    kl0 = 0.5 * math.log(4 / 3)
    assert isg_loss(mid, text).item() == pytest.approx(kl0 / 2, rel=1e-6)  # batch mean over 2 nodes
    assert isg_loss(mid, text, torch.tensor([True, False])).item() == pytest.approx(kl0, rel=1e-6)
    empty = isg_loss(mid, text, torch.tensor([False, False]))
    assert empty.item() == 0.0
    empty.backward()  # still part of the graph
    # direction: KL(q || p); the reverse KL(p || q) has a different value
    rev = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert abs(rev - kl0) > 1e-3


def test_pool16_block_means():
    v = torch.arange(512, dtype=torch.float32)
    torch.testing.assert_close(pool16(v), 15.5 + 32 * torch.arange(16, dtype=torch.float32))
    r = torch.randn(3, 512)
    torch.testing.assert_close(pool16(r), r.reshape(3, 16, 32).mean(-1))
    s = torch.randn(16)
    torch.testing.assert_close(pool16(s), s)


def test_spg_closed_form():
    # target: 512-d constant blocks pooled to 16 zeros -> q uniform 1/16
    # edge emb [ln 3, 0, ..., 0] -> p_0 = 3/18, p_k = 1/18
    scene = torch.zeros(512)
    emb = torch.zeros(4, 16)
    emb[:, 0] = math.log(3)
    q = 1 / 16
    kl = q * math.log(q / (1 / 6)) + 15 * q * math.log(q / (1 / 18))
    assert spg_loss(emb, scene).item() == pytest.approx(kl, rel=1e-6)
    # equal distributions -> 0; per-edge targets with one edge matching and one not
    blocks = torch.randn(16)
    scene2 = blocks.repeat_interleave(32)
    assert spg_loss(blocks.expand(5, 16).clone(), scene2).item() == pytest.approx(0.0, abs=1e-6)
    per_edge = torch.stack([torch.zeros(512), scene2])
    two = torch.stack([emb[0], blocks])
    assert spg_loss(two, per_edge).item() == pytest.approx(kl / 2, rel=1e-5)


def test_instance_targets_modes():
    table = torch.arange(12, dtype=torch.float32).reshape(4, 3)  # ids 0..3
    present = torch.tensor([True, True, False, True])
    gid = torch.tensor([2, -1, 1, 7, 3])
    t, m = instance_targets(gid, table, "fixed", present=present)
    assert m.tolist() == [False, False, True, False, True]
    torch.testing.assert_close(t[2], table[1])
    torch.testing.assert_close(t[4], table[3])
    assert t[[0, 1, 3]].abs().sum() == 0
    _, m2 = instance_targets(gid, table, "fixed", has_app=torch.tensor([True, True, True, True, False]))
    assert m2.tolist() == [True, False, True, False, False]
    tf, mf = instance_targets(torch.tensor([2, -1]), table, "faithful")
    assert mf.all() and torch.equal(tf[1], table[0]) and torch.equal(tf[0], table[2])
    with pytest.raises(ValueError):
        instance_targets(gid, table, "faithful")  # id 7 has no row
    with pytest.raises(ValueError):
        instance_targets(gid, table, "other")


def test_directed_labels():
    y = torch.tensor([1.0, 0.0])
    assert directed_labels(y, 4).tolist() == [1.0, 0.0, 1.0, 0.0]
    assert directed_labels(torch.ones(4), 4).tolist() == [1.0] * 4
    with pytest.raises(ValueError):
        directed_labels(y, 5)


def _fake_output(steps=3, edges=4, nodes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return MPNOutput(logits=[torch.randn(2 * edges, generator=g) for _ in range(steps)],
                     edge_embs=[torch.randn(2 * edges, 16, generator=g) for _ in range(steps)],
                     node_mid=torch.randn(nodes, 128, generator=g))


def test_total_loss_sums_terms_as_b4():
    outs = [_fake_output(seed=0), _fake_output(seed=1)]
    labels = [torch.tensor([1.0, 0, 0, 1]), torch.tensor([0.0, 1, 1, 0])]
    scene = torch.randn(512)
    inst = torch.randn(3, 128)
    terms = total_loss(outs, labels, scene_text=scene, inst_text=[inst, None], spg_weight=2.0, isg_weight=0.5)
    focal = sum(focal_loss(lg, torch.cat([y, y])) for o, y in zip(outs, labels) for lg in o.logits)
    spg = sum(spg_loss(e, scene) for o in outs for e in o.edge_embs)
    isg = isg_loss(outs[0].node_mid, inst)  # once, level 0 only
    torch.testing.assert_close(terms.focal, focal)
    torch.testing.assert_close(terms.spg, spg)
    torch.testing.assert_close(terms.isg, isg)
    torch.testing.assert_close(terms.total, focal + 2.0 * spg + 0.5 * isg)
    # no language: focal only; zero weights skip the KL terms
    plain = total_loss(outs, labels)
    torch.testing.assert_close(plain.total, focal)
    off = level_loss(outs[0], labels[0], scene_text=scene, inst_text=inst, spg_weight=0.0, isg_weight=0.0)
    assert off.spg.item() == 0.0 and off.isg.item() == 0.0
    with pytest.raises(ValueError):
        total_loss(outs, labels[:1])
