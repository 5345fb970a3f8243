"""The same rewards, shaped for the trainers people already run.

* TRL: ``f(prompts, completions, **dataset_columns) -> list[float | None]`` (``None`` = not this task's row).
  :func:`trl_reward_functions` returns one function per reward component (e.g. ``grounding_iou``,
  ``grounding_format``) so TRL logs each one; weights go in ``GRPOConfig.reward_weights``.
  Dataset columns used: ``task`` (str), ``target`` (JSON string of :meth:`Task.target`), ``image_size`` ([w, h]).
* verl: :func:`compute_score` ``(data_source, solution_str, ground_truth, extra_info) -> float``.

Bad model output never raises here: it scores 0.0 and is counted (``RewardStats``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..geometry import Frame, FrameSpec
from ..models.dialect import get_dialect
from .registry import get_task


@dataclass
class RewardStats:
    """Counters shared by a set of reward functions (read and reset by the training callback).

    Attributes:
        seconds: wall time spent inside reward functions. completions: completions scored (per task).
        unparsed: completions with no parseable answer (per task). errors: unexpected exceptions caught.
    """

    seconds: float = 0.0
    completions: dict[str, int] = field(default_factory=dict)
    unparsed: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def reset(self) -> dict[str, float]:
        out = {"reward_time_s": round(self.seconds, 6), "reward_errors": self.errors}
        for t, n in self.completions.items():
            out[f"{t}/unparsed_frac"] = self.unparsed.get(t, 0) / n if n else 0.0
        self.seconds, self.errors = 0.0, 0
        self.completions, self.unparsed = {}, {}
        return out


def _text(completion) -> str:
    """TRL passes conversational completions as ``[{"role": "assistant", "content": ...}]``; accept both forms."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        c = completion[-1].get("content", "") if isinstance(completion[-1], dict) else ""
        if isinstance(c, list):  # content blocks
            return "".join(b.get("text", "") for b in c if isinstance(b, dict))
        return c if isinstance(c, str) else ""
    return ""


def trl_reward_functions(tasks: dict[str, dict], dialect: str = "qwen2_5_vl", min_pixels: int | None = None,
                         max_pixels: int | None = None, frame: Frame | str | None = None,
                         stats: RewardStats | None = None) -> tuple[list[Callable], list[float]]:
    """TRL reward functions for ``tasks`` (task name -> reward options incl. ``*_weight`` keys).

    Returns:
        ``(functions, weights)``: one function per (task, component), named ``{task}_{component}``, and the
        matching weights for ``GRPOConfig.reward_weights``. Each function scores its task's rows and returns
        ``None`` for other rows. Per-completion results are cached so each completion is parsed once per step.
    """
    from ..geometry import QWEN_DEFAULT_MAX_PIXELS, QWEN_DEFAULT_MIN_PIXELS

    lo = min_pixels or QWEN_DEFAULT_MIN_PIXELS
    hi = max_pixels or QWEN_DEFAULT_MAX_PIXELS
    d = get_dialect(dialect)
    stats = stats if stats is not None else RewardStats()
    funcs, weights = [], []
    cache: dict[tuple, dict[str, float]] = {}

    for task_name, opts in tasks.items():
        task = get_task(task_name)
        opts = dict(opts or {})
        cfg = task.reward_config(opts)
        # Components are returned unweighted; TRL applies the weights.
        unweighted = task.reward_config({k: v for k, v in opts.items() if not k.endswith("_weight")})

        for comp in task.components:
            def fn(prompts=None, completions=None, task=None, target=None, image_size=None, _t=task_name,
                   _comp=comp, _task=task, _cfg=unweighted, **kwargs) -> list[float | None]:
                t0 = time.perf_counter()
                out: list[float | None] = []
                for i, c in enumerate(completions or []):
                    if task is None or task[i] != _t:
                        out.append(None)
                        continue
                    text = _text(c)
                    key = (_t, text, target[i], tuple(image_size[i]))
                    comps = cache.get(key)
                    if comps is None:
                        w, h = image_size[i]
                        try:
                            _, comps = _task.score(text, json.loads(target[i]), FrameSpec(int(w), int(h), lo, hi),
                                                   _cfg, d, frame)
                        except Exception:  # defensive: model output must never stop training
                            stats.errors += 1
                            comps = {k: 0.0 for k in _task.components} | {"parsed": 0.0}
                        cache[key] = comps
                        stats.completions[_t] = stats.completions.get(_t, 0) + 1
                        if comps.get("parsed", 1.0) == 0.0:
                            stats.unparsed[_t] = stats.unparsed.get(_t, 0) + 1
                    out.append(float(comps[_comp]))
                if len(cache) > 50_000:
                    cache.clear()
                stats.seconds += time.perf_counter() - t0
                return out

            fn.__name__ = f"{task_name}_{comp}"
            funcs.append(fn)
            weights.append(float(getattr(cfg, f"{comp}_weight")))
    return funcs, weights


def compute_score(data_source: str, solution_str: str, ground_truth: dict | str,
                  extra_info: dict | None = None) -> float:
    """verl-style entry point: total reward of one completion.

    Args:
        data_source: task name (``"grounding"`` / ``"counting"``, optionally prefixed, e.g. ``"pr1/counting"``).
        solution_str: the completion text.
        ground_truth: :meth:`Task.target` dict (or its JSON string) plus ``image_size`` ``[w, h]`` in pixels.
        extra_info: optional ``reward`` (options dict), ``dialect``, ``min_pixels``, ``max_pixels``, ``frame``.

    Returns:
        Weighted total reward (float). Never raises on bad model output (0.0).
    """
    gt = json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)
    info = extra_info or {}
    task = get_task(data_source.split("/")[-1])
    from ..geometry import QWEN_DEFAULT_MAX_PIXELS, QWEN_DEFAULT_MIN_PIXELS

    w, h = gt["image_size"]
    spec = FrameSpec(int(w), int(h), info.get("min_pixels", QWEN_DEFAULT_MIN_PIXELS),
                     info.get("max_pixels", QWEN_DEFAULT_MAX_PIXELS))
    total, _ = task.score(solution_str, gt, spec, task.reward_config(info.get("reward")),
                          get_dialect(info.get("dialect", "qwen2_5_vl")), info.get("frame"))
    return float(total)
