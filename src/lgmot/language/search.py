"""Text-to-track search through the ISG-aligned node features.

ISG (LG-MOT B.2) trains the level-0 node feature ``node_mid`` (the 128-d output of ``node_mlp1`` on
a detection's appearance) so that ``softmax(node_mid)`` matches ``softmax(t)``, where ``t`` is the
track's instance sentence embedded by the training text encoder and reduced to 128-d
(:func:`lgmot.language.text.reduce_instance`). After tracking, that makes a track searchable by a
sentence:

1. the query is embedded with the model's own ``train.text_encoder`` and reduced exactly as the
   training targets are (:func:`query_target`, the code path of ``instance_targets``);
2. every detection of a track goes through the model's appearance encoder and ``node_mlp1`` (the
   same input the tracker gives level 0; :meth:`TrackIndex.build`);
3. a detection's divergence is the ISG loss itself, ``KL(softmax(t) || softmax(node_mid))``
   (:func:`lgmot.model.losses.kl_softmax_rows`); a track scores minus the mean divergence of its
   detections (``reduce='mean'``) or of its ``k`` closest ones (``reduce='best'``). Higher is better;
   0 would be a perfect match.

Only a model whose node features were trained this way can be searched: :func:`check_searchable`
refuses a model trained without ISG, or without appearance (its ``node_mlp1`` never saw an image),
with a one-line :class:`~lgmot.errors.InputError`.

The appearance encoder is whatever the model was trained with (``cfg.embed`` when the config
names one, else the default MobileNetV2, as the tracker does); its dimension must be the model's
``node_in_dim``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["SearchConfig", "TrackIndex", "check_searchable", "query_target", "search", "contact_sheet",
           "default_search_model", "load_search_model", "ranking_json"]

REDUCES = ("mean", "best")
SCORES = ("kl", "relative")


@dataclass(frozen=True)
class SearchConfig:
    """``reduce``: 'mean' (every detection) or 'best' (the ``best_k`` closest detections of a
    track); ``max_dets``: at most this many detections per track are embedded, evenly spread over
    the track (bounds the cost on long tracks); ``min_dets``: shorter tracks are not ranked.
    ``score``: 'kl' ranks by minus the ISG divergence ``KL(q || p)``; 'relative' by how much the
    query lowers it below the divergence to the uninformative (uniform) target,
    ``KL(u || p) - KL(q || p)``. The instance targets are within about 10% of uniform, so the raw
    divergence is dominated by how peaked a track's own distribution is, the same for every
    query; the relative form removes that query-independent part (the ranking by it equals the
    ranking by the cross-entropy difference ``sum_i (q_i - 1/128) log p_i``)."""

    reduce: str = "mean"
    score: str = "kl"
    best_k: int = 8
    max_dets: int = 48
    min_dets: int = 1

    def validate(self) -> "SearchConfig":
        if self.reduce not in REDUCES:
            raise ValueError(f"reduce must be one of {REDUCES}, got {self.reduce!r}")
        if self.score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {self.score!r}")
        if self.best_k < 1 or self.max_dets < 1 or self.min_dets < 1:
            raise ValueError("best_k, max_dets and min_dets must be >= 1")
        return self


def default_search_model() -> Path:
    """The shipped search model (ISG + appearance), ``lgmot/assets/models/lgmot_search.safetensors``."""
    return Path(__file__).resolve().parents[1] / "assets" / "models" / "lgmot_search.safetensors"


def check_searchable(model, cfg, source: str | Path | None = None) -> None:
    """Raise a one-line InputError unless the model's node features were aligned with text by ISG
    on real appearance."""
    if cfg.train.isg_weight <= 0:
        raise InputError(source, "this model was trained without ISG (train.isg_weight 0): its node features "
                                 "are not aligned with sentences, so it cannot search by text")
    if cfg.model.zero_nodes or getattr(model, "trained_with_appearance", None) is not True:
        raise InputError(source, "this model was trained without appearance: ISG never aligned an image "
                                 "feature with text, so it cannot search by text")


def load_search_model(path: str | Path | None = None):
    """(model, config) of ``path`` (default: :func:`default_search_model`), checked searchable."""
    from ..model import load_model

    p = Path(path) if path is not None else default_search_model()
    if not p.exists():
        raise InputError(p, "model checkpoint not found" if path is not None else
                         "no search model is installed; pass --model CKPT (a model trained with ISG and appearance)")
    model, cfg = load_model(p)
    check_searchable(model, cfg, p)
    return model, cfg


def query_target(texts: str | list[str], encoder) -> np.ndarray:
    """(128,) for one text, (N, 128) for a list: embedded and reduced exactly as ISG's targets
    (:func:`lgmot.language.targets.instance_targets`)."""
    from .text import reduce_instance

    one = isinstance(texts, str)
    rows = [texts] if one else list(texts)
    for t in rows:
        if not t.strip():
            raise InputError(None, "the query is empty")
    red = reduce_instance(encoder.encode(rows))
    return red[0] if one else red


def appearance_encoder(cfg):
    """The appearance encoder the model was trained with: ``cfg.embed`` when the config has one,
    else the default (MobileNetV2), as the tracker chooses."""
    from ..embed import default_encoder, make_encoder

    emb = getattr(cfg, "embed", None)
    enc = default_encoder() if emb is None else make_encoder(emb)
    if enc.dim != cfg.model.node_in_dim:
        raise InputError(None, f"appearance encoder {enc.name!r} gives {enc.dim}-d features but the model "
                               f"takes {cfg.model.node_in_dim}-d")
    return enc


def _spread(n: int, k: int) -> np.ndarray:
    """``min(n, k)`` indices evenly spread over ``range(n)`` (first and last included)."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, k)).astype(np.int64))


@dataclass
class TrackIndex:
    """The aligned node features of every searchable track of one sequence.

    ``rows``: the embedded detections (TRACK_COLUMNS, their ``id`` is the track); ``mid`` (len(rows),
    128) float32 aligned features in the same order; ``ids`` the ranked track ids."""

    rows: pd.DataFrame
    mid: np.ndarray
    ids: np.ndarray
    config: SearchConfig = field(default_factory=SearchConfig)

    @classmethod
    def build(cls, model, cfg, sequence, tracks: pd.DataFrame, search: SearchConfig = SearchConfig(),
              appearance: np.ndarray | None = None, encoder=None, progress: bool = False) -> "TrackIndex":
        """Embed (at most ``search.max_dets`` detections of) each track of ``tracks`` and compute their
        aligned features. ``appearance`` (len(tracks), D) skips the embedding (rows aligned with
        ``tracks``); otherwise the frames of ``sequence`` are read."""
        search.validate()
        tracks = tracks.reset_index(drop=True)
        keep = []
        for tid, g in tracks.groupby("id", sort=True):
            if len(g) >= search.min_dets:
                idx = g.sort_values("frame", kind="stable").index.to_numpy()
                keep.append(idx[_spread(len(idx), search.max_dets)])
        if not keep:
            raise InputError(getattr(sequence, "root", None), "no track to search (the results are empty)")
        sel = np.sort(np.concatenate(keep))
        rows = tracks.iloc[sel].reset_index(drop=True)
        if appearance is None:
            if not sequence.has_images:
                raise InputError(sequence.root, f"sequence {sequence.name} has no frames: search needs appearance")
            from ..embed import embed_sequence

            enc = encoder if encoder is not None else appearance_encoder(cfg)
            app = embed_sequence(sequence, rows, enc, progress=progress)
        else:
            app = np.asarray(appearance, np.float32)[sel]
        mid = aligned_features(model, cfg, rows, app, sequence.info.fps if sequence is not None else 25.0)
        return cls(rows, mid, np.unique(rows["id"].to_numpy()), search)

    def scores(self, target: np.ndarray) -> np.ndarray:
        """Score of each track of ``ids`` for one reduced query (128,): minus the mean ISG divergence
        of its detections (or of its best ``k``)."""
        div = isg_divergence(target, self.mid)
        if self.config.score == "relative":
            div = div - isg_divergence(np.zeros_like(target), self.mid)
        tid = self.rows["id"].to_numpy()
        order = np.argsort(tid, kind="stable")
        bounds = np.searchsorted(tid[order], self.ids, side="left")
        ends = np.searchsorted(tid[order], self.ids, side="right")
        out = np.empty(len(self.ids))
        for k, (a, b) in enumerate(zip(bounds, ends)):
            d = div[order[a:b]]
            if self.config.reduce == "best":
                d = np.sort(d)[:self.config.best_k]
            out[k] = -float(d.mean())
        return out

    def rank(self, target: np.ndarray) -> list[tuple[int, float]]:
        """``[(track id, score)]`` best first (ties: the smaller id first)."""
        s = self.scores(target)
        order = np.lexsort((self.ids, -s))
        return [(int(self.ids[i]), float(s[i])) for i in order]


def aligned_features(model, cfg, rows: pd.DataFrame, app: np.ndarray, fps: float) -> np.ndarray:
    """The level-0 ``node_mid`` (N, 128) of detections ``rows`` with appearance ``app`` (NaN rows:
    missing, the model's learned missing vector): exactly what ISG aligns during training."""
    import torch

    from ..graph import Tracklets
    from ..graph.features import node_descriptors

    app = np.asarray(app, np.float32)
    has = ~np.isnan(app).any(axis=1)
    x = torch.as_tensor(np.nan_to_num(app))
    desc = None
    if cfg.model.node_descriptors:
        # level-0 nodes are single detections: the descriptors are their relative height and score rank
        t = Tracklets.from_detections(rows.frame.to_numpy(), rows[["x", "y", "w", "h"]].to_numpy(np.float64),
                                      scores=rows.score.to_numpy(np.float64))
        d = node_descriptors(t, fps)
        # Tracklets sorts by frame; rows are (frame, id)-sorted already, so the orders agree
        desc = torch.as_tensor(d)
    with torch.inference_mode():
        mid, _ = model.level0.encode_nodes(x, torch.as_tensor(has), desc)
    return mid.float().numpy()


def isg_divergence(target: np.ndarray, mid: np.ndarray) -> np.ndarray:
    """(N,) ``KL(softmax(target) || softmax(mid_i))``: the ISG loss of each row."""
    import torch

    from ..model.losses import kl_softmax_rows

    m = torch.as_tensor(np.asarray(mid, np.float32))
    t = torch.as_tensor(np.asarray(target, np.float32)).reshape(1, -1).expand_as(m)
    return kl_softmax_rows(t, m).numpy().astype(np.float64)


@dataclass
class SearchResult:
    query: str
    ranking: list[tuple[int, float]]  # (track id, score), best first
    index: TrackIndex


def search(sequence, tracks: pd.DataFrame, query: str, model=None, cfg=None, *,
           search_config: SearchConfig = SearchConfig(), text_encoder=None, progress: bool = False) -> SearchResult:
    """Rank the tracks of ``tracks`` (a result table of ``sequence``) against ``query``. Without
    ``model`` the shipped search model is used."""
    if model is None:
        model, cfg = load_search_model()
    else:
        check_searchable(model, cfg)
    if text_encoder is None:
        from .text import load_text_encoder

        text_encoder = load_text_encoder(cfg.train.text_encoder)
    target = query_target(query, text_encoder)
    index = TrackIndex.build(model, cfg, sequence, tracks, search_config, progress=progress)
    return SearchResult(query, index.rank(target), index)


def ranking_json(ranking: list[tuple[int, float]], top: int | None = None) -> str:
    """``[{"id": int, "score": float}, ...]`` best first."""
    sel = ranking if top is None else ranking[:top]
    return json.dumps([{"id": int(i), "score": round(float(s), 6)} for i, s in sel])


def contact_sheet(path: str | Path, sequence, rows: pd.DataFrame, ranking: list[tuple[int, float]],
                  per_track: int = 6, height: int = 112, title: str | None = None) -> Path:
    """A PNG: one row per ranked track (best first), its rank, id and score, then ``per_track``
    crops evenly spread over the track. Written atomically."""
    import cv2

    from ..data.motio import atomic_write_bytes
    from ..embed import crop

    want: dict[int, list[int]] = {}  # frame -> row indices
    picks: dict[int, list[int]] = {}
    for tid, _ in ranking:
        idx = rows.index[rows["id"].to_numpy() == tid].to_numpy()
        idx = idx[np.argsort(rows.frame.to_numpy()[idx], kind="stable")]
        picks[tid] = list(idx[_spread(len(idx), per_track)])
        for i in picks[tid]:
            want.setdefault(int(rows.frame.iat[i]), []).append(int(i))
    crops: dict[int, np.ndarray] = {}
    if want and sequence.has_images:
        last = max(want)
        start = 1 if sequence.video is not None else min(want)
        for f, img in sequence.frames(start):
            if f > last:
                break
            for i in want.get(f, ()):
                c = crop(img, rows.loc[i, ["x", "y", "w", "h"]].to_numpy(np.float64))
                w = max(1, int(round(c.shape[1] * height / max(c.shape[0], 1))))
                crops[i] = cv2.resize(c, (min(w, height), height), interpolation=cv2.INTER_AREA)
    label_w, pad, cell = 170, 4, height // 2
    row_imgs = []
    for rank, (tid, score) in enumerate(ranking, 1):
        strip = [crops[i] for i in picks[tid] if i in crops]
        width = label_w + sum(c.shape[1] + pad for c in strip)
        img = np.full((height + 2 * pad, max(width, label_w + cell), 3), 255, np.uint8)
        cv2.putText(img, f"#{rank}  id {tid}", (6, pad + height // 2 - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"score {score:.4f}", (6, pad + height // 2 + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (60, 60, 60), 1, cv2.LINE_AA)
        x = label_w
        for c in strip:
            img[pad:pad + c.shape[0], x:x + c.shape[1]] = c
            x += c.shape[1] + pad
        row_imgs.append(img)
    width = max([r.shape[1] for r in row_imgs] + [480])
    parts = []
    if title:
        head = np.full((32, width, 3), 255, np.uint8)
        cv2.putText(head, title[:110], (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        parts.append(head)
    for r in row_imgs:
        full = np.full((r.shape[0], width, 3), 255, np.uint8)
        full[:, :r.shape[1]] = r
        parts.append(full)
        parts.append(np.full((1, width, 3), 200, np.uint8))
    sheet = np.concatenate(parts, axis=0) if parts else np.full((32, width, 3), 255, np.uint8)
    ok, buf = cv2.imencode(".png", sheet)
    if not ok:
        raise OSError(f"could not encode the contact sheet {path}")
    path = Path(path)
    atomic_write_bytes(path, buf.tobytes())
    return path
