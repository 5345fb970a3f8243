"""Visual counting, detect-then-count: the model marks every instance (a box or a point), the count is their number.

Paper: Perception-R1 section 3.2 (prompt), 4.2 (Hungarian reward matching), 4.3 / released ``pr1_counting_reward``:

    reward = min(N, M) / max(N, M) * (1 - mean_k ||p_k - g_k||_2 / image_diagonal)

over the ``K = min(N, M)`` Hungarian-matched pairs of predicted centres ``p`` and ground-truth points ``g``
(original-image pixels; the released code uses the [0,1000) frame and 1000*sqrt(2), the same normalisation).
``matching="sequential"`` pairs the i-th prediction with the i-th truth (the paper's Table 5 ablation).

Deliberate differences from the released code, each documented here:
* N = M = 0 (nothing to count and nothing listed) scores 1.0; the released code errors out to 0.0.
* Items whose ``label`` is present but is not the asked category are not counted (``strict_labels``), so the label
  is rewarded and cannot drift (a trap measured in ``counting-prototype.md``).
* ``format`` reward: 1.0 iff the answer is exactly one JSON list of well-formed items, else 0.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..geometry import Frame, FrameSpec, l2_matrix
from ..matching import match
from ..models.dialect import Qwen25Dialect
from .prompts import COUNTING_PROMPT

NAME = "counting"
REWARD_COMPONENTS = ("count", "format")
METRIC_KEYS = ("accuracy", "mae", "n", "parse_rate")


def prompt(problem: str) -> str:
    """The paper's counting prompt for category ``problem``."""
    return COUNTING_PROMPT.format(question=problem)


def target_text(boxes: list[list[float]] | None, points: list[list[float]], spec: FrameSpec, dialect=None) -> str:
    """The answer a perfect model writes: boxes if known (else points), original pixels -> the dialect's frame."""
    d = dialect or Qwen25Dialect()
    sx, sy = spec.scale_to_original(d.frame)
    if boxes is not None:
        return d.render_boxes([[b[0] / sx, b[1] / sy, b[2] / sx, b[3] / sy] for b in boxes])
    return d.render_points([[p[0] / sx, p[1] / sy] for p in points])


def _norm_label(s: str) -> str:
    s = " ".join(s.lower().split())
    return s[:-1] if s.endswith("s") and not s.endswith("ss") else s


@dataclass
class CountingAnswer:
    """Parsed counting answer.

    Attributes:
        points: ``(N, 2)`` predicted centres / points in original-image pixels, or None if nothing parsed.
        strict: the answer is exactly one JSON list of well-formed items with matching labels.
        label_mismatch: items dropped because their label is not the asked category.
    """

    points: np.ndarray | None
    strict: bool
    label_mismatch: int = 0

    @property
    def count(self) -> int | None:
        return None if self.points is None else int(self.points.shape[0])


def parse(completion: str, spec: FrameSpec, category: str | None = None, dialect=None,
          frame: Frame | str | None = None, strict_labels: bool = True) -> CountingAnswer:
    """Parse the listed objects into points (box centres or ``point_2d``), original-image pixels. Never raises."""
    d = dialect or Qwen25Dialect()
    ans = d.parse(completion)
    if not ans.parsed:
        return CountingAnswer(None, False)
    want = _norm_label(category) if (category and strict_labels) else None
    pts: list[list[float]] = []
    mismatch = 0
    for o in ans.objects:
        if want is not None and o.label is not None and _norm_label(o.label) != want:
            mismatch += 1
            continue
        c = o.coords
        pts.append([(c[0] + c[2]) / 2, (c[1] + c[3]) / 2] if o.kind == "box" else [c[0], c[1]])
    sx, sy = spec.scale_to_original(frame or d.frame)
    arr = np.asarray(pts, dtype=np.float64).reshape(-1, 2) * np.array([sx, sy])
    strict = ans.strict and ans.n_malformed == 0 and mismatch == 0
    return CountingAnswer(arr, strict, mismatch)


@dataclass(frozen=True)
class CountingRewardConfig:
    """Reward switches: ``matching`` hungarian | sequential; ``strict_labels``; component weights."""

    matching: str = "hungarian"
    strict_labels: bool = True
    count_weight: float = 1.0
    format_weight: float = 1.0


def count_reward(pred: np.ndarray | None, gt: np.ndarray, diagonal: float, matching: str = "hungarian") -> float:
    """The paper's counting reward (module docstring) for ``pred (N, 2)`` vs ``gt (M, 2)`` in the same pixel frame.

    Args:
        pred: predicted points, or None when the completion did not parse (reward 0.0).
        gt: ground-truth points. diagonal: image diagonal in the same units (> 0).
        matching: ``"hungarian"`` (minimum total L2) or ``"sequential"`` (index order).

    Returns:
        Reward in [0, 1].
    """
    if pred is None:
        return 0.0
    n, m = len(pred), len(gt)
    if n == 0 and m == 0:
        return 1.0
    if n == 0 or m == 0:
        return 0.0
    dist = l2_matrix(pred, gt)
    r, c = match(dist, matching)
    mean_d = float(dist[r, c].mean())
    return min(n, m) / max(n, m) * max(0.0, 1.0 - mean_d / diagonal)


def score(completion: str, points: list[list[float]], spec: FrameSpec, category: str | None = None,
          cfg: CountingRewardConfig = CountingRewardConfig(), dialect=None,
          frame: Frame | str | None = None) -> tuple[float, dict[str, float]]:
    """Reward of one completion against ground-truth ``points`` (original pixels) of ``category``.

    Returns:
        ``(total, components)``: ``count`` in [0, 1], ``format`` in {0, 1}, diagnostics ``parsed``,
        ``pred_count`` (-1 if unparsed) and ``label_mismatch``; total = count_weight*count + format_weight*format.
    """
    ans = parse(completion, spec, category, dialect, frame, cfg.strict_labels)
    gt = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    diag = math.hypot(spec.width, spec.height)
    cnt = count_reward(ans.points, gt, diag, cfg.matching)
    fmt = 1.0 if ans.strict else 0.0
    total = cfg.count_weight * cnt + cfg.format_weight * fmt
    return total, {"count": cnt, "format": fmt, "parsed": 0.0 if ans.points is None else 1.0,
                   "pred_count": float(-1 if ans.count is None else ans.count),
                   "label_mismatch": float(ans.label_mismatch)}


def metrics(pred_counts: list[int | None], true_counts: list[int]) -> dict[str, float]:
    """Counting metrics (paper section 6.2): exact-match ``accuracy`` and ``mae`` (mean |pred - true|).

    An unparseable answer (None) is wrong for accuracy and counts as predicting 0 for MAE.
    Returns ``accuracy``, ``mae``, ``n``, ``parse_rate``.
    """
    n = len(true_counts)
    if len(pred_counts) != n:
        raise ValueError(f"{len(pred_counts)} predictions for {n} ground truths")
    acc = sum(p is not None and p == t for p, t in zip(pred_counts, true_counts, strict=True))
    mae = sum(abs((p if p is not None else 0) - t) for p, t in zip(pred_counts, true_counts, strict=True))
    return {"accuracy": acc / n if n else 0.0, "mae": mae / n if n else 0.0, "n": n,
            "parse_rate": sum(p is not None for p in pred_counts) / n if n else 0.0}
