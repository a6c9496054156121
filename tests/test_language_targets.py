from pathlib import Path

import numpy as np
import pytest

from lgmot.data import load_sequence
from lgmot.language import Description, SequenceAnnotations, find_annotations, instance_targets, scene_target
from lgmot.language.targets import shipped_annotation_path, shipped_sequences
from lgmot.language.text import CachedTextEncoder, instance_projection

from test_language_text import FakeEncoder

MOT15_NAMES = ["ADL-Rundle-6", "ADL-Rundle-8", "ETH-Bahnhof", "ETH-Pedcross2", "ETH-Sunnyday", "KITTI-13",
               "KITTI-17", "PETS09-S2L1", "TUD-Campus", "TUD-Stadtmitte", "Venice-2"]


def write_seq(root: Path, name: str) -> Path:
    (root / "gt").mkdir(parents=True)
    (root / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nframeRate=10\nseqLength=3\nimWidth=100\nimHeight=100\n")
    (root / "gt" / "gt.txt").write_text("1,4,10,10,5,10,1,-1,-1,-1\n2,4,11,10,5,10,1,-1,-1,-1\n")
    return root


def test_shipped_files_are_valid():
    assert set(MOT15_NAMES) <= set(shipped_sequences())
    for n in shipped_sequences():
        ann = SequenceAnnotations.read(shipped_annotation_path(n))
        assert ann.sequence == n and ann.scene.text
    pets = SequenceAnnotations.read(shipped_annotation_path("PETS09-S2L1"))
    assert len(pets.instances) == 19
    assert all("upper_color" in d.attributes for d in pets.instances.values())


def test_find_annotations_prefers_the_sequence_file(tmp_path):
    seq = load_sequence(write_seq(tmp_path / "a", "TUD-Campus"))
    shipped = find_annotations(seq)
    assert shipped is not None and len(shipped.instances) == 8  # the shipped TUD-Campus file
    own = SequenceAnnotations("TUD-Campus", Description("A scene indoors."), {4: Description("A person.")})
    own.write(tmp_path / "a")
    assert find_annotations(seq).scene.text == "A scene indoors."
    other = load_sequence(write_seq(tmp_path / "b", "NOT-A-SHIPPED-SEQ"))
    assert find_annotations(other) is None


def test_targets_shapes_and_projection(tmp_path):
    ann = SequenceAnnotations("X", Description("A scene."), {3: Description("A person in red."),
                                                              7: Description("A person in blue.")})
    fake = FakeEncoder()
    enc = CachedTextEncoder(fake, None)
    s = scene_target(ann, enc)
    assert s.shape == (384,) and s.dtype == np.float32
    inst = instance_targets(ann, enc)
    assert sorted(inst) == [3, 7] and all(v.shape == (128,) and v.dtype == np.float32 for v in inst.values())
    raw = fake.encode(["A person in blue."]).numpy()[0].astype(np.float64)
    np.testing.assert_allclose(inst[7], raw @ instance_projection(384).astype(np.float64), rtol=1e-6)
    assert instance_targets(SequenceAnnotations("X", Description("A scene.")), enc) == {}
