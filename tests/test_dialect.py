"""Qwen2.5-VL answer parsing: well-formed, malformed and adversarial text (perception_r1.models.dialect)."""

from __future__ import annotations

import time

import pytest

from perception_r1.models.dialect import Qwen25Dialect, get_dialect

D = Qwen25Dialect()


def test_well_formed_list():
    a = D.parse('[{"bbox_2d": [1, 2, 30, 40], "label": "cat"}, {"point_2d": [5, 6]}]')
    assert a.parsed and a.strict and a.n_items == 2 and a.n_malformed == 0
    assert [(o.kind, o.coords, o.label) for o in a.objects] == [("box", [1, 2, 30, 40], "cat"), ("point", [5, 6], None)]


@pytest.mark.parametrize("text", [
    '{"bbox_2d": [1, 2, 30, 40]}',
    '```json\n[{"bbox_2d": [1, 2, 30, 40]}]\n```',
    '<answer>[{"bbox_2d": [1, 2, 30, 40]}]</answer>',
    '  \n[{"bbox_2d": [1, 2, 30, 40]}]  \n',
    '<answer>```json\n{"bbox_2d": [1, 2, 30, 40]}\n```</answer>',
])
def test_accepted_wrappers_are_strict(text):
    a = D.parse(text)
    assert a.strict and [o.coords for o in a.objects] == [[1, 2, 30, 40]]


@pytest.mark.parametrize("text", [
    'The box is [{"bbox_2d": [1, 2, 30, 40]}]',
    '[{"bbox_2d": [1, 2, 30, 40]}] and more text',
    'intro ```json\n[{"bbox_2d": [1, 2, 30, 40]}]\n```',
])
def test_text_around_the_answer_parses_but_is_not_strict(text):
    a = D.parse(text)
    assert a.parsed and not a.strict
    assert [o.coords for o in a.objects] == [[1, 2, 30, 40]]


@pytest.mark.parametrize("item", [
    '{"bbox_2d": [1, 2, 3]}', '{"bbox_2d": ["1", 2, 3, 4]}', '{"bbox_2d": [1, 2, NaN, 4]}',
    '{"bbox_2d": [30, 2, 1, 40]}', '{"bbox_2d": [1, 40, 30, 2]}', '{"bbox_2d": [true, 2, 3, 4]}',
    '{"bbox_2d": [1, 2, Infinity, 4]}', '{"point_2d": [1]}', '{"box": [1, 2, 3, 4]}', '"text"', '7', 'null',
])
def test_malformed_items_are_counted_not_raised(item):
    a = D.parse(f'[{item}, {{"bbox_2d": [1, 2, 3, 4]}}]')
    assert a.parsed and a.n_items == 2 and a.n_malformed == 1
    assert [o.coords for o in a.objects] == [[1, 2, 3, 4]]


@pytest.mark.parametrize("text", ["", "no json here", "[1, 2", "{", "}{][", "<|box_start|>(1,2),(3,4)<|box_end|>",
                                  '"just a string"', "42", "<answer></answer>"])
def test_garbage_does_not_parse(text):
    a = D.parse(text)
    assert not a.parsed and a.objects == [] and not a.strict


def test_non_string_input():
    assert not D.parse(None).parsed  # type: ignore[arg-type]
    assert not D.parse(123).parsed  # type: ignore[arg-type]


def test_adversarial_sizes_return_quickly():
    t0 = time.perf_counter()
    for text in ("x" * 1_000_000, "[" * 100_000, "{" * 100_000, '[{"bbox_2d": [1,2,3,4]},' * 50_000,
                 "```json" * 50_000):
        a = D.parse(text)
        assert isinstance(a.n_items, int)
    assert time.perf_counter() - t0 < 5.0


def test_render_round_trip():
    boxes = [[1.4, 2.6, 30, 40], [5, 5, 9, 9]]
    a = D.parse(D.render_boxes(boxes, label="red circle"))
    assert [o.coords for o in a.objects] == [[1, 3, 30, 40], [5, 5, 9, 9]]
    assert {o.label for o in a.objects} == {"red circle"}
    p = D.parse(D.render_points([[3, 4]]))
    assert p.objects[0].kind == "point" and p.objects[0].coords == [3, 4]
    assert D.parse(D.render_boxes([])).parsed and D.parse("[]").n_items == 0


def test_get_dialect():
    assert get_dialect().name == "qwen2_5_vl"
    with pytest.raises(ValueError, match="supported"):
        get_dialect("llava")
