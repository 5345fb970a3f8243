"""The `pr1` command line: data, eval from completions, reward, and clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from perception_r1.cli import app

runner = CliRunner()


def _ok(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.output


def _fails(args, *needles):
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())  # rich may wrap long lines
    for n in needles:
        assert n in out, (n, out)
    assert "Traceback" not in out
    return out


def test_help_in_a_real_process():
    out = subprocess.run([sys.executable, "-m", "perception_r1.cli", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for cmd in ("train", "eval", "reward", "data", "demo", "build-tiny"):
        assert cmd in out


def test_synth_eval_and_reward_from_completions(tmp_path):
    _ok(["data", "synth", "--task", "counting", "--n", "5", "--seed", "2", "--out", str(tmp_path / "c")])
    data = tmp_path / "c" / "data.jsonl"
    recs = [json.loads(line) for line in data.read_text().splitlines()]
    assert len(recs) == 5 and len(list((tmp_path / "c" / "images").glob("*.png"))) == 5
    # completions in original pixels (= resized for 112x112 scenes): exact centres as points
    comps = tmp_path / "comps.jsonl"
    comps.write_text("".join(json.dumps({"id": r["id"], "completion": json.dumps(
        [{"point_2d": p} for p in r["points"]])}) + "\n" for r in recs))
    _ok(["eval", "--task", "counting", "--data", str(data), "--completions", str(comps), "--out", str(tmp_path / "e")])
    m = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert m["accuracy"] == 1.0 and m["mae"] == 0.0 and m["n"] == 5
    assert len((tmp_path / "e" / "predictions.jsonl").read_text().splitlines()) == 5
    _ok(["reward", "--task", "counting", "--data", str(data), "--completions", str(comps), "--out",
         str(tmp_path / "r.jsonl"), "--matching", "sequential"])
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and all(r["components"]["count"] == 1.0 for r in rows)


def test_coco_derived_command(tmp_path, coco50):
    out = _ok(["data", "coco-derived", "--task", "grounding", "--annotations",
               str(coco50 / "annotations" / "instances_val2017.json"), "--images", str(coco50 / "val2017"),
               "--out", str(tmp_path / "g.jsonl")])
    n = len((tmp_path / "g.jsonl").read_text().splitlines())
    assert n > 0 and f"wrote {n} COCO-derived grounding records" in " ".join(out.split())


def test_bad_inputs_exit_2_with_clear_messages(tmp_path):
    _ok(["data", "synth", "--task", "grounding", "--n", "2", "--out", str(tmp_path / "g")])
    data = tmp_path / "g" / "data.jsonl"
    comps = tmp_path / "c.jsonl"
    comps.write_text(json.dumps({"id": "x", "completion": "[]"}) + "\n")
    _fails(["eval", "--task", "segmentation", "--data", str(data), "--completions", str(comps), "--out",
            str(tmp_path / "o")], "unknown task 'segmentation'")
    _fails(["eval", "--task", "grounding", "--data", str(tmp_path / "none.jsonl"), "--completions", str(comps),
            "--out", str(tmp_path / "o")], "none.jsonl", "does not exist")
    lines = data.read_text().splitlines()
    bad = tmp_path / "g" / "bad.jsonl"  # beside data.jsonl: relative image paths resolve
    bad.write_text(lines[0] + "\n{not json\n")
    _fails(["eval", "--task", "grounding", "--data", str(bad), "--completions", str(comps), "--out",
            str(tmp_path / "o")], "bad.jsonl:2", "not valid JSON")
    rec = json.loads(lines[1])
    del rec["box"]
    bad.write_text(lines[0] + "\n" + json.dumps(rec) + "\n")
    _fails(["eval", "--task", "grounding", "--data", str(bad), "--completions", str(comps), "--out",
            str(tmp_path / "o")], "bad.jsonl:2", rec["id"], "'box'")
    rec = json.loads(lines[1])
    rec["image"] = "images/missing.png"
    bad.write_text(json.dumps(rec) + "\n")
    _fails(["reward", "--task", "grounding", "--data", str(bad), "--completions", str(comps), "--out",
            str(tmp_path / "r.jsonl")], "bad.jsonl:1", "'image'", "missing.png")
    _fails(["eval", "--task", "grounding", "--data", str(data), "--out", str(tmp_path / "o")],
           "exactly one of --model or --completions")
    _fails(["eval", "--task", "grounding", "--data", str(data), "--completions", str(comps), "--out",
            str(tmp_path / "o")], "c.jsonl", "id x", "no record with this id")


@pytest.mark.parametrize("override", ["grpo.learnig_rate=1", "tasks.grounding.synthetic.n=0"])
def test_train_rejects_bad_recipe_keys_before_loading_anything(override):
    from pathlib import Path

    demo = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"
    _fails(["train", "--recipe", str(demo), override], override.split("=")[0])
