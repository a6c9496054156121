"""The training loop: hierarchical forward on clips, focal + language losses, Adam, checkpoints.

Upper levels are built from the model's own rounded predictions (A.8); one more level is
unlocked every ``depth_pretrain_iteration`` iterations. Runs are seeded and resumable: a
checkpoint holds weights, optimiser state, the iteration and every RNG state.
"""
from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..config import Config
from ..embed.registry import encoder_record
from ..errors import InputError
from ..graph import build_level, edge_labels, loss_mask, merge
from ..model import HierarchicalMPN, class_balance_weight, focal_loss, isg_loss, save_model, spg_loss
from ..solve import components, round_flow, undirected_probs
from ..threads import single_thread
from .augment import augment_clip, frame_rate_step, subsample_clip
from .dataset import Clip, TrainSequence, make_clips
from .distributed import DistContext
from .state import check_resume_config, load_state, save_state


@dataclass
class ClipLoss:
    total: torch.Tensor
    focal: float = 0.0
    isg: float = 0.0
    spg: float = 0.0
    node: float = 0.0
    n_edges: int = 0


def clip_loss(model: HierarchicalMPN, clip: Clip, cfg: Config, depth: int) -> ClipLoss:
    """Loss of one clip over its ``depth`` active levels (B.4)."""
    tc, tr = cfg.tracker, cfg.train
    t = clip.tracklets(cfg.model.node_in_dim)
    total = torch.zeros(())
    focal_sum = isg_sum = spg_sum = node_sum = 0.0
    n_edges = 0
    seq = clip.seq
    scene = None if seq.scene_emb is None or tr.spg_weight == 0 else torch.as_tensor(seq.scene_emb, dtype=torch.float32)
    for level in range(depth):
        n = len(t.start_frame)
        if n <= 1:
            break
        g = build_level(t, level, tc, seq.fps, clip.start, cfg.model.graph_features)
        if len(g.edges) == 0:
            t = merge(t, np.arange(n), tc.node_id_min_ratio)
            continue
        y_np = edge_labels(t, g.edges)
        keep = loss_mask(t, g.edges, y_np, tr.loss_ignore)
        y2 = torch.as_tensor(np.concatenate([y_np, y_np]), dtype=torch.float32)
        m2 = None if keep.all() else torch.as_tensor(np.concatenate([keep, keep]))
        pw = class_balance_weight(y_np[keep], tr.class_balance)
        out = model.forward_graph(level, t, g)
        lvl = torch.zeros(())
        spg_here = scene is not None and (tr.spg_levels == 0 or level < tr.spg_levels)
        last_k = len(out.logits) - 1
        for k, logits in enumerate(out.logits):
            f = focal_loss(logits, y2, gamma=tr.focal_gamma, pos_weight=pw, mask=m2)
            lvl = lvl + f
            focal_sum += float(f.detach())
            if spg_here and (tr.spg_steps == "all" or k == last_k):
                s = spg_loss(out.edge_embs[k], scene)
                lvl = lvl + tr.spg_weight * s
                spg_sum += float(s.detach())
        if out.node_logits is not None and tr.node_loss_weight > 0:
            # objectness: does the detection match a GT box (the same IoU-0.5 assignment as the edge labels)
            real = torch.as_tensor(t.gt_id != -1, dtype=torch.float32)
            s = focal_loss(out.node_logits, real, gamma=tr.focal_gamma)
            lvl = lvl + tr.node_loss_weight * s
            node_sum += float(s.detach())
        if level == 0 and tr.isg_weight > 0 and seq.inst_emb:
            gid = t.gt_id
            # only nodes with appearance: ISG shapes the per-instance appearance feature, and nodes
            # without images all share one learned input that carries no instance information
            mask = np.array([int(i) in seq.inst_emb for i in gid]) & np.asarray(t.has_app, bool)
            if mask.any():
                target = torch.as_tensor(np.stack([seq.inst_emb[int(i)] for i in gid[mask]]), dtype=torch.float32)
                s = isg_loss(out.node_mid[torch.as_tensor(mask)], target)
                lvl = lvl + tr.isg_weight * s
                isg_sum += float(s.detach())
        total = total + lvl
        n_edges += len(g.edges)
        with torch.no_grad():  # the next level is built from the model's own rounded predictions
            p = undirected_probs(out.logits[-1].detach().numpy(), len(g.edges), from_logits=True)
            active = round_flow(n, g.edges, p, method=tc.rounding)
            t = merge(t, components(n, g.edges[active]), tc.node_id_min_ratio)
    return ClipLoss(total, focal_sum, isg_sum, spg_sum, node_sum, n_edges)


@dataclass
class TrainResult:
    run_dir: Path
    best_checkpoint: Path | None
    last_checkpoint: Path
    iterations: int
    history: list[dict] = field(default_factory=list)


def lr_at(lr: float, schedule: str, iteration: int, total: int) -> float:
    """Learning rate of step ``iteration`` (0-based) of ``total``."""
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(iteration, total) / max(total, 1))))
    raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {schedule!r}")


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)  # only for third-party code; lgmot itself uses explicit Generators


#: files of a run; a run folder holding any of them is not reused without ``resume`` or ``overwrite``
RUN_FILES = ("metrics.csv", "val.csv", "last.safetensors", "best.safetensors")


def check_run_dir(run_dir: str | Path, cfg: Config, resume: bool = False, overwrite: bool = False) -> None:
    """Refuse to mix two runs in one folder: without ``resume`` a folder with an earlier run needs
    ``overwrite`` (which deletes that run's logs and states); with ``resume`` the stored config must
    match ``cfg`` (the differing fields are named)."""
    run_dir = Path(run_dir)
    from ..errors import InputError

    if resume:
        if (run_dir / "last.safetensors").exists():
            check_resume_config(run_dir / "last.safetensors", cfg)
        return
    found = [f for f in RUN_FILES if (run_dir / f).exists()]
    if not found:
        return
    if not overwrite:
        raise InputError(run_dir, f"holds an earlier run ({', '.join(found)}): pass --resume to continue it "
                                  "or --overwrite to start afresh")
    for f in found:
        (run_dir / f).unlink()


def train(cfg: Config, sequences: list[TrainSequence], run_dir: str | Path, *,
          validate: Callable[[HierarchicalMPN], dict] | None = None, resume: bool = False, overwrite: bool = False,
          max_iterations: int | None = None, progress: bool = True, log: Callable[[str], None] | None = None,
          distributed: DistContext | None = None, appearance_record: dict | None = None,
          init: str | Path | None = None, select_best: bool = True) -> TrainResult:
    """Train a HierarchicalMPN on ``sequences``. ``validate(model) -> {'IDF1': ..., ...}`` picks the best
    checkpoint (by IDF1); with ``select_best=False`` it only logs (``val.csv``: a convergence curve)
    and ``model.safetensors`` holds the last weights, as without ``validate``. ``max_iterations``
    stops early (the run can be resumed exactly).
    The model file records the appearance encoder (``appearance_record``, default
    ``lgmot.embed.encoder_record(cfg.embed)``) when any sequence had appearance. ``init``: a model
    checkpoint to start from (fine-tuning); tensors whose shape differs (the node input layer of
    another appearance width) keep their fresh initialisation.
    A folder holding an earlier run needs ``resume`` or ``overwrite`` (:func:`check_run_dir`)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not distributed or distributed.rank == 0:  # only rank 0 writes the run's files
        if not resume:  # on resume, load_state checks the stored config itself
            check_run_dir(run_dir, cfg, overwrite=overwrite)
        from ..data.motio import remove_stale_temps

        remove_stale_temps(run_dir)
    tr = cfg.train
    seed_everything(tr.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    model = HierarchicalMPN(cfg.model)
    if init is not None:
        init_from(model, init)
    opt = torch.optim.Adam(model.parameters(), lr=tr.lr, weight_decay=tr.weight_decay)
    rank, world = (distributed.rank, distributed.world_size) if distributed else (0, 1)
    if distributed:
        distributed.wrap(model)

    clips = [c for s in sequences for c in make_clips(s, cfg.tracker.frames_per_graph, tr.train_frame_overlap)]
    if not clips:
        raise ValueError("no training clips: the sequences have no detections matched over >= 2 frames")
    # stored with the model: a model that never saw appearance has untrained appearance weights,
    # and the tracker then leaves appearance out (``Tracker.uses_appearance``)
    facts = {"trained_with_appearance": any(s.app is not None and bool(np.isfinite(s.app).all(axis=1).any())
                                            for s in sequences)}
    if facts["trained_with_appearance"]:  # which encoder (and weights SHA-256): tracking checks it
        facts["appearance_encoder"] = appearance_record if appearance_record is not None else _record(cfg)
    iters_per_epoch = math.ceil(len(clips) / (tr.batch_size * world))
    total_iters = tr.epochs * iters_per_epoch
    state = {"iteration": 0, "epoch": 0, "best_idf1": -1.0, "rng_seed": tr.seed}
    last_ck, best_ck = run_dir / "last.safetensors", run_dir / "best.safetensors"
    if resume and last_ck.exists():
        state = load_state(last_ck, model, opt, cfg)
    if resume and rank == 0:  # drop log rows written after the checkpoint (all of them when there is none yet)
        _truncate_csv(run_dir / "metrics.csv", state["iteration"])
        _truncate_csv(run_dir / "val.csv", state["iteration"])
    history_path = run_dir / "metrics.csv"
    tb = _tensorboard(run_dir) if rank == 0 else None
    start_epoch = state["epoch"]
    it = state["iteration"]
    t_start = time.perf_counter()
    bar = _progress(total_iters, it, enabled=progress and rank == 0)
    history: list[dict] = []
    stop = False
    for epoch in range(start_epoch, tr.epochs):
        # the permutation depends only on (seed, epoch), so a resumed run sees the same order
        order = np.random.default_rng([tr.seed, epoch]).permutation(len(clips))
        if world > 1:  # pad (repeating the first clips) so every rank runs the same number of batches
            order = np.resize(order, len(order) + (-len(order)) % world)
        order = order[rank::world]
        first_batch = it - epoch * iters_per_epoch  # >0 when resuming mid-epoch
        for b in range(max(first_batch, 0), iters_per_epoch):
            batch = order[b * tr.batch_size:(b + 1) * tr.batch_size]
            if len(batch) == 0:
                continue
            depth = min(cfg.tracker.depth, 1 + it // tr.depth_pretrain_iteration)
            model.train()
            opt.zero_grad(set_to_none=True)
            with single_thread():
                batch_clips = [clips[i] for i in batch]
                if tr.frame_rate_augmentation > 0:
                    batch_clips = [subsample_clip(c, cfg.tracker.frames_per_graph, frame_rate_step(
                        c.seq.fps, tr.frame_rate_augmentation, np.random.default_rng([tr.seed, it, rank, k, 1])))
                        for k, c in enumerate(batch_clips)]
                if tr.augmentation:
                    batch_clips = [augment_clip(c, np.random.default_rng([tr.seed, it, rank, k]))
                                   for k, c in enumerate(batch_clips)]
                losses = [clip_loss(model, c, cfg, depth) for c in batch_clips]
                loss = torch.stack([l.total for l in losses]).mean()
                loss.backward()
            if distributed:
                distributed.sync_grads(model)
            for group in opt.param_groups:  # a function of the iteration only, so --resume stays exact
                group["lr"] = lr_at(tr.lr, tr.lr_schedule, it, total_iters)
            opt.step()
            it += 1
            row = {"iteration": it, "epoch": epoch, "depth": depth, "loss": float(loss.detach()),
                   "focal": float(np.mean([l.focal for l in losses])), "isg": float(np.mean([l.isg for l in losses])),
                   "spg": float(np.mean([l.spg for l in losses])), "node": float(np.mean([l.node for l in losses])),
                   "seconds": time.perf_counter() - t_start}
            if rank == 0:
                _append_csv(history_path, row)
                if tb:
                    for k in ("loss", "focal", "isg", "spg", "node"):
                        tb.add_scalar(f"train/{k}", row[k], it)
            history.append(row)
            bar(it, row["loss"])
            if max_iterations is not None and it >= max_iterations:
                stop = True
                break
        epoch_done = not stop or (it % iters_per_epoch == 0)
        state.update(iteration=it, epoch=epoch + 1 if epoch_done else epoch)
        if rank == 0:
            if epoch_done and validate is not None and (epoch + 1) % tr.eval_every == 0:
                m = validate(model)
                _append_csv(run_dir / "val.csv", {"epoch": epoch + 1, "iteration": it, **m})
                if tb:
                    for k, v in m.items():
                        tb.add_scalar(f"val/{k}", v, it)
                if log:
                    log(f"epoch {epoch + 1}: " + " ".join(f"{k}={v:.2f}" for k, v in m.items()))
                if select_best and m.get("IDF1", -1) > state["best_idf1"]:
                    state["best_idf1"] = float(m["IDF1"])
                    save_state(best_ck, model, opt, state, cfg)
                    save_model(run_dir / "model.safetensors", model, cfg, extra=facts)
            save_state(last_ck, model, opt, state, cfg)
            if validate is None or not select_best:
                save_model(run_dir / "model.safetensors", model, cfg, extra=facts)
        if stop:
            break
    bar(None, None)
    if tb:
        tb.close()
    return TrainResult(run_dir, best_ck if best_ck.exists() else None, last_ck, it, history)


def init_from(model: HierarchicalMPN, path: str | Path) -> list[str]:
    """Copy the weights of checkpoint ``path`` into ``model`` where names and shapes agree; returns the
    names left at their initialisation. A checkpoint sharing no tensor is an ``InputError``."""
    from ..model import load_model

    src, _ = load_model(path)
    theirs, mine = src.state_dict(), model.state_dict()
    same = {k: v for k, v in theirs.items() if k in mine and mine[k].shape == v.shape}
    if not same:
        raise InputError(path, "no tensor of this checkpoint fits the model to train")
    model.load_state_dict(same, strict=False)
    return [k for k in mine if k not in same]


def _record(cfg: Config) -> dict:
    try:
        return encoder_record(cfg.embed)
    except InputError:  # weights not on this machine (appearance given directly): name only
        from ..embed.registry import crop_size_of, osnet_variant

        size = crop_size_of(cfg.embed)
        return {"encoder": osnet_variant(cfg.embed) or cfg.embed.encoder, "model_name": cfg.embed.model_name,
                "crop_size": list(size) if size else None, "weights_sha256": None, "weights_file": None}


def _append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)


def _truncate_csv(path: Path, last_iteration: int) -> None:
    """Drop log rows written after the checkpoint a run resumes from."""
    if not path.exists():
        return
    from ..data.motio import atomic_write_text

    lines = path.read_text().splitlines()
    if not lines:
        return
    col = next((i for i, h in enumerate(lines[0].split(",")) if h == "iteration"), 0)
    keep = lines[:1] + [l for l in lines[1:] if int(l.split(",")[col]) <= last_iteration]
    atomic_write_text(path, "\n".join(keep) + "\n")


def _tensorboard(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:
        return None
    return SummaryWriter(str(run_dir / "tb"))


def _progress(total: int, start: int, enabled: bool):
    if not enabled:
        return lambda *a: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=start, desc="train", unit="it", dynamic_ncols=True)

    def update(it, loss):
        if it is None:
            bar.close()
            return
        bar.n = it
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        bar.refresh()

    return update
