"""Recipes: YAML + overrides, errors naming the key with a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from perception_r1.tasks.registry import get_task
from perception_r1.train.recipe import RecipeError, load_recipe

DEMO = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"


def test_demo_recipe_loads_and_overrides_apply():
    r = load_recipe(DEMO, ["grpo.max_steps=3", "tasks.grounding.synthetic.n=5", "grpo.learning_rate=1e-5"])
    assert r.grpo.max_steps == 3 and r.tasks["grounding"].synthetic.n == 5
    assert r.grpo.learning_rate == pytest.approx(1e-5)
    assert r.grpo.num_generations == 8 and r.grpo.beta == pytest.approx(0.04)


def test_paper_defaults():
    r = load_recipe(None, base={"tasks": {"grounding": {"data": "x.jsonl"}}})
    g = r.grpo
    assert (g.num_generations, g.beta, g.temperature, g.top_p, g.top_k, g.learning_rate, g.num_train_epochs) == \
        (8, 0.04, 1.0, 0.9, 50, 1e-6, 1.0)


def test_unknown_key_suggests_nearest():
    with pytest.raises(RecipeError, match=r"unknown key 'grpo.learnig_rate'.*did you mean 'grpo.learning_rate'"):
        load_recipe(DEMO, ["grpo.learnig_rate=1"])
    with pytest.raises(RecipeError, match=r"unknown key 'modle'.*'model'"):
        load_recipe(DEMO, ["modle=x"])


def test_bad_values_and_files(tmp_path):
    with pytest.raises(RecipeError, match="exactly one of 'data'"):
        load_recipe(DEMO, ["tasks.grounding.data=x.jsonl"])
    with pytest.raises(RecipeError, match="does not exist"):
        load_recipe(tmp_path / "none.yaml")
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(tmp_path / "bad.yaml")
    with pytest.raises(RecipeError, match="key=value"):
        load_recipe(DEMO, ["grpo.max_steps"])
    with pytest.raises(RecipeError, match="grpo.max_steps"):
        load_recipe(DEMO, ["grpo.max_steps=many"])


def test_reward_options_are_checked():
    with pytest.raises(ValueError, match="did you mean 'paper_faithful'"):
        get_task("grounding").reward_config({"paper_faithfull": True})
    with pytest.raises(ValueError, match="did you mean 'counting'"):
        get_task("countin")
