"""The post-processing after tracking (low-score recovery, interpolation, smoothing) as benchmarks
choose and apply it: a small grid of ``TrackerConfig`` settings, the choice on a fold's training
sequences (tracked by that fold's model), and the same settings applied to any tracker's output
(lgmot's or a peer's), one sequence at a time.

The choice is in four stages, each by the mean of HOTA and IDF1 (TrackEval COMBINED over the
training sequences): first recovery (off, or one IoU threshold / end-extrapolation pair) with
interpolation and no smoothing, then crossing repair (off, or one ratio / contact distance pair)
on top of it, then the smoother on top of both, then the shortest track kept (2, 5, 10 or 20
boxes; every tracker's output first loses its shorter tracks, as lgmot's tracker drops them).
"""
from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import replace
from pathlib import Path

#: the recipe's tracking threshold; the public MOT15 detections are already cut at 0.5
FLOOR = 0.1
#: post-processing fields of TrackerConfig the choice sets (the rest stay the recipe's)
FIELDS = ("recover", "recover_min_score", "recover_min_iou", "recover_extrapolate", "untangle", "untangle_ratio",
          "untangle_near", "interpolate", "smooth", "smooth_scale", "smooth_noise", "min_track_len")
#: the reference's post-processing: single boxes dropped, gaps interpolated
INTERP_ONLY = {"recover": False, "untangle": False, "interpolate": True, "smooth": "none", "min_track_len": 2}
RECOVERY_GRID = [{"recover": False}] + [
    {"recover": True, "recover_min_score": FLOOR, "recover_min_iou": iou, "recover_extrapolate": ext}
    for iou in (0.3, 0.5, 0.7) for ext in (0, 5, 15)]
UNTANGLE_GRID = [{"untangle": False}] + [
    {"untangle": True, "untangle_ratio": r, "untangle_near": n} for r in (0.5, 0.7, 0.85) for n in (0.3, 0.5)]
SMOOTH_GRID = [{"smooth": "none"}] + [
    {"smooth": "gp", "smooth_scale": s, "smooth_noise": n}
    for s, n in ((5.0, 1.0), (10.0, 1.0), (20.0, 1.0), (10.0, 0.3), (10.0, 3.0), (5.0, 0.3), (10.0, 0.1), (20.0, 0.3))
] + [{"smooth": "savgol", "smooth_scale": s} for s in (3.0, 7.0, 10.0, 15.0)]
#: the shortest track kept, in boxes before interpolation (2, the reference's, drops single boxes)
MIN_LEN_GRID = [{"min_track_len": n} for n in (2, 5, 10, 20)]


def grid_key() -> str:
    """Identifies the grid (a finished fold chosen on another grid is re-run)."""
    return json.dumps([RECOVERY_GRID, UNTANGLE_GRID, SMOOTH_GRID, MIN_LEN_GRID], sort_keys=True)


@functools.lru_cache(maxsize=None)
def code_key() -> str:
    """SHA-256 of the post-processing's source (``lgmot.solve``): a cached score made by other code is
    recomputed."""
    import hashlib

    import lgmot.solve

    h = hashlib.sha256()
    for f in sorted(Path(lgmot.solve.__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def label(settings: dict) -> str:
    """Short text for a settings dict: what the post-processing includes."""
    parts = []
    if settings.get("min_track_len", 2) > 2:
        parts.append(f"tracks >= {settings['min_track_len']} boxes")
    if settings.get("recover"):
        parts.append(f"recovery (IoU {settings['recover_min_iou']:g}, ends {settings['recover_extrapolate']} f)")
    if settings.get("untangle"):
        parts.append(f"crossing repair (ratio {settings['untangle_ratio']:g}, near {settings['untangle_near']:g})")
    if settings.get("interpolate", True):
        parts.append("interp.")
    sm = settings.get("smooth", "none")
    if sm == "gp":
        parts.append(f"GP smoothing (l {settings['smooth_scale']:g} f, noise {settings['smooth_noise']:g})")
    elif sm == "savgol":
        parts.append(f"SG smoothing (half window {settings['smooth_scale']:g} f)")
    return " + ".join(parts) if parts else "raw"


def tracker_config(base, settings: dict):
    """``base`` (a TrackerConfig) with ``settings`` (fields of :data:`FIELDS`)."""
    return replace(base, **{k: v for k, v in settings.items() if k in FIELDS}).validate()


def candidates(dets, min_score: float, floor: float = FLOOR):
    """The detections a tracker run at ``min_score`` did not use and recovery may add."""
    from lgmot.detect import confident
    from lgmot.solve import low_score_candidates

    if min_score <= 0:
        return dets.iloc[:0]
    return low_score_candidates(dets, confident(dets.score.to_numpy(), min_score), floor)


def apply(raw: dict, cands: dict, fps: dict, tc, out: Path) -> Path:
    """Post-process every sequence's raw tracks (``raw[name]``: tracks without recovery,
    interpolation or smoothing) with TrackerConfig ``tc``; write ``out/<name>.txt``."""
    from lgmot.data import write_results
    from lgmot.solve import finish_tracks

    for n, tracks in raw.items():
        c = cands.get(n)
        if c is not None and len(c):
            c = c[c.score.to_numpy() >= tc.recover_min_score]
        write_results(out / f"{n}.txt", finish_tracks(tracks, tc, fps[n], c))
    return out


def score(data: Path, results: Path, names) -> dict:
    """HOTA, DetA, AssA, MOTA, IDF1 (TrackEval COMBINED) of ``results`` over the sequences ``names``."""
    from lgmot.evaluate import evaluate

    seqmap = results / "_seqmap.txt"
    seqmap.write_text("name\n" + "\n".join(names) + "\n")
    try:
        c = evaluate(data, results, seqmap=seqmap, preproc=False).loc["COMBINED"]
    finally:
        seqmap.unlink()
    return {m: float(c[m]) for m in ("HOTA", "DetA", "AssA", "MOTA", "IDF1")}


def choose(base_tc, raw: dict, cands: dict, fps: dict, data: Path, log=print) -> tuple[dict, list[dict]]:
    """The settings (a dict of :data:`FIELDS`) that maximise (HOTA + IDF1) / 2 over the sequences of
    ``raw`` (a fold's training sequences), recovery first, then crossing repair, then smoothing, then
    the shortest track kept; and every tried row."""
    tried, memo = [], {}

    def run(settings: dict) -> float:
        key = json.dumps(settings, sort_keys=True)
        if key not in memo:
            with tempfile.TemporaryDirectory(prefix="lgmot_choose_") as tmp:
                res = apply(raw, cands, fps, tracker_config(base_tc, settings), Path(tmp) / "r")
                s = score(data, res, list(raw))
            tried.append({"settings": settings, **s})
            log(f"  {label(settings):70s} HOTA {s['HOTA']:.2f} IDF1 {s['IDF1']:.2f}")
            memo[key] = (s["HOTA"] + s["IDF1"]) / 2
        return memo[key]

    best_rec = max(RECOVERY_GRID, key=lambda r: run({**INTERP_ONLY, **r}))
    best_un = max(UNTANGLE_GRID, key=lambda u: run({**INTERP_ONLY, **best_rec, **u}))
    best_sm = max(SMOOTH_GRID, key=lambda sm: run({**INTERP_ONLY, **best_rec, **best_un, **sm}))
    best_len = max(MIN_LEN_GRID, key=lambda n: run({**INTERP_ONLY, **best_rec, **best_un, **best_sm, **n}))
    return {**INTERP_ONLY, **best_rec, **best_un, **best_sm, **best_len}, tried


def save_choice(path: Path, per_sequence: dict) -> None:
    """``per_sequence``: sequence name -> settings dict (the fold's choice), as JSON."""
    from lgmot.data.motio import atomic_write_text

    atomic_write_text(path, json.dumps(per_sequence, indent=1, sort_keys=True))


def load_choice(path: Path) -> dict:
    return json.loads(Path(path).read_text())
