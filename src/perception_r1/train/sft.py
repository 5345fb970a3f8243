"""Supervised warm start of pr1-tiny on synthetic scenes (the stand-in for an instruction-tuned base model).

The paper starts GRPO from instruct models whose rewards are already well above zero (section 4.3). pr1-tiny is
built from random weights, so it is first taught the answer format and some localisation by SFT:

* stage ``localise``: grounding scenes only (single-target localisation; a from-scratch tiny VLM trained directly
  on counting went image-blind, see ``counting-prototype.md``);
* stage ``mixed``: grounding and counting scenes interleaved.

A plain PyTorch loop over freshly generated scenes (no dataset to store): AdamW, linear warm-up, constant then cosine
decay, grad clip 1.0, loss on the answer tokens only. lr 5e-4 (2e-3 made a tiny VLM ignore the image). Held-out
greedy IoU / count accuracy and the share of distinct outputs (an image-blindness detector) are logged, not only
the loss.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..data.synthetic import SceneConfig, counting_scene, grounding_scene
from ..geometry import FrameSpec
from ..models.loading import pixel_limits
from ..tasks import counting, grounding


@dataclass
class SFTStage:
    """One SFT stage: ``steps`` optimizer steps; ``counting_fraction`` of each batch is counting scenes;
    ``scene``: overrides of :class:`SceneConfig` fields for this stage (e.g. bigger objects, no distractors)."""

    name: str
    steps: int
    counting_fraction: float
    scene: dict = field(default_factory=dict)


def make_example(task: str, seed: int, index: int, processor, cfg: SceneConfig = SceneConfig()):
    """``(image, prompt, answer, target)`` for one synthetic scene; answer rendered by the Qwen2.5-VL dialect."""
    lo, hi = pixel_limits(processor)
    if task == "grounding":
        img, expr, box = grounding_scene(seed, index, cfg)
        spec = FrameSpec(img.width, img.height, lo, hi)
        return img, grounding.prompt(expr), grounding.target_text(box, spec), box
    img, cat, boxes = counting_scene(seed, index, cfg)
    spec = FrameSpec(img.width, img.height, lo, hi)
    return img, counting.prompt(cat), counting.target_text(boxes, [], spec), boxes


def _batch(processor, examples):
    """Right-padded batch with labels = answer tokens + the closing ``<|im_end|>`` only."""
    import torch

    texts = []
    for _, prompt, answer, _ in examples:
        msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]},
                {"role": "assistant", "content": [{"type": "text", "text": answer}]}]
        texts.append(processor.apply_chat_template(msgs))
    enc = processor(text=texts, images=[e[0] for e in examples], return_tensors="pt", padding=True)
    tok = processor.tokenizer
    im_start = tok.convert_tokens_to_ids("<|im_start|>")
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    n_hdr = len(tok.encode("assistant\n"))
    labels = torch.full_like(enc["input_ids"], -100)
    for i, row in enumerate(enc["input_ids"]):
        start = int((row == im_start).nonzero()[-1]) + 1 + n_hdr
        ends = (row[start:] == im_end).nonzero()
        stop = start + int(ends[0]) + 1 if len(ends) else len(row)
        labels[i, start:stop] = row[start:stop]
    enc["labels"] = labels
    return enc


def heldout_eval(model, processor, n: int = 48, seed: int = 999_999, max_new_tokens: int = 128,
                 stage_cfg: SceneConfig | None = None) -> dict[str, float]:
    """Greedy held-out check on ``n`` grounding + ``n`` counting scenes (a seed never used for training).

    Returns ``miou``, ``acc@0.5`` (grounding), ``count_acc``, ``count_mae`` (counting), ``distinct`` (share of
    distinct counting outputs; near 0 means the model ignores the image) and, if ``stage_cfg`` is given,
    ``stage_miou``: grounding mIoU on scenes drawn like the current stage's.
    """
    from ..evaluate.generate import generate

    lo, hi = pixel_limits(processor)
    g = [make_example("grounding", seed, i, processor) for i in range(n)]
    c = [make_example("counting", seed, i, processor) for i in range(n)]
    s = [make_example("grounding", seed + 1, i, processor, stage_cfg) for i in range(n)] if stage_cfg else []
    ex = g + c + s
    outs = generate(model, processor, [e[0] for e in ex], [e[1] for e in ex], max_new_tokens=max_new_tokens)

    def miou(exs, texts):
        ious = []
        for (img, _, _, box), o in zip(exs, texts, strict=True):
            a = grounding.parse(o, FrameSpec(img.width, img.height, lo, hi))
            ious.append(grounding.iou(a.box, box) if a.box else None)
        return grounding.metrics(ious)

    preds = [counting.parse(o, FrameSpec(img.width, img.height, lo, hi)).count
             for (img, *_), o in zip(c, outs[n:2 * n], strict=True)]
    gm = miou(g, outs[:n])
    cm = counting.metrics(preds, [len(e[3]) for e in c])
    out = {"miou": gm["miou"], "acc@0.5": gm["acc@0.5"], "count_acc": cm["accuracy"], "count_mae": cm["mae"],
           "distinct": len(set(outs[n:2 * n])) / n}
    if s:
        out["stage_miou"] = miou(s, outs[2 * n:])["miou"]
    return out


def run_sft(model, processor, stages: list[SFTStage], *, lr: float = 5e-4, batch_size: int = 16, seed: int = 0,
            warmup: int = 50, eval_every: int = 250, eval_n: int = 48, log_path: str | Path | None = None,
            scene_cfg: SceneConfig = SceneConfig(), on_log: Callable[[dict], None] | None = None) -> list[dict]:
    """Train ``model`` in place through ``stages``; returns the log records (also appended to ``log_path``).

    The learning rate is one schedule over all stages: warm-up, constant until 60 % of the steps, cosine to 10 %.
    Training scenes use seeds ``seed * 1000 + stage index`` (held-out checks use seed 999999).
    """
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    total = sum(s.steps for s in stages)

    def lr_at(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        flat = int(0.6 * total)
        if step < flat:
            return lr
        frac = (step - flat) / max(1, total - flat)
        return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    logs: list[dict] = []
    processor.tokenizer.padding_side = "right"
    step = 0
    t0 = time.time()
    counters = {"grounding": 0, "counting": 0}
    for si, stage in enumerate(stages):
        for _ in range(stage.steps):
            model.train()
            examples = []
            for _ in range(batch_size):
                task = "counting" if rng.random() < stage.counting_fraction else "grounding"
                cfg = SceneConfig(**{**scene_cfg.__dict__, **stage.scene})
                examples.append(make_example(task, seed * 1000 + si, counters[task], processor, cfg))
                counters[task] += 1
            enc = _batch(processor, examples)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            loss = model(**enc).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            rec = {"step": step, "stage": stage.name, "loss": round(loss.item(), 4), "lr": lr_at(step - 1),
                   "elapsed_s": round(time.time() - t0, 1)}
            if step % eval_every == 0 or step == total:
                processor.tokenizer.padding_side = "left"
                stage_cfg = SceneConfig(**{**scene_cfg.__dict__, **stage.scene}) if stage.scene else None
                rec.update(heldout_eval(model, processor, n=eval_n, stage_cfg=stage_cfg))
                processor.tokenizer.padding_side = "right"
            if step % 25 == 0 or "miou" in rec:
                logs.append(rec)
                if log_path:
                    with open(log_path, "a") as f:
                        f.write(json.dumps(rec) + "\n")
                if on_log:
                    on_log(rec)
    processor.tokenizer.padding_side = "left"
    return logs
