"""TRL reward functions and the verl-style compute_score."""

from __future__ import annotations

import json

import pytest

from perception_r1.geometry import FrameSpec
from perception_r1.tasks import grounding
from perception_r1.tasks.adapters import RewardStats, compute_score, trl_reward_functions


def _cols():
    return dict(task=["grounding", "counting", "grounding"],
                target=[json.dumps({"box": [10, 10, 50, 50], "problem": "red circle"}),
                        json.dumps({"points": [[20, 20]], "count": 1, "problem": "blue square"}),
                        json.dumps({"box": [10, 10, 50, 50], "problem": "red circle"})],
                image_size=[[112, 112], [112, 112], [112, 112]])


def test_one_function_per_component_with_weights():
    funcs, weights = trl_reward_functions({"grounding": {"format_weight": 0.5}, "counting": {"count_weight": 2.0}})
    assert [f.__name__ for f in funcs] == ["grounding_iou", "grounding_format", "counting_count", "counting_format"]
    assert weights == [1.0, 0.5, 2.0, 1.0]


def test_rows_of_other_tasks_get_none_and_garbage_gets_zero():
    stats = RewardStats()
    funcs, _ = trl_reward_functions({"grounding": {}, "counting": {}}, min_pixels=3136, max_pixels=50176,
                                    stats=stats)
    comps = ['[{"bbox_2d": [10, 10, 50, 50]}]',
             [{"role": "assistant", "content": '[{"bbox_2d": [15, 15, 25, 25]}]'}],  # conversational
             "no idea"]
    iou, fmt, count, cfmt = (f(prompts=None, completions=comps, **_cols()) for f in funcs)
    assert iou == [1.0, None, 0.0] and fmt == [1.0, None, 0.0]
    assert count == [None, 1.0, None] and cfmt == [None, 1.0, None]
    s = stats.reset()
    assert s["grounding/unparsed_frac"] == 0.5 and s["counting/unparsed_frac"] == 0.0 and s["reward_errors"] == 0
    assert s["reward_time_s"] > 0


def test_compute_score_matches_task_score():
    gt = {"box": [0, 0, 20, 20], "image_size": [112, 112]}
    text = '[{"bbox_2d": [10, 0, 30, 20]}]'
    want = grounding.score(text, [0, 0, 20, 20], FrameSpec(112, 112, 3136, 50176))[0]
    got = compute_score("pr1/grounding", text, json.dumps(gt), {"min_pixels": 3136, "max_pixels": 50176})
    assert got == pytest.approx(want) == pytest.approx(1 / 3 + 1)
    assert compute_score("grounding", "garbage", gt) == 0.0
