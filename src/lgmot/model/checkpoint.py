"""Model checkpoints: one ``.safetensors`` file, never pickle.

The safetensors header's ``__metadata__`` (string -> string) carries:

* ``format``: ``"lgmot.model/1"``
* ``lgmot_version``: the writing package's version
* ``config``: JSON of the full :meth:`lgmot.config.Config.to_dict`
* ``sha256``: digest over every tensor's name, dtype, shape and bytes (safetensors itself has no
  checksum, so a flipped weight byte would otherwise load silently)
* ``extra``: JSON of caller data (epoch, metrics, ...), ``{}`` by default

Files are written atomically (temporary file + ``os.replace``).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from typing import TYPE_CHECKING

import numpy as np

from ..config import Config
from ..errors import InputError

if TYPE_CHECKING:  # torch is imported only where a torch model is saved or loaded
    import torch

    from .mpn import HierarchicalMPN

__all__ = ["CheckpointError", "FORMAT", "save_model", "load_model", "read_metadata", "read_numpy_checkpoint"]

FORMAT = "lgmot.model/1"


class CheckpointError(InputError):
    """A checkpoint that cannot be read: truncated, corrupted, or not an lgmot model."""


def _digest(tensors: dict[str, "torch.Tensor"]) -> str:
    import torch

    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _digest_numpy(arrays: dict[str, np.ndarray]) -> str | None:
    """:func:`_digest` of the same tensors read as numpy arrays (torch's dtype names); None for a
    dtype numpy cannot hold."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        dtype = _TORCH_DTYPE_NAMES.get(a.dtype.str[1:])
        if dtype is None:
            return None
        h.update(f"{name}|{dtype}|{tuple(a.shape)}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


# numpy dtype (without byte order) -> str(torch dtype), for the checksum
_TORCH_DTYPE_NAMES = {"f4": "torch.float32", "f8": "torch.float64", "f2": "torch.float16", "i8": "torch.int64",
                      "i4": "torch.int32", "i2": "torch.int16", "i1": "torch.int8", "u1": "torch.uint8",
                      "b1": "torch.bool"}


def save_model(path: str | Path, model: "HierarchicalMPN", config: Config, *,
               extra: dict[str, Any] | None = None) -> None:
    """Write ``model``'s weights and ``config`` to ``path``. ``config.model`` must be the
    ModelConfig the model was built with (so :func:`load_model` rebuilds the same network)."""
    from safetensors.torch import save as st_save

    from .. import __version__
    from ..data.motio import atomic_write_bytes

    if config.model != model.cfg:
        raise ValueError("config.model differs from the ModelConfig the model was built with")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # the appearance weights' path is this machine's; the file's SHA-256 goes in ``extra`` (see train)
    config = replace(config, embed=replace(config.embed, weights=None))
    meta = {
        "format": FORMAT,
        "lgmot_version": __version__,
        "config": json.dumps(config.to_dict()),
        "sha256": _digest(tensors),
        "extra": json.dumps(extra or {}),
    }
    atomic_write_bytes(path, st_save(tensors, metadata=meta))


def _read(path: Path, weights: bool = True) -> tuple[bytes | None, dict[str, str]]:
    """(the whole file, or None without ``weights``: only its header is read; the lgmot metadata)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(path, "not a safetensors checkpoint (file too short)")
            n = int.from_bytes(head, "little")
            if 8 + n > size:
                raise CheckpointError(path, "corrupted or truncated checkpoint (header runs past end of file)")
            raw = f.read(n)
            data = head + raw + f.read() if weights else None
    except OSError as e:
        raise CheckpointError(path, f"cannot read checkpoint ({e.strerror})") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(path, "corrupted checkpoint (unreadable safetensors header)") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(path, f"not an lgmot model checkpoint (expected format {FORMAT})")
    for key in ("config", "sha256", "lgmot_version"):
        if key not in meta:
            raise CheckpointError(path, f"corrupted checkpoint (metadata lacks '{key}')")
    return data, meta


def _metadata(path: Path, meta: dict[str, str]) -> dict[str, Any]:
    try:
        return {"format": meta["format"], "lgmot_version": meta["lgmot_version"],
                "config": json.loads(meta["config"]), "extra": json.loads(meta.get("extra", "{}"))}
    except json.JSONDecodeError:
        raise CheckpointError(path, "corrupted checkpoint (metadata is not valid JSON)") from None


def read_metadata(path: str | Path) -> dict[str, Any]:
    """``{'format', 'lgmot_version', 'config' (dict), 'extra' (dict)}`` without loading weights."""
    path = Path(path)
    return _metadata(path, _read(path, weights=False)[1])


def _read_verified(path: Path, load: Callable[[bytes], dict], digest: Callable[[dict], str | None]
                   ) -> tuple[dict, dict[str, Any], Config]:
    """(weights by ``load``, metadata, Config) of the checkpoint at ``path``, read once, its weights
    checked against the stored SHA-256 (``digest``)."""
    from safetensors import SafetensorError

    data, meta = _read(path)
    info = _metadata(path, meta)
    try:
        weights = load(data)
    except SafetensorError as e:
        raise CheckpointError(path, f"corrupted checkpoint ({e})") from None
    if digest(weights) != meta["sha256"]:
        raise CheckpointError(path, "corrupted checkpoint (weights do not match the stored SHA-256)")
    return weights, info, Config.from_dict(info["config"], path)


def load_model(path: str | Path, device: "torch.device | str" = "cpu") -> tuple["HierarchicalMPN", Config]:
    """Rebuild the network described by the stored config and load its weights (eval mode). The
    model's ``trained_with_appearance`` is what training stored (None when the file does not say)."""
    from safetensors.torch import load as st_load

    from .mpn import HierarchicalMPN

    path = Path(path)
    tensors, info, cfg = _read_verified(path, st_load, _digest)
    model = HierarchicalMPN(cfg.model)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0] if str(e) else "shape/key mismatch"
        raise CheckpointError(path, f"weights do not fit the stored model config: {first}") from None
    model.trained_with_appearance = info["extra"].get("trained_with_appearance")
    return model.to(device).eval(), cfg


def read_numpy_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], Config, dict[str, Any]]:
    """(weights as numpy arrays, Config, extra) with the checks of :func:`load_model` short of
    building the torch network: format, SHA-256 over the weights, and every weight the stored
    config's network has, with its shape (:func:`expected_shapes`), and no other."""
    from safetensors.numpy import load as st_load

    path = Path(path)
    arrays, info, cfg = _read_verified(path, st_load, _digest_numpy)
    want = expected_shapes(cfg.model)
    for name in sorted(set(want) | set(arrays)):
        if name not in arrays:
            raise CheckpointError(path, f"weights do not fit the stored model config: missing key {name}")
        if name not in want:
            raise CheckpointError(path, f"weights do not fit the stored model config: unexpected key {name}")
        if tuple(arrays[name].shape) != want[name]:
            raise CheckpointError(path, f"weights do not fit the stored model config: {name} has shape "
                                  f"{tuple(arrays[name].shape)}, expected {want[name]}")
    return arrays, cfg, info["extra"]


def expected_shapes(cfg) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in ``HierarchicalMPN(cfg).state_dict()``, without torch."""
    from .infer import level_shapes

    out: dict[str, tuple[int, ...]] = {}
    for prefix, level in [("level0", 0)] + ([("upper", 1)] if cfg.depth > 1 else []):
        out.update({f"{prefix}.{name}": shape for name, shape in level_shapes(cfg, level).items()})
    return out
