"""safetensors checkpoints: round trip, metadata, corruption handling."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from safetensors.torch import save_file

from lgmot import __version__
from lgmot.config import Config, ModelConfig, preset
from lgmot.model import CheckpointError, HierarchicalMPN, edge_feature_dim, load_model, read_metadata, save_model


def _cfg() -> Config:
    base = preset("sushi")  # non-default everything: depth 9, other train/tracker values
    return replace(base, model=replace(base.model, node_in_dim=10, appearance_indicator=False, num_class_steps=4))


def _inputs(level, cfg):
    g = torch.Generator().manual_seed(level)
    ei = torch.tensor([[0, 0, 1, 2], [1, 2, 3, 3]])
    return (torch.randn(4, cfg.node_in_dim, generator=g), torch.cat([ei, ei.flip(0)], 1),
            torch.randn(4, edge_feature_dim(level, cfg), generator=g), torch.tensor([True, False, True, True]))


@pytest.fixture
def saved(tmp_path):
    cfg = _cfg()
    torch.manual_seed(0)
    model = HierarchicalMPN(cfg.model)
    with torch.no_grad():
        for mpn in (model.level0, model.upper):
            mpn.missing_mid.normal_()
    path = tmp_path / "ck" / "model.safetensors"
    save_model(path, model, cfg, extra={"epoch": 7})
    return path, model, cfg


def test_round_trip_identical_outputs(saved):
    path, model, cfg = saved
    loaded, cfg2 = load_model(path)
    assert cfg2 == cfg and loaded.cfg == cfg.model
    assert not loaded.training
    model.eval()
    for level in (0, 1, 8):
        a = model(level, *_inputs(level, cfg.model))
        b = loaded(level, *_inputs(level, cfg.model))
        assert len(b.logits) == 4
        for x, y in zip(a.logits + a.edge_embs + [a.node_mid], b.logits + b.edge_embs + [b.node_mid]):
            assert torch.equal(x, y)
    meta = read_metadata(path)
    assert meta["lgmot_version"] == __version__ and meta["extra"] == {"epoch": 7}
    assert meta["config"] == cfg.to_dict()
    assert [p.name for p in path.parent.iterdir()] == ["model.safetensors"]  # no temp file left


def test_file_is_safetensors_not_pickle(saved):
    path, _, _ = saved
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    assert header["__metadata__"]["format"] == "lgmot.model/1"
    # safetensors layout: an 8-byte little-endian header length, then the JSON header. (The first
    # byte is the length's low byte, so it may be anything, 0x80 included; a pickle stream is
    # 0x80 + protocol and then opcodes, a torch file a zip: neither has the JSON at byte 8.)
    assert data[8:9] == b"{" and data[:2] != b"PK"


def test_corrupted_weights_refused(saved):
    path, _, _ = saved
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # flip bits in the last tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_model(path)


def test_truncated_and_garbage_refused(saved, tmp_path):
    path, _, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupted"):
        load_model(path)
    path.write_bytes(data[:100])
    with pytest.raises(CheckpointError, match="truncated"):
        load_model(path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x05\x00")
    with pytest.raises(CheckpointError, match="too short"):
        load_model(junk)
    with pytest.raises(CheckpointError, match="cannot read"):
        load_model(tmp_path / "missing.safetensors")


def test_foreign_safetensors_refused(tmp_path):
    p = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(p))
    with pytest.raises(CheckpointError, match="not an lgmot model"):
        load_model(p)


def test_config_mismatch_refused(tmp_path):
    model = HierarchicalMPN(ModelConfig(node_in_dim=10))
    with pytest.raises(ValueError):
        save_model(tmp_path / "m.safetensors", model, Config())  # default node_in_dim is 1280
    save_model(tmp_path / "m.safetensors", model, replace(Config(), model=ModelConfig(node_in_dim=10)))
    # weights that do not fit the stored config (hand-edited metadata) give a clear error
    from safetensors.torch import load_file, save as st_save
    from lgmot.model.checkpoint import _digest

    t = load_file(str(tmp_path / "m.safetensors"))
    meta = read_metadata(tmp_path / "m.safetensors")
    meta["config"]["model"]["node_in_dim"] = 11
    raw = {"format": "lgmot.model/1", "lgmot_version": __version__, "config": json.dumps(meta["config"]),
           "sha256": _digest(t), "extra": "{}"}
    (tmp_path / "bad.safetensors").write_bytes(st_save(t, metadata=raw))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(tmp_path / "bad.safetensors")


def test_read_metadata_reads_the_header_only(saved, tmp_path):
    """The metadata comes from the safetensors header: a file cut right after it still gives the
    metadata (the same as the whole file's), while loading its weights is refused."""
    path, _, _ = saved
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    cut = tmp_path / "header_only.safetensors"
    cut.write_bytes(data[: 8 + n])
    assert read_metadata(cut) == read_metadata(path)
    with pytest.raises(CheckpointError, match="corrupted"):
        load_model(cut)
