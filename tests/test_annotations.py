import json

import pytest

from lgmot.errors import InputError
from lgmot.language import (FORMAT, Description, SequenceAnnotations, annotation_path, scene_sentence,
                            sentence_from_attributes)


def _ann() -> SequenceAnnotations:
    return SequenceAnnotations(
        sequence="MOT17-02",
        scene=Description("A scene captured by a static camera.", {"camera": "static"}, "manual"),
        instances={2: Description("A person in a red top.", {"upper_color": "red"}, "auto"),
                   10: Description("A person in a blue top.", {}, "synthetic")})


def test_round_trip_and_layout(tmp_path):
    path = _ann().write(tmp_path)  # a folder: writes <folder>/language.json
    assert path == annotation_path(tmp_path) == tmp_path / "language.json"
    assert [p.name for p in tmp_path.iterdir()] == ["language.json"]  # no temp file left behind
    raw = json.loads(path.read_text())
    assert raw["format"] == FORMAT == "lgmot-language/1"
    assert list(raw["instances"]) == ["2", "10"]
    assert raw["scene"] == {"text": "A scene captured by a static camera.", "attributes": {"camera": "static"},
                            "provenance": "manual"}
    back = SequenceAnnotations.read(path)
    assert back == _ann()
    assert back.instance_text(10) == "A person in a blue top."
    assert back.instance_text(3) is None


def _write(tmp_path, obj) -> str:
    p = tmp_path / "language.json"
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


@pytest.mark.parametrize("mutate, reason", [
    (lambda o: o.update(format="lgmot-language/2"), "'format' must be"),
    (lambda o: o.pop("scene"), "missing 'scene'"),
    (lambda o: o.update(sequence=""), "'sequence' must be"),
    (lambda o: o["scene"].update(provenance="guess"), "scene.provenance must be one of"),
    (lambda o: o["scene"].update(text=" "), "scene.text must be a non-empty string"),
    (lambda o: o["instances"].update({"x1": {"text": "a"}}), "instance key 'x1' is not an integer"),
    (lambda o: o["instances"]["2"].update(attributes=[1]), "instances[2].attributes must be an object"),
    (lambda o: o["instances"]["2"].update(colour="red"), "instances[2] has unknown key(s): colour"),
    (lambda o: o.update(extra=1), "unknown top-level key(s): extra"),
])
def test_validation_names_the_file(tmp_path, mutate, reason):
    obj = _ann().to_json()
    mutate(obj)
    p = _write(tmp_path, obj)
    with pytest.raises(InputError) as e:
        SequenceAnnotations.read(p)
    assert str(e.value).startswith(f"{p}: ")
    assert reason in str(e.value)


def test_bad_json_reports_line(tmp_path):
    p = _write(tmp_path, '{\n "format": "lgmot-language/1",\n "sequence": oops\n}')
    with pytest.raises(InputError, match=r"language.json:3: not valid JSON"):
        SequenceAnnotations.read(p)
    with pytest.raises(InputError, match="cannot read"):
        SequenceAnnotations.read(tmp_path / "missing.json")


def test_write_refuses_invalid(tmp_path):
    bad = SequenceAnnotations("s", Description("ok", {}, "nobody"))
    with pytest.raises(InputError, match="provenance"):
        bad.write(tmp_path / "language.json")
    assert not any(tmp_path.iterdir())


def test_instance_sentences():
    assert sentence_from_attributes({"upper_color": "red", "lower_color": "dark blue", "action": "walking left"}) \
        == "A person in a red top and dark blue trousers walking left."
    assert sentence_from_attributes({"gender": "male", "upper_color": "red", "upper_garment": "shirt",
                                     "lower_color": "black", "lower_garment": "pants"}) \
        == "A male person in a red shirt and black pants."
    assert sentence_from_attributes({"hair_color": "blond", "upper_color": "orange", "upper_pattern": "striped",
                                     "upper_garment": "t-shirt", "lower_color": "grey", "lower_garment": "skirt",
                                     "carrying": "a bag"}) \
        == "A person with blond hair in an orange striped t-shirt and a grey skirt carrying a bag."
    assert sentence_from_attributes({"upper_pattern": "plain", "upper_color": "white"}) == "A person in a white top."
    assert sentence_from_attributes({}) == "A person."


def test_scene_sentences():
    assert scene_sentence({"camera": "pan", "viewpoint": "high", "time": "dusk"}) \
        == "A scene captured by a panning camera from a high viewpoint at dusk."
    assert scene_sentence({"camera": "static", "viewpoint": "medium", "weather": "sunny"}) \
        == "A scene captured by a static camera from a medium viewpoint on a sunny day."
    assert scene_sentence({"camera": "shake", "viewpoint": "low", "time": "night", "blur": True, "crowd": "crowded",
                           "background": "textured"}) \
        == ("A scene captured by a shaking camera from a low viewpoint at night, with motion blur, "
            "in a crowded place, against a textured background.")
    assert scene_sentence({"location": "indoor", "camera": "static"}) == "A scene indoors captured by a static camera."
