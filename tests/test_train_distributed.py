"""Data-parallel training with gloo: 2 CPU processes, identical weights, clips sharded between ranks.

13 clips over 2 ranks (an odd count: one rank would run one batch fewer unless the order is padded,
which used to leave the other rank waiting in all_reduce for a peer that had finished).
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from lgmot.model import HierarchicalMPN

from helpers import tiny_config



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world: int, port: int, roots: list[str], run_dir: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    from lgmot.data import load_sequence
    from lgmot.train import loop
    from lgmot.train.distributed import DistContext
    from lgmot.train.prepare import prepare_train_sequence

    cfg = tiny_config(num_steps=3, num_class_steps=2, isg_weight=0.0, spg_weight=0.0)
    seqs = [prepare_train_sequence(load_sequence(r), cfg, "gt", appearance=False) for r in roots]
    seen, models = [], []
    clip_loss, net = loop.clip_loss, loop.HierarchicalMPN

    upper: dict = {}

    def recording_clip_loss(model, clip, c, depth):
        seen.append([next(i for i, s in enumerate(seqs) if s is clip.seq), clip.start])
        state = {k: v.detach().clone() for k, v in model.state_dict().items() if k.startswith("upper.")}
        if "init" not in upper:
            upper["init"] = state
        if depth > 1 and "unchanged_until_used" not in upper:  # levels >= 1 idle during depth pre-training
            upper["unchanged_until_used"] = all(torch.equal(v, upper["init"][k]) for k, v in state.items())
        return clip_loss(model, clip, c, depth)

    def capturing_net(c):
        models.append(net(c))
        return models[-1]

    loop.clip_loss, loop.HierarchicalMPN = recording_clip_loss, capturing_net
    ctx = DistContext.from_env("gloo")
    assert (ctx.rank, ctx.world_size) == (rank, world)
    try:
        res = loop.train(cfg, seqs, run_dir, progress=False, distributed=ctx)
    finally:
        ctx.close()
    save_file({k: v.contiguous() for k, v in models[0].state_dict().items()}, f"{out}/rank{rank}.safetensors")
    Path(f"{out}/rank{rank}.json").write_text(json.dumps({"iterations": res.iterations, "seen": seen,
                                                               "unchanged": upper.get("unchanged_until_used")}))


def test_two_gloo_ranks_train_identical_weights_on_sharded_clips(tmp_path):
    from lgmot.data import load_sequence
    from lgmot.synth import make_sequence
    from lgmot.train import make_clips
    from lgmot.train.prepare import prepare_train_sequence

    roots = [make_sequence(tmp_path / f"s{i}", frames=f, people=4, seed=i) for i, f in enumerate((24, 28))]
    cfg = tiny_config(num_steps=3, num_class_steps=2, isg_weight=0.0, spg_weight=0.0)
    clips = [(i, c.start) for i, r in enumerate(roots)
             for c in make_clips(prepare_train_sequence(load_sequence(r), cfg, "gt", appearance=False), 8, 4)]
    assert len(clips) == 13
    mp.spawn(worker, args=(2, free_port(), [str(r) for r in roots], str(tmp_path / "run"), str(tmp_path)),
             nprocs=2, join=True)

    runs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    per_rank = 7  # ceil(13 / 2) clips per rank and epoch -> 4 batches of <= 2
    assert [r["iterations"] for r in runs] == [2 * 4, 2 * 4]
    for epoch in range(2):
        a, b = ({tuple(c) for c in r["seen"][epoch * per_rank:(epoch + 1) * per_rank]} for r in runs)
        assert len(a) == len(b) == per_rank
        assert a | b == set(clips)  # together the ranks cover every clip ...
        assert len(a & b) == 1  # ... each once, but for the one repeated to even out the shards
    w0, w1 = (load_file(tmp_path / f"rank{r}.safetensors") for r in (0, 1))
    assert w0.keys() == w1.keys()
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k
    # rank 0 wrote the run's checkpoint, with those weights
    last = load_file(tmp_path / "run" / "last.safetensors")
    for k in w0:
        assert torch.equal(last[k], w0[k]), k
    torch.manual_seed(cfg.train.seed)
    fresh = HierarchicalMPN(cfg.model).state_dict()
    assert all(not torch.equal(fresh[k], w0[k]) for k in w0 if k.endswith("weight"))  # trained
    # the upper levels' weights stay as initialised while depth pre-training leaves them unused
    # (no gradient on any rank -> Adam must skip them, as in a single process)
    assert [r["unchanged"] for r in runs] == [True, True]
