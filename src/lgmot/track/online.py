"""``OnlineTracker``: the offline hierarchy behind boxmot's per-frame ``update(dets, frame)`` contract.

Frames are numbered 1, 2, ... by the calls to :meth:`OnlineTracker.update`. The output of a call
is the frame that is now ``latency`` frames old, with ids that never change afterwards.

* **Window.** A solve at frame ``e`` runs the whole hierarchy on the clip ``[s, e]``, where ``s`` is
  the latest start of an offline clip (clips of ``frames_per_graph`` frames every ``stride`` =
  ``frames_per_graph - round(graph_overlap * frames_per_graph)`` frames from frame 1) with
  ``e - s < frames_per_graph``: the same graph, model and rounding as ``run_levels`` on that clip.
* **Reuse.** No edge crosses a level's time window (5, 25, 75 frames in the ``lgmot`` preset), so
  a finished window's merged tracklets are computed once and reused by every later solve; a solve
  costs the newest unfinished windows and the top level. Memory and work are bounded by the
  window, not by the stream.
* **Decisions.** Every ``every`` frames (K, at most ``latency + 1``) a solve decides the frames
  that must be output before the next one: each is decided seeing between ``latency - K + 1`` and
  ``latency`` newer frames. The solve's labels go through the offline clip :class:`Stitcher`, so
  new tracklets join committed tracks by the rule that joins clips offline (Hungarian matching on
  shared, already-decided detections). With ``latency >= stride - 1`` frames are also decided at
  every full clip, exactly when the offline tracker decides them, so with a latency of at least
  the stream's length the output equals :class:`Tracker`'s.
* **Smoothing.** With ``smooth_lag`` > 0 the committed rows pass through a fixed-lag smoother
  before they are output (the boxes only; ids and scores as committed).
* **Post-processing.** The offline whole-track filters (``min_track_len``, ``min_track_score``,
  ``min_track_objectness``, ``min_track_rank``) judge a row when it is output, on what is known of
  its track then (decided detections, plus the newest solve's undecided ones); gaps are filled
  when both ends are known by the time the gap's frames are output. ``min_track_rank`` ranks
  scores among the buffered detections only (offline: among the whole sequence's).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Config
from ..errors import InputError
from ..graph import Tracklets
from ..graph.features import score_ranks
from ..graph.tracklets import concat
from ..solve import Stitcher
from ..solve.smooth import FixedLagSmoother
from ..threads import single_thread
from .hierarchy import EdgeScorer, run_level

#: columns of :meth:`OnlineTracker.update`'s output (boxmot's)
OUTPUT_COLUMNS = ("x1", "y1", "x2", "y2", "id", "conf", "cls", "det_index")
_EMPTY = np.zeros((0, 8))


@dataclass
class _Frame:
    """One frame's detections as given (row i = det_index i)."""

    boxes: np.ndarray  # (n, 4) x, y, w, h
    scores: np.ndarray  # (n,)
    cls: np.ndarray  # (n,)
    uid0: int  # stream-wide number of row 0
    app: np.ndarray | None  # (n, D) float32, NaN rows = none
    obj: np.ndarray  # (n,) level-0 objectness of the latest solve (NaN: none)
    ids: np.ndarray  # (n,) track id once decided (-1 before; and for detections not tracked)


@dataclass
class _Prov:
    """The newest solve's undecided detections whose track already has an id."""

    frame: np.ndarray
    id: np.ndarray
    uid: np.ndarray
    score: np.ndarray
    obj: np.ndarray


@dataclass
class _Part:
    """Detections of a span of frames after some levels: tracklets and each detection's uid."""

    t: Tracklets
    uid: np.ndarray
    obj: np.ndarray  # (M,) level-0 objectness per detection (NaN: none)


def _cat(parts: list[_Part]) -> _Part:
    if len(parts) == 1:
        return parts[0]
    return _Part(concat([p.t for p in parts]), np.concatenate([p.uid for p in parts]),
                 np.concatenate([p.obj for p in parts]))


class OnlineTracker:
    """Online lgmot: ``update(dets, frame=None) -> (M, 8)`` per frame, ``flush()`` at the end.

    ``dets``: ``(N, 6)`` array ``x1, y1, x2, y2, conf, cls`` (pixels, as boxmot). Output rows
    ``x1, y1, x2, y2, id, conf, cls, det_index`` for the frame ``latency`` frames before the newest
    (``det_index``: the row in that frame's ``dets``; -1 for a box filled in a gap). Ids start at
    1 and are this instance's own. ``latency=0`` gives the newest frame's ids, decided without
    seeing any later frame. ``fps`` is the stream's frame rate (the graph features are in seconds).
    ``every``: frames between solves (default: the largest level window, or 1, that is at most
    ``latency + 1``). Classes are carried through, not tracked apart.

    ``smooth_lag`` (frames, default 0): smooth each track as the config's ``tracker.smooth`` says,
    each output frame with ``smooth_lag`` later frames of its track
    (:class:`lgmot.solve.smooth.FixedLagSmoother`); the output then lags ``latency + smooth_lag``
    frames (:attr:`delay`). Low-score recovery (``tracker.recover``) and crossing repair
    (``tracker.untangle``) look at whole tracks and are not applied online. With ``smooth_lag=0`` the
    output is offline tracking's with ``smooth: none``, ``recover: false`` and ``untangle: false``.
    """

    def __init__(self, config: Config, model=None, *, latency: int = 30, fps: float = 30.0,
                 every: int | None = None, scorer: EdgeScorer | None = None, encoder=None,
                 uses_appearance: bool | None = None, smooth_lag: int = 0):
        if scorer is None:
            if model is None:
                raise ValueError("OnlineTracker needs a trained model (or a scorer); random weights are never used")
            from .tracker import ModelScorer

            model.eval()
            scorer = ModelScorer(model)
        if isinstance(latency, bool) or not isinstance(latency, (int, np.integer)) or latency < 0:
            raise ValueError(f"latency must be a whole number of frames >= 0, got {latency!r}")
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        tc = config.tracker.validate()
        fpl = tc.frames_per_level
        self.window = tc.frames_per_graph
        self.stride = self.window - round(tc.graph_overlap * self.window)
        if self.stride < 1:
            raise ValueError(f"graph_overlap {tc.graph_overlap} leaves no stride for clips of {self.window} frames")
        inner = fpl[:-1]
        if any(b % a for a, b in zip(inner, inner[1:])) or (inner and self.stride % inner[-1]):
            raise ValueError(f"OnlineTracker needs nested level windows: frames_per_level {list(fpl)} and the clip "
                             f"stride {self.stride} must each divide the next")
        choices = sorted({1, *inner, self.stride})
        if every is None:
            every = max(k for k in choices if k <= latency + 1)
        elif not 1 <= every <= min(latency + 1, self.stride):
            raise ValueError(f"every must be in 1..{min(latency + 1, self.stride)} (at most latency + 1 and the "
                             f"clip stride), got {every}")
        self.config, self.scorer = config, scorer
        self.latency, self.fps, self.every = int(latency), float(fps), int(every)
        tc = config.tracker
        # whole-track smoothing, online: each output frame is smoothed with smooth_lag later frames
        self._smoother = FixedLagSmoother(smooth_lag, tc.smooth, tc.smooth_scale, tc.smooth_noise)
        self.uses_appearance = (getattr(model, "trained_with_appearance", None) is not False
                                if uses_appearance is None else bool(uses_appearance))
        self.encoder = encoder
        self._id_base = 0
        self._xywh_out = False
        self._reset()

    @classmethod
    def from_tracker(cls, tracker, **kw) -> "OnlineTracker":
        """The online form of an offline :class:`Tracker` (same scorer, config and appearance use)."""
        kw.setdefault("encoder", getattr(tracker, "encoder", None))  # the encoder the model was trained with
        return cls(tracker.config, scorer=tracker.scorer, uses_appearance=tracker.uses_appearance, **kw)

    # --- state ----------------------------------------------------------------------------------
    def _reset(self) -> None:
        self._t = 0  # newest frame
        self._frames: dict[int, _Frame] = {}
        self._next_uid = 0
        self._cache: dict[tuple[int, int], _Part] = {}
        self._stitcher = Stitcher(keep_output=False)
        self._decided = 0  # frames <= this have ids
        self._emitted = 0  # frames <= this were output
        self._rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # decided, not output: (row, id)
        self._stats: dict[int, list] = {}  # id -> [n, score sum, objectness sum, objectness n, last frame]
        self._last_obs: dict[int, tuple[int, np.ndarray, float, float]] = {}  # id -> (frame, box, score, cls)
        self._prov = _Prov(*(np.zeros(0, np.int64),) * 3, np.zeros(0), np.zeros(0))
        self._any_confident = False

    @property
    def delay(self) -> int:
        """Frames between the newest input and the frame ``update()`` outputs: ``latency`` plus the
        smoothing lag."""
        return self.latency + self._smoother.lag

    @property
    def frame_count(self) -> int:
        """Frames received since the stream began."""
        return self._t

    # --- public API -----------------------------------------------------------------------------
    def update(self, dets: np.ndarray, frame: np.ndarray | None = None, embs: np.ndarray | None = None) -> np.ndarray:
        """Add the next frame's detections; return the committed rows of frame ``newest - latency``
        (an empty ``(0, 8)`` array while fewer frames have arrived). ``frame``: the BGR image, for
        appearance (when the model uses it); ``embs``: ``(N, D)`` appearance vectors instead."""
        boxes, scores, cls = _check_dets(dets, self._xywh_out)
        app = self._appearance(boxes, frame, embs)
        self._t += 1
        t = self._t
        n = len(boxes)
        self._frames[t] = _Frame(boxes, scores, cls, self._next_uid, app, np.full(n, np.nan), np.full(n, -1, np.int64))
        self._next_uid += n
        if not self._any_confident and n and (scores >= self.config.tracker.min_score).any():
            self._any_confident = True
            self._cache.clear()  # the detections tracked so far change (all of them -> confident ones)
        with single_thread():
            self._maybe_solve(t)
        out = self._emit(t - self.latency) if t - self.latency >= 1 else _EMPTY.copy()
        self._trim()
        if t - self.latency >= 1 and self._smoother.lag:
            self._smoother.xywh = self._xywh_out
            due = self._smoother.push(t - self.latency, out)
            out = np.concatenate([r for _, r in due]) if due else _EMPTY.copy()
        return out

    def flush(self, per_frame: bool = False):
        """End of stream: the rows of every frame not output yet (one array, by frame; with
        ``per_frame`` a list of (frame number, rows)). The tracker then starts a new stream; ids
        keep counting up."""
        out = []
        with single_thread():
            while self._decided < self._t:
                s = self._flush_start(self._decided)
                e = min(s + self.window - 1, self._t)
                self._decide(self._solve(s, e), e, e)
        for f in range(self._emitted + 1, self._t + 1):
            out.append((f, self._emit(f)))
        if self._smoother.lag:
            self._smoother.xywh = self._xywh_out
            out = [d for f, rows in out for d in self._smoother.push(f, rows)] + self._smoother.flush()
        self._id_base += self._stitcher.n_ids
        self._reset()
        if per_frame:
            return out
        return np.concatenate([o for _, o in out]) if out else _EMPTY.copy()

    # --- inputs -----------------------------------------------------------------------------------
    def _appearance(self, boxes: np.ndarray, frame, embs) -> np.ndarray | None:
        if frame is not None and (not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3
                                  or frame.dtype != np.uint8):
            got = f"shape {frame.shape}, {frame.dtype}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise InputError(None, f"update(frame): expected an H x W x 3 uint8 BGR image, got {got}")
        if not self.uses_appearance:
            return None
        if embs is not None:
            e = np.asarray(embs, dtype=np.float32)
            if e.ndim != 2 or e.shape[0] != len(boxes):
                raise InputError(None, f"update(embs): expected {len(boxes)} rows of appearance, got shape {e.shape}")
            return e
        if frame is None or len(boxes) == 0:
            return None
        if self.encoder is None:
            from ..embed import default_encoder

            self.encoder = default_encoder()
        from ..embed import crops_of
        from ..embed.sequence import _encode

        return _encode(self.encoder, crops_of(frame, boxes))

    def _kept(self, fr: _Frame) -> np.ndarray:
        """Rows of a frame the tracker links (``min_score``; all while no detection reached it)."""
        if not self._any_confident:
            return np.arange(len(fr.scores))
        return np.flatnonzero(fr.scores >= self.config.tracker.min_score)

    # --- solving ----------------------------------------------------------------------------------
    def _clip_start(self, e: int) -> int:
        """Start of the clip a solve at frame ``e`` covers: the latest clip start within the window."""
        return 1 + self.stride * max(0, -(-(e - self.window) // self.stride))

    def _flush_start(self, c: int) -> int:
        """Start of the clip that decides the frames after ``c`` at the end: the offline clip
        following the one that ended at ``c``."""
        return 1 + self.stride * max(0, (c - self.window + self.stride) // self.stride)

    def _maybe_solve(self, t: int) -> None:
        lat, k = self.latency, self.every
        upto = t + k - 1 - lat if t % k == 0 else -1  # what the next K outputs need
        full = t >= self.window and (t - self.window) % self.stride == 0
        if full and lat >= self.stride - 1:
            upto = t  # an offline clip ends here: decide its frames as the offline tracker does
        upto = min(upto, t)
        if upto > self._decided:
            self._decide(self._solve(self._clip_start(t), t), upto, t)

    def _solve(self, s: int, e: int) -> _Part:
        """``run_levels`` on the clip ``[s, e]``, reusing finished level windows."""
        depth = self.config.tracker.depth
        part = self._leaf(s, e) if depth == 1 else _cat(self._parts(depth - 2, s, e))
        part = self._run(depth - 1, part, s)
        if not np.isnan(part.obj).all():
            for f in np.unique(part.t.det_frame):
                m = part.t.det_frame == f
                fr = self._frames[int(f)]
                fr.obj[part.uid[m] - fr.uid0] = part.obj[m]
        return part

    def _parts(self, level: int, a: int, end: int) -> list[_Part]:
        """Per window of ``level`` from ``a`` (a window start) to ``end``: its detections after levels
        0..level. Finished windows are computed once; the others in one graph, as in a clip."""
        w = self.config.tracker.frames_per_level[level]
        starts = list(range(a, end + 1, w))
        out: list[_Part] = []
        for x in starts:
            hit = self._cache.get((level, x)) if x + w - 1 <= self._t else None
            if hit is None:
                break
            out.append(hit)
        if len(out) == len(starts):
            return out
        x0 = starts[len(out)]
        inp = self._leaf(x0, end) if level == 0 else _cat(self._parts(level - 1, x0, end))
        done = self._run(level, inp, x0)
        for x, piece in zip(starts[len(out):], _split(done, x0, w, len(starts) - len(out))):
            if x + w - 1 <= self._t:
                self._cache[(level, x)] = piece
            out.append(piece)
        return out

    def _leaf(self, a: int, b: int) -> _Part:
        """Level-0 tracklets of the tracked detections of frames ``a..b``."""
        frames, boxes, scores, uids, apps = [], [], [], [], []
        dim = 0
        for f in range(a, b + 1):
            fr = self._frames.get(f)
            if fr is None:
                continue
            rows = self._kept(fr)
            frames.append(np.full(len(rows), f, np.int64))
            boxes.append(fr.boxes[rows])
            scores.append(fr.scores[rows])
            uids.append(fr.uid0 + rows)
            apps.append(None if fr.app is None else fr.app[rows])
            if fr.app is not None:
                dim = fr.app.shape[1]
        if not frames:
            return _Part(concat([]), np.zeros(0, np.int64), np.zeros(0))
        app = has_app = None
        if dim:
            app = np.concatenate([np.full((len(u), dim), np.nan, np.float32) if x is None else x
                                  for x, u in zip(apps, uids)])
            has_app = ~np.isnan(app).any(axis=1)
            app = np.nan_to_num(app)
        frames, boxes, scores, uids = (np.concatenate(x) for x in (frames, boxes, scores, uids))
        t = Tracklets.from_detections(frames, boxes, app=app, has_app=has_app, scores=scores)
        return _Part(t, uids, np.full(len(uids), np.nan))

    def _run(self, level: int, part: _Part, clip_start: int) -> _Part:
        t, nodes = run_level(part.t, level, self.config.tracker, self.fps, clip_start, self.scorer,
                             self.config.model.graph_features)
        obj = part.obj
        if level == 0 and nodes is not None:
            obj = nodes[part.t.det_node]
        return _Part(t, part.uid, obj)

    # --- decisions --------------------------------------------------------------------------------
    def _decide(self, part: _Part, upto: int, newest: int) -> None:
        """Give ids to the detections of frames ``decided+1..upto`` from a solve's labels; keep the
        solve's later detections (up to ``newest``) as the provisional rest of their tracks."""
        frames, labels, uid = part.t.det_frame, part.t.det_node, part.uid
        sel = frames <= upto
        if sel.any():
            got = self._stitcher.add(pd.DataFrame({"det_id": uid[sel], "frame": frames[sel], "label": labels[sel]}))
            got = got[got["frame"].to_numpy() > self._decided]
            g_uid, g_frame, g_id = (got[c].to_numpy(np.int64) for c in ("det_id", "frame", "id"))
            for f in np.unique(g_frame):
                m = g_frame == f
                fr = self._frames[int(f)]
                rows, ids = g_uid[m] - fr.uid0, g_id[m]
                fr.ids[rows] = ids
                self._rows[int(f)] = (rows, ids)
                for r, i in zip(rows.tolist(), ids.tolist()):
                    st = self._stats.get(i)
                    if st is None:
                        st = self._stats[i] = [0, 0.0, 0.0, 0, 0]
                    st[0] += 1
                    st[1] += fr.scores[r]
                    if not np.isnan(fr.obj[r]):
                        st[2] += fr.obj[r]
                        st[3] += 1
                    st[4] = int(f)
        self._decided = max(self._decided, upto)
        # provisional: undecided detections whose label already has an id (its latest decided one)
        ids = self._gather(frames, uid, "ids", -1)
        has = np.flatnonzero(ids >= 0)  # in frame order: the last one per label is its latest
        lab, last = np.unique(labels[has][::-1], return_index=True)
        rest = np.flatnonzero(frames > upto)
        pos = np.searchsorted(lab, labels[rest])
        ok = (pos < len(lab)) & (lab[np.minimum(pos, len(lab) - 1)] == labels[rest]) if len(lab) else \
            np.zeros(len(rest), bool)
        rest, pos = rest[ok], pos[ok]
        pid = ids[has][::-1][last[pos]]
        fr_r, uid_r = frames[rest], uid[rest]
        self._prov = _Prov(fr_r, pid, uid_r, self._gather(fr_r, uid_r, "scores", np.nan),
                           self._gather(fr_r, uid_r, "obj", np.nan))

    def _gather(self, frames: np.ndarray, uid: np.ndarray, name: str, fill) -> np.ndarray:
        """The per-detection record ``name`` of each (frame-sorted) detection."""
        out = np.full(len(uid), fill, np.int64 if name == "ids" else np.float64)
        if len(uid) == 0:
            return out
        bounds = np.flatnonzero(np.r_[True, frames[1:] != frames[:-1], True])
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            fr = self._frames[int(frames[lo])]
            out[lo:hi] = getattr(fr, name)[uid[lo:hi] - fr.uid0]
        return out

    # --- output -----------------------------------------------------------------------------------
    def _known(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame, id, uid) of every detection whose track is known beyond the output: decided but
        not output, then provisional."""
        fs, ids, uids = [self._prov.frame], [self._prov.id], [self._prov.uid]
        for f, (rows, i) in self._rows.items():
            fs.append(np.full(len(rows), f, np.int64))
            ids.append(i)
            uids.append(rows + self._frames[f].uid0)
        return np.concatenate(fs), np.concatenate(ids), np.concatenate(uids)

    def _keeps(self, ids: np.ndarray) -> np.ndarray:
        """Whether each track in ``ids`` passes the offline track filters on what is known now
        (its decided detections and the newest solve's provisional ones)."""
        tc = self.config.tracker
        pv = self._prov
        keep = np.ones(len(ids), bool)
        for j, i in enumerate(ids.tolist()):
            n, s, o, on = self._stats.get(i, (0, 0.0, 0.0, 0, 0))[:4]
            mine = pv.id == i
            if mine.any():
                n += int(mine.sum())
                s += float(pv.score[mine].sum())
                ob = pv.obj[mine]
                ob = ob[~np.isnan(ob)]
                o += float(ob.sum())
                on += len(ob)
            if n < tc.min_track_len:
                keep[j] = False
            elif tc.min_track_score > 0 and s / n < tc.min_track_score:
                keep[j] = False
            elif tc.min_track_objectness > 0 and on and o / on < tc.min_track_objectness:
                keep[j] = False
        if tc.min_track_rank > 0 and keep.any():
            keep &= self._rank_ok(ids)
        return keep

    def _rank_ok(self, ids: np.ndarray) -> np.ndarray:
        """``min_track_rank`` over the buffered decided and provisional detections."""
        sc = [self._prov.score]
        tid = [self._prov.id]
        for fr in self._frames.values():
            m = fr.ids >= 0
            sc.append(fr.scores[m])
            tid.append(fr.ids[m])
        sc, tid = np.concatenate(sc), np.concatenate(tid)
        out = np.ones(len(ids), bool)
        if len(sc) == 0:
            return out
        rk = score_ranks(sc)
        for j, i in enumerate(ids.tolist()):
            m = tid == i
            out[j] = not m.any() or rk[m].mean() >= self.config.tracker.min_track_rank
        return out

    def _emit(self, f: int) -> np.ndarray:
        """Output rows of frame ``f`` (decided by now)."""
        self._emitted = f
        rows, ids = self._rows.pop(f, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        fr = self._frames.get(f)
        k_frame, k_id, k_uid = self._known()
        out = []
        if len(rows):
            keep = self._keeps(ids)
            rows, ids = rows[keep], ids[keep]
            out.append(np.column_stack([self._corners(fr.boxes[rows]), ids + 1 + self._id_base, fr.scores[rows],
                                        fr.cls[rows], rows]))
            for r, i in zip(rows.tolist(), ids.tolist()):
                self._last_obs[i] = (f, fr.boxes[r], float(fr.scores[r]), float(fr.cls[r]))
        if self.config.tracker.interpolate:
            filled = self._fill(f, set(ids.tolist()), k_frame, k_id, k_uid)
            if len(filled):
                out.append(filled)
        if not out:
            return _EMPTY.copy()
        a = np.concatenate(out)
        return a[np.argsort(a[:, 4], kind="stable")]

    def _fill(self, f: int, present: set, k_frame, k_id, k_uid) -> np.ndarray:
        """Boxes of frame ``f`` inside a gap of a kept track whose both ends are known now."""
        from ..solve import max_gap_frames

        gap_max = max_gap_frames(self.config.tracker.interpolate_max_gap_s, self.fps)
        waiting = [i for i, (p, *_) in self._last_obs.items() if p < f and i not in present]
        if not waiting or not len(k_frame):
            return _EMPTY
        later = k_frame > f
        order = np.lexsort((k_frame[later], k_id[later]))
        kf, ki, ku = k_frame[later][order], k_id[later][order], k_uid[later][order]
        first = np.r_[True, ki[1:] != ki[:-1]]
        nxt = {int(i): (int(q), int(u)) for i, q, u in zip(ki[first], kf[first], ku[first])}
        cand = [i for i in waiting if i in nxt]
        if not cand:
            return _EMPTY
        keep = self._keeps(np.array(cand, np.int64))
        out = []
        for i, ok in zip(cand, keep):
            if not ok:
                continue
            p, box_p, score_p, cls_p = self._last_obs[i]
            q, u = nxt[i]
            if gap_max is not None and q - p - 1 > gap_max:
                continue
            fq = self._frames[q]
            r = u - fq.uid0
            box_q = fq.boxes[r]
            frac = (f - p) / (q - p)
            c_p, c_q = box_p[:2] + box_p[2:] / 2, box_q[:2] + box_q[2:] / 2
            c = c_p + frac * (c_q - c_p)
            wh = box_p[2:] + frac * (box_q[2:] - box_p[2:])
            box = self._corners(np.r_[c - wh / 2, wh][None])[0]
            out.append([*box, i + 1 + self._id_base, min(score_p, float(fq.scores[r])), cls_p, -1])
        return np.array(out) if out else _EMPTY

    def _corners(self, xywh: np.ndarray) -> np.ndarray:
        if self._xywh_out:  # track_online: the exact boxes, as the offline tracker's tables
            return xywh
        return np.column_stack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])

    # --- memory -----------------------------------------------------------------------------------
    def _trim(self) -> None:
        """Forget what no later solve, decision or output can need."""
        keep_from = min(self._clip_start(self._t + 1), self._flush_start(self._decided), self._emitted + 1)
        for f in [f for f in self._frames if f < keep_from]:
            del self._frames[f]
        for key in [k for k in self._cache if k[1] < keep_from]:
            del self._cache[key]
        dead = [i for i, st in self._stats.items() if st[4] < keep_from]
        for i in dead:
            del self._stats[i]
            self._last_obs.pop(i, None)


def _split(part: _Part, x0: int, w: int, n: int) -> list[_Part]:
    """``part`` (windows of ``w`` frames from ``x0``, nodes and detections in window order) cut
    into its ``n`` windows."""
    if n == 1:
        return [part]
    t = part.t
    edges = x0 + w * np.arange(1, n)
    nb = np.r_[0, np.searchsorted(t.start_frame, edges), t.n_nodes]
    db = np.r_[0, np.searchsorted(t.det_frame, edges), t.n_dets]
    out = []
    for k in range(n):
        ns, ds = slice(nb[k], nb[k + 1]), slice(db[k], db[k + 1])
        out.append(_Part(Tracklets(
            start_frame=t.start_frame[ns], end_frame=t.end_frame[ns], start_box=t.start_box[ns],
            end_box=t.end_box[ns], app=t.app[ns], has_app=t.has_app[ns], gt_id=t.gt_id[ns],
            det_frame=t.det_frame[ds], det_box=t.det_box[ds], det_node=t.det_node[ds] - nb[k],
            det_gt=t.det_gt[ds], det_has_app=t.det_has_app[ds], det_score=t.det_score[ds]),
            part.uid[ds], part.obj[ds]))
    return out


def _check_dets(dets, xywh: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes x, y, w, h; scores; classes) of an ``N x 6`` array, or a one-line InputError."""
    if not isinstance(dets, np.ndarray):
        raise InputError(None, f"update(dets): expected a numpy array N x 6 (x1, y1, x2, y2, conf, cls), "
                               f"got {type(dets).__name__}")
    if dets.ndim == 1 and dets.size == 0:
        dets = dets.reshape(0, 6)
    if dets.ndim != 2 or dets.shape[1] != 6:
        raise InputError(None, f"update(dets): expected an N x 6 array (x1, y1, x2, y2, conf, cls), got shape "
                               f"{tuple(dets.shape)}")
    if not np.issubdtype(dets.dtype, np.number) or np.issubdtype(dets.dtype, np.complexfloating):
        raise InputError(None, f"update(dets): expected numbers, got dtype {dets.dtype}")
    d = dets.astype(np.float64)
    bad = ~np.isfinite(d).all(axis=1)
    if bad.any():
        raise InputError(None, f"update(dets): row {int(np.flatnonzero(bad)[0])} is not finite: {d[bad][0].tolist()}")
    if xywh:  # track_online's exact boxes
        return d[:, :4].copy(), d[:, 4].copy(), d[:, 5].copy()
    bad = (d[:, 2] <= d[:, 0]) | (d[:, 3] <= d[:, 1])
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise InputError(None, f"update(dets): row {r} needs x2 > x1 and y2 > y1, got {d[r, :4].tolist()}")
    boxes = np.column_stack([d[:, 0], d[:, 1], d[:, 2] - d[:, 0], d[:, 3] - d[:, 1]])
    return boxes, d[:, 4].copy(), d[:, 5].copy()


def track_online(tracker: OnlineTracker, dets: pd.DataFrame, n_frames: int,
                 appearance: np.ndarray | None = None, times: list | None = None, clock=None) -> pd.DataFrame:
    """Run a detections table (DET_COLUMNS, frames 1..n_frames) through ``tracker`` one frame at a
    time and flush; returns the tracks (TRACK_COLUMNS, 0-based ids as :class:`Tracker` writes).
    ``times`` (a list) receives the seconds of each ``update()`` call by ``clock`` (default
    ``time.perf_counter``; ``time.thread_time`` counts this thread's CPU time only)."""
    import time

    clock = clock or time.perf_counter
    from ..data.schema import TRACK_COLUMNS, typed

    d = dets.reset_index(drop=True)
    order = np.lexsort((d.det_id.to_numpy(), d.frame.to_numpy()))
    frames = d.frame.to_numpy(np.int64)[order]
    xywh = d[["x", "y", "w", "h"]].to_numpy(np.float64)[order]
    arr = np.column_stack([xywh, d.score.to_numpy(np.float64)[order], np.zeros(len(d))])
    app = None if appearance is None else np.asarray(appearance, np.float32)[order]
    bounds = np.searchsorted(frames, np.arange(1, n_frames + 2))
    if tracker.frame_count:
        raise ValueError("track_online needs a tracker at the start of a stream")
    outs = []
    tracker._xywh_out = True
    try:
        for f in range(1, n_frames + 1):
            lo, hi = bounds[f - 1], bounds[f]
            t0 = clock()
            o = tracker.update(arr[lo:hi], embs=None if app is None else app[lo:hi])
            if times is not None:
                times.append(clock() - t0)
            if len(o):
                outs.append(np.column_stack([np.full(len(o), f - tracker.delay), o]))
        for f, o in tracker.flush(per_frame=True):
            if len(o):
                outs.append(np.column_stack([np.full(len(o), f), o]))
    finally:
        tracker._xywh_out = False
    if not outs:
        return typed(pd.DataFrame(columns=TRACK_COLUMNS), TRACK_COLUMNS)
    a = np.concatenate(outs)
    t = pd.DataFrame({"frame": a[:, 0], "id": a[:, 5] - 1, "x": a[:, 1], "y": a[:, 2], "w": a[:, 3],
                      "h": a[:, 4], "score": a[:, 6]})
    return typed(t, TRACK_COLUMNS).sort_values(["frame", "id"], kind="stable").reset_index(drop=True)
