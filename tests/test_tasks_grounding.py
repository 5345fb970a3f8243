"""Grounding task: prompt, target rendering, IoU / format rewards and Acc@t metrics (paper 3.2, 4.2, 6.1)."""

from __future__ import annotations

import json

import pytest

from perception_r1.geometry import FrameSpec
from perception_r1.tasks import grounding as g

SPEC = FrameSpec(112, 112, 3136, 50176)  # resized frame == original
ODD = FrameSpec(333, 517, 3136, 50176)   # resized to 168x280 (w x h): frames differ


def test_prompt_is_the_papers():
    assert g.prompt("red circle") == "Output the bounding box of the red circle in the image."


def test_target_text_round_trips_through_the_resized_frame():
    box = [40.0, 100.0, 200.0, 400.0]
    text = g.target_text(box, ODD)
    rw, rh = ODD.resized_size
    assert (rw, rh) != (333, 517)
    # the rendered numbers are in the resized frame
    assert json.loads(text)[0]["bbox_2d"] == [round(40 * rw / 333), round(100 * rh / 517),
                                             round(200 * rw / 333), round(400 * rh / 517)]
    back = g.parse(text, ODD).box
    assert back == pytest.approx(box, abs=333 / rw)  # within one resized pixel


def test_perfect_answer():
    total, c = g.score('[{"bbox_2d": [10, 10, 50, 50]}]', [10, 10, 50, 50], SPEC)
    assert c["iou"] == 1.0 and c["format"] == 1.0 and total == 2.0


def test_partial_overlap_hand_computed():
    # pred [0,0,20,20] vs gt [10,0,30,20]: inter 10*20 = 200, union 400+400-200 = 600 -> 1/3
    total, c = g.score('[{"bbox_2d": [0, 0, 20, 20]}]', [10, 0, 30, 20], SPEC)
    assert c["iou"] == pytest.approx(1 / 3)
    faithful = g.score('[{"bbox_2d": [0, 0, 20, 20]}]', [10, 0, 30, 20], SPEC, g.GroundingRewardConfig(True))[1]
    assert faithful["iou"] == pytest.approx(1 / 9)  # released code: IoU squared


@pytest.mark.parametrize("text", ["", "I cannot see", "<", "<|object_ref_start|>anything", "<think>garbage",
                                  '[{"bbox_2d": [5, 5, 1, 1]}]'])
def test_unparseable_or_format_imitation_scores_zero(text):
    total, c = g.score(text, [10, 10, 50, 50], SPEC)
    assert total == 0.0 and c["format"] == 0.0 and c["parsed"] == 0.0


def test_two_boxes_break_the_format_but_first_box_is_scored():
    total, c = g.score('[{"bbox_2d": [10, 10, 50, 50]}, {"bbox_2d": [0, 0, 5, 5]}]', [10, 10, 50, 50], SPEC)
    assert c["iou"] == 1.0 and c["format"] == 0.0 and total == 1.0


def test_text_around_json_is_not_format_compliant():
    _, c = g.score('Sure! [{"bbox_2d": [10, 10, 50, 50]}]', [10, 10, 50, 50], SPEC)
    assert c["iou"] == 1.0 and c["format"] == 0.0


def test_frame_override():
    gt = [100.0, 100.0, 200.0, 300.0]  # original pixels of a 333x517 image
    as_original = '[{"bbox_2d": [100, 100, 200, 300]}]'
    assert g.score(as_original, gt, ODD, frame="original")[1]["iou"] == 1.0
    assert g.score(as_original, gt, ODD)[1]["iou"] < 0.9  # read as resized pixels it is a different box
    # norm1000: x / 1000 * 333, y / 1000 * 517
    n = [round(100 / 333 * 1000), round(100 / 517 * 1000), round(200 / 333 * 1000), round(300 / 517 * 1000)]
    assert g.score(json.dumps([{"bbox_2d": n}]), gt, ODD, frame="norm1000")[1]["iou"] > 0.98


def test_weights():
    cfg = g.GroundingRewardConfig(iou_weight=2.0, format_weight=0.5)
    total, _ = g.score('[{"bbox_2d": [0, 0, 20, 20]}]', [10, 0, 30, 20], SPEC, cfg)
    assert total == pytest.approx(2 * (1 / 3) + 0.5)


def test_metrics_hand_computed():
    m = g.metrics([1.0, 0.8, 0.6, 0.3, None])
    # >=0.5: 3/5, >=0.75: 2/5, >=0.95: 1/5; avg = (0.6+0.4+0.2)/3 = 0.4; miou = (1+0.8+0.6+0.3+0)/5 = 0.54
    assert m["acc@0.5"] == pytest.approx(0.6)
    assert m["acc@0.75"] == pytest.approx(0.4)
    assert m["acc@0.95"] == pytest.approx(0.2)
    assert m["acc_avg"] == pytest.approx(0.4)
    assert m["miou"] == pytest.approx(0.54)
    assert m["parse_rate"] == pytest.approx(0.8) and m["n"] == 5
    assert g.metrics([])["n"] == 0
