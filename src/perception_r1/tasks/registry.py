"""One interface over the task modules: prompt, SFT target, reward, per-item evaluation and metrics.

The evaluation harness, the trainer and the CLI go through :func:`get_task`; task modules stay pure functions.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from ..geometry import Frame, FrameSpec
from ..models.dialect import get_dialect
from . import counting, grounding


@dataclass
class ItemResult:
    """Evaluation of one completion: ``parsed`` is JSON-serialisable (predictions.jsonl); ``value`` feeds metrics."""

    parsed: dict[str, Any]
    value: Any
    reward: float
    components: dict[str, float]


class Task:
    """Base class: a task name, its record fields, reward components and metric keys."""

    name: str
    components: tuple[str, ...]
    metric_keys: tuple[str, ...]
    reward_config_cls: type

    def reward_config(self, overrides: dict | None = None):
        """Build the task's reward config from a dict; unknown keys raise ValueError naming the nearest valid key."""
        overrides = dict(overrides or {})
        valid = [f.name for f in fields(self.reward_config_cls)]
        for k in overrides:
            if k not in valid:
                near = difflib.get_close_matches(k, valid, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else f"; valid keys: {valid}"
                raise ValueError(f"unknown {self.name} reward option '{k}'{hint}")
        return self.reward_config_cls(**overrides)

    def prompt(self, record) -> str:
        raise NotImplementedError

    def target_text(self, record, spec: FrameSpec, dialect=None) -> str:
        raise NotImplementedError

    def target(self, record) -> dict:
        """The ground-truth fields the reward needs, as a JSON-serialisable dict (a dataset column in training)."""
        raise NotImplementedError

    def score(self, completion: str, target: dict, spec: FrameSpec, cfg=None, dialect=None,
              frame: Frame | str | None = None) -> tuple[float, dict[str, float]]:
        raise NotImplementedError

    def evaluate_item(self, completion: str, target: dict, spec: FrameSpec, cfg=None, dialect=None,
                      frame: Frame | str | None = None) -> ItemResult:
        raise NotImplementedError

    def metrics(self, values: Sequence[Any], targets: Sequence[dict]) -> dict[str, float]:
        raise NotImplementedError


class GroundingTask(Task):
    name = "grounding"
    components = grounding.REWARD_COMPONENTS
    metric_keys = grounding.METRIC_KEYS
    reward_config_cls = grounding.GroundingRewardConfig

    def prompt(self, record) -> str:
        return grounding.prompt(record.problem)

    def target(self, record) -> dict:
        return {"box": list(record.box), "problem": record.problem}

    def target_text(self, record, spec, dialect=None) -> str:
        return grounding.target_text(record.box, spec, dialect)

    def score(self, completion, target, spec, cfg=None, dialect=None, frame=None):
        return grounding.score(completion, target["box"], spec, cfg or self.reward_config(), dialect, frame)

    def evaluate_item(self, completion, target, spec, cfg=None, dialect=None, frame=None):
        cfg = cfg or self.reward_config()
        ans = grounding.parse(completion, spec, dialect, frame)
        total, comps = grounding.score(completion, target["box"], spec, cfg, dialect, frame)
        iou = grounding.iou(ans.box, target["box"]) if ans.box is not None else None
        parsed = {"box": [round(v, 2) for v in ans.box] if ans.box else None, "iou": iou}
        return ItemResult(parsed, iou, total, comps)

    def metrics(self, values, targets):
        return grounding.metrics(list(values))


class CountingTask(Task):
    name = "counting"
    components = counting.REWARD_COMPONENTS
    metric_keys = counting.METRIC_KEYS
    reward_config_cls = counting.CountingRewardConfig

    def prompt(self, record) -> str:
        return counting.prompt(record.problem)

    def target(self, record) -> dict:
        return {"points": [list(p) for p in record.points], "count": record.count, "problem": record.problem}

    def target_text(self, record, spec, dialect=None) -> str:
        return counting.target_text(record.boxes, record.points, spec, dialect)

    def score(self, completion, target, spec, cfg=None, dialect=None, frame=None):
        return counting.score(completion, target["points"], spec, target.get("problem"), cfg or self.reward_config(),
                              dialect, frame)

    def evaluate_item(self, completion, target, spec, cfg=None, dialect=None, frame=None):
        cfg = cfg or self.reward_config()
        ans = counting.parse(completion, spec, target.get("problem"), dialect, frame, cfg.strict_labels)
        total, comps = counting.score(completion, target["points"], spec, target.get("problem"), cfg, dialect, frame)
        pts = None if ans.points is None else [[round(x, 2), round(y, 2)] for x, y in ans.points.tolist()]
        return ItemResult({"count": ans.count, "points": pts}, ans.count, total, comps)

    def metrics(self, values, targets):
        return counting.metrics(list(values), [t["count"] for t in targets])


TASKS: dict[str, Task] = {"grounding": GroundingTask(), "counting": CountingTask()}


def get_task(name: str) -> Task:
    """Task by name. Raises ValueError naming the valid tasks (and the nearest one)."""
    try:
        return TASKS[name]
    except KeyError:
        near = difflib.get_close_matches(str(name), list(TASKS), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ValueError(f"unknown task {name!r}{hint}; available: {sorted(TASKS)}") from None


__all__ = ["ItemResult", "Task", "TASKS", "get_task", "get_dialect"]
