"""Evaluation harness: greedy generation (or completions made elsewhere) -> parsed answers -> task metrics.

``evaluate`` writes ``OUT/predictions.jsonl`` (one line per completion: id, completion, parsed answer, reward and
its components) and ``OUT/metrics.json`` (the task's metrics, ``parse_rate``, ``mean_reward``, ``n_missing``).
Both files are written atomically.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from ..data.records import DataError, image_size, load_image, write_json, write_jsonl
from ..geometry import QWEN_DEFAULT_MAX_PIXELS, QWEN_DEFAULT_MIN_PIXELS, Frame, FrameSpec
from ..models.dialect import get_dialect
from ..tasks.registry import get_task

#: Completion length cap used for greedy evaluation, per task (tokens).
MAX_NEW_TOKENS = {"grounding": 64, "counting": 160}


def generate_completions(task_name: str, records, model, processor, batch_size: int = 32,
                         max_new_tokens: int | None = None, progress: bool = True,
                         dialect: str = "qwen2_5_vl") -> list[tuple[str, str]]:
    """Greedy completions ``[(id, completion)]`` for ``records`` (paper section 6: temperature 0)."""
    from .generate import generate

    task = get_task(task_name)
    images = [load_image(r.image, where=f"record {r.id}: field 'image'") for r in records]
    prompts = [task.prompt(r) for r in records]
    outs = generate(model, processor, images, prompts, batch_size=batch_size,
                    max_new_tokens=max_new_tokens or MAX_NEW_TOKENS.get(task_name, 256),
                    skip_special_tokens=get_dialect(dialect).skip_special_tokens, progress=progress)
    return [(r.id, o) for r, o in zip(records, outs, strict=True)]


def score_completions(task_name: str, records, completions: list[tuple[str, str]], *, reward: dict | None = None,
                      dialect: str = "qwen2_5_vl", frame: Frame | str | None = None, min_pixels: int | None = None,
                      max_pixels: int | None = None, source: str = "completions") -> tuple[list[dict], dict]:
    """Score every completion against its record.

    Args:
        records: validated canonical records; completions: ``[(id, text)]`` (ids may repeat).
        reward: reward options of the task (see the task's RewardConfig). frame: override of the dialect's frame.
        min_pixels, max_pixels: the processor limits that define the ``resized`` frame.
        source: named in errors (the completions file).

    Returns:
        ``(rows, metrics)``: one row per completion, and the task metrics over all completions plus one ``None``
        prediction per record that has no completion (counted in ``n_missing``).

    Raises:
        DataError: a completion whose id is not in the data.
    """
    task = get_task(task_name)
    cfg = task.reward_config(reward)
    d = get_dialect(dialect)
    lo = min_pixels or QWEN_DEFAULT_MIN_PIXELS
    hi = max_pixels or QWEN_DEFAULT_MAX_PIXELS
    by_id = {r.id: r for r in records}
    sizes: dict[str, tuple[int, int]] = {}
    rows, values, targets = [], [], []
    answered: dict[str, int] = defaultdict(int)
    for i, (rid, text) in enumerate(completions):
        rec = by_id.get(rid)
        if rec is None:
            raise DataError(f"{source}: completion {i + 1} (id {rid}): field 'id': no record with this id in the data")
        if rid not in sizes:
            sizes[rid] = image_size(rec.image, where=f"record {rid}: field 'image'")
        w, h = sizes[rid]
        target = task.target(rec)
        res = task.evaluate_item(text, target, FrameSpec(w, h, lo, hi), cfg, d, frame)
        answered[rid] += 1
        rows.append({"id": rid, "completion": text, "parsed": res.parsed, "reward": round(res.reward, 6),
                     "components": {k: round(v, 6) for k, v in res.components.items()}})
        values.append(res.value)
        targets.append(target)
    missing = [r for r in records if r.id not in answered]
    for r in missing:
        values.append(None)
        targets.append(task.target(r))
    metrics = task.metrics(values, targets)
    metrics["mean_reward"] = sum(r["reward"] for r in rows) / len(rows) if rows else 0.0
    metrics["n_missing"] = len(missing)
    return rows, metrics


def evaluate(task_name: str, records, out: str | Path, *, completions: list[tuple[str, str]] | None = None,
             model=None, processor=None, batch_size: int = 32, reward: dict | None = None,
             dialect: str = "qwen2_5_vl", frame: Frame | str | None = None, min_pixels: int | None = None,
             max_pixels: int | None = None, progress: bool = True, source: str = "completions") -> dict:
    """Evaluate a model (greedy) or a list of completions on ``records``; write predictions + metrics to ``out``.

    Exactly one of ``completions`` or ``model`` (+ ``processor``) must be given. With a model, the pixel limits
    default to the processor's. Returns the metrics dict (also in ``out/metrics.json``, with ``seconds``).
    """
    if (completions is None) == (model is None):
        raise ValueError("give exactly one of completions= or model=")
    t0 = time.time()
    if model is not None:
        from ..models.loading import pixel_limits

        lo, hi = pixel_limits(processor)
        min_pixels, max_pixels = min_pixels or lo, max_pixels or hi
        completions = generate_completions(task_name, records, model, processor, batch_size, progress=progress,
                                           dialect=dialect)
    rows, metrics = score_completions(task_name, records, completions, reward=reward, dialect=dialect, frame=frame,
                                      min_pixels=min_pixels, max_pixels=max_pixels, source=source)
    metrics["seconds"] = round(time.time() - t0, 2)
    out = Path(out)
    write_jsonl(out / "predictions.jsonl", rows)
    write_json(out / "metrics.json", metrics)
    return metrics


def reward_file(task_name: str, records, completions: list[tuple[str, str]], out: str | Path, **kw) -> list[dict]:
    """``pr1 reward``: one ``{"id", "reward", "components"}`` line per completion, written atomically to ``out``."""
    rows, _ = score_completions(task_name, records, completions, **kw)
    slim = [{"id": r["id"], "reward": r["reward"], "components": r["components"]} for r in rows]
    write_jsonl(out, slim)
    return slim
