"""PETS09-S2L1 val-half protocol: lgmot without appearance, with MobileNetV2 and with OSNet, against
boxmot's ReID trackers using the same OSNet weights file, on the same detections.

Protocol
--------
* Train: PETS09-S2L1 frames 1-397 with images (appearance), repeated ``--pets-repeat`` times in the
  clip pool because it is the only sequence with images, plus the other 10 MOT15 train sequences
  (public detections, no images: motion only). The CPU recipe (``lgmot.train.recipes.cpu_recipe``)
  on a budget: ``--epochs`` over clips every ``--clip-stride`` frames, lr ``--lr``, a level every
  ``--depth-every`` iterations, starting from ``--init`` (a MOT15 CV fold model that never saw
  PETS09-S2L1; tensors of another shape, the OSNet node input layer, start fresh). The appearance
  variants differ only in ``embed`` (and ``model.node_in_dim``). Seeds ``--seeds``.
* Test: PETS09-S2L1 frames 398-795, public Faster R-CNN detections (and, with ``--detections
  public builtin``, lgmot's built-in YOLOv3-tiny detector), detections with score >= 0.65 (the
  recipe's ``min_score``) for every tracker; TrackEval against the GT of frames 398-795.
* Peers (boxmot 25.0, library defaults, camera-motion compensation off: static camera): BoT-SORT,
  DeepOCSORT, StrongSORT, BoostTrack, each with ReID (boxmot's OSNet backend on the same
  ``osnet_x0_25_msmt17`` file; boxmot accepts only a ``.pt`` name, so it gets a symlink named like
  its zoo file) and without (StrongSORT has no ReID-free mode). Every peer's output gets lgmot's
  post-processing: tracks shorter than ``min_track_len`` (2) dropped, every gap linearly
  interpolated (``lgmot.solve.drop_short``, ``interpolate``), as the lgmot rows.

    mkdir -p runs/base && cp runs/cv_s42/fold2/model.safetensors runs/base/mot15_cv_s42_fold2.safetensors
    nice -n 10 python benchmarks/pets_val_half.py --data ../shared/data --out runs/pets_val_half \\
        --table benchmarks/results/pets_val_half --init runs/base/mot15_cv_s42_fold2.safetensors --seeds 42 0 1

Models, result files and a per-run CSV go under ``--out``; a finished training or peer run is not
redone, so the script can be re-run to add seeds.
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from lgmot.config import Config, EmbedConfig
from lgmot.data import Sequence, load_sequence
from lgmot.data.motio import atomic_write_text
from lgmot.detect import confident
from lgmot.train.recipes import MOT15_TRAIN, cpu_recipe

HALF = 397  # PETS09-S2L1 has 795 frames: train on 1-397, test on 398-795
METRICS = ["HOTA", "IDF1", "MOTA", "AssA", "DetA", "IDSW"]
VARIANTS = ("none", "mobilenetv2", "osnet")
PEERS = {  # name -> (boxmot class, options with ReID, options without ReID or None)
    "BoT-SORT": ("BotSort", {"use_cmc": False, "use_embeddings": True}, {"use_cmc": False, "use_embeddings": False}),
    "DeepOCSORT": ("DeepOcSort", {"cmc_off": True, "use_embeddings": True}, {"cmc_off": True, "use_embeddings": False}),
    "StrongSORT": ("StrongSort", {}, None),
    "BoostTrack": ("BoostTrack", {"use_cmc": False, "use_embeddings": True}, {"use_cmc": False, "use_embeddings": False}),
}


def second_half(seq: Sequence, first: int = HALF + 1) -> Sequence:
    """The sequence with detections and GT of frames >= ``first`` only (frame numbers unchanged)."""
    s = Sequence(seq.info, seq.root, video=seq.video, images=seq._images, det_path=seq.det_path,
                 gt_path=seq.gt_path)
    s.__dict__["detections"] = seq.detections[seq.detections.frame >= first].reset_index(drop=True)
    s.__dict__["gt"] = seq.gt[seq.gt.frame >= first].reset_index(drop=True)
    return s


def variant_config(variant: str, seed: int, a) -> Config:
    cfg = cpu_recipe(a.epochs, a.depth_every, seed=seed, name=f"pets-val-half-{variant}", lr=a.lr)
    cfg = replace(cfg, train=replace(cfg.train, train_frame_overlap=a.clip_stride))
    reid = a.reid
    if variant == "osnet":
        return replace(cfg, embed=EmbedConfig("osnet_x0_25", weights=str(reid)),
                       model=replace(cfg.model, node_in_dim=512))
    return replace(cfg, embed=EmbedConfig("mobilenetv2"))  # 'none' keeps the default network, no appearance


def train_variant(variant: str, seed: int, a, pets: Sequence, others: list, text_encoder, log) -> Path:
    from lgmot.train import train
    from lgmot.train.prepare import prepare_train_sequence

    run = a.out / f"{variant}_s{seed}"
    model = run / "model.safetensors"
    if (run / "done.json").is_file():
        return model
    cfg = variant_config(variant, seed, a)
    t0 = time.perf_counter()
    first = prepare_train_sequence(pets.truncated(HALF), cfg, "public", appearance=False,
                                   cache_dir=a.out / "cache", text_encoder=text_encoder)
    if variant != "none":
        first.app = rows_of(full_embeddings(pets, cfg, a), pets, first.dets)
    seqs = [first] * a.pets_repeat + others
    if a.init is not None:
        from lgmot.model import HierarchicalMPN
        from lgmot.train.loop import init_from

        fresh = init_from(HierarchicalMPN(cfg.model), a.init)
        log(f"{variant}: starts from {a.init}; fresh: {sorted({k.rsplit('.', 1)[0] for k in fresh}) or 'none'}")
    res = train(cfg, seqs, run, progress=False, init=a.init)
    secs = time.perf_counter() - t0
    atomic_write_text(run / "done.json", json.dumps({"iterations": res.iterations, "seconds": round(secs, 1)}))
    log(f"trained {variant} seed {seed}: {res.iterations} iterations in {secs:.0f}s")
    return model


def full_embeddings(pets: Sequence, cfg: Config, a) -> np.ndarray:
    """Appearance of every public detection of the whole sequence, computed once (cached): the train
    and test halves take their rows, and ``scripts/train_reid_model.py --cache`` reuses the file."""
    from lgmot.embed import embed_sequence, encoder_for

    return embed_sequence(pets, pets.detections, encoder_for(cfg.embed), cache_dir=a.out / "cache", progress=False)


def rows_of(full: np.ndarray, pets: Sequence, dets: pd.DataFrame) -> np.ndarray:
    idx = pd.Index(pets.detections.det_id).get_indexer(dets.det_id)
    assert (idx >= 0).all()
    return full[idx]


def score(seq: Sequence, tracks: pd.DataFrame) -> dict:
    from lgmot.evaluate.sequences import evaluate_sequences

    row = evaluate_sequences([seq], {seq.name: tracks}).loc[seq.name]
    return {k: float(row[k]) for k in METRICS}


def lgmot_row(variant: str, model_path: Path, test: Sequence, dets: pd.DataFrame, a, pets: Sequence,
              public: bool) -> dict:
    from lgmot.embed import embed_sequence, encoder_for
    from lgmot.model import load_model
    from lgmot.track import Tracker

    model, cfg = load_model(model_path)
    cfg = replace(cfg, embed=replace(cfg.embed, weights=str(a.reid) if variant == "osnet" else None))
    app = None
    if variant != "none" and public:
        app = rows_of(full_embeddings(pets, cfg, a), pets, dets)
    elif variant != "none":
        app = embed_sequence(test, dets, encoder_for(cfg.embed), cache_dir=a.out / "cache", progress=False)
    with Tracker(cfg, model, workers=1) as tracker:
        t0 = time.perf_counter()
        tracks = tracker.track_detections(dets, test.info.fps, appearance=app)
        secs = time.perf_counter() - t0
    return {**score(test, tracks), "track_seconds": round(secs, 1)}


class CachedReID:
    """boxmot's own ReID backend, run once per frame and shared by every peer (same crops, same
    features: each tracker would compute exactly these)."""

    def __init__(self, weights: Path):
        from boxmot.reid.core import ReID

        self.model = ReID(weights=weights, device="cpu", half=False).model
        self.frame = 0
        self.memo: dict[tuple[int, bytes], np.ndarray] = {}
        self.seconds = 0.0
        self.crops = 0

    def get_features(self, xyxys, img):
        key = (self.frame, np.ascontiguousarray(xyxys, dtype=np.float64).tobytes())
        if key not in self.memo:
            t0 = time.perf_counter()
            self.memo[key] = np.asarray(self.model.get_features(xyxys, img), dtype=np.float32)
            self.seconds += time.perf_counter() - t0
            self.crops += len(xyxys)
        return self.memo[key]

    def __getattr__(self, name):
        return getattr(self.model, name)


def peer_row(name: str, with_reid: bool, test: Sequence, dets: pd.DataFrame, reid: "CachedReID", weights: Path,
             cfg: Config) -> dict:
    import boxmot

    from lgmot.data.schema import TRACK_COLUMNS, empty, typed
    from lgmot.solve import drop_short, interpolate, max_gap_frames

    cls, on, off = PEERS[name]
    kw = dict(on if with_reid else off)
    if cls == "BotSort":  # the one of these that takes the frame rate (it scales its track buffer)
        kw["frame_rate"] = int(round(test.info.fps))
    if with_reid:
        kw.update(reid_model=reid)  # boxmot ReID backend on the weights file (CachedReID)
    tracker = getattr(boxmot, cls)(**kw)
    logging.getLogger("boxmot").setLevel(logging.WARNING)
    first = int(dets.frame.min())
    by_frame = {f: g for f, g in dets.groupby("frame")}
    rows = []
    t0 = time.perf_counter()
    for f, img in test.frames(first):
        g = by_frame.get(f)
        x = np.zeros((0, 6)) if g is None else np.column_stack([
            g.x, g.y, g.x + g.w, g.y + g.h, g.score, np.zeros(len(g))]).astype(np.float64)
        reid.frame = f
        out = tracker.update(x, img)
        if len(out):
            rows.append(np.column_stack([np.full(len(out), f), out[:, 4], out[:, 0:4], out[:, 5]]))
    secs = time.perf_counter() - t0
    if rows:
        r = np.concatenate(rows)
        tracks = typed(pd.DataFrame({"frame": r[:, 0], "id": r[:, 1], "x": r[:, 2], "y": r[:, 3],
                                     "w": r[:, 4] - r[:, 2], "h": r[:, 5] - r[:, 3], "score": r[:, 6]}), TRACK_COLUMNS)
    else:
        tracks = empty(TRACK_COLUMNS)
    t = cfg.tracker  # lgmot's post-processing, as in its own rows
    tracks = drop_short(tracks, t.min_track_len)
    if t.interpolate:
        tracks = interpolate(tracks, max_gap_frames(t.interpolate_max_gap_s, test.info.fps))
    return {**score(test, tracks), "track_seconds": round(secs, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("runs/pets_val_half"))
    ap.add_argument("--table", type=Path, default=Path("benchmarks/results/pets_val_half"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 0, 1])
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--depth-every", type=int, default=1, help="iterations per unlocked level (recipe: 25)")
    ap.add_argument("--lr", type=float, default=1e-3, help="recipe: 3e-3 from scratch")
    ap.add_argument("--init", type=Path, default=None,
                    help="start every variant from this model (a MOT15 CV fold model that never saw PETS09-S2L1)")
    ap.add_argument("--clip-stride", type=int, default=60,
                    help="frames between training clip starts (recipe: 20); the CPU budget knob")
    ap.add_argument("--pets-repeat", type=int, default=3)
    ap.add_argument("--detections", nargs="+", default=["public"], choices=["public", "builtin"])
    ap.add_argument("--peers", nargs="*", default=list(PEERS))
    ap.add_argument("--reid", type=Path, default=None, help="default: <data>/reid_osnet/osnet_x0_25_msmt17.pth")
    a = ap.parse_args()
    a.reid = a.reid or a.data / "reid_osnet" / "osnet_x0_25_msmt17.pth"
    a.out.mkdir(parents=True, exist_ok=True)
    logf = open(a.out / "log.txt", "a")

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    import torch

    torch.set_num_threads(1)
    t_all = time.perf_counter()
    pets = load_sequence(a.data / "pets09_s2l1")
    test = second_half(pets)
    from lgmot.language import load_text_encoder
    from lgmot.train.prepare import prepare_train_sequences
    from lgmot.train.recipes import mot15_paths

    base = variant_config("none", a.seeds[0], a)
    text = load_text_encoder(base.train.text_encoder)
    other_names = [n for n in MOT15_TRAIN if n != "PETS09-S2L1"]
    others = prepare_train_sequences(mot15_paths(a.data, other_names), base, "public", a.out / "cache",
                                     appearance=False, text_encoder=text)
    log(f"prepared {len(others)} motion-only sequences")

    results_path = a.out / "runs.csv"
    done = pd.read_csv(results_path) if results_path.is_file() else pd.DataFrame()

    def have(**key) -> bool:
        if done.empty:
            return False
        m = np.ones(len(done), bool)
        for k, v in key.items():
            m &= np.array([_norm(x) for x in done[k]]) == _norm(v)
        return bool(m.any())

    def add(row: dict) -> None:
        nonlocal done
        if results_path.is_file():  # rows another run (other seeds) added meanwhile
            done = pd.read_csv(results_path)
        done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
        atomic_write_text(results_path, done.to_csv(index=False))
        log(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))

    test_dets = {}
    for det in a.detections:
        if det == "public":
            d = test.detections
        else:
            from lgmot.detect import detect, detect_preset

            d = detect(test, detect_preset("builtin"), progress=False)
            d = d[d.frame > HALF].reset_index(drop=True)
        test_dets[det] = d[confident(d.score.to_numpy(), base.tracker.min_score)].reset_index(drop=True)

    # peers first (no training): boxmot's ReID computed once per frame and shared
    boxmot_weights = a.out / "reid" / "osnet_x0_25_msmt17.pt"  # boxmot accepts .pt names only
    boxmot_weights.parent.mkdir(parents=True, exist_ok=True)
    if not boxmot_weights.exists():
        boxmot_weights.symlink_to(a.reid.resolve())
    for det, d in test_dets.items():
        reid = None
        for name in a.peers:
            for with_reid in (True, False):
                if PEERS[name][2] is None and not with_reid:
                    continue
                label = f"boxmot {name}" + (" + ReID (OSNet x0.25 MSMT17)" if with_reid else " (no ReID)")
                if have(tracker=label, detections=det):
                    continue
                if with_reid and reid is None:
                    reid = CachedReID(boxmot_weights)
                add({"tracker": label, "detections": det, "seed": "", **peer_row(name, with_reid, test, d, reid,
                                                                                   boxmot_weights, base)})
        if reid is not None and reid.crops:
            log(f"boxmot ReID ({det}): {reid.crops} crops in {reid.seconds:.1f}s")

    labels = {"none": "lgmot, no appearance", "mobilenetv2": "lgmot + MobileNetV2 (ImageNet)",
              "osnet": "lgmot + OSNet x0.25 (MSMT17)"}
    for seed in a.seeds:
        for variant in a.variants:
            need = [det for det in test_dets if not have(tracker=labels[variant], detections=det, seed=seed)]
            if not need:
                continue
            model = train_variant(variant, seed, a, pets, others, text, log)
            for det in need:
                add({"tracker": labels[variant], "detections": det, "seed": seed,
                     **lgmot_row(variant, model, test, test_dets[det], a, pets, det == "public")})
    log(f"total {time.perf_counter() - t_all:.0f}s")
    write_table(pd.read_csv(results_path), a, labels)


def _norm(v) -> str:
    """A CSV cell as text: 42, 42.0 and '42' alike; NaN and '' alike."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
        return ""
    try:
        f = float(v)
        return str(int(f)) if f.is_integer() else str(f)
    except (TypeError, ValueError):
        return str(v)


def write_table(done: pd.DataFrame, a, labels: dict) -> None:
    done = done.assign(_seed=[_norm(x) for x in done.seed]).drop_duplicates(["tracker", "detections", "_seed"])
    rows = []
    for (det, tracker), g in done.groupby(["detections", "tracker"], sort=False):
        r = {"detections": det, "tracker": tracker, "seeds": len(g) if g._seed.iloc[0] != "" else 0,
             "seed_list": " ".join(g._seed) if g._seed.iloc[0] != "" else ""}
        for k in METRICS:
            r[k] = float(g[k].mean())
            r[f"{k}_std"] = float(g[k].std(ddof=0)) if len(g) > 1 else 0.0
        rows.append(r)
    df = pd.DataFrame(rows)
    a.table.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.table.with_suffix(".csv"), df.to_csv(index=False, float_format="%.2f"))
    md = [f"# PETS09-S2L1 val-half: appearance in lgmot vs boxmot ReID trackers ({time.strftime('%Y-%m-%d')})", "",
          "Train on frames 1-397 (with images) + the other 10 MOT15 train sequences (motion only); test on "
          "frames 398-795. Detections with score >= 0.65 for every tracker; every tracker's output gets lgmot's "
          "post-processing (tracks < 2 frames dropped, all gaps interpolated). lgmot rows: mean ± std over "
          "the seeds listed. See the docstring of `benchmarks/pets_val_half.py` for the full protocol.", ""]
    for det, g in df.groupby("detections", sort=False):
        md += [f"## {det} detections", "", "| tracker | seeds | " + " | ".join(METRICS) + " |",
               "| --- | --- | " + " | ".join("---" for _ in METRICS) + " |"]
        for _, r in g.iterrows():
            cells = [f"{r[k]:.1f} ± {r[k + '_std']:.1f}" if r["seeds"] > 1 else f"{r[k]:.1f}" for k in METRICS]
            md.append(f"| {r.tracker} | {r.seeds or '-'} | " + " | ".join(cells) + " |")
        md.append("")
    md.append("Command: `nice -n 10 python benchmarks/pets_val_half.py --data ../shared/data "
              f"--init {a.init} --lr {a.lr} "
              f"--epochs {a.epochs} --depth-every {a.depth_every} --clip-stride {a.clip_stride} "
              f"--pets-repeat {a.pets_repeat} --seeds {' '.join(map(str, a.seeds))}`")
    atomic_write_text(a.table.with_suffix(".md"), "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
