"""``pr1``: the command-line program (typer + rich). Thin: parse arguments, call one function, print a summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Perception-R1: rule-based GRPO post-training of VLMs into perception policies.")
data_app = typer.Typer(no_args_is_help=True, help="Build datasets (synthetic scenes, COCO-derived sets).")
app.add_typer(data_app, name="data")
console = Console()
err = Console(stderr=True)


def _fail(msg: str) -> None:
    # no markup (messages contain [x1, y1, ...]) and no wrapping (paths must stay copyable)
    err.print(Text("error: ", style="bold red") + Text(msg), soft_wrap=True)
    raise typer.Exit(2)


def _run(fn, *a, **kw):
    """Call ``fn``; turn user-input errors into one clear message and exit code 2 (no traceback)."""
    from .data.records import DataError
    from .train.recipe import RecipeError

    try:
        return fn(*a, **kw)
    except (DataError, RecipeError, FileNotFoundError, ValueError) as e:
        _fail(str(e))


def _metrics_table(title: str, metrics: dict) -> Table:
    t = Table(title=title)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in metrics.items():
        t.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    return t


@data_app.command("synth")
def data_synth(task: str = typer.Option(..., help="grounding | counting"),
               n: int = typer.Option(..., min=1, help="number of scenes"),
               seed: int = typer.Option(0, help="base seed (scene i depends only on seed and i)"),
               out: Path = typer.Option(..., help="output folder (PNG images + data.jsonl)"),
               size: int = typer.Option(112, help="image side in pixels"),
               min_radius: int = typer.Option(6, help="smallest object half-side (px)"),
               max_radius: int = typer.Option(16, help="largest object half-side (px)"),
               min_distractors: int = typer.Option(1), max_distractors: int = typer.Option(3),
               max_count: int = typer.Option(5, help="counting: 0..max_count target instances"),
               clutter: int = typer.Option(0, help="background specks (never annotated)")) -> None:
    """Write synthetic scenes with exact ground truth."""
    from .data.synthetic import SceneConfig, write_synthetic

    if task not in ("grounding", "counting"):
        _fail(f"unknown task {task!r}: expected 'grounding' or 'counting'")
    cfg = SceneConfig(size, min_radius, max_radius, (min_distractors, max_distractors), max_count, clutter)
    path = _run(write_synthetic, task, n, seed, out, cfg)
    console.print(f"wrote {n} {task} scenes: {path}")


@data_app.command("coco-derived")
def data_coco(task: str = typer.Option(..., help="grounding | counting"),
              annotations: Path = typer.Option(..., help="COCO instances JSON"),
              images: Path = typer.Option(..., help="folder with the images"),
              out: Path = typer.Option(..., help="output JSONL file")) -> None:
    """Build a COCO-derived grounding or counting set (labelled COCO-derived, not RefCOCO / PixMo)."""
    from .data.coco import coco_derived
    from .data.records import write_jsonl

    rows = _run(coco_derived, task, annotations, images)
    write_jsonl(out, rows)
    console.print(f"wrote {len(rows)} COCO-derived {task} records: {out}")


@app.command("build-tiny")
def build_tiny_cmd(out: Path = typer.Option(..., help="checkpoint folder to write"),
                   seed: int = typer.Option(0, help="seed of the weights and of the SFT scenes"),
                   threads: int = typer.Option(2, help="torch threads"),
                   steps_scale: float = typer.Option(1.0, help="multiply every SFT stage's steps (0.01: smoke test)"),
                   ) -> None:
    """Build pr1-tiny (tiny Qwen2.5-VL, offline tokenizer) and warm-start it by SFT on synthetic scenes."""
    from dataclasses import replace

    from .train.build_tiny import DEFAULT_STAGES, build_tiny

    stages = tuple(replace(s, steps=max(1, round(s.steps * steps_scale))) for s in DEFAULT_STAGES)

    def show(rec):
        if "miou" in rec:
            console.print(f"step {rec['step']:5d} [{rec['stage']}] loss {rec['loss']:.3f}  held-out mIoU "
                          f"{rec['miou']:.3f}  count acc {rec['count_acc']:.3f}  distinct {rec['distinct']:.2f}  "
                          f"({rec['elapsed_s']:.0f} s)")

    info = _run(build_tiny, out, seed=seed, stages=stages, threads=threads, on_log=show,
                eval_every=max(1, min(300, sum(s.steps for s in stages))))
    console.print(_metrics_table(f"pr1-tiny built in {info['seconds']:.0f} s ({info['params'] / 1e6:.2f}M params)",
                                 info["heldout"]))


def _frame_opt():
    return typer.Option(None, help="coordinate frame of the completions: original | resized | norm1000 "
                                   "(default: the dialect's; Qwen2.5-VL = resized)")


@app.command("eval")
def eval_cmd(task: str = typer.Option(..., help="grounding | counting"),
             data: Path = typer.Option(..., help="canonical JSONL data file"),
             out: Path = typer.Option(..., help="output folder (predictions.jsonl, metrics.json)"),
             model: str = typer.Option(None, help="checkpoint folder or 'pr1-tiny' (greedy decoding)"),
             completions: Path = typer.Option(None, help="completions JSONL made elsewhere (no model loaded)"),
             frame: str = _frame_opt(),
             min_pixels: int = typer.Option(None, help="processor min_pixels (resized frame); default pr1-tiny's"),
             max_pixels: int = typer.Option(None, help="processor max_pixels (resized frame); default pr1-tiny's"),
             batch_size: int = typer.Option(32), threads: int = typer.Option(None)) -> None:
    """Evaluate a model greedily, or completions produced elsewhere, on a dataset."""
    from .data.records import load_completions, load_records
    from .evaluate.harness import evaluate
    from .models.tiny import TINY_MAX_PIXELS, TINY_MIN_PIXELS
    from .tasks.registry import get_task

    _run(get_task, task)
    if (model is None) == (completions is None):
        _fail("give exactly one of --model or --completions")
    records = _run(load_records, data, task)
    if completions is not None:
        comps = _run(load_completions, completions)
        m = _run(evaluate, task, records, out, completions=comps, frame=frame,
                 min_pixels=min_pixels or TINY_MIN_PIXELS, max_pixels=max_pixels or TINY_MAX_PIXELS,
                 source=str(completions))
    else:
        import torch

        from .models.loading import load_model_and_processor

        if threads:
            torch.set_num_threads(threads)
        mdl, proc = _run(load_model_and_processor, model, "left", min_pixels, max_pixels)
        m = _run(evaluate, task, records, out, model=mdl, processor=proc, batch_size=batch_size, frame=frame)
    console.print(_metrics_table(f"{task} on {data}", m))
    console.print(f"wrote {out / 'predictions.jsonl'} and {out / 'metrics.json'}")


@app.command("reward")
def reward_cmd(task: str = typer.Option(..., help="grounding | counting"),
               data: Path = typer.Option(..., help="canonical JSONL data file"),
               completions: Path = typer.Option(..., help="completions JSONL"),
               out: Path = typer.Option(..., help="output JSONL: {id, reward, components} per completion"),
               frame: str = _frame_opt(),
               min_pixels: int = typer.Option(None), max_pixels: int = typer.Option(None),
               paper_faithful: bool = typer.Option(False, help="grounding: IoU^2 as the released code"),
               matching: str = typer.Option("hungarian", help="counting: hungarian | sequential")) -> None:
    """Score completions offline with the training rewards."""
    from .data.records import load_completions, load_records
    from .evaluate.harness import reward_file
    from .models.tiny import TINY_MAX_PIXELS, TINY_MIN_PIXELS
    from .tasks.registry import get_task

    _run(get_task, task)
    records = _run(load_records, data, task)
    comps = _run(load_completions, completions)
    opts = {"paper_faithful": paper_faithful} if task == "grounding" else {"matching": matching}
    rows = _run(reward_file, task, records, comps, out, reward=opts, frame=frame,
                min_pixels=min_pixels or TINY_MIN_PIXELS, max_pixels=max_pixels or TINY_MAX_PIXELS,
                source=str(completions))
    mean = sum(r["reward"] for r in rows) / len(rows) if rows else 0.0
    console.print(f"scored {len(rows)} completions (mean reward {mean:.4f}): {out}")


@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train_cmd(ctx: typer.Context, recipe: Path = typer.Option(..., help="YAML recipe"),
              no_progress: bool = typer.Option(False, help="hide the progress bar")) -> None:
    """GRPO training with TRL from a recipe; extra ``key=value`` arguments override recipe keys."""
    from .train.grpo import train
    from .train.recipe import load_recipe

    r = _run(load_recipe, recipe, list(ctx.args))
    final = _run(train, r, progress=not no_progress)
    console.print(f"final model: {final}\nmetrics: {Path(r.output_dir) / 'metrics.jsonl'}")


@app.command("demo")
def demo_cmd(out: Path = typer.Option(Path("runs/demo"), help="output folder"),
             recipe: Path = typer.Option(None, help="GRPO recipe (default: configs/demo.yaml)"),
             coco: Path = typer.Option(None, help="folder with annotations/instances_val2017.json and val2017/ "
                                                  "(default: ../shared/data/coco_val2017_50 if present)"),
             n_eval: int = typer.Option(200, help="held-out synthetic items per task")) -> None:
    """The main job: evaluate pr1-tiny, train it with GRPO, evaluate again, on synthetic and COCO-derived sets."""
    from .demo import run_demo

    _run(run_demo, out, recipe, coco, n_eval)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
