"""Evaluation from completions files (no model), frames, missing ids, reward files."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from perception_r1.data.records import DataError, load_records
from perception_r1.evaluate.harness import evaluate, reward_file, score_completions
from perception_r1.geometry import FrameSpec
from perception_r1.models.tiny import TINY_MAX_PIXELS, TINY_MIN_PIXELS
from perception_r1.tasks.registry import get_task

KW = dict(min_pixels=TINY_MIN_PIXELS, max_pixels=TINY_MAX_PIXELS)


def _oracle(task_name, records):
    task = get_task(task_name)
    out = []
    for r in records:
        with Image.open(r.image) as im:
            spec = FrameSpec(im.width, im.height, TINY_MIN_PIXELS, TINY_MAX_PIXELS)
        out.append((r.id, task.target_text(r, spec)))
    return out


def test_oracle_grounding_scores_perfectly(synth, tmp_path):
    recs = load_records(synth("grounding", 8), "grounding")
    m = evaluate("grounding", recs, tmp_path / "o", completions=_oracle("grounding", recs), **KW)
    assert m["acc@0.5"] == 1.0 and m["miou"] > 0.95 and m["parse_rate"] == 1.0 and m["n"] == 8
    saved = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert {"acc@0.5", "acc@0.75", "acc@0.95", "acc_avg", "miou", "n"} <= set(saved)
    preds = [json.loads(line) for line in (tmp_path / "o" / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in preds] == [r.id for r in recs]
    assert all(p["parsed"]["iou"] > 0.9 for p in preds)


def test_oracle_counting_and_garbage_parse_rate(synth, tmp_path):
    recs = load_records(synth("counting", 8), "counting")
    comps = _oracle("counting", recs)
    m = evaluate("counting", recs, tmp_path / "o", completions=comps, **KW)
    assert m["accuracy"] == 1.0 and m["mae"] == 0.0 and m["parse_rate"] == 1.0
    # replace 3 of 8 completions by garbage: parse rate 5/8, never an exception
    bad = [(rid, "I count many" if i < 3 else c) for i, (rid, c) in enumerate(comps)]
    m = evaluate("counting", recs, tmp_path / "o2", completions=bad, **KW)
    assert m["parse_rate"] == pytest.approx(5 / 8)
    # garbage counts as predicting 0: MAE = sum of the 3 true counts / 8
    assert m["mae"] == pytest.approx(sum(r.count for r in recs[:3]) / 8)


def test_repeated_ids_missing_records_and_unknown_ids(synth, tmp_path):
    recs = load_records(synth("grounding", 4), "grounding")
    oracle = _oracle("grounding", recs)
    comps = [oracle[0], (recs[0].id, "garbage"), oracle[1]]
    rows, m = score_completions("grounding", recs, comps, **KW)
    assert len(rows) == 3 and m["n_missing"] == 2
    # 3 completion lines + 2 missing records = 5 predictions; 2 perfect
    assert m["n"] == 5 and m["acc@0.5"] == pytest.approx(2 / 5)
    with pytest.raises(DataError, match=r"comps.jsonl: completion 2 \(id nope\): field 'id'"):
        score_completions("grounding", recs, [oracle[0], ("nope", "x")], source="comps.jsonl", **KW)


def test_frame_override_on_an_odd_sized_image(tmp_path):
    Image.new("RGB", (333, 517)).save(tmp_path / "odd.png")
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": "a", "image": "odd.png", "problem": "x",
                                                  "box": [100, 100, 200, 300]}) + "\n")
    recs = load_records(tmp_path / "d.jsonl", "grounding")
    comps = [("a", '[{"bbox_2d": [100, 100, 200, 300]}]')]
    assert score_completions("grounding", recs, comps, frame="original", **KW)[1]["miou"] == 1.0
    assert score_completions("grounding", recs, comps, **KW)[1]["miou"] < 0.9


def test_reward_file_one_row_per_completion(synth, tmp_path):
    recs = load_records(synth("counting", 3), "counting")
    comps = _oracle("counting", recs) + [(recs[0].id, "nothing")]
    rows = reward_file("counting", recs, comps, tmp_path / "r.jsonl", **KW)
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert lines == rows and len(lines) == 4
    assert all(set(r) == {"id", "reward", "components"} for r in lines)
    assert [r["reward"] for r in lines] == [2.0, 2.0, 2.0, 0.0]


def test_evaluate_needs_exactly_one_source(tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        evaluate("grounding", [], tmp_path)
