"""The hierarchical MPN's inference in numpy: what ``lgmot track`` runs, without importing torch.

Same network and the same fused form as the torch inference path (``mpn._InferenceSteps``),
written for numpy's lower per-operation cost: the graphs of a clip are small (tens to a few
thousand edges, 16-80 features), so a torch forward of an upper-level graph spends much of its
time dispatching small operations, and importing torch (and torch_geometric) took seconds before
any work. On the MOT15 graphs this runs level 0 about as fast as torch and levels 1-3 15-25%
faster (docs/performance.md). Differences to the torch path:

* Each half's messages (future, past) are summed at their receiving nodes by a (nodes x edges)
  CSR product whose rows list their edges in increasing order: each node adds its messages in
  ``index_add_``'s order (the same sums, bit for bit, given the same messages).
* The edge update and the messages run over blocks of :data:`_BLOCK` directed edges, so the
  (block, 80) intermediates stay in cache; gathers use ``take(mode="clip")`` and ReLU a
  ``maximum`` against a zeros array, numpy's fast forms of both.
* The two directions of an edge share their features, so the edge encoder runs on E rows, not 2E.
* Matrix products go through numpy's BLAS (held to one thread by the caller, see
  ``lgmot.threads.blas_threads``) instead of torch's: results agree with the torch path to float32
  rounding (about 1e-7 relative), not bit for bit; in float64 to 1e-10
  (``tests/test_model_infer_numpy.py``).

Weights are read from the checkpoint with ``safetensors.numpy`` and checked against the stored
SHA-256 like :func:`lgmot.model.load_model`; :meth:`InferenceModel.from_torch` copies a torch
``HierarchicalMPN``'s weights (for tests and benchmarks).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ModelConfig

__all__ = ["InferenceModel", "InferenceOutput", "load_inference_model"]

#: directed edges per block of the message-passing step (fastest of 256 / 512 / 768 / 1024 / 2048 /
#: 4096 on the MOT15 level-0 graphs, 2026-12-04)
_BLOCK = 512


@dataclass
class InferenceOutput:
    """Like :class:`lgmot.model.MPNOutput` for ``last_only``: ``logits[-1]`` (2E,) float32 in the
    caller's column order, ``node_logits`` (N,) or None."""

    logits: list[np.ndarray] = field(default_factory=list)
    node_logits: np.ndarray | None = None


def _linear(x: np.ndarray, wt: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    y = x @ wt
    if b is not None:
        y += b
    return y


class _MLP:
    """:class:`lgmot.model.MLP` as (W^T, b) pairs: Linear + ReLU, no ReLU on a 1-d output."""

    def __init__(self, sd: dict[str, np.ndarray], prefix: str, start: int = 0):
        self.layers: list[tuple[np.ndarray, np.ndarray, bool]] = []
        i = start
        while f"{prefix}.{i}.weight" in sd:
            w = sd[f"{prefix}.{i}.weight"]
            self.layers.append((np.ascontiguousarray(w.T), sd[f"{prefix}.{i}.bias"], w.shape[0] != 1))
            i += 2  # Linear, ReLU, Linear, ...

    def __call__(self, x: np.ndarray, zeros: np.ndarray | None = None) -> np.ndarray:
        for wt, b, relu in self.layers:
            x = _linear(x, wt, b)
            if relu:
                _relu(x, zeros if zeros is not None else np.zeros(x.size, x.dtype))
        return x


class _LevelMPN:
    """One level's MPN (:class:`lgmot.model.MPN`) in inference form."""

    def __init__(self, cfg: ModelConfig, sd: dict[str, np.ndarray], dtype=np.float32):
        self.cfg = cfg
        self.dtype = np.dtype(dtype)
        nd = cfg.node_enc_dims[-1]
        self.edge_in_dim = sd["edge_encoder.0.weight"].shape[1]
        self.edge_encoder = _MLP(sd, "edge_encoder")
        self.node_mlp1 = _MLP(sd, "node_mlp1")
        self.node_mlp2 = _MLP(sd, "node_mlp2")
        self.missing_mid = sd["missing_mid"]
        self.descriptor_mlp = _MLP(sd, "descriptor_mlp") if "descriptor_mlp.0.weight" in sd else None
        self.level_embedding = sd.get("level_embedding.weight")
        self.classifier = _MLP(sd, "classifier")
        self.node_classifier = _MLP(sd, "node_classifier") if "node_classifier.0.weight" in sd else None
        w, self.b_edge = sd["edge_update.0.weight"], sd["edge_update.0.bias"]
        ed = cfg.edge_enc_dims[-1]
        self.d_edge = w.shape[0]
        # the first Linear of the edge update and of the two message MLPs, split by input block:
        # node terms [source, destination, future message (+ bias), past message (+ bias)]
        fut, past = "node_update.mlp_out.0", "node_update.mlp_in.0"
        self.d_msg = sd[f"{fut}.weight"].shape[0]
        self.d_out = sd["node_update.combine.0.weight"].shape[1] // 2
        self.w_node_parts = (np.ascontiguousarray(w[:, :nd].T), np.ascontiguousarray(w[:, nd:2 * nd].T),
                             np.ascontiguousarray(sd[f"{fut}.weight"][:, :nd].T),
                             np.ascontiguousarray(sd[f"{past}.weight"][:, :nd].T), sd[f"{fut}.bias"], sd[f"{past}.bias"])
        self.w_e0 = np.ascontiguousarray(w[:, 2 * nd:2 * nd + ed].T)
        self.w_e = np.ascontiguousarray(w[:, 2 * nd + ed:].T)
        self.edge_rest = _MLP(sd, "edge_update", start=2)
        self.msg_e = [np.ascontiguousarray(sd[f"{k}.weight"][:, nd:].T) for k in (fut, past)]
        self.msg_rest = [_MLP(sd, "node_update.mlp_out", 2), _MLP(sd, "node_update.mlp_in", 2)]
        self.combine = _MLP(sd, "node_update.combine")

    def encode_nodes(self, x: np.ndarray | None, n: int, has_app: np.ndarray | None,
                     node_desc: np.ndarray | None) -> np.ndarray:
        cfg = self.cfg
        if x is None:  # tracklets without appearance: zero rows, as graph_tensors gives the torch model
            x = np.broadcast_to(self.dtype.type(0), (n, cfg.node_in_dim))
        if cfg.zero_nodes:
            mid = self.node_mlp1(np.zeros((n, cfg.node_in_dim), self.dtype))
        elif has_app is not None and not has_app.any():
            mid = np.broadcast_to(self.missing_mid, (n, self.missing_mid.size))
        elif has_app is None:
            mid = self.node_mlp1(x)
        else:
            keep = has_app.astype(bool)[:, None]
            mid = self.node_mlp1(np.where(keep, x, self.dtype.type(0)))
            mid = np.where(keep, mid, self.missing_mid)
        if self.descriptor_mlp is not None:
            if node_desc is None or node_desc.shape[0] != n:
                raise ValueError(f"this model needs node_desc ({n}, ...)")
            mid = mid + self.descriptor_mlp(node_desc.astype(self.dtype))
        return self.node_mlp2(np.ascontiguousarray(mid, dtype=self.dtype))

    def forward(self, level: int, edges: np.ndarray, edge_attr: np.ndarray, n: int, x: np.ndarray | None,
                has_app: np.ndarray | None, node_desc: np.ndarray | None) -> InferenceOutput:
        """``edges`` (E, 2) undirected pairs; directed column k < E is edges[k] (u -> v), column
        E + k the reverse, as :func:`lgmot.model.graph_tensors` lays them out."""
        import scipy.sparse as sp

        cfg = self.cfg
        n_e = edges.shape[0]
        u, v = edges[:, 0], edges[:, 1]
        src = np.concatenate([u, v])
        dst = np.concatenate([v, u])
        pair = np.concatenate([np.arange(n_e), np.arange(n_e)])  # undirected edge of each column
        # future columns (the receiver src is earlier than the sender dst) first, as the torch path
        # orders them (a stable permutation, undone on the output); the symmetric layout of
        # u < v pairs already is
        future = dst > src
        nf = int(future.sum())
        cols = None
        if not future[:nf].all():
            cols = np.argsort(~future, kind="stable")
            src, dst, pair = src[cols], dst[cols], pair[cols]

        h = self.encode_nodes(x, n, has_app, node_desc)
        h0 = h
        e0 = self.edge_encoder(edge_attr)
        if self.level_embedding is not None:
            e0 = e0 + self.level_embedding[level]
        c0 = _rows(_linear(e0, self.w_e0, self.b_edge), pair)  # e0 W_0 + b, fixed over the steps
        e = _rows(e0, pair)
        # each half's messages summed at its receiving nodes: a (nodes x columns) 0/1 matrix whose
        # rows list their columns in increasing order, so every node adds its messages in edge
        # order, as index_add_ does (same sums, bit for bit)
        parts = []
        for k, (lo, hi) in enumerate(((0, nf), (nf, 2 * n_e))):
            if hi > lo:
                recv = src[lo:hi]
                order = np.argsort(recv, kind="stable")
                indptr = np.concatenate([[0], np.cumsum(np.bincount(recv, minlength=n))])
                agg = sp.csr_array((np.ones(hi - lo, self.dtype), order, indptr), shape=(n, hi - lo))
                parts.append((k, lo, hi, agg))
        # The edge update and the messages run over blocks of _BLOCK directed edges, so their
        # intermediates stay in the core's cache between operations (a fifth faster than whole
        # (2E, 80) arrays on level-0 graphs; the same values: every operation is per edge row).
        # A block never straddles the future/past boundary.
        m_all = 2 * n_e
        cuts = sorted({*range(0, nf, _BLOCK), nf, *range(nf, m_all, _BLOCK), m_all})
        blocks = [(a, b, 0 if a < nf else 1) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
        zeros = np.zeros(_BLOCK * max(self.d_edge, self.d_msg, self.d_out), self.dtype)  # for ReLU (see _relu)
        out = InferenceOutput()
        last = cfg.num_steps - 1
        w_s, w_d, w_f, w_p, b_f, b_p = self.w_node_parts
        e_next = np.empty_like(e)
        msgs = np.empty((m_all, self.d_out), self.dtype)
        for step in range(cfg.num_steps):
            if step == last and self.node_classifier is not None:
                out.node_logits = self.node_classifier(np.concatenate([h0, h], axis=1))[:, 0]
            p_src, p_dst = h @ w_s, h @ w_d
            if step != last:
                p_msg = (_linear(h, w_f, b_f), _linear(h, w_p, b_p))
            for a, b, k in blocks:
                pre = _rows(p_src, src[a:b])
                pre += _rows(p_dst, dst[a:b])
                pre += c0[a:b]
                pre += e[a:b] @ self.w_e
                _relu(pre, zeros)
                e_blk = self.edge_rest(pre, zeros)
                e_next[a:b] = e_blk
                if step != last:
                    m = _rows(p_msg[k], dst[a:b])
                    m += e_blk @ self.msg_e[k]
                    _relu(m, zeros)
                    msgs[a:b] = self.msg_rest[k](m, zeros)
            e, e_next = e_next, e
            if step == last:
                break
            aggs = [np.zeros((n, self.d_out), self.dtype), np.zeros((n, self.d_out), self.dtype)]
            for k, lo, hi, agg in parts:
                aggs[k] = agg @ msgs[lo:hi]
            h = self.combine(np.concatenate([aggs[1], aggs[0]], axis=1), zeros)  # [sum over past, sum over future]
        logits = self.classifier(e, zeros)[:, 0]
        if cols is not None:
            restored = np.empty_like(logits)
            restored[cols] = logits
            logits = restored
        out.logits.append(logits)
        return out


def _rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[idx]`` for valid row indices: ``take`` with mode 'clip' skips the bounds check's
    buffering and is 2-4x faster than fancy indexing or the default mode."""
    return np.take(a, idx, axis=0, mode="clip")


def _relu(x: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """ReLU in place. ``zeros``: at least x.size zeros; numpy's maximum against an array is several
    times faster than against the scalar 0 (no vectorised loop for a broadcast scalar)."""
    if zeros.size < x.size:
        zeros = np.zeros(x.size, x.dtype)
    return np.maximum(x, zeros[:x.size].reshape(x.shape), out=x)


class InferenceModel:
    """:class:`lgmot.model.HierarchicalMPN` for inference only, on numpy arrays. Level 0 has its
    own MPN, levels >= 1 share one (as in the torch model)."""

    def __init__(self, cfg: ModelConfig, state: dict[str, np.ndarray], trained_with_appearance: bool | None = None,
                 dtype=np.float32):
        """``dtype``: float32 as the torch model runs; float64 for checks against a double model."""
        self.cfg = cfg
        self.dtype = np.dtype(dtype)
        sd = {k: np.ascontiguousarray(v, dtype=self.dtype) if v.dtype.kind == "f" else v for k, v in state.items()}
        self.level0 = _LevelMPN(cfg, _sub(sd, "level0."), self.dtype)
        self.upper = _LevelMPN(cfg, _sub(sd, "upper."), self.dtype) if cfg.depth > 1 else None
        self.trained_with_appearance = trained_with_appearance

    @classmethod
    def from_torch(cls, model: Any, dtype=np.float32) -> "InferenceModel":
        """A copy of a torch ``HierarchicalMPN``'s current weights."""
        sd = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
        return cls(model.cfg, sd, getattr(model, "trained_with_appearance", None), dtype)

    def eval(self) -> "InferenceModel":
        return self

    def mpn(self, level: int) -> _LevelMPN:
        if not 0 <= int(level) < self.cfg.depth:
            raise ValueError(f"level {level} outside 0..{self.cfg.depth - 1}")
        return self.level0 if level == 0 else self.upper  # type: ignore[return-value]

    def forward_graph(self, level: int, tracklets: Any, graph: Any, last_only: bool = True) -> InferenceOutput:
        """The last step's logits (2E,) of a level's (Tracklets, LevelGraph), in the column order of
        :func:`lgmot.model.graph_tensors`. Only ``last_only`` inference exists here."""
        if not last_only:
            raise ValueError("numpy inference returns the last step only (train with the torch model)")
        mpn = self.mpn(level)
        edges = np.asarray(graph.edges, dtype=np.int64).reshape(-1, 2)
        attr = np.asarray(graph.features, dtype=self.dtype).reshape(edges.shape[0], -1)
        if attr.shape[1] != mpn.edge_in_dim:
            raise ValueError(f"edge features have {attr.shape[1]} columns, this level's model expects {mpn.edge_in_dim}")
        app = np.asarray(tracklets.app, dtype=self.dtype)
        n = app.shape[0]
        x = None
        if app.shape[1] != 0:
            if app.shape[1] != self.cfg.node_in_dim:
                raise ValueError(f"appearance has {app.shape[1]} dims but the model expects {self.cfg.node_in_dim}")
            x = app
        has_app = np.asarray(tracklets.has_app, dtype=bool)
        desc = getattr(graph, "node_features", None)
        desc = None if desc is None else np.asarray(desc, dtype=self.dtype)
        return mpn.forward(level, edges, attr, n, x, has_app, desc)


def level_shapes(cfg: ModelConfig, level: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor of one level's :class:`lgmot.model.MPN` state dict."""
    from ..graph.features import NODE_DESCRIPTORS, feature_names

    nd, ed, mid = cfg.node_enc_dims[-1], cfg.edge_enc_dims[-1], cfg.node_enc_dims[0]
    out: dict[str, tuple[int, ...]] = {}

    def mlp(name: str, dims) -> None:
        dims = [int(d) for d in dims]
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            out[f"{name}.{2 * i}.weight"], out[f"{name}.{2 * i}.bias"] = (b, a), (b,)

    edge_in = len(feature_names(level > 0, cfg.appearance_indicator, cfg.directional_motion))
    mlp("edge_encoder", [edge_in, *cfg.edge_enc_dims])
    mlp("node_mlp1", [cfg.node_in_dim, mid])
    mlp("node_mlp2", cfg.node_enc_dims)
    out["missing_mid"] = (mid,)
    if cfg.node_descriptors:
        mlp("descriptor_mlp", [len(NODE_DESCRIPTORS), 32, mid])
    if cfg.level_embedding:
        out["level_embedding.weight"] = (cfg.depth, ed)
    mlp("edge_update", [2 * nd + 2 * ed, *cfg.edge_update_dims])
    mlp("node_update.mlp_in", [nd + ed, *cfg.node_msg_dims])
    mlp("node_update.mlp_out", [nd + ed, *cfg.node_msg_dims])
    mlp("node_update.combine", [2 * cfg.node_msg_dims[-1], nd])
    mlp("classifier", [ed, *cfg.classifier_dims])
    if level == 0 and cfg.node_classifier:
        mlp("node_classifier", [2 * nd, 16, 1])
    return out


def _sub(sd: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}


def load_inference_model(path: str | Path) -> tuple[InferenceModel, Any]:
    """(:class:`InferenceModel`, Config) from a checkpoint written by :func:`lgmot.model.save_model`;
    the same checks as :func:`lgmot.model.load_model` (format, SHA-256, weights fit the config)."""
    from .checkpoint import read_numpy_checkpoint

    tensors, cfg, extra = read_numpy_checkpoint(path)
    try:
        model = InferenceModel(cfg.model, tensors, extra.get("trained_with_appearance"))
    except KeyError as e:
        from .checkpoint import CheckpointError

        raise CheckpointError(Path(path), f"weights do not fit the stored model config: missing {e}") from None
    return model, cfg
