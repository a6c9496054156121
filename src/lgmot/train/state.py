"""Resumable training state in one safetensors file: weights, Adam state, counters, config.

Model weights use their plain ``state_dict`` keys (so the file is also a model checkpoint);
optimiser tensors live under ``__optim__/<param index>/<name>``; everything else is JSON metadata,
with ``sha256`` over the tensors and that metadata (as model checkpoints carry), so a flipped bit
is refused rather than resumed. Written atomically (temporary file, then rename). Loading never
runs code; an unreadable file is a one-line :class:`InputError` naming it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save

from .. import __version__
from ..config import Config
from ..data.motio import atomic_write_bytes
from ..errors import InputError

OPT = "__optim__/"
_SIGNED_META = ("config", "train_state", "optim_param_groups")
#: config fields that may change between a run and its resumption
RESUMABLE_CHANGES = ("name", "train.epochs", "train.eval_every")


def _digest(tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> str:
    from ..model.checkpoint import _digest as tensor_digest

    h = hashlib.sha256(tensor_digest(tensors).encode())
    for k in _SIGNED_META:
        h.update(f"|{k}|{meta.get(k, '')}".encode())
    return h.hexdigest()


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
    meta["sha256"] = _digest(tensors, meta)
    atomic_write_bytes(path, save(tensors, metadata=meta))


def _read(path: Path) -> tuple[bytes, dict[str, str]]:
    """The file's bytes and metadata, checked enough to parse; errors name the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot read training state ({e.strerror})") from None
    if len(data) < 8:
        raise InputError(path, f"truncated training state ({len(data)} bytes); delete it to start afresh")
    n = int.from_bytes(data[:8], "little")
    if 8 + n > len(data):
        raise InputError(path, "truncated or corrupted training state (header runs past the end of the file)")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InputError(path, "corrupted training state (unreadable safetensors header)") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or not all(isinstance(meta.get(k), str) for k in _SIGNED_META):
        raise InputError(path, "not an lgmot training state (metadata lacks config, train_state or optimiser)")
    return data, meta


def read_metadata(path: Path) -> dict:
    return dict(_read(Path(path))[1])


def config_differences(stored: dict, given: Config) -> list[str]:
    """``section.key (stored X, given Y)`` for every field that differs, except :data:`RESUMABLE_CHANGES`."""
    now = json.loads(json.dumps(given.to_dict()))
    out = []
    for section in sorted(set(stored) | set(now)):
        a, b = stored.get(section), now.get(section)
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                key = f"{section}.{k}"
                if key not in RESUMABLE_CHANGES and a.get(k, "<absent>") != b.get(k, "<absent>"):
                    out.append(f"{key} (stored {a.get(k, '<absent>')}, given {b.get(k, '<absent>')})")
        elif section not in RESUMABLE_CHANGES and a != b:
            out.append(f"{section} (stored {a}, given {b})")
    return out


def check_resume_config(path: Path, cfg: Config) -> None:
    """Raise a one-line InputError naming the fields where ``cfg`` differs from the run's stored config."""
    meta = read_metadata(path)
    try:
        stored = json.loads(meta["config"])
    except json.JSONDecodeError:
        raise InputError(path, "corrupted training state (config is not valid JSON)") from None
    diff = config_differences(stored if isinstance(stored, dict) else {}, cfg)
    if diff:
        more = f" and {len(diff) - 3} more" if len(diff) > 3 else ""
        raise InputError(path, f"cannot resume with a different config: {'; '.join(diff[:3])}{more}")


def load_state(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer | None = None,
               cfg: Config | None = None) -> dict:
    """Load weights (and optimiser state) into ``model`` (and ``opt``); returns the counters.
    With ``cfg``, a config differing from the stored one is refused first (naming the fields)."""
    path = Path(path)
    data, meta = _read(path)
    if cfg is not None:
        check_resume_config(path, cfg)
    try:
        tensors = st_load(data)
    except SafetensorError as e:
        raise InputError(path, f"truncated or corrupted training state ({' '.join(str(e).split())})") from None
    if "sha256" in meta and _digest(tensors, meta) != meta["sha256"]:  # states written before checksums have none
        raise InputError(path, "corrupted training state (contents do not match the stored SHA-256)")
    try:
        train_state = json.loads(meta["train_state"])
        groups = json.loads(meta["optim_param_groups"])
        model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(OPT)})
        if opt is not None:
            per: dict[int, dict] = {}
            for k, v in tensors.items():
                if k.startswith(OPT):
                    idx, name = k[len(OPT):].split("/", 1)
                    per.setdefault(int(idx), {})[name] = v
            opt.load_state_dict({"state": per, "param_groups": groups})
    except (RuntimeError, ValueError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(path, f"training state does not fit this model: {first}") from None
    return train_state
