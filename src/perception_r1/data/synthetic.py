"""Synthetic scenes with exact ground truth: simple coloured shapes on a dark background.

Seeded and reproducible: scene ``i`` of a set depends only on ``(seed, i)``, never on what was drawn before.
Coordinates are pixels of the generated image, xyxy, as in the canonical records (:mod:`perception_r1.data.records`).

* grounding: one target shape, described by the shortest referring expression that identifies it uniquely
  among the distractors (colour -> shape -> size -> relative position), e.g. ``"large red circle"``,
  ``"blue square on the left"``.
* counting: 0..K instances of a named category (``"red circle"``) among distractors of the other categories.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40),
    "green": (40, 200, 60),
    "blue": (50, 90, 240),
    "yellow": (240, 220, 40),
}
SHAPES = ("circle", "square", "triangle")
#: Counting categories: each a fixed colour and shape (colour alone tells them apart).
COUNT_CATEGORIES = ("red circle", "blue square", "green triangle", "yellow diamond")
BACKGROUND = (12, 12, 16)


@dataclass(frozen=True)
class SceneConfig:
    """Difficulty knobs of a synthetic scene (all sizes in pixels of the generated image).

    Attributes:
        size: image side (square images).
        min_radius, max_radius: half-side range of an object.
        distractors: ``(lo, hi)`` inclusive number of distractor objects.
        max_count: counting: the target category appears 0..max_count times.
        clutter: number of small grey specks drawn as background noise (never annotated).
    """

    size: int = 112
    min_radius: int = 6
    max_radius: int = 16
    distractors: tuple[int, int] = (1, 3)
    max_count: int = 5
    clutter: int = 0


@dataclass
class Shape:
    color: str
    shape: str
    cx: float
    cy: float
    r: float
    size_word: str = field(default="")

    @property
    def box(self) -> list[int]:
        return [int(round(self.cx - self.r)), int(round(self.cy - self.r)),
                int(round(self.cx + self.r)), int(round(self.cy + self.r))]


def _draw(draw: ImageDraw.ImageDraw, s: Shape) -> None:
    x1, y1, x2, y2 = s.box
    col = COLORS[s.color]
    if s.shape == "circle":
        draw.ellipse([x1, y1, x2, y2], fill=col)
    elif s.shape == "square":
        draw.rectangle([x1, y1, x2, y2], fill=col)
    elif s.shape == "triangle":
        draw.polygon([(s.cx, y1), (x2, y2), (x1, y2)], fill=col)
    elif s.shape == "diamond":
        draw.polygon([(s.cx, y1), (x2, s.cy), (s.cx, y2), (x1, s.cy)], fill=col)
    else:  # pragma: no cover - internal
        raise ValueError(s.shape)


def _place(rng: random.Random, cfg: SceneConfig, placed: list[Shape], r: float) -> tuple[float, float] | None:
    for _ in range(200):
        cx = rng.uniform(r + 1, cfg.size - r - 2)
        cy = rng.uniform(r + 1, cfg.size - r - 2)
        if all(math.hypot(cx - p.cx, cy - p.cy) > r + p.r + 3 for p in placed):
            return cx, cy
    return None


def _render(cfg: SceneConfig, shapes: list[Shape], rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (cfg.size, cfg.size), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for _ in range(cfg.clutter):
        x, y = rng.uniform(0, cfg.size), rng.uniform(0, cfg.size)
        draw.rectangle([x, y, x + 1, y + 1], fill=(90, 90, 90))
    for s in shapes:
        _draw(draw, s)
    return img


def _expression(target: Shape, others: list[Shape]) -> str | None:
    """Shortest unique description of ``target`` among ``others`` (None if none is unique)."""
    same_cs = [o for o in others if o.color == target.color and o.shape == target.shape]
    if not same_cs:
        return f"{target.color} {target.shape}"
    if all(o.size_word != target.size_word for o in same_cs):
        return f"{target.size_word} {target.color} {target.shape}"
    group = same_cs + [target]
    if len(group) == 2:
        other = same_cs[0]
        if abs(other.cx - target.cx) > 2 * max(other.r, target.r) * 0.5 + 4:
            side = "left" if target.cx < other.cx else "right"
            return f"{target.color} {target.shape} on the {side}"
        if abs(other.cy - target.cy) > 4:
            side = "top" if target.cy < other.cy else "bottom"
            return f"{target.color} {target.shape} at the {side}"
    return None


def grounding_scene(seed: int, index: int, cfg: SceneConfig = SceneConfig()) -> tuple[Image.Image, str, list[int]]:
    """One grounding scene.

    Args:
        seed, index: the scene is a pure function of both.
        cfg: difficulty knobs.

    Returns:
        ``(image, referring_expression, box)`` with ``box`` = target xyxy in pixels of ``image``.
    """
    rng = random.Random(f"grounding-{seed}-{index}")
    while True:
        n_dis = rng.randint(*cfg.distractors)
        placed: list[Shape] = []
        mid = (cfg.min_radius + cfg.max_radius) / 2
        for _ in range(n_dis + 1):
            r = rng.uniform(cfg.min_radius, cfg.max_radius)
            pos = _place(rng, cfg, placed, r)
            if pos is None:
                break
            s = Shape(rng.choice(list(COLORS)), rng.choice(SHAPES), pos[0], pos[1], r)
            s.size_word = "large" if r >= mid else "small"
            placed.append(s)
        if len(placed) != n_dis + 1:
            continue
        # Distractors often share the target's colour or shape, so the expression has to combine attributes.
        target = placed[0]
        for o in placed[1:]:
            u = rng.random()
            if u < 0.35:
                o.color = target.color
            elif u < 0.6:
                o.shape = target.shape
        expr = _expression(target, placed[1:])
        if expr is None:
            continue
        order = placed[:]
        rng.shuffle(order)
        return _render(cfg, order, rng), expr, target.box


def counting_scene(seed: int, index: int, cfg: SceneConfig = SceneConfig()) -> tuple[Image.Image, str, list[list[int]]]:
    """One counting scene.

    Returns:
        ``(image, category, boxes)``: ``boxes`` are the xyxy pixel boxes of every instance of ``category``
        (possibly none), sorted top-to-bottom then left-to-right.
    """
    rng = random.Random(f"counting-{seed}-{index}")
    cat = rng.choice(COUNT_CATEGORIES)
    n = rng.randint(0, cfg.max_count)
    n_dis = rng.randint(*cfg.distractors)
    others = [c for c in COUNT_CATEGORIES if c != cat]
    placed: list[Shape] = []
    wanted = [cat] * n + [rng.choice(others) for _ in range(n_dis)]
    r_hi = min(cfg.max_radius, max(cfg.min_radius, 11))
    for c in wanted:
        r = rng.uniform(cfg.min_radius, r_hi)
        pos = _place(rng, cfg, placed, r)
        if pos is None:
            continue
        color, shape = c.split()
        placed.append(Shape(color, shape, pos[0], pos[1], r))
    boxes = sorted((s.box for s in placed if f"{s.color} {s.shape}" == cat), key=lambda b: (b[1], b[0]))
    rng.shuffle(placed)
    return _render(cfg, placed, rng), cat, boxes


def write_synthetic(task: str, n: int, seed: int, out: str | Path, cfg: SceneConfig = SceneConfig()) -> Path:
    """Write ``n`` scenes as PNG files plus ``out/data.jsonl`` in the canonical record schema.

    Args:
        task: ``"grounding"`` or ``"counting"``.
        n: number of scenes; seed: base seed; out: output folder (created).

    Returns:
        Path of the JSONL file. Image paths in it are relative to its folder.

    Raises:
        ValueError: unknown task.
    """
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        rid = f"{task}-{seed}-{i:05d}"
        rel = f"images/{rid}.png"
        if task == "grounding":
            img, expr, box = grounding_scene(seed, i, cfg)
            rec = {"id": rid, "image": rel, "problem": expr, "box": box}
        elif task == "counting":
            img, cat, boxes = counting_scene(seed, i, cfg)
            pts = [[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] for b in boxes]
            rec = {"id": rid, "image": rel, "problem": cat, "points": pts, "count": len(pts), "boxes": boxes}
        else:
            raise ValueError(f"unknown synthetic task {task!r}: expected 'grounding' or 'counting'")
        img.save(out / rel)
        lines.append(json.dumps(rec))
    path = out / "data.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path
