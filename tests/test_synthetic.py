"""Synthetic scenes: reproducible, ground truth consistent with the pixels, canonical files."""

from __future__ import annotations

import json

from PIL import Image

from perception_r1.data.synthetic import BACKGROUND, SceneConfig, counting_scene, grounding_scene, write_synthetic


def test_same_seed_and_index_give_identical_scenes():
    a_img, a_expr, a_box = grounding_scene(5, 17)
    b_img, b_expr, b_box = grounding_scene(5, 17)
    assert a_img.tobytes() == b_img.tobytes() and (a_expr, a_box) == (b_expr, b_box)
    assert grounding_scene(6, 17)[0].tobytes() != a_img.tobytes()
    c1, c2 = counting_scene(5, 3), counting_scene(5, 3)
    assert c1[0].tobytes() == c2[0].tobytes() and c1[1:] == c2[1:]


def test_grounding_target_is_drawn_where_the_box_says():
    hits = 0
    for i in range(100):
        img, expr, (x1, y1, x2, y2) = grounding_scene(0, i)
        assert 0 <= x1 < x2 <= img.width and 0 <= y1 < y2 <= img.height
        # the target's colour word is in the expression
        assert any(c in expr.split() for c in ("red", "green", "blue", "yellow"))
        # the box centre (slightly below it, inside a triangle) is painted, not background
        px = img.getpixel(((x1 + x2) // 2, (y1 + y2) // 2 + (y2 - y1) // 6))
        hits += px != BACKGROUND
    assert hits >= 95


def test_counting_ground_truth_matches_knobs():
    cfg = SceneConfig(max_count=3)
    for i in range(50):
        img, cat, boxes = counting_scene(1, i, cfg)
        assert 0 <= len(boxes) <= 3
        assert cat in ("red circle", "blue square", "green triangle", "yellow diamond")
        for x1, y1, x2, y2 in boxes:
            assert img.getpixel(((x1 + x2) // 2, (y1 + y2) // 2)) != BACKGROUND


def test_write_synthetic_canonical_files(tmp_path):
    for task, keys in (("grounding", {"id", "image", "problem", "box"}),
                       ("counting", {"id", "image", "problem", "points", "count"})):
        path = write_synthetic(task, 6, 9, tmp_path / task)
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(rows) == 6 and len({r["id"] for r in rows}) == 6
        for r in rows:
            assert keys <= set(r)
            assert not r["image"].startswith("/")
            with Image.open(path.parent / r["image"]) as im:
                assert im.size == (112, 112)
            if task == "counting":
                assert r["count"] == len(r["points"])
