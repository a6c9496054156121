"""Resumable training state in one safetensors file: weights, Adam state, counters, config.

Model weights use their plain ``state_dict`` keys (so the file is also a model checkpoint);
optimiser tensors live under ``__optim__/<param index>/<name>``; everything else is JSON metadata.
Written atomically (temporary file, then rename). Loading never runs code.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from .. import __version__
from ..config import Config
from ..data.motio import atomic_write_bytes

OPT = "__optim__/"


def save_state(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, state: dict, cfg: Config) -> None:
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    osd = opt.state_dict()
    for idx, st in osd["state"].items():
        for name, val in st.items():
            t = val if torch.is_tensor(val) else torch.tensor(val)
            tensors[f"{OPT}{idx}/{name}"] = t.detach().contiguous().clone()
    meta = {
        "lgmot_version": __version__,
        "config": json.dumps(cfg.to_dict()),
        "train_state": json.dumps(state),
        "optim_param_groups": json.dumps(osd["param_groups"]),
    }
    atomic_write_bytes(path, save(tensors, metadata=meta))


def read_metadata(path: Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def load_state(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer | None = None) -> dict:
    tensors = load_file(str(path))
    meta = read_metadata(path)
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(OPT)})
    if opt is not None:
        per: dict[int, dict] = {}
        for k, v in tensors.items():
            if k.startswith(OPT):
                idx, name = k[len(OPT):].split("/", 1)
                per.setdefault(int(idx), {})[name] = v
        opt.load_state_dict({"state": per, "param_groups": json.loads(meta["optim_param_groups"])})
    return json.loads(meta["train_state"])
