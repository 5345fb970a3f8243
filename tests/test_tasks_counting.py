"""Counting task: Hungarian-matched point reward (paper 4.2-4.3), labels, format, accuracy / MAE (paper 6.2)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from perception_r1.geometry import FrameSpec
from perception_r1.tasks import counting as c

SPEC = FrameSpec(100, 100, 3136, 50176)  # 100x100 -> resized 112x112, so frames differ
DIAG = math.hypot(100, 100)


def test_prompt_is_the_papers():
    assert c.prompt("bird") == "Output all the bounding boxes of the bird"


def test_count_reward_hand_computed():
    gt = np.array([[10.0, 10.0], [50.0, 50.0]])
    assert c.count_reward(gt.copy(), gt, DIAG) == 1.0
    assert c.count_reward(np.zeros((0, 2)), np.zeros((0, 2)), DIAG) == 1.0
    assert c.count_reward(np.zeros((0, 2)), gt, DIAG) == 0.0
    assert c.count_reward(gt, np.zeros((0, 2)), DIAG) == 0.0
    assert c.count_reward(None, gt, DIAG) == 0.0
    # over-count by one: the 2 truths match exactly (distance 0), ratio 2/3
    pred = np.array([[10.0, 10.0], [50.0, 50.0], [90.0, 90.0]])
    assert c.count_reward(pred, gt, DIAG) == pytest.approx(2 / 3)
    # one point 3-4-5 off: mean distance (0 + 5)/2 = 2.5 -> 1 - 2.5 / diag
    pred = np.array([[10.0, 10.0], [53.0, 54.0]])
    assert c.count_reward(pred, gt, DIAG) == pytest.approx(1 - 2.5 / DIAG)


def test_permutation_invariant_under_hungarian_not_under_sequential():
    gt = np.array([[10.0, 10.0], [90.0, 90.0], [10.0, 90.0]])
    perm = gt[[2, 0, 1]]
    h = c.count_reward(perm, gt, DIAG, "hungarian")
    assert h == 1.0
    s = c.count_reward(perm, gt, DIAG, "sequential")
    # sequential pairs (10,90)-(10,10): 80, (10,10)-(90,90): 80*sqrt2, (90,90)-(10,90): 80
    expected = 1 - (80 + 80 * math.sqrt(2) + 80) / 3 / DIAG
    assert s == pytest.approx(expected) and s < h


def _boxes(points, half=3, label=None):
    items = []
    for x, y in points:
        it = {"bbox_2d": [x - half, y - half, x + half, y + half]}
        if label:
            it["label"] = label
        items.append(it)
    return json.dumps(items)


def test_score_in_original_frame():
    gt = [[20.0, 30.0], [70.0, 60.0]]
    text = _boxes([[20.0, 30.0], [70.0, 60.0]])  # written in original pixels
    total, comp = c.score(text, gt, SPEC, "red circle", frame="original")
    assert comp["count"] == 1.0 and comp["format"] == 1.0 and total == 2.0 and comp["pred_count"] == 2
    # the same numbers read in the resized (112 px) frame are scaled by 100/112
    _, comp2 = c.score(text, gt, SPEC, "red circle")
    assert 0.9 < comp2["count"] < 1.0


def test_labels_filter_and_plurals():
    gt = [[20.0, 30.0]]
    text = json.dumps([{"point_2d": [20, 30], "label": "red circles"},
                       {"point_2d": [70, 70], "label": "blue square"}])
    _, strict = c.score(text, gt, SPEC, "red circle", frame="original")
    assert strict["pred_count"] == 1 and strict["label_mismatch"] == 1 and strict["count"] == 1.0
    assert strict["format"] == 0.0  # a mislabelled item breaks the format
    loose = c.score(text, gt, SPEC, "red circle", c.CountingRewardConfig(strict_labels=False), frame="original")[1]
    assert loose["pred_count"] == 2 and loose["count"] < 1.0


def test_empty_answer_for_empty_scene_and_garbage():
    assert c.score("[]", [], SPEC, "bird")[0] == 2.0
    assert c.score("[]", [[1.0, 1.0]], SPEC, "bird")[1]["count"] == 0.0
    total, comp = c.score("there are three birds", [[1.0, 1.0]], SPEC, "bird")
    assert total == 0.0 and comp["parsed"] == 0.0 and comp["pred_count"] == -1


def test_metrics_hand_computed():
    m = c.metrics([3, 2, None, 0], [3, 4, 1, 0])
    # correct: items 0 and 3 -> 2/4; MAE = (0 + 2 + 1 + 0)/4 = 0.75 (None counts as 0)
    assert m == {"accuracy": 0.5, "mae": 0.75, "n": 4, "parse_rate": 0.75}
    with pytest.raises(ValueError):
        c.metrics([1], [1, 2])
