import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from lgmot.data import load_sequence
from lgmot.language import SequenceAnnotations
from lgmot.language import annotate as A
from lgmot.language.targets import asset_dir

MOT15 = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15_train"


def solid(bgr, h=40, w=20):
    return np.full((h, w, 3), bgr, np.uint8)


@pytest.mark.parametrize("bgr,name", [
    ((0, 0, 255), "red"), ((0, 128, 255), "orange"), ((0, 255, 255), "yellow"), ((0, 200, 0), "green"),
    ((255, 0, 0), "blue"), ((128, 0, 128), "purple"), ((203, 192, 255), "pink"), ((180, 105, 255), "pink"),
    ((19, 69, 139), "brown"), ((0, 0, 90), "brown"), ((128, 128, 128), "grey"), ((255, 255, 255), "white"),
    ((20, 20, 20), "black"), ((40, 40, 200), "red"),
])
def test_color_naming_of_solid_crops(bgr, name):
    assert A.dominant_color(solid(bgr)) == name


def test_clothing_bands():
    c = np.zeros((100, 40, 3), np.uint8)
    c[20:50] = (255, 0, 0)  # upper band blue
    c[55:90] = (0, 200, 0)  # lower band green
    c[:20] = (0, 0, 255)  # head red: outside both bands
    assert A.clothing_colors([c, c]) == ("blue", "green")
    assert A.clothing_colors([]) == (None, None)


def track(dx_per_frame, dy_per_frame, n=30, h=100.0):
    f = np.arange(1, n + 1)
    x = 100 + dx_per_frame * (f - 1)
    y = 100 + dy_per_frame * (f - 1)
    return f, np.stack([x, y, np.full(n, 40.0), np.full(n, h)], axis=1)


@pytest.mark.parametrize("dx,dy,motion,direction", [
    (8, 0, "walking", "right"), (-8, 1, "walking", "left"), (0, 8, "walking", "towards"),
    (1, -8, "walking", "away"), (0.1, 0, "standing", None), (20, 0, "running", "right"),
])
def test_motion_direction(dx, dy, motion, direction):
    f, b = track(dx, dy)
    m = A.track_motion(f, b, fps=10)  # 10 fps: 8 px/frame = 80 px/s = 0.8 heights/s
    assert m["motion"] == motion and m.get("direction") == direction


def test_motion_speed_and_around():
    f, b = track(8, 0)
    assert A.track_motion(f, b, 10)["speed"] == pytest.approx(0.8)
    # out and back: net displacement 0 -> around
    f = np.arange(1, 41)
    x = np.concatenate([100 + 8 * np.arange(20), 100 + 8 * np.arange(20)[::-1]])
    b = np.stack([x, np.full(40, 100.0), np.full(40, 40.0), np.full(40, 100.0)], axis=1)
    assert A.track_motion(f, b, 10)["direction"] == "around"
    assert A.track_motion(np.array([1]), b[:1], 10) == {}
    assert A.motion_phrase({"motion": "walking", "slow": True, "direction": "away"}) == "walking slowly away from the camera"


def test_occlusion_by_overlap():
    gt = pd.DataFrame({"frame": [1, 1], "id": [1, 2], "x": [0.0, 10.0], "y": [0.0, 10.0], "w": [20.0, 20.0],
                       "h": [40.0, 40.0], "consider": [1.0, 1.0], "cls": [1, 1], "vis": [1.0, 1.0]})
    occ = A.occlusion_fractions(gt)
    # id 2's bottom is lower (closer): id 1 is hidden by 10x30 of its 20x40 area; id 2 is not hidden
    np.testing.assert_allclose(occ, [300 / 800, 0.0])
    gt["vis"] = [0.25, 1.0]
    np.testing.assert_allclose(A.occlusion_fractions(gt), [0.75, 0.0])


def texture(h=240, w=400, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 256, (h // 8, w // 8), dtype=np.uint8)
    t = cv2.resize(t, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(t, cv2.COLOR_GRAY2BGR)


def test_camera_motion_static_vs_panning():
    big = texture(240, 480)
    a = big[:, :400]
    rng = np.random.default_rng(1)
    noisy = np.clip(a.astype(int) + rng.integers(-3, 4, a.shape), 0, 255).astype(np.uint8)
    panned = big[:, 12:412]  # the camera moved 12 px right: content shifts 12 px left
    dx, dy = A.estimate_shift(a, panned)
    assert dx == pytest.approx(-12 * 320 / 400, abs=0.5) and abs(dy) < 0.5
    assert A.camera_motion([(a, noisy)] * 3)[0] == "static"
    assert A.camera_motion([(a, panned)] * 3)[0] == "moving"


def make_image_sequence(root: Path, n=12):
    """Two people: id 1 red top / blue trousers walking right; id 2 white top / black trousers standing."""
    (root / "img1").mkdir(parents=True)
    (root / "gt").mkdir()
    (root / "seqinfo.ini").write_text("[Sequence]\nname=SYN-1\nimDir=img1\nframeRate=10\nseqLength=%d\n"
                                      "imWidth=320\nimHeight=240\nimExt=.png\n" % n)
    rows = []
    for f in range(1, n + 1):
        img = np.full((240, 320, 3), 120, np.uint8)
        for tid, x, top, bottom in ((1, 20 + 8 * (f - 1), (0, 0, 255), (255, 0, 0)),
                                    (2, 250, (255, 255, 255), (10, 10, 10))):
            img[40:70, x:x + 20] = (200, 180, 160)  # head
            img[60:110, x:x + 20] = top
            img[110:140, x:x + 20] = bottom
            rows.append(f"{f},{tid},{x + 1},41,20,100,1,-1,-1,-1")
        cv2.imwrite(str(root / "img1" / f"{f:06d}.png"), img)
    (root / "gt" / "gt.txt").write_text("\n".join(rows) + "\n")
    return load_sequence(root)


def test_annotate_image_sequence_and_vlm_hook(tmp_path):
    seq = make_image_sequence(tmp_path / "syn")
    ann = A.annotate_sequence(seq, options=A.AnnotateOptions(crops_per_track=4, scene_pairs=5))
    i1, i2 = ann.instances[1], ann.instances[2]
    assert (i1.attributes["upper_color"], i1.attributes["lower_color"]) == ("red", "blue")
    assert (i2.attributes["upper_color"], i2.attributes["lower_color"]) == ("white", "black")
    assert i1.attributes["direction"] == "right" and i2.attributes["motion"] == "standing"
    assert i1.text.startswith("A person in a red top and blue trousers walking right")
    assert ann.scene.attributes["camera"] == "static"
    # round trip through the annotation format
    back = SequenceAnnotations.read(ann.write(tmp_path / "syn"))
    assert back.to_json() == ann.to_json()

    seen = []

    def fake_vlm(crops):
        seen.append(len(crops))
        assert all(c.ndim == 3 and c.dtype == np.uint8 for c in crops)
        return f"a pedestrian seen in {len(crops)} crops"

    ann2 = A.annotate_sequence(seq, vlm=fake_vlm, options=A.AnnotateOptions(crops_per_track=3, scene_pairs=5))
    assert seen == [3, 3]
    assert ann2.instances[1].text == "a pedestrian seen in 3 crops"
    assert ann2.instances[1].attributes["caption"] == "vlm"
    assert ann2.instances[1].attributes["upper_color"] == "red"


def test_noimage_sequence_has_no_colours(tmp_path):
    seq = make_image_sequence(tmp_path / "syn")
    seq._images = None  # the same boxes without frames
    ann = A.annotate_sequence(seq)
    d = ann.instances[1]
    assert "upper_color" not in d.attributes
    assert d.provenance == "auto-noimage" or d.attributes.get("source") == "auto-noimage"
    assert d.text == "A person walking right."


@pytest.mark.skipif(not (MOT15 / "TUD-Campus").is_dir(), reason="MOT15 data not available")
def test_regenerating_shipped_mot15_file(tmp_path):
    from typer.testing import CliRunner

    from lgmot.cli import app

    out = tmp_path / "TUD-Campus.json"
    r = CliRunner().invoke(app, ["annotate", str(MOT15 / "TUD-Campus"), "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert out.read_text() == (asset_dir() / "TUD-Campus.json").read_text()
    scene = json.loads(out.read_text())["scene"]
    assert scene["text"] == "A scene captured by a static camera from a medium viewpoint on a cloudy day."


def test_cli_without_gt_fails_cleanly(tmp_path):
    from typer.testing import CliRunner

    from lgmot.cli import app

    d = tmp_path / "s"
    d.mkdir()
    (d / "seqinfo.ini").write_text("[Sequence]\nname=X\nframeRate=10\nseqLength=5\nimWidth=10\nimHeight=10\n")
    r = CliRunner().invoke(app, ["annotate", str(d), "-q"])
    assert r.exit_code == 2 and "no ground truth" in r.output
