"""Peer trackers (SORT family) run on lgmot detection tables, for comparison tables and speed numbers.

Two libraries, both optional (the ``peers`` extra): Roboflow's ``trackers`` (SORT, ByteTrack, OC-SORT,
BoT-SORT, C-BIoU; input ``supervision.Detections``) and ``boxmot`` (ByteTrack, OC-SORT, BoT-SORT,
BoostTrack; input numpy ``N x 6 [x1, y1, x2, y2, conf, cls]``, output
``[x1, y1, x2, y2, id, conf, cls, det_ind]``). Each tracker keeps its library's defaults; only the frame
rate is passed where the constructor takes one, and ReID / camera-motion compensation are off because
there are no images.

``run_peer`` times only the per-frame ``update`` loop: inputs are built before it and outputs converted
after it, so the time is the association throughput.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from lgmot.data.schema import TRACK_COLUMNS, empty, typed
from lgmot.detect import confident


@dataclass(frozen=True)
class Peer:
    name: str
    library: str  # "trackers" or "boxmot"
    cls: str  # class name in the library
    fixed: tuple[tuple[str, Any], ...] = ()  # options forced off (ReID, CMC)
    takes_frame_rate: bool = False


PEERS: dict[str, Peer] = {p.name: p for p in [
    Peer("trackers-SORT", "trackers", "SORTTracker", takes_frame_rate=True),
    Peer("trackers-ByteTrack", "trackers", "ByteTrackTracker", takes_frame_rate=True),
    Peer("trackers-OC-SORT", "trackers", "OCSORTTracker", takes_frame_rate=True),
    Peer("trackers-BoT-SORT", "trackers", "BoTSORTTracker", (("enable_cmc", False),), takes_frame_rate=True),
    Peer("trackers-C-BIoU", "trackers", "CBIoUTracker", takes_frame_rate=True),
    Peer("boxmot-ByteTrack", "boxmot", "ByteTrack", takes_frame_rate=True),
    Peer("boxmot-OC-SORT", "boxmot", "OcSort"),
    Peer("boxmot-BoT-SORT", "boxmot", "BotSort", (("use_cmc", False), ("use_embeddings", False)),
         takes_frame_rate=True),
    Peer("boxmot-BoostTrack", "boxmot", "BoostTrack", (("use_cmc", False), ("use_embeddings", False))),
]}

#: short names for the throughput helper (the ``trackers`` implementations)
ALIASES = {"SORT": "trackers-SORT", "ByteTrack": "trackers-ByteTrack", "OC-SORT": "trackers-OC-SORT",
           "BoT-SORT": "trackers-BoT-SORT", "C-BIoU": "trackers-C-BIoU"}


def resolve(name: str) -> Peer:
    key = ALIASES.get(name, name)
    if key not in PEERS:
        raise KeyError(f"unknown peer tracker {name!r}; choose from {sorted(PEERS)} or {sorted(ALIASES)}")
    return PEERS[key]


def available(name: str) -> bool:
    """Whether the library of ``name`` imports (the ``peers`` extra is optional)."""
    try:
        _load_class(resolve(name))
    except ImportError:
        return False
    return True


def _load_class(peer: Peer) -> type:
    if peer.library == "trackers":
        import trackers

        return getattr(trackers, peer.cls)
    import boxmot

    return getattr(boxmot, peer.cls)


def make_tracker(peer: Peer, fps: float, params: dict | None = None):
    kwargs: dict[str, Any] = dict(peer.fixed)
    if peer.takes_frame_rate:
        # boxmot annotates frame_rate as int and scales its buffers by frame_rate / 30
        kwargs["frame_rate"] = float(fps) if peer.library == "trackers" else int(round(fps))
    kwargs.update(params or {})
    cls = _load_class(peer)
    if peer.library == "boxmot":
        _quiet_boxmot()  # after the import, which sets the level
    return cls(**kwargs)


def _quiet_boxmot() -> None:
    # boxmot logs every tracker construction at INFO on its stdlib logger "boxmot"
    logging.getLogger("boxmot").setLevel(logging.WARNING)


def _frame_slices(dets: pd.DataFrame, n_frames: int) -> list[np.ndarray]:
    """Per frame 1..n_frames, an ``(k, 5)`` float array ``x1, y1, x2, y2, score`` (0-based pixels)."""
    d = dets.sort_values(["frame", "det_id"], kind="stable")
    x, y, w, h = (d[c].to_numpy(np.float64) for c in ("x", "y", "w", "h"))
    arr = np.column_stack([x, y, x + w, y + h, d.score.to_numpy(np.float64)])
    frames = d.frame.to_numpy(np.int64)
    bounds = np.searchsorted(frames, np.arange(1, n_frames + 2))
    return [arr[bounds[i]:bounds[i + 1]] for i in range(n_frames)]


def _inputs_trackers(slices: list[np.ndarray]) -> list:
    import supervision as sv

    out = []
    for a in slices:
        if len(a):
            out.append(sv.Detections(xyxy=a[:, :4].copy(), confidence=a[:, 4].copy(),
                                     class_id=np.zeros(len(a), dtype=int)))
        else:
            out.append(sv.Detections.empty())
    return out


def _inputs_boxmot(slices: list[np.ndarray]) -> list[np.ndarray]:
    return [np.column_stack([a, np.zeros(len(a))]) if len(a) else np.zeros((0, 6)) for a in slices]


def _rows_trackers(out) -> np.ndarray:
    """``(k, 6)`` rows ``id, x1, y1, x2, y2, score`` of confirmed tracks (tracker_id -1 = not confirmed)."""
    if len(out) == 0 or out.tracker_id is None:
        return np.zeros((0, 6))
    keep = np.asarray(out.tracker_id) >= 0
    conf = out.confidence if out.confidence is not None else np.ones(len(out))
    return np.column_stack([np.asarray(out.tracker_id)[keep], out.xyxy[keep], np.asarray(conf)[keep]])


def _rows_boxmot(out: np.ndarray) -> np.ndarray:
    if len(out) == 0:
        return np.zeros((0, 6))
    return np.column_stack([out[:, 4], out[:, 0:4], out[:, 5]])


def _to_tracks(rows_per_frame: list[np.ndarray]) -> pd.DataFrame:
    parts = [np.column_stack([np.full(len(r), f), r]) for f, r in enumerate(rows_per_frame, start=1) if len(r)]
    if not parts:
        return empty(TRACK_COLUMNS)
    a = np.concatenate(parts)
    df = pd.DataFrame({"frame": a[:, 0], "id": a[:, 1], "x": a[:, 2], "y": a[:, 3],
                       "w": a[:, 4] - a[:, 2], "h": a[:, 5] - a[:, 3], "score": a[:, 6]})
    return typed(df, TRACK_COLUMNS).sort_values(["frame", "id"], kind="stable").reset_index(drop=True)


def run_peer(name: str, dets: pd.DataFrame, fps: float, width: int, height: int, n_frames: int,
             params: dict | None = None) -> tuple[pd.DataFrame, float]:
    """Track ``dets`` (DET_COLUMNS) with peer ``name``; returns ``(tracks in TRACK_COLUMNS, update seconds)``.

    Every frame 1..n_frames goes through ``update`` (empty frames too, so tracks age). ``params``
    overrides the library defaults. boxmot gets one blank ``height x width`` frame, allocated once,
    because it reads the image size from the frame.
    """
    peer = resolve(name)
    tracker = make_tracker(peer, fps, params)
    slices = _frame_slices(dets, n_frames)
    if peer.library == "trackers":
        inputs = _inputs_trackers(slices)
        update: Callable = tracker.update
        to_rows = _rows_trackers
    else:
        inputs = _inputs_boxmot(slices)
        blank = np.zeros((int(height), int(width), 3), dtype=np.uint8)
        update = lambda d, _u=tracker.update, _b=blank: _u(d, _b)  # noqa: E731
        to_rows = _rows_boxmot
    raw = []
    t0 = time.perf_counter()
    for inp in inputs:
        raw.append(update(inp))
    seconds = time.perf_counter() - t0
    return _to_tracks([to_rows(r) for r in raw]), seconds


def _as_sequence(s):
    from lgmot.data import Sequence

    return s if isinstance(s, Sequence) else Sequence.from_path(Path(s))


def peer_throughput(name: str, sequences: Iterable, repeats: int = 3, min_score: float = 0.0) -> float:
    """Association frames per second of peer ``name`` over ``sequences`` (Sequence objects or folders).

    Total frames / total ``update`` seconds, each sequence timed ``repeats`` times and its fastest run
    kept (the machine is shared; the tracks are deterministic, so only the timing varies).
    Meant for ``trackers``' ByteTrack and OC-SORT (``"ByteTrack"``, ``"OC-SORT"``) but works for any peer.
    """
    frames, seconds = 0, 0.0
    for s in map(_as_sequence, sequences):
        i = s.info
        d = s.detections
        d = d[confident(d.score.to_numpy(), min_score)].reset_index(drop=True)  # what lgmot tracks
        best = min(run_peer(name, d, i.fps, i.width, i.height, i.length)[1] for _ in range(max(1, repeats)))
        frames += i.length
        seconds += best
    return frames / seconds if seconds > 0 else float("inf")


def track_folder(name: str, root: Path, out: Path, min_score: float = 0.0) -> dict:
    """A peer's whole job on a MOT folder, as a user runs it: read each sequence's public
    detections, track them, write ``<out>/<seq>.txt`` (lgmot's reader and writer, so both sides do
    the same I/O). Returns the summed ``update``-loop seconds and frames."""
    from lgmot.data import Sequence, write_results

    out.mkdir(parents=True, exist_ok=True)
    loop, frames = 0.0, 0
    for p in sorted(root.iterdir()):
        if not (p / "seqinfo.ini").is_file():
            continue
        s = Sequence.from_path(p)
        i = s.info
        d = s.detections
        d = d[confident(d.score.to_numpy(), min_score)].reset_index(drop=True)
        tracks, seconds = run_peer(name, d, i.fps, i.width, i.height, i.length)
        write_results(out / f"{s.name}.txt", tracks)
        loop += seconds
        frames += i.length
    return {"update_s": loop, "frames": frames}


if __name__ == "__main__":  # one peer's whole process (benchmarks/speed.py times it from outside)
    import argparse
    import json

    ap = argparse.ArgumentParser(description="Track a MOT folder's public detections with a peer tracker.")
    ap.add_argument("peer")
    ap.add_argument("root", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--min-score", type=float, default=0.0)
    a = ap.parse_args()
    print(json.dumps(track_folder(a.peer, a.root, a.out, a.min_score)))
