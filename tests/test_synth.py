import math

import cv2
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from typer.testing import CliRunner

from lgmot.data import motio
from lgmot.data.sequence import load_sequence
from lgmot.language import SequenceAnnotations
from lgmot.synth import PRESETS, SynthConfig, build, make_sequence, preset
from lgmot.synth.appearance import COLORS
from lgmot.synth.detections import iou_matrix
from lgmot.synth.world import Camera, World, visibility

SMALL = dict(width=320, height=240)


def test_make_sequence_writes_a_mot_folder(tmp_path):
    root = make_sequence(tmp_path, frames=20, people=5)
    assert root == tmp_path / "source"
    assert sorted(p.name for p in root.iterdir()) == ["det", "gt", "img1", "language.json", "seqinfo.ini"]
    seq = load_sequence(root)
    assert (seq.info.length, seq.info.width, seq.info.height, seq.info.fps) == (20, 320, 240, 25.0)
    assert [p.name for p in sorted((root / "img1").iterdir())][:2] == ["000001.jpg", "000002.jpg"]
    assert len(list((root / "img1").iterdir())) == 20
    img = cv2.imread(str(root / "img1" / "000020.jpg"))
    assert img.shape == (240, 320, 3)
    first = (root / "gt" / "gt.txt").read_text().splitlines()[0].split(",")
    assert len(first) == 9 and first[6:8] == ["1", "1"]
    gt, det = seq.gt, seq.detections
    assert len(gt) > 50 and len(det) > 30
    assert gt.vis.between(0, 1).all() and (gt.consider == 1).all()
    ann = SequenceAnnotations.read(root)
    assert ann.sequence == "source"
    assert set(ann.instances) == set(gt.id.unique())
    assert ann.scene.provenance == "synthetic"
    assert ann.scene.text == "A scene captured by a static camera from a medium viewpoint during the day."


def test_language_is_true_to_the_render():
    seq = build(preset("source", frames=40, people=6, noise=0.0, **SMALL))
    g = seq.gt
    # Each instance sentence names that person's rendered colours and garments.
    for tid, d in seq.language.instances.items():
        look = seq.looks[tid - 1]
        assert f"{look.upper}" in d.text and f"{look.lower} {look.lower_garment}" in d.text
        assert d.attributes["upper_color"] == look.upper
    # The torso centre of a fully visible, big person has its top's colour (pattern-free, noise off).
    rows = g[(g.vis == 1) & (g.h > 40)]
    checked = 0
    for r in rows.itertuples():
        look = seq.looks[r.id - 1]
        if look.pattern != "plain":
            continue
        img = seq.frame(r.frame)
        px = img[int(r.y + 0.35 * r.h), int(r.x + r.w / 2)].astype(int)
        assert np.abs(px - np.array(COLORS[look.upper])).max() <= 1, (r, look)
        checked += 1
        if checked == 5:
            break
    assert checked > 0


def test_deterministic_for_a_seed():
    cfg = preset("shake", frames=25, people=5, **SMALL)
    a, b = build(cfg), build(cfg)
    assert a.gt.equals(b.gt) and a.detections.equals(b.detections)
    assert a.language == b.language
    assert np.array_equal(a.frame(25), b.frame(25))
    c = build(cfg.with_(seed=1))
    assert not c.gt.equals(a.gt)
    # Detector knobs use their own stream: the world and the pixels do not move.
    d = build(cfg.with_(det_recall=0.5))
    assert d.gt.equals(a.gt) and np.array_equal(d.frame(10), a.frame(10))


def test_presets_shift_one_or_two_knobs():
    knobs = ("camera", "viewpoint", "lighting", "blur", "density", "background", "scale")
    src = PRESETS["source"]
    assert (src.camera, src.lighting, src.viewpoint) == ("static", "day", "medium")
    assert len(PRESETS) >= 7
    for name, cfg in PRESETS.items():
        moved = [k for k in knobs if getattr(cfg, k) != getattr(src, k)]
        assert (name == "source") == (not moved) and len(moved) <= 2, (name, moved)
    assert preset("night", frames=7).frames == 7
    with pytest.raises(KeyError):
        preset("nope")
    with pytest.raises(ValueError):
        SynthConfig(camera="dolly")


@pytest.mark.parametrize("name, words", [("pan", "a panning camera"), ("high-view", "from a high viewpoint"),
                                         ("dusk-blur", "at dusk, with motion blur"), ("night", "at night"),
                                         ("crowded", "in a crowded place"), ("textured", "a textured background"),
                                         ("shake", "a shaking camera")])
def test_presets_render_and_describe(name, words):
    seq = build(preset(name, frames=6, people=4, **SMALL))
    assert words in seq.language.scene.text
    assert seq.frame(6).shape == (240, 320, 3)


def test_night_is_darker_and_noisier_than_day():
    day = build(preset("source", frames=3, **SMALL)).frame(3).astype(float)
    night = build(preset("night", frames=3, **SMALL)).frame(3).astype(float)
    assert night.mean() < 0.5 * day.mean()


def test_camera_geometry():
    cam = Camera(f=100.0, cx=50.0, cy=40.0, height=3.0, tilt=0.0)
    u, v, zc = cam.project(np.array([0.0, 2.0]), np.array([3.0, 0.0]), np.array([10.0, 10.0]))
    assert np.allclose(u, [50, 70]) and np.allclose(v, [40, 70]) and np.allclose(zc, 10)
    box, _ = cam.boxes(np.array([0.0]), np.array([10.0]), np.array([1.5]))
    assert np.allclose(box[0], [50 - 100 * 0.42 * 1.5 / 10 / 2, 55, 100 * 0.42 * 1.5 / 10, 15])
    tilted = Camera(f=100.0, cx=50.0, cy=40.0, height=3.0, tilt=math.radians(20))
    assert tilted.horizon_v == pytest.approx(40 - 100 * math.tan(math.radians(20)))


def test_visibility_known_values():
    cfg = SynthConfig(frames=1, people=3, width=100, height=100)
    boxes = np.array([[[10, 10, 20, 40], [20, 10, 20, 40], [90, 50, 20, 20]]], float)
    z = np.zeros((1, 3))
    w = World(cfg=cfg, camera=Camera.for_config(cfg), pid=np.array([[1, 2, 3]]), x=z, z=z, phase=z,
              moving=z.astype(bool), vx=z, vz=z, body_h=z + 1.7, offset=np.zeros((1, 2)), boxes=boxes,
              depth=np.array([[5.0, 4.0, 6.0]]), n_ids=3, z_range=(1, 10), pan_margin=0)
    in_frame, vis = visibility(w, grid=10)
    # Box 1 is half covered by the nearer box 2; box 3 is half outside the image.
    assert np.allclose(in_frame, [[1, 1, 0.5]]) and np.allclose(vis, [[0.5, 1, 0.5]])


def test_people_enter_leave_stop_and_cross():
    seq = build(preset("source", frames=400, people=8, **SMALL))
    w = seq.world
    assert w.n_ids > 8 + 4  # people left and newcomers came
    alive = w.pid >= 0
    assert (alive & ~w.moving).sum() > 0  # somebody stopped
    g = seq.gt
    assert (g.vis < 0.5).mean() > 0.02  # occlusions happen
    # Newcomers enter at the image border (not out of thin air in the middle).
    first = g.groupby("id").head(1)
    late = first[first.frame > 1]
    edge = (late.x < 5) | (late.x + late.w > 315)
    assert edge.mean() > 0.8
    for d in seq.language.instances.values():
        assert d.attributes["action"] in ("walking left", "walking right", "walking towards the camera",
                                          "walking away from the camera", "standing still")


def _det_quality(seq):
    g = seq.gt[seq.gt.vis >= seq.cfg.det_min_vis]
    d = seq.detections
    gb = {f: x[["x", "y", "w", "h"]].to_numpy() for f, x in g.groupby("frame")}
    matched = 0
    for f, x in d.groupby("frame"):
        if f not in gb:
            continue
        iou = iou_matrix(x[["x", "y", "w", "h"]].to_numpy(), gb[f])
        r, c = linear_sum_assignment(-iou)
        matched += int((iou[r, c] >= 0.5).sum())
    return matched / len(g), matched / len(d)


@pytest.mark.parametrize("recall, precision", [(0.9, 0.9), (0.7, 0.8)])
def test_detection_recall_and_precision_match_config(recall, precision):
    seq = build(preset("source", frames=300, people=12, det_recall=recall, det_precision=precision, **SMALL))
    assert len(seq.gt) > 2500
    rec, prec = _det_quality(seq)
    assert abs(rec - recall) <= 0.02 and abs(prec - precision) <= 0.02, (rec, prec)
    s = seq.detections.score
    assert s.between(0, 1).all() and s.std() > 0.05


def test_gt_scored_as_its_own_result_is_perfect(tmp_path):
    trackeval = pytest.importorskip("trackeval")
    root = make_sequence(tmp_path / "gt", frames=40, people=6)
    trk = tmp_path / "trk" / "data"
    trk.mkdir(parents=True)
    gt = motio.read_gt(root / "gt" / "gt.txt")
    motio.write_results(trk / "source.txt", gt.assign(score=1.0)[["frame", "id", "x", "y", "w", "h", "score"]])
    (tmp_path / "seqmap.txt").write_text("name\nsource\n")
    ds_cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    ds_cfg.update(GT_FOLDER=str(tmp_path / "gt"), TRACKERS_FOLDER=str(tmp_path), TRACKERS_TO_EVAL=["trk"],
                  SEQMAP_FILE=str(tmp_path / "seqmap.txt"), SKIP_SPLIT_FOL=True, TRACKER_SUB_FOLDER="data",
                  PRINT_CONFIG=False)
    ev_cfg = trackeval.Evaluator.get_default_eval_config()
    ev_cfg.update(USE_PARALLEL=False, PRINT_RESULTS=False, PRINT_CONFIG=False, OUTPUT_SUMMARY=False,
                  OUTPUT_DETAILED=False, PLOT_CURVES=False, PRINT_ONLY_COMBINED=True, TIME_PROGRESS=False,
                  DISPLAY_LESS_PROGRESS=True)
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
    res, _ = trackeval.Evaluator(ev_cfg).evaluate([trackeval.datasets.MotChallenge2DBox(ds_cfg)], metrics)
    r = res["MotChallenge2DBox"]["trk"]["source"]["pedestrian"]
    assert np.mean(r["HOTA"]["HOTA"]) == pytest.approx(1.0)
    assert r["CLEAR"]["MOTA"] == pytest.approx(1.0)
    assert r["Identity"]["IDF1"] == pytest.approx(1.0)
    assert r["CLEAR"]["CLR_TP"] == len(gt)


def test_cli(tmp_path):
    from lgmot.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["synth", "--out", str(tmp_path), "--preset", "pan", "--frames", "5", "--people", "3",
                             "--width", "160", "--height", "120", "--seed", "3"])
    assert ok.exit_code == 0, ok.output
    assert load_sequence(tmp_path / "pan").info.length == 5
    again = runner.invoke(app, ["synth", "--out", str(tmp_path), "--preset", "pan", "--frames", "5"])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["synth", "--out", str(tmp_path), "--preset", "fog"])
    assert bad.exit_code == 2 and "unknown preset 'fog'" in bad.output
    neg = runner.invoke(app, ["synth", "--out", str(tmp_path), "--frames", "0"])
    assert neg.exit_code == 2 and "--frames must be a positive integer" in neg.output
