"""lgmot's OSNet: torchreid checkpoints load key by key, bad files fail in one line, and the forward
pass matches an independent implementation (the torchreid ONNX export run by onnxruntime)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from lgmot.embed.osnet import OSNET_WIDTHS, OSNet, OSNetEncoder, load_osnet
from lgmot.errors import InputError

REID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reid_osnet"
MSMT = REID / "osnet_x0_25_msmt17.pth"
MARKET = REID / "osnet_x0_25_market1501.pth"
ONNX = REID / "osnet_x0_25_msmt17.onnx"
needs_weights = pytest.mark.skipif(not MSMT.is_file(), reason=f"shared weights missing: {MSMT}")
needs_onnx = pytest.mark.skipif(not ONNX.is_file() or importlib.util.find_spec("onnxruntime") is None,
                                reason="the ONNX export or onnxruntime is missing")


def _crops(n: int = 6, seed: int = 0) -> list[np.ndarray]:
    """Person-sized BGR crops: smooth colour fields plus noise (not pure noise: realistic activations)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        h, w = int(rng.integers(60, 220)), int(rng.integers(25, 100))
        yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
        base = np.stack([rng.uniform(0, 255) * yy + rng.uniform(0, 255) * (1 - xx) for _ in range(3)], -1)
        out.append(np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8))
    return out


# --- a minimal ONNX (protobuf) reader: the onnx package is not needed ------------------------------
def _varint(b: bytes, i: int) -> tuple[int, int]:
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _fields(b: bytes) -> list[tuple[int, object]]:
    i, out = 0, []
    while i < len(b):
        key, i = _varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        else:
            raise ValueError(f"protobuf wire type {wire}")
        out.append((num, v))
    return out


def _onnx_graph(path: Path) -> tuple[list[tuple[str, list[str]]], dict[str, np.ndarray]]:
    """(nodes as (op_type, inputs) in graph order, float32 initializers by name)."""
    graph = next(v for f, v in _fields(path.read_bytes()) if f == 7)
    nodes, inits = [], {}
    for f, v in _fields(graph):
        if f == 1:  # NodeProto: input 1, op_type 4
            d = _fields(v)
            nodes.append((next(x.decode() for k, x in d if k == 4), [x.decode() for k, x in d if k == 1]))
        elif f == 5:  # TensorProto: dims 1, data_type 2 (1 = float), name 8, raw_data 9
            d = _fields(v)
            dims = [x for k, x in d if k == 1]
            if next(x for k, x in d if k == 2) == 1:
                raw = next(x for k, x in d if k == 9)
                inits[next(x.decode() for k, x in d if k == 8)] = np.frombuffer(raw, np.float32).reshape(dims)
    return nodes, inits


def _osnet_with_onnx_weights(path: Path) -> OSNet:
    """OSNet x0.25 holding the export's weights. The exporter folded each BN into the conv before it
    (an unnamed ``onnx::Conv_*`` weight and bias); that conv keeps the folded weight and its BN becomes
    the identity plus the folded bias. Convs are matched to graph nodes in execution order, and every
    weight the export kept by name must agree with the module name at that position."""
    nodes, inits = _onnx_graph(path)
    model = OSNet(0.25).eval()
    order: list[str] = []
    modules = dict(model.named_modules())
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: order.append(n)) for n, m in modules.items()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, 256, 128))
    for h in hooks:
        h.remove()
    ops = [ins for op, ins in nodes if op in ("Conv", "Gemm")]
    assert len(ops) == len(order) == 188
    state = model.state_dict()
    new = {}
    for name, ins in zip(order, ops):
        w = torch.from_numpy(inits[ins[1]].copy())
        if not ins[1].startswith("onnx::"):  # kept by name: the layout must agree
            assert ins[1] == f"{name}.weight"
            new[f"{name}.weight"] = w
            if len(ins) > 2:
                new[f"{name}.bias"] = torch.from_numpy(inits[ins[2]].copy())
            continue
        bn = name.rsplit(".", 1)[0] + ".bn"
        assert isinstance(modules[bn], torch.nn.BatchNorm2d), name
        eps = modules[bn].eps
        new[f"{name}.weight"] = w
        new[f"{bn}.weight"] = torch.ones(w.shape[0])
        new[f"{bn}.bias"] = torch.from_numpy(inits[ins[2]].copy())
        new[f"{bn}.running_mean"] = torch.zeros(w.shape[0])
        new[f"{bn}.running_var"] = torch.full((w.shape[0],), 1.0 - eps)
    for k in ("fc.1.weight", "fc.1.bias", "fc.1.running_mean", "fc.1.running_var"):
        new[k] = torch.from_numpy(inits[k].copy())
    for k in state:
        new.setdefault(k, state[k])  # num_batches_tracked
    assert set(new) == set(state)
    model.load_state_dict(new, strict=True)
    return model


@needs_onnx
def test_osnet_forward_matches_onnx_export():
    """The architecture cross-check: same weights, same crops -> same 512-d embeddings (1e-4)."""
    import onnxruntime as ort

    model = _osnet_with_onnx_weights(ONNX)
    enc = OSNetEncoder.__new__(OSNetEncoder)  # preprocessing only
    enc.crop_size = (256, 128)
    x = OSNetEncoder.preprocess(enc, _crops())
    sess = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"images": x[i:i + 1].numpy()})[0] for i in range(len(x))])
    with torch.no_grad():
        ours = model(x).numpy()
    assert ours.shape == ref.shape == (len(x), 512)
    assert np.abs(ref).max() > 0.1  # a real signal, not all zeros
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(unit(ours), unit(ref), atol=1e-4)
    np.testing.assert_allclose(ours, ref, atol=1e-4 * float(np.abs(ref).max()))


@needs_weights
def test_torchreid_checkpoint_loads_every_key():
    state = torch.load(MSMT, map_location="cpu", weights_only=True)
    model = load_osnet(MSMT, "osnet_x0_25")
    mine = model.state_dict()
    assert set(mine) == {k for k in state if not k.startswith("classifier.")}
    for k, v in mine.items():
        assert torch.equal(v, state[k]), k
    enc = OSNetEncoder(MSMT, "osnet_x0_25", batch_size=4)
    out = enc.encode(_crops(5))
    assert out.shape == (5, 512) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert enc.name == "osnet_x0_25-6f57607f-256x128-l2" and enc.dim == 512
    # batching does not change the embedding
    np.testing.assert_allclose(enc.encode(_crops(5)[:1]), out[:1], atol=1e-5)


@needs_weights
def test_state_dict_wrappers(tmp_path):
    """``{'state_dict': ...}`` and DataParallel's ``module.`` prefix load the same network."""
    state = torch.load(MSMT, map_location="cpu", weights_only=True)
    p = tmp_path / "wrapped.pth.tar"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, p)
    a, b = load_osnet(MSMT, "osnet_x0_25"), load_osnet(p, "osnet_x0_25")
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


@needs_weights
def test_mismatched_weights_are_one_line_errors(tmp_path):
    with pytest.raises(InputError) as e:
        load_osnet(MSMT, "osnet_x1_0")
    msg = str(e.value)
    assert str(MSMT) in msg and "\n" not in msg and "osnet_x1_0" in msg and "fit osnet_x0_25" in msg
    state = torch.load(MSMT, map_location="cpu", weights_only=True)
    bias = state.pop("conv3.1.gate.fc2.bias")
    p = tmp_path / "missing.pth"
    torch.save(state, p)
    with pytest.raises(InputError, match=r"1 tensors missing \(first: conv3\.1\.gate\.fc2\.bias\)") as e:
        load_osnet(p, "osnet_x0_25")
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    state["conv3.1.gate.fc2.bias"] = bias
    state["head.weight"] = torch.zeros(3)
    torch.save(state, p)
    with pytest.raises(InputError, match=r"unexpected tensors \(first: head\.weight\)"):
        load_osnet(p, "osnet_x0_25")


def test_not_a_state_dict(tmp_path):
    p = tmp_path / "bad.pth"
    p.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot read as a plain state dict") as e:
        OSNetEncoder(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    torch.save([torch.zeros(2)], p)
    with pytest.raises(InputError, match="does not hold a state dict"):
        OSNetEncoder(p)
    with pytest.raises(InputError, match="LGMOT_REID_WEIGHTS"):
        OSNetEncoder(None)


@pytest.mark.parametrize("variant", sorted(OSNET_WIDTHS))
def test_variants_round_trip(tmp_path, variant):
    """Each width builds, saves in torchreid's layout (with a classifier) and loads back exactly."""
    torch.manual_seed(0)
    model = OSNet(OSNET_WIDTHS[variant])
    state = dict(model.state_dict())
    state["classifier.weight"] = torch.zeros(10, 512)
    p = tmp_path / f"{variant}.pth"
    torch.save(state, p)
    back = load_osnet(p, variant)
    assert all(torch.equal(v, state[k]) for k, v in back.state_dict().items())
    stem = {"osnet_x1_0": 64, "osnet_x0_75": 48, "osnet_x0_5": 32, "osnet_x0_25": 16}[variant]
    assert back.conv1.conv.weight.shape[0] == stem
    with torch.no_grad():
        assert back(torch.zeros(2, 3, 64, 32)).shape == (2, 512)
