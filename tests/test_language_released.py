import json

import pytest

from lgmot.errors import InputError
from lgmot.language.released import fold_mot17_name, read_released


def test_json_list_of_records(tmp_path):
    p = tmp_path / "mot17_l.json"
    p.write_text(json.dumps([
        {"video_name": "MOT17-02-SDP", "scene_caption": "A scene captured by a static camera."},
        {"video_name": "MOT17-02-SDP", "track_id": 1, "caption": "A man in a black coat."},
        {"video_name": "MOT17-02-FRCNN", "track_id": "2", "Description": "A woman in a red dress."},
        {"video_name": "MOT17-04-SDP", "Track-ID": 5.0, "text": "A child.", "scene": "A night scene."},
    ]))
    out = read_released(p)
    assert sorted(out) == ["MOT17-02", "MOT17-04"]
    a = out["MOT17-02"]
    assert a.scene.text == "A scene captured by a static camera."
    assert {k: d.text for k, d in a.instances.items()} == {1: "A man in a black coat.", 2: "A woman in a red dress."}
    assert a.instances[1].provenance == "manual"
    assert out["MOT17-04"].scene.text == "A night scene." and out["MOT17-04"].instances[5].text == "A child."


def test_jsonl_and_csv(tmp_path):
    p = tmp_path / "dancetrack.jsonl"
    p.write_text('{"seq": "dancetrack0001", "description": "An indoor stage."}\n'
                 '{"seq": "dancetrack0001", "id": 3, "description": "A dancer in white."}\n')
    a = read_released(p)["dancetrack0001"]
    assert a.scene.text == "An indoor stage." and a.instances[3].text == "A dancer in white."
    c = tmp_path / "sportsmot.csv"
    c.write_text("sequence,track_id,caption\nv_1,,A basketball court.\nv_1,9,A player in a yellow shirt.\n")
    b = read_released(c)["v_1"]
    assert b.scene.text == "A basketball court." and b.instances[9].text == "A player in a yellow shirt."


def test_nested_by_sequence(tmp_path):
    p = tmp_path / "nested.json"
    p.write_text(json.dumps({"dancetrack0002": {"scene": "A gym.", "instances": {"1": "A dancer in black.",
                                                                                 "2": {"caption": "A dancer."}}},
                             "dancetrack0003": {"tracks": [{"track_id": 4, "text": "A tall dancer."}]}}))
    out = read_released(p)
    assert out["dancetrack0002"].scene.text == "A gym."
    assert out["dancetrack0002"].instances[2].text == "A dancer."
    d3 = out["dancetrack0003"]
    assert d3.scene.attributes["missing_scene"] is True and d3.instances[4].text == "A tall dancer."
    # the result is a valid annotation file
    from lgmot.language import SequenceAnnotations
    assert SequenceAnnotations.read(d3.write(tmp_path / "d3.json")).to_json() == d3.to_json()


def test_errors(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps([{"video": "a", "track_id": "x1", "caption": "A."}]))
    with pytest.raises(InputError, match="not an integer"):
        read_released(p)
    p.write_text(json.dumps([{"video": "a", "track_id": 1, "caption": "A."},
                             {"video": "a", "track_id": 1, "caption": "B."}]))
    with pytest.raises(InputError, match="two different texts"):
        read_released(p)
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_released(p)
    assert fold_mot17_name("MOT17-13-DPM") == "MOT17-13" and fold_mot17_name("v_1") == "v_1"
