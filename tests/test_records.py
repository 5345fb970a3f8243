"""Canonical records and completions files: validation and errors that name file, line, id and field."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from perception_r1.data.records import DataError, load_completions, load_records, write_json, write_jsonl


def _write(tmp_path, rows, name="d.jsonl"):
    p = tmp_path / name
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return p


@pytest.fixture
def img(tmp_path):
    Image.new("RGB", (40, 30)).save(tmp_path / "a.png")
    return "a.png"


def test_happy_path_resolves_relative_images(tmp_path, img):
    p = _write(tmp_path, [{"id": "x", "image": img, "problem": "cat", "box": [1, 2, 10, 20]},
                          {"id": 7, "image": img, "problem": "dog", "box": [0, 0, 5, 5]}])
    recs = load_records(p, "grounding")
    assert [r.id for r in recs] == ["x", "7"]
    assert recs[0].image == str(tmp_path / "a.png")


@pytest.mark.parametrize(("row", "field"), [
    ({"id": "r1", "image": "a.png", "problem": "cat"}, "box"),
    ({"id": "r1", "image": "a.png", "problem": "cat", "box": [10, 2, 1, 20]}, "box"),
    ({"id": "r1", "image": "a.png", "problem": "cat", "box": [1, 2, 3]}, "box"),
    ({"id": "r1", "image": "a.png", "box": [1, 2, 3, 4]}, "problem"),
    ({"id": "r1", "image": "a.png", "problem": "", "box": [1, 2, 3, 4]}, "problem"),
    ({"id": "r1", "image": "missing.png", "problem": "cat", "box": [1, 2, 3, 4]}, "image"),
])
def test_grounding_errors_name_file_line_id_and_field(tmp_path, img, row, field):
    good = {"id": "r0", "image": img, "problem": "cat", "box": [1, 2, 3, 4]}
    p = _write(tmp_path, [good, row])
    with pytest.raises(DataError) as e:
        load_records(p, "grounding")
    msg = str(e.value)
    assert f"{p}:2" in msg and "r1" in msg and f"'{field}'" in msg


def test_counting_count_must_match_points(tmp_path, img):
    p = _write(tmp_path, [{"id": "c", "image": img, "problem": "cat", "points": [[1, 2]], "count": 2}])
    with pytest.raises(DataError, match=r"d.jsonl:1 \(id c\).*count is 2 but 1 points"):
        load_records(p, "counting")


def test_malformed_json_line_and_non_object(tmp_path, img):
    p = _write(tmp_path, [{"id": "a", "image": img, "problem": "cat", "box": [1, 2, 3, 4]}, '{"id": "b", "image":'])
    with pytest.raises(DataError, match=r"d.jsonl:2: not valid JSON"):
        load_records(p, "grounding")
    p = _write(tmp_path, ['[1, 2]'], "e.jsonl")
    with pytest.raises(DataError, match=r"e.jsonl:1: expected a JSON object"):
        load_records(p, "grounding")


def test_duplicate_id_and_corrupt_image(tmp_path, img):
    r = {"id": "a", "image": img, "problem": "cat", "box": [1, 2, 3, 4]}
    with pytest.raises(DataError, match=r"d.jsonl:2 \(id a\): field 'id': duplicate of line 1"):
        load_records(_write(tmp_path, [r, r]), "grounding")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=r"e.jsonl:1 \(id a\): field 'image'.*not a readable image"):
        load_records(_write(tmp_path, [{**r, "image": "bad.png"}], "e.jsonl"), "grounding")


def test_missing_file_and_unknown_task(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_records(tmp_path / "nope.jsonl", "grounding")
    with pytest.raises(ValueError, match="unknown task"):
        load_records(tmp_path / "nope.jsonl", "segmentation")


def test_completions_errors(tmp_path):
    p = _write(tmp_path, [{"id": "a", "completion": "x"}, {"id": "a", "completion": "y"}], "c.jsonl")
    assert load_completions(p) == [("a", "x"), ("a", "y")]
    with pytest.raises(DataError, match=r"c2.jsonl:1 \(id a\): field 'completion'"):
        load_completions(_write(tmp_path, [{"id": "a"}], "c2.jsonl"))
    with pytest.raises(DataError, match=r"c3.jsonl:1: field 'id'"):
        load_completions(_write(tmp_path, [{"id": ["a"], "completion": "x"}], "c3.jsonl"))


def test_atomic_writers_leave_no_temp_files(tmp_path):
    write_jsonl(tmp_path / "o" / "a.jsonl", [{"a": 1}, {"b": 2}])
    write_json(tmp_path / "o" / "m.json", {"k": 1.5})
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.jsonl", "m.json"]
    assert (tmp_path / "o" / "a.jsonl").read_text() == '{"a": 1}\n{"b": 2}\n'
