"""End-to-end: a 2-step GRPO run on pr1-tiny through TRL, greedy evaluation, and a miniature demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perception_r1.models.loading import TINY_CHECKPOINT

pytestmark = pytest.mark.skipif(not (TINY_CHECKPOINT / "config.json").exists(),
                                reason="the shipped pr1-tiny checkpoint is missing")

ROOT = Path(__file__).resolve().parents[1]


def _recipe(tmp_path: Path, steps: int = 2):
    from perception_r1.train.recipe import load_recipe

    return load_recipe(ROOT / "configs" / "demo.yaml", [
        f"output_dir={tmp_path / 'run'}", f"grpo.max_steps={steps}", "grpo.per_device_train_batch_size=8",
        "grpo.num_generations=4", "grpo.max_completion_length=48", "tasks.grounding.synthetic.n=4",
        "tasks.counting.synthetic.n=4", "threads=2"])


def test_grpo_two_steps_writes_metrics_and_final_model(tmp_path):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from perception_r1.train.grpo import train

    final = train(_recipe(tmp_path), progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for r in rows:
        # TRL's per-step metrics plus ours: reward, KL, completion length, step time, reward time
        for key in ("reward", "reward_std", "kl", "completions/mean_length", "step_time_s", "reward_time_s"):
            assert key in r, key
        assert 0.0 <= r["reward_time_frac"] < 1.0
        assert r["reward_errors"] == 0
        # at least one task's reward functions were called with its rows
        assert any(k.startswith("rewards/") and k.endswith("/mean") for k in r)
    # the final model loads back exactly like a real checkpoint
    assert type(AutoModelForImageTextToText.from_pretrained(final)).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(AutoProcessor.from_pretrained(final)).__name__ == "Qwen2_5_VLProcessor"
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["steps"] == 2
    assert summary["reward_functions"] == ["grounding_iou", "grounding_format", "counting_count", "counting_format"]


def test_pr1_tiny_loads_with_auto_classes_and_generates_parseable_answers(tmp_path):
    """The shipped checkpoint is warm-started: greedy answers on held-out scenes parse and score above zero."""
    from perception_r1.data.records import load_records
    from perception_r1.data.synthetic import write_synthetic
    from perception_r1.evaluate.harness import evaluate
    from perception_r1.models.loading import load_model_and_processor

    model, proc = load_model_and_processor("pr1-tiny")
    path = write_synthetic("grounding", 16, 31337, tmp_path / "g")
    m = evaluate("grounding", load_records(path, "grounding"), tmp_path / "out", model=model, processor=proc,
                 progress=False)
    assert m["parse_rate"] > 0.9
    assert 0.0 < m["miou"] < 1.0
    preds = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 16 and all({"id", "completion", "parsed", "reward"} <= set(p) for p in preds)


def test_mini_demo_writes_report_metrics_and_plot(tmp_path):
    import yaml

    from perception_r1.demo import run_demo

    rec = _recipe(tmp_path)
    rp = tmp_path / "demo.yaml"
    rp.write_text(yaml.safe_dump(rec.model_dump()))
    res = run_demo(tmp_path / "demo", rp, coco=None, n_eval=6)
    out = tmp_path / "demo"
    assert (out / "report.md").read_text().startswith("# Perception-R1 demo report")
    assert (out / "reward_curve.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((out / "metrics.json").read_text())
    assert set(saved["before"]) == {"synthetic grounding", "synthetic counting"}
    assert saved["before"]["synthetic grounding"]["n"] == 6
    assert saved["train"]["steps"] == 2
    assert res["after"]["synthetic counting"]["n"] == 6
