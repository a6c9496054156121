"""The numpy inference of the MPN (what ``lgmot track`` runs) against the torch model."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lgmot.config import ModelConfig, preset
from lgmot.model import CheckpointError, HierarchicalMPN, load_model, save_model
from lgmot.model.infer import InferenceModel, load_inference_model
from lgmot.model.mpn import edge_feature_dim
from lgmot.solve import undirected_probs

CFG = ModelConfig(node_in_dim=24)
SRC = Path(__file__).resolve().parents[1] / "src"


def random_graph(cfg: ModelConfig, n: int, e: int, level: int, seed: int, app: str, flip: bool):
    """(tracklets, graph) namespaces as the tracker passes them; ``flip`` stores some pairs later
    node first, so the directed columns are not future-first."""
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n - 1, e)
    v = u + 1 + rng.integers(0, n, e) % (n - 1 - u)
    edges = np.stack([u, v], 1)
    if flip:
        swap = rng.random(e) < 0.4
        edges[swap] = edges[swap][:, ::-1]
    feats = rng.standard_normal((e, edge_feature_dim(level, cfg)))
    has = {"some": rng.random(n) > 0.3, "none": np.zeros(n, bool), "all": np.ones(n, bool)}[app]
    x = rng.standard_normal((n, cfg.node_in_dim)) if app != "none" else np.zeros((n, 0))
    desc = rng.standard_normal((n, 5)) if cfg.node_descriptors else None
    return SimpleNamespace(app=x, has_app=has), SimpleNamespace(edges=edges, features=feats, node_features=desc)


def torch_last_step(model, level, t, g):
    """The torch model in float64 on the same inputs (graph_tensors' symmetric layout)."""
    e = torch.as_tensor(g.edges)
    ei = torch.cat([e.T, e.T.flip(0)], dim=1)
    f = torch.as_tensor(g.features)
    x = torch.as_tensor(t.app) if t.app.shape[1] else torch.zeros(len(t.has_app), model.cfg.node_in_dim,
                                                                  dtype=torch.float64)
    desc = None if g.node_features is None else torch.as_tensor(g.node_features)
    with torch.inference_mode():
        return model(level, x, ei, torch.cat([f, f]), torch.as_tensor(t.has_app), last_only=True, node_desc=desc)


@pytest.mark.parametrize("cfg", [CFG, replace(CFG, node_descriptors=True, node_classifier=True),
                                 replace(CFG, level_embedding=False, directional_motion=True),
                                 replace(CFG, zero_nodes=True)], ids=["default", "descriptors+node-head",
                                                                      "no-level-emb+directional", "zero-nodes"])
@pytest.mark.parametrize("level,app,flip,size", [(0, "some", False, (40, 150)), (1, "none", True, (40, 150)),
                                                 (3, "all", True, (40, 150)), (0, "some", True, (300, 1400))])
def test_numpy_equals_torch_in_float64(cfg, level, app, flip, size):
    """(300 nodes, 1,400 edges): 2,800 directed edges, several blocks of the step."""
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg).double().eval()
    for p in model.parameters():  # random, non-zero everywhere (missing_mid starts at zero)
        torch.nn.init.normal_(p, std=0.3)
    fast = InferenceModel.from_torch(model, dtype=np.float64)
    t, g = random_graph(cfg, *size, level, seed=level, app=app, flip=flip)
    ref = torch_last_step(model, level, t, g)
    out = fast.forward_graph(level, t, g)
    np.testing.assert_allclose(out.logits[-1], ref.logits[-1].numpy(), rtol=1e-10, atol=1e-10)
    if cfg.node_classifier and level == 0:
        np.testing.assert_allclose(out.node_logits, ref.node_logits.numpy(), rtol=1e-10, atol=1e-10)
    else:
        assert out.node_logits is None


def test_shipped_model_float32_probabilities_within_1e6():
    """The shipped model in float32 on a real clip's level-0 graph: same probabilities to < 1e-6."""
    from lgmot.data import Sequence
    from lgmot.graph import Tracklets, build_level
    from lgmot.track.run import DEFAULT_MODEL

    if not DEFAULT_MODEL.exists():
        pytest.skip("no shipped model")
    seq_dir = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15_train" / "TUD-Campus"
    if not seq_dir.exists():
        pytest.skip("MOT15 data not available")
    model, cfg = load_model(DEFAULT_MODEL)
    fast, cfg2 = load_inference_model(DEFAULT_MODEL)
    assert cfg2 == cfg
    seq = Sequence.from_path(seq_dir)
    d = seq.detections
    d = d[(d.frame <= 60) & (d.score >= cfg.tracker.min_score)].sort_values(["frame", "det_id"])
    t = Tracklets.from_detections(d.frame.to_numpy(), d[["x", "y", "w", "h"]].to_numpy(np.float64))
    g = build_level(t, 0, cfg.tracker, seq.info.fps, 1, cfg.model.graph_features)
    assert len(g.edges) > 100
    with torch.inference_mode():
        ref = model.forward_graph(0, t, g, last_only=True).logits[-1].numpy()
    got = fast.forward_graph(0, t, g).logits[-1]
    assert got.dtype == np.float32
    n = len(g.edges)
    assert np.abs(undirected_probs(got, n) - undirected_probs(ref, n)).max() < 1e-6


def test_numpy_checkpoint_reader_checks(tmp_path):
    cfg = replace(preset("lgmot"), model=CFG)
    torch.manual_seed(3)
    model = HierarchicalMPN(CFG)
    path = tmp_path / "m.safetensors"
    save_model(path, model, cfg, extra={"trained_with_appearance": False})
    fast, cfg2 = load_inference_model(path)
    assert cfg2 == cfg and fast.trained_with_appearance is False
    ref = InferenceModel.from_torch(model)
    np.testing.assert_array_equal(fast.level0.w_e, ref.level0.w_e)
    # a flipped weight byte: the checksum catches it, as load_model's does
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_inference_model(bad)
    with pytest.raises(CheckpointError):
        load_model(bad)
    # weights of another network under this config: named like load_model's error
    other = tmp_path / "other.safetensors"
    save_model(other, HierarchicalMPN(replace(CFG, node_in_dim=16)), replace(cfg, model=replace(CFG, node_in_dim=16)))
    data = other.read_bytes()
    text = data.replace(b'node_in_dim\\": 16', b'node_in_dim\\": 24')  # inside the JSON-quoted config
    assert text != data
    # the header's length field is unchanged (same number of digits), so the file stays readable
    (tmp_path / "mismatch.safetensors").write_bytes(text)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_inference_model(tmp_path / "mismatch.safetensors")


def test_track_imports_neither_torch_nor_pyg(tmp_path):
    """``lgmot track`` with the shipped model runs without importing torch or torch_geometric."""
    seq = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15_train" / "TUD-Campus"
    if not seq.exists():
        pytest.skip("MOT15 data not available")
    code = ("import sys; from lgmot.cli import app\n"
            f"sys.argv = ['lgmot', 'track', {str(seq)!r}, '--out', {str(tmp_path)!r}, '-q']\n"
            "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('torch', 'torch_geometric', 'scipy.stats') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "TUD-Campus.txt").is_file()


def test_lazy_package_names():
    """``import lgmot`` stays light; the public names still import."""
    code = ("import sys, lgmot; heavy = [m for m in ('pandas', 'torch') if m in sys.modules]\n"
            "from lgmot import Config, Sequence, load_config, load_sequence, preset, InputError\n"
            "from lgmot.model import HierarchicalMPN, load_model, save_model, focal_loss, MLP, InferenceModel\n"
            "import lgmot.model as m; assert 'MPN' in dir(m)\n"
            "print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_blas_threads_nested_and_restored():
    """The outermost context sets the limit and restores the caller's setting; inner ones leave it."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from lgmot.threads import blas_threads

    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("no BLAS found by threadpoolctl")
    with blas.limit(limits=2):  # a known caller setting
        with blas_threads(1):
            assert blas.info()[0]["num_threads"] == 1
            with blas_threads(1):
                assert blas.info()[0]["num_threads"] == 1
            assert blas.info()[0]["num_threads"] == 1  # the inner exit does not restore
        assert blas.info()[0]["num_threads"] == 2


def test_numpy_model_same_tracks_on_any_backend():
    """The numpy model tracks a real sequence identically in process, on 2 clip threads and on 2
    forked workers, and like the torch model."""
    from lgmot.data import Sequence
    from lgmot.track import Tracker
    from lgmot.track.run import DEFAULT_MODEL

    seq_dir = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15_train" / "TUD-Stadtmitte"
    if not DEFAULT_MODEL.exists() or not seq_dir.exists():
        pytest.skip("shipped model or MOT15 data not available")
    seq = Sequence.from_path(seq_dir)
    fast, cfg = load_inference_model(DEFAULT_MODEL)
    torch_model, _ = load_model(DEFAULT_MODEL)
    runs = []
    for model, workers, backend in [(fast, 1, "auto"), (fast, 2, "thread"), (fast, 2, "process"),
                                    (torch_model, 1, "auto")]:
        with Tracker(cfg, model, workers=workers, backend=backend) as tr:
            runs.append(tr.track_detections(seq.detections, seq.info.fps))
    assert len(runs[0]) > 100
    for r in runs[1:]:
        assert r.equals(runs[0])
