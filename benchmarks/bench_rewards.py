"""Reward throughput on one core: grounding and counting rewards per second (issue targets printed beside).

Run: `make bench` (or `.venv/bin/python benchmarks/bench_rewards.py`). Prints a table; not a test.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from perception_r1.geometry import FrameSpec  # noqa: E402
from perception_r1.tasks import counting, grounding  # noqa: E402


def _rate(fn, items, repeats: int = 7) -> float:
    """Median completions per second over ``repeats`` passes of ``fn`` over ``items``."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for it in items:
            fn(*it)
        rates.append(len(items) / (time.perf_counter() - t0))
    return statistics.median(rates)


def grounding_items(n: int = 4000):
    rng = random.Random(0)
    spec = FrameSpec(640, 480, 3136, 50176)
    items = []
    for i in range(n):
        x, y = rng.uniform(0, 500), rng.uniform(0, 380)
        gt = [x, y, x + rng.uniform(10, 130), y + rng.uniform(10, 90)]
        kind = i % 4
        if kind == 0:   # perfect (in the resized frame)
            text = grounding.target_text(gt, spec)
        elif kind == 1:  # offset box
            text = json.dumps([{"bbox_2d": [int(x / 2.5) + 3, int(y / 2.9), int(x / 2.5) + 40, int(y / 2.9) + 30]}])
        elif kind == 2:  # fenced, with a label
            text = "```json\n" + json.dumps([{"bbox_2d": [10, 20, 60, 90], "label": "dog"}], indent=2) + "\n```"
        else:            # malformed
            text = "The dog is at the left of the image."
        items.append((text, gt, spec))
    return items


def counting_items(n: int = 600, k: int = 50):
    rng = random.Random(1)
    spec = FrameSpec(640, 480, 3136, 50176)
    items = []
    for _ in range(n):
        gt = [[rng.uniform(0, 640), rng.uniform(0, 480)] for _ in range(k)]
        pred = [{"bbox_2d": [int(x / 2.54) - 4, int(y / 2.86) - 4, int(x / 2.54) + 4, int(y / 2.86) + 4]}
                for x, y in gt]
        rng.shuffle(pred)
        items.append((json.dumps(pred), gt, spec, "person"))
    return items


def main() -> None:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    g = _rate(lambda t, b, s: grounding.score(t, b, s), grounding_items())
    c = _rate(lambda t, p, s, cat: counting.score(t, p, s, cat), counting_items())
    table = Table(title="Reward throughput, one core (median of 7 passes)")
    for col in ("reward", "case", "completions/s", "target", "verdict"):
        table.add_column(col, justify="right" if col in ("completions/s", "target") else "left")
    table.add_row("grounding", "mixed perfect / offset / fenced / malformed", f"{g:,.0f}", "20,000",
                  "PASS" if g >= 20_000 else "FAIL")
    table.add_row("counting", "50 predicted x 50 true boxes, Hungarian", f"{c:,.0f}", "5,000",
                  "PASS" if c >= 5_000 else "FAIL")
    Console().print(table)


if __name__ == "__main__":
    main()
