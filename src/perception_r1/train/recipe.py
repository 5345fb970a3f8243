"""Recipes: one YAML file per experiment (model + task data + GRPO settings), with ``key=value`` overrides.

Defaults are the paper's settings for real models (section 4.3 / released scripts, see shared reference section 5):
G = 8 rollouts per prompt, KL beta = 0.04 (k3 estimator, TRL's), temperature 1.0, top_p 0.9, top_k 50, lr 1e-6,
1 epoch, loss = per-sequence token mean then batch mean (TRL ``loss_type="grpo"``), advantages normalised by the
group std (``scale_rewards="group"``), one policy update per batch of rollouts (so the clip range is inactive,
as in the released trainer). ``configs/demo.yaml`` tunes these for pr1-tiny on a CPU.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class RecipeError(ValueError):
    """Bad recipe file or override; the message names the file and the key."""


class SyntheticData(BaseModel):
    """Generate ``n`` synthetic scenes with ``seed`` into the run folder (instead of a data file)."""

    model_config = ConfigDict(extra="forbid")
    n: int = Field(gt=0)
    seed: int = 0


class TaskData(BaseModel):
    """Training data and reward options of one task."""

    model_config = ConfigDict(extra="forbid")
    data: str | None = None
    synthetic: SyntheticData | None = None
    limit: int | None = Field(default=None, gt=0)
    reward: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.data is None) == (self.synthetic is None):
            raise ValueError("give exactly one of 'data' (a JSONL file) or 'synthetic' ({n, seed})")
        return self


class GRPOSettings(BaseModel):
    """GRPO settings passed to TRL's ``GRPOConfig`` (names as in TRL)."""

    model_config = ConfigDict(extra="forbid")
    num_generations: int = 8
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 2
    learning_rate: float = 1e-6
    beta: float = 0.04
    temperature: float = 1.0
    top_p: float = 0.9
    top_k: int = 50
    max_completion_length: int = 768
    num_train_epochs: float = 1.0
    max_steps: int = -1
    loss_type: str = "grpo"
    scale_rewards: str = "group"
    num_iterations: int = 1
    epsilon: float = 0.2
    lr_scheduler_type: str = "linear"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    logging_steps: int = 1
    save_steps: int = 0
    seed: int = 42
    log_completions: bool = False


class Recipe(BaseModel):
    """A training recipe. ``model`` is a local checkpoint directory or ``pr1-tiny``."""

    model_config = ConfigDict(extra="forbid")
    model: str = "pr1-tiny"
    dialect: str = "qwen2_5_vl"
    tasks: dict[Literal["grounding", "counting"], TaskData]
    output_dir: str = "runs/train"
    min_pixels: int | None = None
    max_pixels: int | None = None
    system_prompt: str | None = None
    threads: int | None = None
    trust_remote_code: bool = False
    grpo: GRPOSettings = Field(default_factory=GRPOSettings)


def _set_path(d: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
        if not isinstance(d, dict):
            raise RecipeError(f"override '{dotted}': '{k}' is not a section")
    d[keys[-1]] = value


def _valid_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, f in model.model_fields.items():
        out.append(prefix + name)
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _valid_keys(ann, prefix + name + ".")
    return out


def _explain(e: ValidationError, source: str) -> RecipeError:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    if err["type"] == "extra_forbidden":
        valid = _valid_keys(Recipe) + [f"tasks.{t}.{k}" for t in ("grounding", "counting")
                                       for k in TaskData.model_fields]
        near = difflib.get_close_matches(loc, valid, n=1, cutoff=0.5)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        return RecipeError(f"{source}: unknown key '{loc}'{hint}")
    return RecipeError(f"{source}: key '{loc}': {err['msg']}")


def load_recipe(path: str | Path | None = None, overrides: list[str] | None = None,
                base: dict | None = None) -> Recipe:
    """Load a YAML recipe and apply ``key=value`` overrides (dotted keys, values parsed as YAML).

    Raises:
        RecipeError: missing file, bad YAML, unknown key (with the nearest valid key), bad value.
    """
    data: dict = dict(base or {})
    source = "recipe"
    if path is not None:
        p = Path(path)
        source = str(p)
        if not p.exists():
            raise RecipeError(f"{p}: recipe file does not exist")
        try:
            loaded = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise RecipeError(f"{p}: not valid YAML ({e})") from None
        if not isinstance(loaded, dict):
            raise RecipeError(f"{p}: a recipe must be a YAML mapping")
        data.update(loaded)
    for ov in overrides or []:
        if "=" not in ov:
            raise RecipeError(f"override '{ov}': expected key=value")
        k, v = ov.split("=", 1)
        try:
            val = yaml.safe_load(v)
        except yaml.YAMLError:
            val = v
        _set_path(data, k.strip(), val)
    try:
        return Recipe.model_validate(data)
    except ValidationError as e:
        raise _explain(e, source) from None
