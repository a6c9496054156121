"""SPG's steps and levels (``train.spg_steps`` / ``train.spg_levels``): which KL terms enter the loss."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from helpers import tiny_config
from lgmot.config import Config
from lgmot.errors import InputError
from lgmot.model import HierarchicalMPN, spg_loss
from lgmot.train.loop import clip_loss
from test_train_augment import clip as augment_clip


def scene_clip():
    c = augment_clip(n_frames=8, n_ids=6)
    rng = np.random.default_rng(5)
    c.seq.app = rng.standard_normal((len(c.seq.dets), 16)).astype(np.float32)
    s = rng.standard_normal(384).astype(np.float32)
    c.seq.scene_emb = s / np.linalg.norm(s)
    return c


def run(cfg, depth, c):
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    seen = []
    level0 = model.level0.forward

    def spy(*a, **k):
        out = level0(*a, **k)
        seen.append(out)
        return out

    model.level0.forward = spy
    return clip_loss(model, c, cfg, depth), seen


def test_spg_steps_last_is_the_last_classified_step_only():
    c = scene_clip()
    base = tiny_config(isg_weight=0.0, spg_weight=1.0)
    every, outs = run(base, 1, c)
    scene = torch.as_tensor(c.seq.scene_emb)
    assert len(outs[0].edge_embs) == base.model.num_class_steps == 3
    want_all = sum(float(spg_loss(e.detach(), scene)) for e in outs[0].edge_embs)
    assert every.spg == pytest.approx(want_all, rel=1e-5)
    last, outs = run(replace(base, train=replace(base.train, spg_steps="last")), 1, c)
    assert last.spg == pytest.approx(float(spg_loss(outs[0].edge_embs[-1].detach(), scene)), rel=1e-5)
    assert 0 < last.spg < every.spg


def test_spg_levels_leaves_the_upper_levels_out():
    c = scene_clip()
    base = tiny_config(isg_weight=0.0, spg_weight=1.0)
    one, _ = run(base, 1, c)
    two, _ = run(base, 2, c)
    first, _ = run(replace(base, train=replace(base.train, spg_levels=1)), 2, c)
    assert two.spg > one.spg  # level 1 adds its own terms
    assert first.spg == pytest.approx(one.spg, rel=1e-6)  # level 0's terms only


def test_spg_options_are_validated(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("train:\n  spg_steps: some\n")
    with pytest.raises(InputError, match="spg_steps"):
        Config.load(p)
    p.write_text("train:\n  spg_steps: last\n  spg_levels: 1\n")
    cfg = Config.load(p)
    assert (cfg.train.spg_steps, cfg.train.spg_levels) == ("last", 1)
    assert Config().train.spg_steps == "all" and Config().train.spg_levels == 0  # the lgmot preset: B.4 literally
