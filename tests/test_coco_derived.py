"""COCO-derived grounding and counting sets, checked against the raw official annotations."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from perception_r1.data.coco import coco_derived
from perception_r1.data.records import DataError, load_records, write_jsonl


def _raw(coco50):
    return json.loads((coco50 / "annotations" / "instances_val2017.json").read_text())


def test_counting_counts_non_crowd_instances(coco50, tmp_path):
    raw = _raw(coco50)
    want = Counter((a["image_id"], a["category_id"]) for a in raw["annotations"] if not a.get("iscrowd", 0))
    names = {c["id"]: c["name"] for c in raw["categories"]}
    recs = coco_derived("counting", coco50 / "annotations" / "instances_val2017.json", coco50 / "val2017")
    assert len(recs) == len(want)
    for r in recs:
        _, img_id, cat_id = r["id"].split("-")
        assert r["count"] == want[(int(img_id), int(cat_id))] == len(r["points"])
        assert r["problem"] == names[int(cat_id)]
        assert r["source"] == "COCO-derived counting"
    p = write_jsonl(tmp_path / "c.jsonl", recs)
    assert len(load_records(p, "counting")) == len(recs)


def test_grounding_uses_single_instance_categories(coco50):
    raw = _raw(coco50)
    anns = [a for a in raw["annotations"] if not a.get("iscrowd", 0)]
    counts = Counter((a["image_id"], a["category_id"]) for a in anns)
    recs = coco_derived("grounding", coco50 / "annotations" / "instances_val2017.json", coco50 / "val2017")
    assert recs, "the 50 images have single-instance categories"
    for r in recs:
        _, img_id, cat_id = (int(x) if x.isdigit() else x for x in r["id"].split("-"))
        assert counts[(img_id, cat_id)] == 1
        (a,) = [a for a in anns if a["image_id"] == img_id and a["category_id"] == cat_id]
        x, y, w, h = a["bbox"]
        assert r["box"] == pytest.approx([x, y, x + w, y + h])
        assert r["source"] == "COCO-derived grounding"


def _bad(tmp_path, mutate):
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
            "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]}],
            "categories": [{"id": 1, "name": "cat"}]}
    mutate(coco)
    p = tmp_path / "inst.json"
    p.write_text(json.dumps(coco))
    return p


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda c: c.pop("annotations"), "missing list field 'annotations'"),
    (lambda c: c["annotations"][0].update(image_id=99), "annotations[0] (id 5): field 'image_id'"),
    (lambda c: c["annotations"][0].update(bbox=[0, 0, 0, 4]), "annotations[0] (id 5): field 'bbox'"),
    (lambda c: c["annotations"][0].update(category_id=3), "field 'category_id'"),
    (lambda c: c["images"][0].pop("file_name"), "images[0]: missing field 'file_name'"),
])
def test_bad_coco_files_name_file_and_record(tmp_path, mutate, needle):
    p = _bad(tmp_path, mutate)
    with pytest.raises(DataError) as e:
        coco_derived("counting", p, tmp_path)
    assert str(p) in str(e.value) and needle in str(e.value)
