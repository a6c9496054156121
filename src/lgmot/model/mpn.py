"""Time-aware message-passing network (SUSHI A.6) and the per-level hierarchy of MPNs.

Conventions
-----------
* Nodes are sorted by time: a higher node index means a later node. Past/future is decided by
  comparing node indices, never by looking at frames.
* ``edge_index`` (2, 2E) is symmetric: columns ``0..E-1`` are ``u -> v`` with ``u < v``, columns
  ``E..2E-1`` the same edges reversed. The code only relies on "both directions are present";
  the order is what :func:`graph_tensors` produces and what the solver expects.
* ``edge_attr`` is (2E, F), or (E, F) for the ``u -> v`` half, which is then duplicated for the
  reversed half (A.5: both directions carry the same features).

Missing appearance
------------------
Nodes with ``has_app == False`` get a learned 128-d vector (``MPN.missing_mid``) in place of the
``node_mlp1`` output, i.e. it is injected at the "mid" feature that ISG aligns. We chose the 128-d
injection over a learned input vector of ``node_in_dim`` because it is independent of the
appearance encoder's scale and dimension, and it is 10-16x fewer parameters. Their raw input rows
are zeroed first so NaN/garbage never reaches the gradients. With ``zero_nodes`` every input row
is zero and ``has_app`` is ignored, as in the official code (all nodes identical).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from ..config import Config, ModelConfig
from ..graph.features import NODE_DESCRIPTORS, feature_names
from .mlp import MLP

__all__ = ["MPNOutput", "MPN", "HierarchicalMPN", "TimeAwareNodeUpdate", "edge_feature_dim", "graph_tensors",
           "node_desc_tensor"]


def edge_feature_dim(level: int, cfg: ModelConfig) -> int:
    """Edge-encoder input size: 6 geometric+appearance features at level 0, 7 (with motion GIoU)
    at levels >= 1 (+4 with ``directional_motion``), +1 for the missing-appearance indicator."""
    return len(feature_names(level > 0, cfg.appearance_indicator, cfg.directional_motion))


@dataclass
class MPNOutput:
    """``logits[k]`` (2E,) and ``edge_embs[k]`` (2E, 16) for each classified step k (the last
    ``num_class_steps`` steps, in order; ``[-1]`` is the final step); ``node_mid`` (N, 128) is the
    ``node_mlp1`` output (with missing-appearance rows replaced) that ISG aligns; ``node_logits``
    (N,) the objectness logits of an MPN with a node head (else None)."""

    logits: list[Tensor] = field(default_factory=list)
    edge_embs: list[Tensor] = field(default_factory=list)
    node_mid: Tensor | None = None
    node_logits: Tensor | None = None


class TimeAwareNodeUpdate(MessagePassing):
    """h_i' = ReLU(W [sum_{j<i} MLP_in([h_j, e'_ij]), sum_{j>i} MLP_out([h_j, e'_ij])]).

    The message to node i along the directed edge column (i, j) of ``edge_index`` uses that
    column's edge embedding; messages are aggregated at ``edge_index[0]``
    (``flow='target_to_source'``). The node's own state is not an input.
    """

    def __init__(self, node_dim: int, edge_dim: int, msg_dims: tuple[int, ...]):
        super().__init__(aggr="sum", flow="target_to_source")
        self.msg_dim = int(msg_dims[-1])
        self.mlp_in = MLP([node_dim + edge_dim, *msg_dims])  # j earlier than i (past)
        self.mlp_out = MLP([node_dim + edge_dim, *msg_dims])  # j later than i (future)
        self.combine = MLP([2 * self.msg_dim, node_dim])

    def forward(self, h: Tensor, edge_index: Tensor, edge_emb: Tensor, n_future: int | None = None) -> Tensor:
        """``n_future``: the caller guarantees that the first ``n_future`` columns are exactly the
        future edges (j > i), e.g. the symmetric layout's first half. Otherwise leave it None."""
        if n_future is None:
            # the aggregated result does not depend on the edge order, so sort future-first
            edge_index, edge_emb, n_future = _future_first(edge_index, edge_emb)
        return self.propagate(edge_index, h=h, e=edge_emb, n_future=n_future, size=(h.size(0), h.size(0)))

    def message(self, h_j: Tensor, e: Tensor, n_future: int) -> Tensor:
        # rows are [0 | future msg] then [past msg | 0], so one sum aggregation gives [agg_in, agg_out]
        inp = torch.cat([h_j, e], dim=1)
        fut = F.pad(self.mlp_out(inp[:n_future]), (self.msg_dim, 0))
        past = F.pad(self.mlp_in(inp[n_future:]), (0, self.msg_dim))
        return torch.cat([fut, past], dim=0)

    def update(self, aggr_out: Tensor) -> Tensor:
        return self.combine(aggr_out)


def _future_first(edge_index: Tensor, *edge_tensors: Tensor) -> tuple:
    """Stable-permute columns so the future edges (edge_index[1] > edge_index[0]) come first.
    Returns (edge_index, *edge_tensors, n_future); no copy when already in that order."""
    future = edge_index[1] > edge_index[0]
    n = int(future.sum())
    if bool(future[:n].all()):
        return (edge_index, *edge_tensors, n)
    perm = torch.argsort((~future).to(torch.int8), stable=True)
    return (edge_index[:, perm], *(t[perm] for t in edge_tensors), n)


class MPN(nn.Module):
    """One level's time-aware MPN. ``edge_in_dim`` defaults to the levels >= 1 size. ``node_head``
    adds an objectness output per node from [the node's encoding h0, the node states that the last
    step's edge update reads] (so inference with ``last_only`` computes the same value). h0 is in
    because the node update aggregates neighbours only: after one step a node's own input (its
    detection-score descriptor, its appearance) reaches its state only through the edges."""

    def __init__(self, cfg: ModelConfig, edge_in_dim: int | None = None, node_head: bool = False):
        super().__init__()
        _check(cfg)
        self.cfg = cfg
        self.edge_in_dim = int(edge_in_dim if edge_in_dim is not None else edge_feature_dim(1, cfg))
        node_dim, edge_dim, mid_dim = cfg.node_enc_dims[-1], cfg.edge_enc_dims[-1], cfg.node_enc_dims[0]
        self.edge_encoder = MLP([self.edge_in_dim, *cfg.edge_enc_dims])
        self.node_mlp1 = MLP([cfg.node_in_dim, mid_dim])
        self.node_mlp2 = MLP(cfg.node_enc_dims)
        self.missing_mid = nn.Parameter(torch.zeros(mid_dim))
        # node descriptors enter additively at the mid feature, like the missing-appearance vector
        self.descriptor_mlp = MLP([len(NODE_DESCRIPTORS), 32, mid_dim]) if cfg.node_descriptors else None
        self.level_embedding = nn.Embedding(cfg.depth, edge_dim) if cfg.level_embedding else None
        self.edge_update = MLP([2 * node_dim + 2 * edge_dim, *cfg.edge_update_dims])
        self.node_update = TimeAwareNodeUpdate(node_dim, edge_dim, tuple(cfg.node_msg_dims))
        self.classifier = MLP([edge_dim, *cfg.classifier_dims])
        self.node_classifier = MLP([2 * node_dim, 16, 1]) if node_head else None

    def encode_nodes(self, x: Tensor, has_app: Tensor | None = None,
                     node_desc: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """-> (node_mid (N,128), h0 (N,32))."""
        if self.cfg.zero_nodes:
            mid = self.node_mlp1(torch.zeros_like(x))
        elif has_app is not None and not torch.is_grad_enabled() and not bool(has_app.any()):
            # inference without any appearance: every row is the learned missing vector, so
            # skip node_mlp1 on N zero rows (same values; training keeps the general path so
            # node_mlp1 still receives its zero gradients)
            mid = self.missing_mid.to(x.dtype).unsqueeze(0).expand(x.size(0), -1)
        elif has_app is None:
            mid = self.node_mlp1(x)
        else:
            keep = has_app.to(torch.bool).unsqueeze(1)
            mid = self.node_mlp1(torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device)))
            mid = torch.where(keep, mid, self.missing_mid.to(mid.dtype))
        if self.descriptor_mlp is not None:
            if node_desc is None or node_desc.shape != (x.size(0), len(NODE_DESCRIPTORS)):
                raise ValueError(f"this model needs node_desc ({x.size(0)}, {len(NODE_DESCRIPTORS)})")
            mid = mid + self.descriptor_mlp(node_desc.to(mid.dtype))
        return mid, self.node_mlp2(mid)

    def encode_edges(self, edge_attr: Tensor, level: int) -> Tensor:
        e0 = self.edge_encoder(edge_attr)
        if self.level_embedding is not None:
            e0 = e0 + self.level_embedding.weight[level]
        return e0

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, level: int,
                has_app: Tensor | None = None, last_only: bool = False, node_desc: Tensor | None = None) -> MPNOutput:
        """``last_only``: return only the final step's logits and edge embeddings, and skip the
        last node update, whose output nothing reads (inference: A.6 uses the last step only).
        ``node_desc`` (N,5): ``LevelGraph.node_features``, required by a ``node_descriptors`` model."""
        x, edge_index, edge_attr, has_app = self._check_inputs(x, edge_index, edge_attr, level, has_app)
        # Work in future-first column order (the symmetric layout already is) so the time-aware
        # node update splits messages by slicing; outputs are returned in the caller's order.
        sorted_index, edge_attr, order, n_future = _future_first(
            edge_index, edge_attr, torch.arange(edge_index.size(1), device=edge_index.device))
        restore = None if sorted_index is edge_index else torch.argsort(order)
        node_mid, h = self.encode_nodes(x, has_app, node_desc)
        h0 = h
        e0 = self.encode_edges(edge_attr, level)
        e = e0
        src, dst = sorted_index
        out = MPNOutput(node_mid=node_mid)
        first_classified = self.cfg.num_steps - self.cfg.num_class_steps
        # Inference uses an algebraically identical, cheaper form (see _InferenceSteps); training
        # keeps the literal one so its numerics and gradients do not change.
        fast = None if torch.is_grad_enabled() else _InferenceSteps(self, e0, src, dst, n_future, h.size(0))
        last = self.cfg.num_steps - 1
        if last_only:
            first_classified = last
        for step in range(self.cfg.num_steps):
            if step == last and self.node_classifier is not None:
                out.node_logits = self.node_classifier(torch.cat([h0, h], dim=1)).squeeze(1)
            update_nodes = not (last_only and step == last)
            # the edge update sees the node states from before this step's node update
            if fast is None:
                e = self.edge_update(torch.cat([h.index_select(0, src), h.index_select(0, dst), e0, e], dim=1))
                if update_nodes:
                    h = self.node_update(h, sorted_index, e, n_future)
            else:
                e = fast.edge_update(h, e)
                if update_nodes:
                    h = fast.node_update(h, e)
            if step >= first_classified:
                logit = self.classifier(e).squeeze(1)
                out.logits.append(logit if restore is None else logit[restore])
                out.edge_embs.append(e if restore is None else e[restore])
        return out

    def _check_inputs(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, level: int,
                      has_app: Tensor | None) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        if not 0 <= int(level) < self.cfg.depth:
            raise ValueError(f"level {level} outside 0..{self.cfg.depth - 1}")
        if x.dim() != 2 or x.size(1) != self.cfg.node_in_dim:
            raise ValueError(f"x must be (N, {self.cfg.node_in_dim}), got {tuple(x.shape)}")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must be (2, 2E), got {tuple(edge_index.shape)}")
        m = edge_index.size(1)
        if edge_attr.dim() != 2 or edge_attr.size(1) != self.edge_in_dim:
            raise ValueError(f"edge_attr must have {self.edge_in_dim} columns at this level, "
                             f"got {tuple(edge_attr.shape)}")
        if edge_attr.size(0) * 2 == m and m > 0:
            edge_attr = torch.cat([edge_attr, edge_attr], dim=0)
        elif edge_attr.size(0) != m:
            raise ValueError(f"edge_attr has {edge_attr.size(0)} rows for {m} directed edges")
        if has_app is not None and has_app.shape != (x.size(0),):
            raise ValueError(f"has_app must be ({x.size(0)},), got {tuple(has_app.shape)}")
        return x, edge_index.long(), edge_attr.to(x.dtype), has_app


class _InferenceSteps:
    """The message-passing step without concatenations, for inference (no autograd).

    The first Linear of ``edge_update`` acts on ``[h_src, h_dst, e0, e]``; split by input block,
    ``W [h_src, h_dst, e0, e] + b = (h W_s)[src] + (h W_d)[dst] + (e0 W_0 + b) + e W_e``: the node
    terms are computed once per node instead of once per edge and the ``e0`` term once per
    forward. The same split applies to the message MLPs' first Linear on ``[h_j, e]``, and the
    two message halves are summed into their own columns directly (no zero padding). The edge
    and node updates of a step read the same node states, so all four node-side projections are
    one matmul per step. Same arithmetic up to float rounding order (about 1e-7 relative in
    float32); about half the multiply-adds of the literal form.
    """

    def __init__(self, mpn: "MPN", e0: Tensor, src: Tensor, dst: Tensor, n_future: int, n: int):
        nd = mpn.cfg.node_enc_dims[-1]
        lin = mpn.edge_update[0]
        w = lin.weight
        upd = mpn.node_update
        firsts = (upd.mlp_out[0], upd.mlp_in[0])  # future (first n_future columns), then past
        m, d = src.numel(), w.size(0)
        # Edge update: one table holds, per step, each node's source and destination terms (rows
        # 2i, 2i + 1) and, fixed, each edge's e0 term with the bias (rows 2N + k); embedding_bag
        # gathers and sums the three rows of an edge in one op.
        self.w_sd = torch.cat([w[:, :nd], w[:, nd:2 * nd]], dim=0)
        self.table = e0.new_empty((2 * n + m, d))
        self.table[2 * n:] = F.linear(e0, w[:, 2 * nd:2 * nd + e0.size(1)], lin.bias)
        self.node_rows = self.table[:2 * n].view(n, 2 * d)
        self.bags = torch.stack([2 * src, 2 * dst + 1, 2 * n + torch.arange(m, device=src.device)], dim=1)
        self.w_e_t = w[:, 2 * nd + e0.size(1):].t()
        self.edge_rest = _linears(list(mpn.edge_update)[1:])
        # Node update: the message MLPs' node terms (with their biases) once per node.
        self.w_msg = torch.cat([f.weight[:, :nd] for f in firsts], dim=0)
        self.b_msg = torch.cat([f.bias for f in firsts])
        self.msg_e_t = [f.weight[:, nd:].t() for f in firsts]
        self.msg = upd.msg_dim
        cut = firsts[0].weight.size(0)  # columns of the future / past node terms in w_msg's output
        self.parts = [(slice(0, n_future), dst[:n_future], src[:n_future], slice(0, cut)),
                      (slice(n_future, None), dst[n_future:], src[n_future:], slice(cut, None))]
        self.msg_rest = [_linears(list(mm)[1:]) for mm in (upd.mlp_out, upd.mlp_in)]
        self.combine = _linears(list(upd.combine))

    def edge_update(self, h: Tensor, e: Tensor) -> Tensor:
        torch.mm(h, self.w_sd.t(), out=self.node_rows)
        pre = torch.addmm(F.embedding_bag(self.bags, self.table, mode="sum"), e, self.w_e_t)
        return _apply(self.edge_rest, pre)

    def node_update(self, h: Tensor, e: Tensor) -> Tensor:
        p = F.linear(h, self.w_msg, self.b_msg)
        aggs = []
        for (rows, j, i, cols), w_e_t, rest in zip(self.parts, self.msg_e_t, self.msg_rest):
            agg = h.new_zeros((h.size(0), self.msg))
            if j.numel():
                pre = torch.addmm(p[:, cols].index_select(0, j), e[rows], w_e_t)
                agg.index_add_(0, i, _apply(rest, pre))
            aggs.append(agg)
        return _apply(self.combine, torch.cat([aggs[1], aggs[0]], dim=1))  # [sum over past, sum over future]


def _linears(layers: list) -> list:
    """Linear/ReLU modules as (weight, bias) / None steps for :func:`_apply`."""
    return [None if isinstance(m, nn.ReLU) else (m.weight, m.bias) for m in layers]


def _apply(steps: list, x: Tensor) -> Tensor:
    """Run :func:`_linears` steps, ReLU in place (inference only: nothing keeps the input)."""
    for st in steps:
        x = torch.relu_(x) if st is None else F.linear(x, st[0], st[1])
    return x


class HierarchicalMPN(nn.Module):
    """Level 0 has its own MPN; levels 1..depth-1 share one (``share_weights = all_but_first``);
    the level embedding tells the shared levels apart."""

    def __init__(self, cfg: ModelConfig | Config):
        super().__init__()
        if isinstance(cfg, Config):
            cfg = cfg.model
        self.cfg = cfg
        self.level0 = MPN(cfg, edge_feature_dim(0, cfg), node_head=cfg.node_classifier)
        self.upper = MPN(cfg, edge_feature_dim(1, cfg)) if cfg.depth > 1 else None

    def mpn(self, level: int) -> MPN:
        if not 0 <= int(level) < self.cfg.depth:
            raise ValueError(f"level {level} outside 0..{self.cfg.depth - 1}")
        return self.level0 if level == 0 else self.upper  # type: ignore[return-value]

    def forward(self, level: int, x: Tensor, edge_index: Tensor, edge_attr: Tensor,
                has_app: Tensor | None = None, last_only: bool = False, node_desc: Tensor | None = None) -> MPNOutput:
        return self.mpn(level)(x, edge_index, edge_attr, level, has_app, last_only, node_desc)

    def forward_graph(self, level: int, tracklets: Any, graph: Any, last_only: bool = False) -> MPNOutput:
        """:meth:`forward` on a level's (Tracklets, LevelGraph): :func:`graph_tensors` and the graph's
        node descriptors (:func:`node_desc_tensor`) as the inputs."""
        x, edge_index, edge_attr, has_app = graph_tensors(tracklets, graph, self.cfg.node_in_dim)
        return self.forward(level, x, edge_index, edge_attr, has_app, last_only, node_desc_tensor(graph))

    @torch.no_grad()
    def predict_probs(self, level: int, x: Tensor, edge_index: Tensor, edge_attr: Tensor,
                      has_app: Tensor | None = None, node_desc: Tensor | None = None) -> Tensor:
        """Sigmoid of the last classified step, one score per directed edge (2E,)."""
        return torch.sigmoid(self.forward(level, x, edge_index, edge_attr, has_app, last_only=True,
                                          node_desc=node_desc).logits[-1])


def graph_tensors(tracklets: Any, graph: Any, node_dim: int | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(Tracklets, LevelGraph) -> (x (N,D) float32, edge_index (2,2E) int64 symmetric (u->v first,
    then v->u), edge_attr (2E,F) float32, has_app (N,) bool). Duck-typed on ``.app``,
    ``.has_app``, ``.edges`` (E,2) and ``.features`` (E,F).

    Tracklets built without appearance carry (N, 0) arrays; with ``node_dim`` they get zero rows
    of that width as a broadcast view, not an (N, D) allocation (the model never writes to x and
    replaces them by its learned missing-appearance input)."""
    e = torch.as_tensor(np.asarray(graph.edges, dtype=np.int64).reshape(-1, 2))
    edge_index = torch.cat([e.T, e.T.flip(0)], dim=1)
    f = torch.as_tensor(np.asarray(graph.features, dtype=np.float32)).reshape(e.size(0), -1)
    edge_attr = torch.cat([f, f], dim=0)
    x = torch.as_tensor(np.asarray(tracklets.app, dtype=np.float32))
    if node_dim is not None and x.shape[1] != node_dim:
        if x.shape[1] != 0:
            raise ValueError(f"appearance has {x.shape[1]} dims but the model expects {node_dim}")
        x = torch.zeros((1, 1)).expand(x.shape[0], node_dim)
    has_app = torch.as_tensor(np.asarray(tracklets.has_app, dtype=bool))
    return x, edge_index, edge_attr, has_app


def node_desc_tensor(graph: Any) -> Tensor | None:
    """``graph.node_features`` as a float32 tensor, or None when the graph has none."""
    f = getattr(graph, "node_features", None)
    return None if f is None else torch.as_tensor(np.asarray(f, dtype=np.float32))


def _check(cfg: ModelConfig) -> None:
    if len(cfg.node_enc_dims) < 2:
        raise ValueError("node_enc_dims needs >= 2 entries (node_mlp1 -> mid, node_mlp2 -> node state)")
    if cfg.edge_update_dims[-1] != cfg.edge_enc_dims[-1]:
        raise ValueError("edge_update_dims[-1] must equal edge_enc_dims[-1] (the edge state size)")
    if cfg.classifier_dims[-1] != 1:
        raise ValueError("classifier_dims must end with 1 (one logit)")
    if not 1 <= cfg.num_class_steps <= cfg.num_steps:
        raise ValueError("need 1 <= num_class_steps <= num_steps")
    if cfg.depth < 1:
        raise ValueError("depth must be >= 1")
