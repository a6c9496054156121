"""Speed, memory and scale of lgmot, all measured in one run on one machine.

    python benchmarks/speed.py [--quick] [--model CKPT] [--e2e-frames 100] [--train-iters 4]

Sections (results in benchmarks/results/speed.{json,md,png}):

1. association: frames per second of graph building, message passing, rounding, stitching and
   post-processing (``Tracker.track_detections``) on the MOT15 train public detections, 11
   sequences, no appearance. Detection and appearance are excluded. The model is the shipped
   default if installed, else a freshly initialised ``HierarchicalMPN(preset('lgmot').model)``
   (seed 0); the output says which.
2. peers: ByteTrack and OC-SORT from the ``trackers`` package on the same detections
   (``benchmarks/peers.py``: time inside their ``update`` loop, fastest of 3 per sequence); and
   one lgmot worker against ByteTrack interleaved sequence by sequence (the per-core ratio).
3. scaling: synthetic moving boxes, 10/50/100/200 objects per frame x 500/1,000/5,000 frames,
   each configuration in a fresh subprocess (wall time of ``track_detections`` and the peak RSS
   of that process). Edges are scored by the MPN (full forward pass, its cost is counted) but
   linked by the ground-truth flow labels, so the hierarchy merges as a good model would: an
   untrained model links nothing and every upper level would then hold all detections of a
   window (a cost no trained model pays).
4. training: clips per second of ``lgmot.train.clip_loss`` + backward + Adam step on the MOT15
   training clips (no appearance, no language targets), at full depth; time per epoch.
5. end to end on PETS09-S2L1 (video): built-in detector, MobileNetV2 appearance and tracking,
   FPS per stage on the first ``--e2e-frames`` frames.
6. whole process, as a user times it: ``lgmot track`` on the 11 MOT15 train sequences (public
   detections, the shipped model), wall time from process start to its last result file, beside
   each peer's whole process on the same detections (a fresh Python that imports the peer, reads
   the same det files with lgmot's reader, runs the update loop and writes the same result files)
   and that process's update-loop time. The runs alternate (lgmot, peer, peer, lgmot, ...), best
   of ``--whole-repeats`` (3) each; ratios come from the same run.

Graph and MPN ops run on one thread (``lgmot.threads.single_thread``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lgmot.track.parallel import default_clip_workers, resolve_backend

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SHARED = HERE.parents[1] / "shared" / "data"
MOT15 = Path(os.environ.get("LGMOT_MOT15", SHARED / "mot15_train"))
PETS = Path(os.environ.get("LGMOT_PETS", SHARED / "pets09_s2l1"))
RESULTS = HERE / "results"
DENSITIES = (10, 50, 100, 200)
LENGTHS = (500, 1000, 5000)


# --------------------------------------------------------------------------------------------
# model and scorers
def load_benchmark_model(path: str | None):
    """(model, config, description): ``path``, else the shipped default, else fresh weights; in
    the numpy inference form that ``lgmot track`` runs (``lgmot.model.infer``)."""
    from lgmot.model.infer import InferenceModel, load_inference_model
    from lgmot.track.run import DEFAULT_MODEL

    p = Path(path) if path else DEFAULT_MODEL
    if p.exists():
        model, cfg = load_inference_model(p)
        return model, cfg, f"checkpoint {p.name} (numpy inference)"
    import torch

    from lgmot.config import preset
    from lgmot.model import HierarchicalMPN

    torch.manual_seed(0)
    cfg = preset("lgmot")
    return (InferenceModel.from_torch(HierarchicalMPN(cfg.model)), cfg,
            "fresh HierarchicalMPN(preset('lgmot').model), seed 0 (no default model installed)")


class MpnThenGtScorer:
    """Runs the MPN on every graph (its cost is what is timed) and links by the GT flow labels."""

    def __init__(self, model):
        from lgmot.track.tracker import ModelScorer

        self.mpn = ModelScorer(model)

    def __call__(self, level, tracklets, graph):
        from lgmot.track.hierarchy import oracle_scorer

        self.mpn(level, tracklets, graph)
        return oracle_scorer(level, tracklets, graph)


# --------------------------------------------------------------------------------------------
# 1 + 2: association throughput on MOT15, and the peers
def mot15_sequences():
    from lgmot.data import Sequence

    return [Sequence.from_path(p) for p in sorted(MOT15.iterdir()) if (p / "seqinfo.ini").is_file()]


def association(model, cfg, repeats: int, gt_links: bool = False, workers: int = 1, backend: str = "auto") -> dict:
    """``gt_links``: the MPN still runs on every graph, but edges are linked by the GT flow labels
    (what a model that links correctly would make the hierarchy do)."""
    from lgmot.track import Tracker
    from lgmot.track.run import gt_identities

    tracker = Tracker(cfg, scorer=MpnThenGtScorer(model), workers=workers, backend=backend) if gt_links else \
        Tracker(cfg, model, workers=workers, backend=backend)
    mode = resolve_backend(backend) if workers > 1 else "in process"
    label = f"{workers} worker(s), {mode}"
    per_seq, frames, seconds, dets = [], 0, 0.0, 0
    for s in mot15_sequences():
        d = s.detections
        gid = gt_identities(s, d) if gt_links else None
        best = float("inf")
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            tracks = tracker.track_detections(d, s.info.fps, gt_ids=gid)
            best = min(best, time.perf_counter() - t0)
        per_seq.append({"sequence": s.name, "frames": s.info.length, "detections": len(d),
                        "seconds": round(best, 4), "fps": round(s.info.length / best, 1),
                        "tracks": int(tracks.id.nunique())})
        frames += s.info.length
        dets += len(d)
        seconds += best
        print(f"  lgmot{' (GT links)' if gt_links else ''} {label} {s.name}: {s.info.length} frames "
              f"in {best:.2f}s", flush=True)
    return {"frames": frames, "detections": dets, "seconds": round(seconds, 3), "workers": workers,
            "backend": mode,
            "fps": round(frames / seconds, 1), "repeats": repeats, "per_sequence": per_seq}


def peers(repeats: int, min_score: float = 0.0) -> dict:
    """The peers on the detections lgmot tracks (the model's ``min_score`` applied to both)."""
    from peers import available, peer_throughput

    seqs = mot15_sequences()
    out = {}
    for name in ("ByteTrack", "OC-SORT"):
        if not available(name):
            out[name] = None
            continue
        out[name] = round(peer_throughput(name, seqs, repeats=repeats, min_score=min_score), 1)
        print(f"  {name}: {out[name]} FPS", flush=True)
    return out


def per_core_interleaved(model, cfg, repeats: int = 3) -> dict:
    """One lgmot worker against ByteTrack's update loop, sequence by sequence in turn (fastest of
    ``repeats`` each), so that a load changing over minutes hits both alike."""
    from lgmot.detect import confident
    from lgmot.track import Tracker
    from peers import available, run_peer

    if not available("ByteTrack"):
        return {}
    tracker = Tracker(cfg, model, workers=1)
    lg = bt = 0.0
    frames = 0
    for s in mot15_sequences():
        d, i = s.detections, s.info
        dp = d[confident(d.score.to_numpy(), cfg.tracker.min_score)].reset_index(drop=True)
        best_l = best_b = float("inf")
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            tracker.track_detections(d, i.fps)
            best_l = min(best_l, time.perf_counter() - t0)
            best_b = min(best_b, run_peer("ByteTrack", dp, i.fps, i.width, i.height, i.length)[1])
        lg, bt, frames = lg + best_l, bt + best_b, frames + i.length
    return {"lgmot_fps": round(frames / lg, 1), "bytetrack_fps": round(frames / bt, 1), "ratio": round(bt / lg, 3),
            "repeats": repeats}


# --------------------------------------------------------------------------------------------
# 6: whole processes, from start to the last result file
LGMOT_MAIN = "import sys; from lgmot.cli import app; sys.argv[0] = 'lgmot'; sys.exit(app())"  # the console script


def timed_process(cmd: list[str], out: Path) -> dict:
    """Run ``cmd`` (which writes result files into ``out``); wall seconds to its exit and to the
    newest file in ``out``, both from just before the process starts."""
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    t0 = time.time()
    p0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    exit_s = time.perf_counter() - p0
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {r.stderr.strip()[-500:]}")
    files = list(out.glob("*.txt"))
    last = max(f.stat().st_mtime for f in files) - t0
    return {"exit_s": exit_s, "last_file_s": last, "files": len(files), "stdout": r.stdout}


def whole_process(repeats: int, min_score: float, peer_names=("ByteTrack", "OC-SORT")) -> dict:
    """lgmot's and the peers' whole processes on the MOT15 train folder, alternating, best of
    ``repeats`` each (see the module doc, section 6)."""
    import tempfile

    from peers import available

    frames = sum(s.info.length for s in mot15_sequences())
    names = [n for n in peer_names if available(n)]
    runs: dict[str, list[dict]] = {"lgmot": [], **{n: [] for n in names}}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            res = timed_process([sys.executable, "-c", LGMOT_MAIN, "track", str(MOT15), "--out", f"{tmp}/lgmot", "-q"],
                                Path(tmp) / "lgmot")
            runs["lgmot"].append(res)
            print(f"  run {r + 1}: lgmot track {res['last_file_s']:.2f}s to the last file ({res['files']} files)",
                  flush=True)
            for n in names:
                res = timed_process([sys.executable, str(HERE / "peers.py"), n, str(MOT15), "--out", f"{tmp}/{n}",
                                     "--min-score", repr(min_score)], Path(tmp) / n)
                res.update(json.loads(res.pop("stdout").strip().splitlines()[-1]))
                runs[n].append(res)
                print(f"  run {r + 1}: {n} process {res['last_file_s']:.2f}s to the last file, update loop "
                      f"{res['update_s']:.2f}s", flush=True)
    for v in runs.values():
        for x in v:
            x.pop("stdout", None)
    best = {k: min(x["last_file_s"] for x in v) for k, v in runs.items()}
    out = {"frames": frames, "repeats": repeats, "runs": runs,
           "lgmot": {"seconds": round(best["lgmot"], 3), "fps": round(frames / best["lgmot"], 1)}, "peers": {}}
    for n in names:
        loop = min(x["update_s"] for x in runs[n])
        out["peers"][n] = {"process_seconds": round(best[n], 3), "process_fps": round(frames / best[n], 1),
                           "update_seconds": round(loop, 3), "update_fps": round(frames / loop, 1),
                           "lgmot_vs_update": round(loop / best["lgmot"], 3),
                           "lgmot_vs_process": round(best[n] / best["lgmot"], 3)}
    return out


# --------------------------------------------------------------------------------------------
# 3: scaling on synthetic detections
def synthetic_detections(n_objects: int, n_frames: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``n_objects`` boxes alive in every frame of a 1920x1080 scene: constant velocity with
    bounces, lifetimes of 50-400 frames (a dead object is replaced by a new identity), 5% missed
    detections, 1.5 px box noise. Returns (DET_COLUMNS table, GT id per row)."""
    rng = np.random.default_rng(seed)
    W, H = 1920.0, 1080.0

    def spawn(k):
        w = rng.uniform(20, 70, k)
        return (np.column_stack([rng.uniform(0, W - w), rng.uniform(0, H - 2.5 * w), w, 2.5 * w]),
                rng.normal(0, 3, (k, 2)), rng.integers(50, 401, k))

    box, vel, life = spawn(n_objects)
    ids = np.arange(n_objects)
    next_id = n_objects
    rows_f, rows_b, rows_id = [], [], []
    for f in range(1, n_frames + 1):
        seen = rng.random(n_objects) >= 0.05
        noisy = box[seen] + rng.normal(0, 1.5, (int(seen.sum()), 4)) * [1, 1, 0.3, 0.3]
        rows_f.append(np.full(int(seen.sum()), f))
        rows_b.append(noisy)
        rows_id.append(ids[seen])
        box[:, :2] += vel
        for ax, lim in ((0, W), (1, H)):
            size = box[:, 2 + ax]
            out = (box[:, ax] < 0) | (box[:, ax] + size > lim)
            vel[out, ax] *= -1
            box[:, ax] = np.clip(box[:, ax], 0, lim - size)
        life -= 1
        dead = life <= 0
        if dead.any():
            k = int(dead.sum())
            box[dead], vel[dead], life[dead] = spawn(k)
            ids[dead] = next_id + np.arange(k)
            next_id += k
    b = np.concatenate(rows_b)
    b[:, 2:] = np.maximum(b[:, 2:], 2.0)
    frame = np.concatenate(rows_f)
    dets = pd.DataFrame({"frame": frame, "det_id": np.arange(len(frame)), "x": b[:, 0], "y": b[:, 1],
                         "w": b[:, 2], "h": b[:, 3], "score": 1.0})
    return dets, np.concatenate(rows_id)


def rss_mb() -> float:
    """Peak RSS of this process so far, MB.

    ``VmHWM`` of /proc/self/status where available: Linux's ``ru_maxrss`` of a process started
    with fork + exec also counts the parent's resident pages at fork time (it would report the
    benchmark parent's size), while VmHWM belongs to the process's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def pss_mb(pid: int) -> float:
    """Proportional set size of one process, MB (shared pages split between their users)."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


class MemorySampler:
    """Peak of the summed PSS of this process and its children (the forked clip workers),
    sampled every ``interval`` s on a background thread: the memory the whole job really holds
    (RSS would count the pages a forked worker shares with its parent twice). Linux only."""

    def __init__(self, interval: float = 0.2):
        import threading

        self.interval, self.peak_mb = interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> float:
        me = os.getpid()
        pids = [me]
        try:
            pids += [int(x) for x in Path(f"/proc/{me}/task/{me}/children").read_text().split()]
        except OSError:
            pass
        total = 0.0
        for pid in pids:
            try:
                total += pss_mb(pid)
            except OSError:  # a worker exited between listing and reading
                pass
        self.peak_mb = max(self.peak_mb, total)
        return total

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def scale_worker(n_objects: int, n_frames: int, model_path: str | None) -> None:
    """Runs in a fresh subprocess; prints one JSON line."""
    from lgmot.track import Tracker

    model, cfg, desc = load_benchmark_model(model_path)
    dets, gid = synthetic_detections(n_objects, n_frames)
    tracker = Tracker(cfg, scorer=MpnThenGtScorer(model))  # the default clip workers and backend
    before = rss_mb()
    with MemorySampler() as mem:
        t0 = time.perf_counter()
        tracks = tracker.track_detections(dets, 30.0, gt_ids=gid)
        seconds = time.perf_counter() - t0
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print(json.dumps({"objects": n_objects, "frames": n_frames, "detections": len(dets),
                      "seconds": round(seconds, 3), "fps": round(n_frames / seconds, 1),
                      "peak_mb": round(mem.peak_mb, 1), "peak_rss_mb": round(rss_mb(), 1),
                      "worker_peak_rss_mb": round(workers_rss, 1), "rss_before_tracking_mb": round(before, 1),
                      "workers": tracker.workers, "backend": resolve_backend(tracker.backend),
                      "tracks": int(tracks.id.nunique()), "true_ids": int(len(np.unique(gid)))}))


def scaling(model_path: str | None, densities, lengths, timeout: float) -> list[dict]:
    rows = []
    for n in densities:
        skip_longer = False
        for f in lengths:
            if skip_longer:
                rows.append({"objects": n, "frames": f, "status": "not run (a shorter run timed out)"})
                continue
            done = [r for r in rows if r["objects"] == n and r.get("status") == "ok"]
            if done:  # linear in length: extrapolate from the longest run so far at this density
                est = done[-1]["seconds"] * f / done[-1]["frames"]
                if est > timeout:
                    rows.append({"objects": n, "frames": f, "status": f"skipped: about {est:.0f}s expected "
                                 f"(> {timeout:.0f}s limit per configuration)"})
                    print(f"  {n} objects x {f} frames: skipped (about {est:.0f}s expected)", flush=True)
                    continue
            cmd = [sys.executable, __file__, "--scale-worker", str(n), str(f)]
            if model_path:
                cmd += ["--model", model_path]
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                rows.append({"objects": n, "frames": f, "status": f"not run to the end (over {timeout:.0f}s)"})
                print(f"  {n} objects x {f} frames: over {timeout:.0f}s, stopped", flush=True)
                skip_longer = True
                continue
            if r.returncode != 0:
                rows.append({"objects": n, "frames": f, "status": f"failed: {r.stderr.strip()[-300:]}"})
                continue
            row = json.loads(r.stdout.strip().splitlines()[-1])
            row["status"] = "ok"
            rows.append(row)
            print(f"  {n} objects x {f} frames: {row['seconds']:.1f}s, peak memory {row['peak_mb']:.0f} MB "
                  f"(main process peak RSS {row['peak_rss_mb']:.0f} MB)", flush=True)
    return rows


def linearity(rows: list[dict]) -> list[dict]:
    """t(5000) / (5 * t(1000)) per density."""
    by = {(r["objects"], r["frames"]): r for r in rows if r.get("status") == "ok"}
    out = []
    for n in sorted({r["objects"] for r in rows}):
        a, b = by.get((n, 1000)), by.get((n, 5000))
        if a and b:
            out.append({"objects": n, "ratio_5000_vs_5x1000": round(b["seconds"] / (5 * a["seconds"]), 3)})
    return out


# --------------------------------------------------------------------------------------------
# 4: training throughput
def training(cfg, iters: int) -> dict:
    import torch

    from lgmot.model import HierarchicalMPN
    from lgmot.train.dataset import make_clips
    from lgmot.train.loop import clip_loss
    from lgmot.train.prepare import prepare_train_sequence
    from lgmot.threads import single_thread

    t0 = time.perf_counter()
    seqs = [prepare_train_sequence(s, cfg, appearance=False) for s in mot15_sequences()]
    prep = time.perf_counter() - t0
    clips = [c for s in seqs for c in make_clips(s, cfg.tracker.frames_per_graph, cfg.train.train_frame_overlap)]
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    order = np.random.default_rng(0).permutation(len(clips))
    bs, depth = cfg.train.batch_size, cfg.tracker.depth
    model.train()
    done, seconds = 0, 0.0
    for it in range(iters):
        batch = [clips[i] for i in order[(it * bs) % len(clips):][:bs]]
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with single_thread():
            loss = torch.stack([clip_loss(model, c, cfg, depth).total for c in batch]).mean()
            loss.backward()
        opt.step()
        seconds += time.perf_counter() - t1
        done += len(batch)
    cps = done / seconds
    return {"clips": len(clips), "iterations": iters, "batch_size": bs, "depth": depth,
            "clips_per_s": round(cps, 2), "iterations_per_s": round(iters / seconds, 3),
            "epoch_s": round(len(clips) / cps, 1), "prepare_s": round(prep, 1),
            "note": "no appearance, no language targets, all levels active (the slowest phase)"}


# --------------------------------------------------------------------------------------------
# 5: end to end on the PETS09-S2L1 video
def end_to_end(model, cfg, n_frames: int) -> dict:
    from lgmot.data import Sequence
    from lgmot.detect import detect, detect_preset
    from lgmot.embed import default_encoder, embed_sequence
    from lgmot.track import Tracker

    seq = Sequence.from_path(PETS).truncated(n_frames)
    t0 = time.perf_counter()
    dets = detect(seq, detect_preset("builtin"), progress=False)
    t_det = time.perf_counter() - t0
    t0 = time.perf_counter()
    enc = default_encoder()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    app = embed_sequence(seq, dets, enc, progress=False)
    t_app = time.perf_counter() - t0
    tracker = Tracker(cfg, model)
    t0 = time.perf_counter()
    tracks = tracker.track_detections(dets, seq.info.fps, appearance=app)
    t_trk = time.perf_counter() - t0
    n = seq.info.length
    total = t_det + t_app + t_trk
    return {"sequence": seq.name, "frames": n, "detections": len(dets), "tracks": int(tracks.id.nunique()),
            "detector": "builtin (YOLOv3-tiny, 608)", "encoder": "MobileNetV2 (default)",
            "detect_fps": round(n / t_det, 2), "appearance_fps": round(n / t_app, 2),
            "tracking_fps": round(n / t_trk, 1), "total_fps": round(n / total, 2),
            "detect_s": round(t_det, 2), "appearance_s": round(t_app, 2), "tracking_s": round(t_trk, 2),
            "encoder_load_s": round(t_load, 2)}


# --------------------------------------------------------------------------------------------
# report
def fmt(x, nd=0):
    return "-" if x is None else f"{x:,.{nd}f}"


def write_markdown(res: dict) -> str:
    a, p = res["association"], res["peers"]
    one = res.get("association_1_worker") or a
    thr = res.get("association_threads")
    kind = {"process": "forked processes", "thread": "threads", "in process": "in process"}[a.get("backend", "in process")]
    lines = ["# lgmot speed", "",
             f"Machine: {res['machine']['cpus']} CPU cores, load average {res['machine']['load_before']} before / "
             f"{res['machine']['load_after']} after the run. Each graph's ops run on 1 intra-op thread; lgmot's "
             f"default tracks {a.get('workers', 1)} clips of a sequence concurrently ({kind}). Model: {res['model']}.", "",
             "## Association throughput, MOT15 train public detections (11 sequences, 5,500 frames, no appearance)", "",
             f"Detections with score < {res.get('min_score', 0):g} (the model's `min_score`) are dropped for every "
             "tracker, so all rows track the same boxes.", "",
             "| tracker | cores used | FPS | lgmot (default) / tracker | lgmot (1 worker) / tracker |",
             "|---|---:|---:|---:|---:|",
             f"| lgmot, {a.get('workers', 1)} clip workers, {kind} (default) | {a.get('workers', 1)} | {fmt(a['fps'])} | 1.00 | "
             f"{one['fps'] / a['fps']:.2f} |"]
    if thr:
        lines.append(f"| lgmot, {thr['workers']} clip threads | {thr['workers']} | {fmt(thr['fps'])} | "
                     f"{a['fps'] / thr['fps']:.2f} | {one['fps'] / thr['fps']:.2f} |")
    if one is not a:
        lines.append(f"| lgmot, 1 worker | 1 | {fmt(one['fps'])} | {a['fps'] / one['fps']:.2f} | 1.00 |")
    g = res.get("association_gt_links")
    if g:
        lines.append(f"| lgmot, MPN run but links from GT (a model that links correctly) | {g.get('workers', 1)} | "
                     f"{fmt(g['fps'])} | {a['fps'] / g['fps']:.2f} | - |")
    for name, fps in p.items():
        lines.append(f"| trackers {name} | 1 | {fmt(fps)} | {fmt(a['fps'] / fps, 2) if fps else '-'} | "
                     f"{fmt(one['fps'] / fps, 2) if fps else '-'} |")
    pc = res.get("per_core_interleaved")
    if pc:
        lines += ["", f"Per core, interleaved: one lgmot worker {fmt(pc['lgmot_fps'])} FPS and ByteTrack's update loop "
                  f"{fmt(pc['bytetrack_fps'])} FPS, timed sequence by sequence in turn (fastest of {pc['repeats']} each): "
                  f"**{pc['ratio']:.2f}x**. The table's rows are timed section by section, minutes apart."]
    lines += ["", "Ratios: lgmot's FPS over the tracker's. lgmot: fastest of %d runs per "
              "sequence, `Tracker.track_detections` (graphs, MPN, rounding, stitching, post-processing; with "
              "processes also forking the workers, once per sequence); peers: time inside `update`, fastest of 3 per "
              "sequence; they are single-threaded, online (frame by frame), so they cannot split a sequence "
              "over cores as an offline tracker's independent clips can." % a["repeats"], ""]
    w = res.get("whole_process")
    if w:
        lw = w["lgmot"]
        lines += ["## Whole process: `lgmot track` on MOT15 train, start to last result file", "",
                  f"{w['frames']:,} frames, 11 sequences, public detections, shipped model; best of {w['repeats']} "
                  "runs each, the runs alternating between the trackers.", "",
                  "| process | seconds | FPS | lgmot's FPS / this FPS |", "|---|---:|---:|---:|",
                  f"| `lgmot track` (whole process, default clip workers) | {lw['seconds']:.2f} | {fmt(lw['fps'])} | 1.00 |"]
        for n, q in w["peers"].items():
            lines += [f"| trackers {n}, whole process (Python start, imports, reading, update loop, writing) | "
                      f"{q['process_seconds']:.2f} | {fmt(q['process_fps'])} | {q['lgmot_vs_process']:.2f} |",
                      f"| trackers {n}, its update loop only | {q['update_seconds']:.2f} | {fmt(q['update_fps'])} | "
                      f"{q['lgmot_vs_update']:.2f} |"]
        lines += ["", "A peer's whole process: a fresh Python that imports the peer library, reads the same det "
                  "files with lgmot's reader, applies the same `min_score`, tracks and writes the same MOT result "
                  "files (`benchmarks/peers.py`). Its update-loop time is measured inside that process.", ""]
    if not res["scaling"]:
        lines += ["(Scaling not run.)", ""]
    lines += [] if not res["scaling"] else ["## Scaling on synthetic detections", "",
              "| objects/frame | frames | detections | seconds | FPS | peak memory (MB) | main process peak RSS (MB) |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["scaling"]:
        if r.get("status") == "ok":
            lines.append(f"| {r['objects']} | {r['frames']:,} | {r['detections']:,} | {r['seconds']:.1f} | "
                         f"{r['fps']:,.0f} | {r['peak_mb']:,.0f} | {r['peak_rss_mb']:,.0f} |")
        else:
            lines.append(f"| {r['objects']} | {r['frames']:,} | - | {r['status']} | - | - | - |")
    if res["linearity"]:
        lines += ["", "Linearity, t(5,000 frames) / (5 x t(1,000 frames)): " + ", ".join(
            f"{l['objects']} objects {l['ratio_5000_vs_5x1000']:.2f}" for l in res["linearity"]) + "."]
    if res["scaling"]:
        lines += ["", "Each configuration runs in a fresh process with the default clip workers. Peak memory: the "
                  "largest sum of the proportional set sizes (PSS) of that process and its forked workers, sampled "
                  "every 200 ms (Python, numpy and the model included; pages a worker shares with its parent are "
                  "counted once). Main process peak RSS: its own high-water mark. Edges scored by the MPN, linked by "
                  "GT flow labels.", ""]
    t = res.get("training")
    if t:
        lines += ["## Training throughput (MOT15, no appearance)", "",
                  f"{t['clips_per_s']:.2f} clips/s ({t['iterations_per_s']:.3f} iterations/s at batch {t['batch_size']}, "
                  f"depth {t['depth']}), {t['clips']} clips per epoch -> {t['epoch_s']:.0f} s per epoch "
                  f"(estimated from {t['iterations']} iterations).", ""]
    e = res.get("end_to_end")
    if e:
        lines += [f"## End to end, {e['sequence']} (first {e['frames']} frames of the video)", "",
                  "| stage | FPS | seconds |", "|---|---:|---:|",
                  f"| detection ({e['detector']}) | {e['detect_fps']:.2f} | {e['detect_s']:.1f} |",
                  f"| appearance ({e['encoder']}) | {e['appearance_fps']:.2f} | {e['appearance_s']:.1f} |",
                  f"| tracking | {e['tracking_fps']:.1f} | {e['tracking_s']:.2f} |",
                  f"| total | {e['total_fps']:.2f} | {e['detect_s'] + e['appearance_s'] + e['tracking_s']:.1f} |", ""]
    return "\n".join(lines) + "\n"


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in res["scaling"] if r.get("status") == "ok"]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for f in sorted({r["frames"] for r in ok}):
        rr = sorted((r for r in ok if r["frames"] == f), key=lambda r: r["objects"])
        ax[0].plot([r["objects"] for r in rr], [r["seconds"] for r in rr], "o-", label=f"{f:,} frames")
        ax[1].plot([r["objects"] for r in rr], [r["peak_mb"] for r in rr], "o-", label=f"{f:,} frames")
    ax[0].set(xlabel="objects per frame", ylabel="tracking time (s)", yscale="log", title="time vs density and length")
    ax[1].set(xlabel="objects per frame", ylabel="peak memory, PSS of all processes (MB)", title="memory vs density and length")
    for a in ax:
        a.grid(alpha=0.3)
        a.legend()
    fig.suptitle(f"lgmot on synthetic detections (association FPS on MOT15: {res['association']['fps']:,.0f})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint (default: the shipped model, else fresh weights)")
    ap.add_argument("--quick", action="store_true", help="small smoke run (no 5,000-frame or 200-object configs)")
    ap.add_argument("--repeats", type=int, default=3, help="lgmot timings per MOT15 sequence (fastest kept; 3 as for the peers)")
    ap.add_argument("--scale-timeout", type=float, default=400.0, help="seconds per scaling configuration")
    ap.add_argument("--train-iters", type=int, default=4)
    ap.add_argument("--e2e-frames", type=int, default=100)
    ap.add_argument("--whole-repeats", type=int, default=3, help="whole-process runs per tracker (fastest kept)")
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["peers", "scaling", "training", "e2e", "whole", "threads", "gt-links"])
    ap.add_argument("--out", default=str(RESULTS), help="folder of the result files")
    ap.add_argument("--name", default="speed", help="result files' stem: NAME.json, NAME.md, NAME.png")
    ap.add_argument("--scale-worker", nargs=2, type=int, metavar=("OBJECTS", "FRAMES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.scale_worker:
        scale_worker(*args.scale_worker, args.model)
        return

    from lgmot.data.motio import atomic_write_bytes, atomic_write_text

    t_start = time.perf_counter()
    res: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "load_before": [round(x, 2) for x in os.getloadavg()],
                             "graph_threads": int(os.environ.get("LGMOT_GRAPH_THREADS", "1"))}}
    model, cfg, desc = load_benchmark_model(args.model)
    res["model"] = desc
    print(f"model: {desc}\n[1/6] association throughput on MOT15", flush=True)
    workers = default_clip_workers()
    res["association_1_worker"] = association(model, cfg, args.repeats, workers=1)
    print(f"  lgmot, 1 worker: {res['association_1_worker']['fps']} FPS", flush=True)
    if workers > 1:
        if "threads" not in args.skip:
            res["association_threads"] = association(model, cfg, args.repeats, workers=workers, backend="thread")
            print(f"  lgmot, {workers} clip threads: {res['association_threads']['fps']} FPS", flush=True)
        res["association"] = association(model, cfg, args.repeats, workers=workers)
    else:
        res["association"] = res["association_1_worker"]
    print(f"  lgmot, default ({workers} workers, {res['association']['backend']}): {res['association']['fps']} FPS",
          flush=True)
    if "gt-links" not in args.skip:
        res["association_gt_links"] = association(model, cfg, args.repeats, gt_links=True, workers=workers)
        print(f"  lgmot, MPN + GT links: {res['association_gt_links']['fps']} FPS", flush=True)
    print("[2/6] peers", flush=True)
    res["min_score"] = cfg.tracker.min_score
    res["peers"] = {} if "peers" in args.skip else peers(3, cfg.tracker.min_score)
    res["ratio_to_peers"] = {k: round(res["association"]["fps"] / v, 3) for k, v in res["peers"].items() if v}
    res["ratio_to_peers_1_worker"] = {k: round(res["association_1_worker"]["fps"] / v, 3)
                                      for k, v in res["peers"].items() if v}
    res["per_core_interleaved"] = {} if "peers" in args.skip else per_core_interleaved(model, cfg, 3)
    print(f"  per core, interleaved with ByteTrack: {res['per_core_interleaved']}", flush=True)
    print("[3/6] scaling", flush=True)
    dens = DENSITIES[:2] if args.quick else DENSITIES
    lens = LENGTHS[:2] if args.quick else LENGTHS
    res["scaling"] = [] if "scaling" in args.skip else scaling(args.model, dens, lens, args.scale_timeout)
    res["linearity"] = linearity(res["scaling"])
    print("[4/6] training", flush=True)
    res["training"] = None if "training" in args.skip else training(cfg, 2 if args.quick else args.train_iters)
    print(f"  {res['training']}", flush=True)
    print("[5/6] end to end", flush=True)
    res["end_to_end"] = None if "e2e" in args.skip else end_to_end(model, cfg, 20 if args.quick else args.e2e_frames)
    print(f"  {res['end_to_end']}", flush=True)
    print("[6/6] whole process", flush=True)
    res["whole_process"] = None if "whole" in args.skip else whole_process(args.whole_repeats, cfg.tracker.min_score)
    res["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    res["total_s"] = round(time.perf_counter() - t_start, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{args.name}.json", json.dumps(res, indent=1) + "\n")
    md = write_markdown(res)
    atomic_write_text(out / f"{args.name}.md", md)
    if res["scaling"]:
        tmp = out / f".{args.name}.png.tmp.png"
        plot(res, tmp)
        atomic_write_bytes(out / f"{args.name}.png", tmp.read_bytes())
        tmp.unlink()
    print(md)


if __name__ == "__main__":
    main()
