"""``Tracker(config, model).track(sequence)``: detections (+ appearance) -> tracks.

Clips of ``frames_per_graph`` frames overlap by ``graph_overlap``; each clip runs the hierarchy
(the levels below the top once per unit of frames that overlapping clips share, see
:func:`lgmot.track.hierarchy.shared_unit`); clips are stitched by Hungarian matching on shared
detections; short tracks are dropped, low-score detections recovered, gaps interpolated and tracks
smoothed (as the config says).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Config, TrackerConfig
from ..data.schema import TRACK_COLUMNS, empty
from ..detect.filter import confident
from ..graph import Tracklets
from ..graph.tracklets import concat
from ..model.infer import InferenceModel
from ..solve import (Stitcher, clip_slices, drop_low_rank, drop_short, drop_unconfident, drop_unlikely, finish_tracks,
                     low_score_candidates)
from ..threads import single_thread, single_thread_blas
from .hierarchy import ClipLevels, EdgeScorer, oracle_scorer, run_level_range, run_levels, shared_unit
from .parallel import ClipPool, default_clip_workers, state_key


@dataclass
class ModelScorer:
    """Scores edges with a trained :class:`lgmot.model.HierarchicalMPN` (last classified step), or
    its numpy form :class:`lgmot.model.infer.InferenceModel` (what ``lgmot track`` loads); a
    ``node_classifier`` model also returns its level-0 node objectness, as (edge probs, objectness)."""

    model: object

    def __call__(self, level, tracklets, graph) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        from ..solve import undirected_probs

        if isinstance(self.model, InferenceModel):  # numpy: no torch
            with single_thread_blas():
                out = self.model.forward_graph(level, tracklets, graph, last_only=True)
            p = undirected_probs(out.logits[-1], len(graph.edges), from_logits=True)
            if out.node_logits is None:
                return p
            from scipy.special import expit

            return p, expit(out.node_logits).astype(np.float64)
        import torch

        with torch.inference_mode(), single_thread():
            out = self.model.forward_graph(level, tracklets, graph, last_only=True)
        p = undirected_probs(out.logits[-1].numpy(), len(graph.edges), from_logits=True)
        if out.node_logits is None:
            return p
        return p, torch.sigmoid(out.node_logits).numpy().astype(np.float64)


class Tracker:
    """Offline hierarchical graph tracker.

    ``model`` is a trained HierarchicalMPN, or ``None`` with ``oracle=True`` (GT-scored edges).
    """

    def __init__(self, config: Config, model=None, *, oracle: bool = False, scorer: EdgeScorer | None = None,
                 workers: int | None = None, backend: str = "auto"):
        """``workers``: clips tracked concurrently, each on one intra-op thread (default: the
        ``LGMOT_TRACK_WORKERS`` environment variable, else min(2, CPU count)); ``backend``:
        'process' (forked workers), 'thread' or 'auto' (processes where fork is safe), see
        :mod:`lgmot.track.parallel`. Clips are independent until stitched in order, so the
        tracks depend on neither."""
        if scorer is None:
            if oracle:
                scorer = oracle_scorer
            elif model is not None:
                model.eval()
                scorer = ModelScorer(model)
            else:
                raise ValueError("Tracker needs a trained model (or oracle=True); random weights are never used")
        self.config = config
        self.scorer = scorer
        #: False for a model whose training data had no appearance at all: its appearance weights never
        #: learned anything (weight decay takes them to zero), so appearance is left out
        self.uses_appearance = getattr(model, "trained_with_appearance", None) is not False
        self._pool = ClipPool(default_clip_workers() if workers is None else workers, backend)
        self.oracle = oracle
        #: compute the levels below the top once per unit that overlapping clips share
        #: (:func:`lgmot.track.hierarchy.shared_unit`) instead of once per clip; False runs every
        #: level per clip (the same tracks, about twice the work; for checks)
        self.share_units = True

    @property
    def workers(self) -> int:
        return self._pool.workers

    @workers.setter
    def workers(self, n: int) -> None:
        self._pool.close()
        self._pool = ClipPool(n, self._pool.backend)

    @property
    def backend(self) -> str:
        return self._pool.backend

    def close(self, kill: bool = False) -> None:
        """Stop the clip worker processes (they are also stopped when the tracker is collected):
        after the clips in flight, or at once with ``kill``."""
        self._pool.close(kill)

    def stop(self) -> None:
        """Kill the clip worker processes at once and start no new ones: for a command being
        interrupted while another of its threads may still be about to link (the tracker cannot
        link with clip workers afterwards)."""
        self._pool.stop()

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def track_detections(self, dets: pd.DataFrame, fps: float, appearance: np.ndarray | None = None,
                         gt_ids: np.ndarray | None = None) -> pd.DataFrame:
        """Track a detections table (DET_COLUMNS). ``appearance`` is (M, D) aligned with ``dets`` rows
        (NaN rows or ``None`` mean missing; ignored when not ``uses_appearance``); ``gt_ids`` (M,) is
        needed for the oracle."""
        return self.link_detections(dets, fps, appearance, gt_ids).finish()

    def link_detections(self, dets: pd.DataFrame, fps: float, appearance: np.ndarray | None = None,
                        gt_ids: np.ndarray | None = None) -> "Linked":
        """:meth:`track_detections` up to the stitched tracks; ``.finish()`` applies the track filters
        and the post-processing (a separate step, so that a caller can overlap it with linking the
        next sequence on the clip workers)."""
        cfg = self.config.tracker
        if not self.uses_appearance:
            appearance = None
        if len(dets) == 0:
            return Linked(None, None, cfg, fps, None)
        # the detections below min_score that recovery may add to the tracks afterwards
        candidates = (low_score_candidates(dets, confident(dets.score.to_numpy(), cfg.min_score), cfg.recover_min_score)
                      if cfg.recover else None)
        dets, app, gid = tracked_detections(dets, cfg.min_score, appearance, gt_ids)
        if self.oracle and gid is None:
            raise ValueError("oracle tracking needs GT identities for the detections")
        frames = dets.frame.to_numpy()
        boxes = dets[["x", "y", "w", "h"]].to_numpy(np.float64)
        scores = dets.score.to_numpy(np.float64)
        has_app = None if app is None else ~np.isnan(app).any(axis=1)

        def rows(start: int, lo: int, hi: int) -> _Clip:
            sl = slice(lo, hi)
            return _Clip(float(fps), start, lo, frames[sl], boxes[sl], scores[sl],
                         None if app is None else np.nan_to_num(app[sl]).astype(np.float32),
                         None if has_app is None else has_app[sl], None if gid is None else gid[sl])

        stitcher = Stitcher()
        state = (self.scorer, self.config)
        key = state_key(self.scorer, self.config)
        # level-0 objectness per detection, averaged over the (overlapping) clips that scored it
        obj_sum, obj_n = np.zeros(len(dets)), np.zeros(len(dets))
        clips = clip_slices(frames, cfg.frames_per_graph, cfg.graph_overlap)
        unit = shared_unit(cfg) if self.share_units else None
        with single_thread():
            if unit is None:
                results = self._pool.map(_track_clip, state, (rows(*c) for c in clips), key=key)
            else:
                results = self._track_shared(state, key, frames, fps, clips, unit, rows)
            for lo, res in results:
                hi = lo + len(res.labels)
                stitcher.add(pd.DataFrame({"det_id": np.arange(lo, hi), "frame": frames[lo:hi], "label": res.labels}))
                if res.objectness is not None:
                    ok = ~np.isnan(res.objectness)
                    obj_sum[lo:hi][ok] += res.objectness[ok]
                    obj_n[lo:hi] += ok
        assigned = stitcher.result().set_index("det_id")["id"]
        tracks = pd.DataFrame({"frame": frames, "id": assigned.reindex(np.arange(len(dets))).to_numpy(),
                               "x": boxes[:, 0], "y": boxes[:, 1], "w": boxes[:, 2], "h": boxes[:, 3],
                               "score": scores})
        objectness = np.divide(obj_sum, obj_n, out=np.full(len(dets), np.nan), where=obj_n > 0)
        return Linked(tracks, objectness, cfg, fps, candidates)

    def _track_shared(self, state: tuple, key: tuple, frames: np.ndarray, fps: float, clips: list, unit: int,
                      rows):
        """(first row, ClipLevels) per clip, as ``_track_clip`` gives them, with levels
        ``0 .. depth - 2`` computed once per unit of ``unit`` frames (:func:`shared_unit`) instead
        of once per clip that holds it (twice with the default half overlap), then the top level
        per clip on its units' tracklets."""
        if not clips:
            return
        first, last = int(frames[0]), int(frames[-1])
        starts = range(first, last + 1, unit)
        bounds = np.searchsorted(frames, [*starts, last + 1])
        units = [(u, int(lo), int(hi)) for u, lo, hi in zip(starts, bounds[:-1], bounds[1:]) if hi > lo]
        unit_results = self._pool.map(_track_unit, state, (rows(*u) for u in units), key=key)
        span = self.config.tracker.frames_per_graph

        def tops():
            # a clip's top level is sent as soon as its units are done (not after every unit of the
            # sequence), so the workers never wait at a barrier between the two stages
            done: dict = {}
            pending = iter(units)
            for start, lo, _ in clips:
                while not done or max(done) + unit < start + span:  # until the clip's last unit is in
                    nxt = next(pending, None)
                    if nxt is None:
                        break
                    done[nxt[0]] = next(unit_results)
                parts = [done[u] for u in range(start, start + span, unit) if u in done]
                yield _Top(float(fps), start, lo, [p[0] for p in parts], [p[1] for p in parts])
                for u in [u for u in done if u < start]:  # earlier clips' units: no later clip holds them
                    del done[u]

        yield from self._pool.map(_track_top, state, tops(), key=key)


@dataclass
class Linked:
    """A sequence's stitched tracks (every tracked detection, ``id`` NaN where no clip scored it)
    before the track filters and post-processing of ``config``; :meth:`finish` applies them."""

    tracks: pd.DataFrame | None
    objectness: np.ndarray | None
    config: TrackerConfig
    fps: float
    candidates: pd.DataFrame | None

    def finish(self) -> pd.DataFrame:
        """The final tracks (TRACK_COLUMNS, sorted by frame then id)."""
        if self.tracks is None:
            return empty(TRACK_COLUMNS)
        cfg = self.config
        scored = self.tracks["id"].notna().to_numpy()
        tracks = drop_unlikely(self.tracks[scored], self.objectness[scored], cfg.min_track_objectness)
        tracks = drop_short(tracks, cfg.min_track_len)
        tracks = drop_unconfident(tracks, cfg.min_track_score)
        tracks = drop_low_rank(tracks, cfg.min_track_rank)
        tracks = finish_tracks(tracks, cfg, self.fps, self.candidates)  # sorted by frame, then id
        return tracks[TRACK_COLUMNS].reset_index(drop=True)


def tracked_detections(dets: pd.DataFrame, min_score: float, appearance: np.ndarray | None = None,
                       gt_ids: np.ndarray | None = None):
    """The detections the tracker links, in its order: those passing ``min_score``
    (``detect.filter.confident``), sorted by frame then det_id, with the rows of ``appearance`` and
    ``gt_ids`` (aligned with ``dets``, or None) kept in step. Returns (dets, appearance, gt_ids)."""
    keep = confident(dets.score.to_numpy(), min_score)
    order = np.flatnonzero(keep)[np.lexsort((dets.det_id.to_numpy()[keep], dets.frame.to_numpy()[keep]))]
    pick = (lambda a: None if a is None else np.asarray(a)[order])
    return dets.iloc[order].reset_index(drop=True), pick(appearance), pick(gt_ids)


@dataclass
class _Clip:
    """One clip's or shared unit's detections (rows ``lo``.. of the sorted sequence), as sent to a worker."""

    fps: float
    start: int
    lo: int
    frames: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    app: np.ndarray | None
    has_app: np.ndarray | None
    gt_ids: np.ndarray | None

    def tracklets(self) -> Tracklets:
        """Level-0 tracklets: one node per detection."""
        return Tracklets.from_detections(self.frames, self.boxes, app=self.app, has_app=self.has_app,
                                         gt_ids=self.gt_ids, scores=self.scores)


def _track_clip(state: tuple, clip: _Clip) -> tuple[int, ClipLevels]:
    """(first row, labels and objectness per detection) of one clip through the hierarchy."""
    scorer, config = state
    return clip.lo, run_levels(clip.tracklets(), config.tracker, clip.fps, clip.start, scorer,
                               config.model.graph_features)


@dataclass
class _Top:
    """One clip's units after the shared levels, as sent to a worker for the top level."""

    fps: float
    start: int
    lo: int
    parts: list  # Tracklets per unit, in time order
    objectness: list  # (unit detections,) level-0 objectness per unit, or None


def _track_unit(state: tuple, unit: _Clip) -> tuple[Tracklets, np.ndarray | None]:
    """Levels 0 .. depth - 2 of one shared unit: (its tracklets after them, level-0 objectness)."""
    scorer, config = state
    tc = config.tracker
    return run_level_range(unit.tracklets(), range(tc.depth - 1), tc, unit.fps, unit.start, scorer,
                           config.model.graph_features)


def _track_top(state: tuple, clip: _Top) -> tuple[int, ClipLevels]:
    """The top level of one clip from its units' tracklets: (first row, ClipLevels) as ``_track_clip``."""
    scorer, config = state
    tc = config.tracker
    t, _ = run_level_range(concat(clip.parts), range(tc.depth - 1, tc.depth), tc, clip.fps, clip.start, scorer,
                           config.model.graph_features)
    obj = None
    if any(o is not None for o in clip.objectness):
        obj = np.concatenate([np.full(p.n_dets, np.nan) if o is None else o
                              for p, o in zip(clip.parts, clip.objectness)])
    return clip.lo, ClipLevels(np.asarray(t.det_node, dtype=np.int64), obj)
