"""GRPO training through TRL's ``GRPOTrainer``, built from a recipe.

The algorithm is TRL's (paper section 4.1 / 5.3): per prompt, G rollouts are sampled; rule-based rewards (our task
rewards, one TRL reward function per component) are summed with the recipe's weights; advantages are normalised
within the group; the loss adds beta * KL (k3 estimator) to the frozen reference model. Nothing here re-implements
the trainer: this module builds the dataset, the reward functions and the config, and logs.

Outputs in ``output_dir``: ``metrics.jsonl`` (one line per optimizer step: reward mean / std per reward function,
KL, completion length, step time, reward time and its share of the step, unparsed fractions), ``recipe.yaml`` (the
resolved recipe), ``data/`` (generated synthetic sets), ``final/`` (the trained model + processor, atomic).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import yaml

from ..data.records import load_image, load_records, write_json
from ..data.synthetic import write_synthetic
from ..models.loading import load_model_and_processor, pixel_limits
from ..tasks.adapters import RewardStats, trl_reward_functions
from ..tasks.registry import get_task
from .recipe import Recipe


def _task_records(recipe: Recipe, out: Path) -> dict[str, list]:
    recs = {}
    for name, td in recipe.tasks.items():
        if td.synthetic is not None:
            path = write_synthetic(name, td.synthetic.n, td.synthetic.seed, out / "data" / f"{name}_train")
        else:
            path = Path(td.data)
        r = load_records(path, name)
        recs[name] = r[: td.limit] if td.limit else r
    return recs


def build_dataset(recipe: Recipe, records: dict[str, list], seed: int):
    """TRL dataset: ``prompt`` (conversational), ``image`` (PIL), ``task``, ``target`` (JSON), ``image_size`` [w, h]."""
    from datasets import Dataset

    rows: dict[str, list] = {"prompt": [], "image": [], "task": [], "target": [], "image_size": []}
    items = [(name, r) for name, rs in records.items() for r in rs]
    random.Random(seed).shuffle(items)
    for name, r in items:
        task = get_task(name)
        img = load_image(r.image, where=f"record {r.id}: field 'image'")
        msgs = []
        if recipe.system_prompt is not None:
            msgs.append({"role": "system", "content": recipe.system_prompt})
        msgs.append({"role": "user", "content": task.prompt(r)})
        rows["prompt"].append(msgs)
        rows["image"].append(img)
        rows["task"].append(name)
        rows["target"].append(json.dumps(task.target(r)))
        rows["image_size"].append([img.width, img.height])
    return Dataset.from_dict(rows)


def _metrics_callback(path: Path, stats: RewardStats):
    from transformers import TrainerCallback

    class MetricsJsonl(TrainerCallback):
        """Append one JSON line per logged step to ``metrics.jsonl`` (with reward time and its share)."""

        def __init__(self):
            self.t_step = None
            self.step_times: list[float] = []

        def on_step_begin(self, args, state, control, **kw):
            self.t_step = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if self.t_step is not None:
                self.step_times.append(time.perf_counter() - self.t_step)

        def on_log(self, args, state, control, logs=None, **kw):
            if not logs or "reward" not in logs:
                return
            rec = {"step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, int | float)}}
            step_s = sum(self.step_times)
            self.step_times = []
            rec.update(stats.reset())
            rec["step_time_s"] = round(step_s, 4)
            rec["reward_time_frac"] = rec["reward_time_s"] / step_s if step_s > 0 else 0.0
            with open(path, "a") as f:
                f.write(json.dumps(rec) + "\n")

    return MetricsJsonl()


def _compact_progress():
    from transformers.trainer_callback import ProgressCallback

    class CompactProgress(ProgressCallback):
        """The standard progress bar, with reward / KL / length as its postfix instead of a printed dict per step."""

        def on_log(self, args, state, control, logs=None, **kw):
            if state.is_world_process_zero and self.training_bar is not None and logs and "reward" in logs:
                self.training_bar.set_postfix(reward=f"{logs['reward']:.3f}", kl=f"{logs.get('kl', 0.0):.4f}",
                                              len=f"{logs.get('completions/mean_length', 0.0):.0f}")

    return CompactProgress


def train(recipe: Recipe, progress: bool = True) -> Path:
    """Run GRPO as the recipe says. Returns the folder of the final model (``output_dir/final``)."""
    import torch
    from trl import GRPOConfig, GRPOTrainer

    from ..models.tiny import save_checkpoint

    if recipe.threads:
        torch.set_num_threads(recipe.threads)
    out = Path(recipe.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.yaml").write_text(yaml.safe_dump(recipe.model_dump(), sort_keys=False))
    g = recipe.grpo
    model, processor = load_model_and_processor(recipe.model, "left", recipe.min_pixels, recipe.max_pixels,
                                                recipe.trust_remote_code)
    lo, hi = pixel_limits(processor)
    records = _task_records(recipe, out)
    ds = build_dataset(recipe, records, g.seed)
    stats = RewardStats()
    funcs, weights = trl_reward_functions({n: td.reward for n, td in recipe.tasks.items()}, recipe.dialect, lo, hi,
                                          stats=stats)
    metrics_path = out / "metrics.jsonl"
    metrics_path.unlink(missing_ok=True)
    cfg = GRPOConfig(
        output_dir=str(out / "checkpoints"), use_cpu=not torch.cuda.is_available(), bf16=False,
        gradient_checkpointing=False, num_generations=g.num_generations,
        per_device_train_batch_size=g.per_device_train_batch_size,
        gradient_accumulation_steps=g.gradient_accumulation_steps, learning_rate=g.learning_rate, beta=g.beta,
        temperature=g.temperature, top_p=g.top_p, top_k=g.top_k, max_completion_length=g.max_completion_length,
        num_train_epochs=g.num_train_epochs, max_steps=g.max_steps, loss_type=g.loss_type,
        scale_rewards=g.scale_rewards, num_iterations=g.num_iterations, epsilon=g.epsilon,
        lr_scheduler_type=g.lr_scheduler_type, warmup_steps=g.warmup_steps, weight_decay=g.weight_decay,
        max_grad_norm=g.max_grad_norm, logging_steps=g.logging_steps,
        save_strategy="steps" if g.save_steps > 0 else "no", save_steps=max(g.save_steps, 1),
        seed=g.seed, reward_weights=weights, report_to=[], dataloader_num_workers=0,
        log_completions=g.log_completions, disable_tqdm=not progress, remove_unused_columns=False,
    )
    trainer = GRPOTrainer(model=model, processing_class=processor, reward_funcs=funcs, args=cfg, train_dataset=ds,
                          callbacks=[_metrics_callback(metrics_path, stats)])
    if progress:
        from transformers.trainer_callback import ProgressCallback

        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(_compact_progress())
    t0 = time.time()
    trainer.train()
    final = save_checkpoint(trainer.model, processor, out / "final")
    write_json(out / "train_summary.json", {"seconds": round(time.time() - t0, 1), "steps": trainer.state.global_step,
                                            "n_prompts": len(ds), "reward_functions": [f.__name__ for f in funcs],
                                            "reward_weights": weights})
    return final
