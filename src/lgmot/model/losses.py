"""Training losses: focal edge loss (SUSHI A.8) and LG-MOT's ISG / SPG KL losses (B.2-B.4).

ISG target modes (see :func:`instance_targets`):

* ``'fixed'`` (lgmot's default): ISG is averaged only over nodes that have an instance
  embedding, i.e. GT id != -1, a text row present for that id, and (optionally) real appearance.
* ``'faithful'``: every node is used; nodes with GT id -1 (false positives) take row
  ``fp_index`` of the table (index 0, the official MOT17/SportsMOT quirk), so FPs are pulled
  toward some track's text.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .mpn import MPNOutput

__all__ = ["class_balance_weight", "focal_loss", "kl_softmax", "kl_softmax_rows", "isg_loss", "spg_loss", "pool16", "instance_targets",
           "directed_labels", "LossTerms", "level_loss", "total_loss"]


def focal_loss(logits: Tensor, labels: Tensor, gamma: float = 1.0, alpha: float = 1.0,
               pos_weight: float = 1.0, mask: Tensor | None = None) -> Tensor:
    """Mean of alpha * w * (1 - p_t)^gamma * BCE(logits, labels), stable for any logit.

    ``alpha`` scales both classes (the reference's alpha = 1); ``w`` is ``pos_weight`` on positive
    labels and 1 on negative ones. With ``mask`` (bool, like ``labels``) the mean is over the
    selected elements only. An empty input (or selection) gives 0.
    """
    if logits.shape != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} differ")
    if mask is not None:
        logits, labels = logits[mask], labels[mask]
    if logits.numel() == 0:
        return logits.sum()
    bce = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), reduction="none")
    w = alpha if pos_weight == 1.0 else alpha * torch.where(labels > 0.5, pos_weight, 1.0).to(bce.dtype)
    if gamma == 0:
        return (w * bce).mean()
    one_minus_pt = -torch.expm1(-bce)  # 1 - p_t, since p_t = exp(-BCE)
    return (w * one_minus_pt.pow(gamma) * bce).mean()


def class_balance_weight(labels: np.ndarray, beta: float) -> float:
    """Weight of the positive labels: (negatives / positives)^beta, at least 1 (positives are never
    down-weighted); 1 when ``beta`` is 0 or either class is absent. beta = 1 is MPNTrack's
    balanced BCE; the reference's focal loss is unweighted (beta = 0)."""
    labels = np.asarray(labels)
    n_pos = int((labels > 0.5).sum())
    n_neg = labels.size - n_pos
    if beta <= 0 or n_pos == 0 or n_neg == 0:
        return 1.0
    return float(max(n_neg / n_pos, 1.0) ** beta)


def kl_softmax(target_logits: Tensor, pred_logits: Tensor, mask: Tensor | None = None) -> Tensor:
    """KL(softmax(target) || softmax(pred)) over the last dim, averaged over rows ("batchmean").

    With ``mask`` (rows,) bool the mean is over the selected rows only; none selected gives 0.
    """
    per_row = kl_softmax_rows(target_logits, pred_logits)
    if mask is not None:
        per_row = per_row[mask.to(torch.bool)]
    if per_row.numel() == 0:
        return pred_logits.sum() * 0.0
    return per_row.mean()


def kl_softmax_rows(target_logits: Tensor, pred_logits: Tensor) -> Tensor:
    """KL(softmax(target) || softmax(pred)) of each row (the last dim is the distribution)."""
    if target_logits.shape != pred_logits.shape:
        raise ValueError(f"target {tuple(target_logits.shape)} and prediction {tuple(pred_logits.shape)} differ")
    log_q = F.log_softmax(target_logits.to(pred_logits.dtype), dim=-1)
    log_p = F.log_softmax(pred_logits, dim=-1)
    return (log_q.exp() * (log_q - log_p)).sum(-1)


def isg_loss(node_mid: Tensor, inst_text: Tensor, mask: Tensor | None = None) -> Tensor:
    """L_ISG = KL(softmax(inst_text) || softmax(node_mid)), batch-mean over nodes (B.2).

    ``node_mid`` and ``inst_text`` are (N, 128). ``mask`` (N,) restricts the mean to nodes that
    have an instance embedding (the 'fixed' mode; see :func:`instance_targets`).
    """
    return kl_softmax(inst_text, node_mid, mask)


def pool16(scene: Tensor, size: int = 16) -> Tensor:
    """AdaptiveAvgPool1d(16) over the last dim: (..., D) -> (..., 16). For D = 512: block means of 32."""
    shape = scene.shape
    out = F.adaptive_avg_pool1d(scene.reshape(-1, 1, shape[-1]).float(), size)
    return out.reshape(*shape[:-1], size)


def spg_loss(edge_emb: Tensor, scene_text: Tensor) -> Tensor:
    """L_SPG = KL(softmax(pool16(scene_text)) || softmax(edge_emb)), batch-mean over edges (B.3).

    ``edge_emb`` (M, 16); ``scene_text`` (D,) for one sequence (broadcast to every edge) or
    (M, D) per edge (batched graphs from several sequences). Any D; D = 16 is used as is.
    """
    target = pool16(scene_text, edge_emb.size(-1)).to(edge_emb.dtype)
    return kl_softmax(target.expand_as(edge_emb), edge_emb)


def instance_targets(gt_id: Tensor, table: Tensor, mode: str = "fixed", *, present: Tensor | None = None,
                     has_app: Tensor | None = None, fp_index: int = 0) -> tuple[Tensor, Tensor]:
    """Per-node ISG targets from a per-track-id table of instance embeddings.

    ``gt_id`` (N,) int (-1 = FP); ``table`` (K, 128) indexed by track id; ``present`` (K,) bool
    marks ids that have text (default: all rows). Returns ``(targets (N,128), mask (N,) bool)``.
    'fixed': mask = id != -1, id < K, present[id] (and has_app when given); masked-out rows are 0.
    'faithful': mask all True; FP ids use ``table[fp_index]``; ids >= K raise.
    """
    gt_id = gt_id.long()
    k = table.size(0)
    if mode == "faithful":
        idx = torch.where(gt_id < 0, torch.full_like(gt_id, fp_index % k), gt_id)
        if bool((idx >= k).any()):
            raise ValueError(f"GT id {int(idx.max())} has no row in the instance table ({k} rows)")
        return table[idx], torch.ones_like(gt_id, dtype=torch.bool)
    if mode != "fixed":
        raise ValueError(f"mode is 'fixed' or 'faithful', got {mode!r}")
    mask = (gt_id >= 0) & (gt_id < k)
    safe = torch.where(mask, gt_id, torch.zeros_like(gt_id))
    if present is not None:
        mask &= present.to(torch.bool)[safe]
    if has_app is not None:
        mask &= has_app.to(torch.bool)
    targets = torch.where(mask.unsqueeze(1), table[safe], torch.zeros((), dtype=table.dtype))
    return targets, mask


def directed_labels(labels: Tensor, n_directed: int) -> Tensor:
    """Labels for the E undirected edges -> the 2E directed columns (both directions share it)."""
    if labels.numel() == n_directed:
        return labels
    if 2 * labels.numel() == n_directed:
        return torch.cat([labels, labels])
    raise ValueError(f"{labels.numel()} labels for {n_directed} directed edges")


@dataclass
class LossTerms:
    """Weighted total and its unweighted parts (sums over steps and levels)."""

    total: Tensor
    focal: Tensor
    spg: Tensor
    isg: Tensor

    def __add__(self, other: "LossTerms") -> "LossTerms":
        return LossTerms(self.total + other.total, self.focal + other.focal, self.spg + other.spg,
                         self.isg + other.isg)


def level_loss(out: MPNOutput, labels: Tensor, *, scene_text: Tensor | None = None,
               inst_text: Tensor | None = None, inst_mask: Tensor | None = None, gamma: float = 1.0,
               alpha: float = 1.0, spg_weight: float = 1.0, isg_weight: float = 1.0) -> LossTerms:
    """One level (B.4): sum_k [Focal_k + λ_SPG·SPG_k] + λ_ISG·ISG, k over the classified steps.

    SPG is skipped when ``scene_text`` is None or ``spg_weight`` is 0; ISG likewise.
    """
    zero = out.logits[0].new_zeros(())
    y = directed_labels(labels, out.logits[0].numel())
    focal = sum((focal_loss(lg, y, gamma, alpha) for lg in out.logits), zero)
    spg = zero
    if scene_text is not None and spg_weight != 0:
        spg = sum((spg_loss(e, scene_text) for e in out.edge_embs), zero)
    isg = zero
    if inst_text is not None and isg_weight != 0:
        isg = isg_loss(out.node_mid, inst_text, inst_mask)
    return LossTerms(focal + spg_weight * spg + isg_weight * isg, focal, spg, isg)


def total_loss(outputs: Sequence[MPNOutput], labels: Sequence[Tensor], *,
               scene_text: Tensor | Sequence[Tensor | None] | None = None,
               inst_text: Sequence[Tensor | None] | None = None,
               inst_mask: Sequence[Tensor | None] | None = None, gamma: float = 1.0, alpha: float = 1.0,
               spg_weight: float = 1.0, isg_weight: float = 1.0) -> LossTerms:
    """Sum of :func:`level_loss` over the active levels (B.4).

    ``outputs``/``labels`` have one entry per level. ``scene_text`` is one (D,) tensor shared by
    all levels, or a per-level sequence (e.g. (2E_l, D) per-edge targets for batched graphs).
    ``inst_text``/``inst_mask`` are per level (None entries skip ISG; in the reference only
    level 0 has instance targets).
    """
    if len(outputs) != len(labels) or not outputs:
        raise ValueError("need one label tensor per level output (and at least one level)")
    terms: LossTerms | None = None
    for lvl, (out, y) in enumerate(zip(outputs, labels)):
        it = inst_text[lvl] if inst_text is not None and lvl < len(inst_text) else None
        im = inst_mask[lvl] if inst_mask is not None and lvl < len(inst_mask) else None
        st = scene_text if scene_text is None or isinstance(scene_text, Tensor) else scene_text[lvl]
        t = level_loss(out, y, scene_text=st, inst_text=it, inst_mask=im, gamma=gamma, alpha=alpha,
                       spg_weight=spg_weight, isg_weight=isg_weight)
        terms = t if terms is None else terms + t
    assert terms is not None
    return terms
