"""Data-parallel training under ``torchrun`` (one process per GPU, or CPU processes with gloo).

Each process takes every ``world_size``-th clip of the epoch's shuffled order. Gradients are
averaged with ``torch.distributed.all_reduce`` after each backward. We reduce by hand rather than
through ``DistributedDataParallel``'s hooks because one iteration runs the level networks a
variable number of times per clip (the hierarchy depth reached differs between clips), which
DDP's once-per-forward bucketing does not allow; the arithmetic is the same as DDP's.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistContext:
    rank: int
    world_size: int

    @classmethod
    def from_env(cls, backend: str | None = None) -> "DistContext | None":
        """Initialise from torchrun's environment; ``None`` when not launched by torchrun."""
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            return None
        if not dist.is_initialized():
            dist.init_process_group(backend or ("nccl" if torch.cuda.is_available() else "gloo"))
        return cls(dist.get_rank(), dist.get_world_size())

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        # every rank starts from rank 0's weights
        for p in model.state_dict().values():
            dist.broadcast(p, src=0)
        return model

    def sync_grads(self, model: torch.nn.Module) -> None:
        params = list(model.parameters())
        if not params:
            return
        # A parameter no rank used this iteration (e.g. the upper levels during depth pre-training)
        # keeps ``grad=None`` so Adam skips it, as in a single process; zero grads would still move
        # it through weight decay and the moment estimates.
        used = torch.tensor([float(p.grad is not None) for p in params], device=params[0].device)
        dist.all_reduce(used, op=dist.ReduceOp.SUM)
        for p, n in zip(params, used.tolist()):
            if n == 0:
                continue
            if p.grad is None:  # a level this rank did not reach: contribute zeros
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= self.world_size

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()
