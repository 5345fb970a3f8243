"""Visual grounding (referring expression comprehension): one box per expression.

Paper: Perception-R1 section 3.2 (prompt), 4.1-4.3 (reward = IoU + format), 6.1 (Acc@0.5/0.75/0.95, Avg).
The released code squares the IoU and its format regex is broken (unescaped ``|`` makes it an alternation that
matches any completion starting with ``<``; see shared reference section 4.2). Here:

* ``iou`` reward = IoU of the first well-formed box with the target, in original-image pixels;
  ``paper_faithful=True`` returns IoU**2 as the released code does.
* ``format`` reward = 1.0 only if the answer is exactly one JSON list / object holding one well-formed box
  (whitespace, a ```` ```json ```` fence or an ``<answer>`` wrapper allowed around it), else 0.0.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..geometry import Frame, FrameSpec
from ..models.dialect import Qwen25Dialect
from .prompts import GROUNDING_PROMPT

NAME = "grounding"
REWARD_COMPONENTS = ("iou", "format")
METRIC_KEYS = ("acc@0.5", "acc@0.75", "acc@0.95", "acc_avg", "miou", "n", "parse_rate")


def prompt(problem: str) -> str:
    """The paper's grounding prompt for referring expression ``problem``."""
    return GROUNDING_PROMPT.format(question=problem)


def target_text(box: list[float], spec: FrameSpec, dialect=None) -> str:
    """The answer a perfect model writes: ``box`` (xyxy, original pixels) rendered in the dialect's frame."""
    d = dialect or Qwen25Dialect()
    sx, sy = spec.scale_to_original(d.frame)
    return d.render_boxes([[box[0] / sx, box[1] / sy, box[2] / sx, box[3] / sy]])


@dataclass
class GroundingAnswer:
    """Parsed grounding answer. ``box``: xyxy in original-image pixels, or None if no well-formed box."""

    box: list[float] | None
    strict: bool


def parse(completion: str, spec: FrameSpec, dialect=None, frame: Frame | str | None = None) -> GroundingAnswer:
    """Parse the first well-formed box of ``completion`` and convert it to original-image pixels.

    Args:
        completion: model output text (any string; never raises).
        spec: the image's size and the processor's pixel limits.
        dialect: answer syntax (default Qwen2.5-VL JSON); frame: override of the dialect's coordinate frame.
    """
    d = dialect or Qwen25Dialect()
    ans = d.parse(completion)
    boxes = [o.coords for o in ans.objects if o.kind == "box"]
    if not boxes:
        return GroundingAnswer(None, False)
    sx, sy = spec.scale_to_original(frame or d.frame)
    b = boxes[0]
    strict = ans.strict and ans.n_items == 1 and ans.n_malformed == 0
    return GroundingAnswer([b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy], strict)


def iou(a: list[float], b: list[float]) -> float:
    """IoU of two xyxy boxes in the same frame; 0.0 when the union is empty. Scalar fast path of geometry.iou_matrix."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = max(a[2] - a[0], 0) * max(a[3] - a[1], 0) + max(b[2] - b[0], 0) * max(b[3] - b[1], 0) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class GroundingRewardConfig:
    """Reward switches. ``paper_faithful``: IoU**2 as the released code; weights multiply each component."""

    paper_faithful: bool = False
    iou_weight: float = 1.0
    format_weight: float = 1.0


def score(completion: str, box: list[float], spec: FrameSpec, cfg: GroundingRewardConfig = GroundingRewardConfig(),
          dialect=None, frame: Frame | str | None = None) -> tuple[float, dict[str, float]]:
    """Reward of one completion.

    Args:
        completion: model output; box: target xyxy in original pixels; spec: image size + pixel limits.

    Returns:
        ``(total, components)`` with components ``iou`` in [0, 1] (IoU or IoU**2), ``format`` in {0, 1}, and the
        diagnostic ``parsed`` in {0, 1}; total = iou_weight * iou + format_weight * format.
    """
    ans = parse(completion, spec, dialect, frame)
    v = iou(ans.box, box) if ans.box is not None else 0.0
    if cfg.paper_faithful:
        v = v * v
    fmt = 1.0 if ans.strict else 0.0
    total = cfg.iou_weight * v + cfg.format_weight * fmt
    return total, {"iou": v, "format": fmt, "parsed": 1.0 if ans.box is not None else 0.0}


def metrics(ious: list[float | None]) -> dict[str, float]:
    """Grounding metrics (paper section 6.1) from per-sample IoU (None = unparseable, counted as IoU 0).

    Returns:
        ``acc@0.5``, ``acc@0.75``, ``acc@0.95`` (fraction with IoU >= threshold), ``acc_avg`` (their mean, the
        paper's "Avg"), ``miou``, ``n``, ``parse_rate``; all fractions in [0, 1].
    """
    n = len(ious)
    vals = [v if v is not None else 0.0 for v in ious]
    out: dict[str, float] = {"n": n}
    for t in (0.5, 0.75, 0.95):
        out[f"acc@{t}"] = sum(v >= t for v in vals) / n if n else 0.0
    out["acc_avg"] = (out["acc@0.5"] + out["acc@0.75"] + out["acc@0.95"]) / 3
    out["miou"] = sum(vals) / n if n else 0.0
    out["parse_rate"] = sum(v is not None for v in ious) / n if n else 0.0
    return out
