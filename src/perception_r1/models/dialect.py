"""Model dialects: how a model family writes boxes and points, and in which coordinate frame.

Tasks never hard-code an answer syntax: they ask the dialect to render a target (for SFT) and to parse a
completion into objects. Pure Python (no torch), so rewards stay importable without a model.

Qwen2.5-VL (the default, also pr1-tiny's): a JSON list ``[{"bbox_2d": [x1, y1, x2, y2], "label": "..."}]`` or
``[{"point_2d": [x, y], "label": "..."}]`` in pixels of the processor-resized image, optionally inside a
```` ```json ```` fence or an ``<answer>`` wrapper (Qwen2.5-VL technical report; paper section 3.3).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..geometry import Frame

_ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.S)
_FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
#: Longest completion we try to parse as JSON (characters); longer text is truncated first, never an error.
MAX_PARSE_CHARS = 200_000


@dataclass
class ParsedObject:
    """One object the model wrote. ``coords``: 4 numbers (box xyxy) or 2 (point xy), in the dialect's frame."""

    kind: str  # "box" | "point"
    coords: list[float]
    label: str | None = None


@dataclass
class ParsedAnswer:
    """Result of parsing one completion.

    Attributes:
        objects: well-formed objects in output order.
        parsed: True if a JSON value of the expected kind was found at all.
        strict: True if the answer is *only* that value (whitespace, one ``json`` fence and one ``<answer>``
            wrapper allowed around it) -- used by format rewards.
        n_items: number of items the model listed (well-formed or not).
        n_malformed: items that were not a dict with a finite 4-number ``bbox_2d`` (x1 < x2, y1 < y2) or
            a finite 2-number ``point_2d``.
    """

    objects: list[ParsedObject] = field(default_factory=list)
    parsed: bool = False
    strict: bool = False
    n_items: int = 0
    n_malformed: int = 0


#: Coordinates beyond this magnitude are treated as malformed (they would overflow float maths downstream).
_MAX_ABS = 1e12


def _finite_numbers(v: object, n: int) -> list[float] | None:
    """``v`` if it is a JSON list of ``n`` finite numbers (bools and strings rejected), else None. Hot path."""
    if type(v) is not list or len(v) != n:
        return None
    for x in v:
        t = type(x)
        if t is int:
            if not -_MAX_ABS < x < _MAX_ABS:
                return None
        elif t is not float or not -_MAX_ABS < x < _MAX_ABS:  # also rejects NaN and +-inf
            return None
    return v


def _unwrap(text: str) -> tuple[str, bool]:
    """Strip an ``<answer>`` wrapper and a code fence. Returns (inner text, whether the outside was clean)."""
    clean = True
    m = _ANSWER_RE.search(text)
    if m:
        clean = text[: m.start()].strip() == "" and text[m.end():].strip() == ""
        text = m.group(1)
    m = _FENCE_RE.search(text)
    if m:
        clean = clean and text[: m.start()].strip() == "" and text[m.end():].strip() == ""
        text = m.group(1)
    return text, clean


class Qwen25Dialect:
    """Qwen2.5-VL's JSON grounding syntax, absolute pixels of the processor-resized image.

    Attributes:
        name: ``"qwen2_5_vl"``.
        frame: :attr:`Frame.resized` -- coordinates are pixels of the image after ``smart_resize``.
        skip_special_tokens: decode completions with special tokens removed.
    """

    name = "qwen2_5_vl"
    frame = Frame.resized
    skip_special_tokens = True

    def render_boxes(self, boxes: list[list[float]], label: str | None = None) -> str:
        """Render xyxy boxes (already in this dialect's frame) as the answer text; coordinates rounded to int."""
        items = []
        for b in boxes:
            item: dict = {"bbox_2d": [int(round(v)) for v in b]}
            if label is not None:
                item["label"] = label
            items.append(item)
        return json.dumps(items)

    def render_points(self, points: list[list[float]], label: str | None = None) -> str:
        """Render xy points (in this dialect's frame) as ``[{"point_2d": [x, y]}, ...]``."""
        items = []
        for p in points:
            item: dict = {"point_2d": [int(round(v)) for v in p]}
            if label is not None:
                item["label"] = label
            items.append(item)
        return json.dumps(items)

    def parse(self, text: str) -> ParsedAnswer:
        """Parse a completion into objects. Never raises: garbage gives ``ParsedAnswer(parsed=False)``.

        Accepts a JSON list of items or a single item dict, optionally fenced / wrapped, with text around it
        (then ``strict`` is False). A box is valid if it has 4 finite numbers with x1 < x2 and y1 < y2.
        """
        if not isinstance(text, str):
            return ParsedAnswer()
        text = text[:MAX_PARSE_CHARS]
        inner, clean = _unwrap(text)
        start = _first_json_start(inner)
        if start < 0:
            return ParsedAnswer()
        try:
            value, end = json.JSONDecoder().raw_decode(inner, start)
        except (ValueError, RecursionError):
            return ParsedAnswer()
        strict = clean and inner[:start].strip() == "" and inner[end:].strip() == ""
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            return ParsedAnswer()
        ans = ParsedAnswer(parsed=True, strict=strict, n_items=len(value))
        for item in value:
            obj = _item_to_object(item)
            if obj is None:
                ans.n_malformed += 1
            else:
                ans.objects.append(obj)
        return ans


def _first_json_start(s: str) -> int:
    idx = [i for i in (s.find("["), s.find("{")) if i >= 0]
    return min(idx) if idx else -1


def _item_to_object(item: object) -> ParsedObject | None:
    if not isinstance(item, dict):
        return None
    label = item.get("label")
    label = label if isinstance(label, str) else None
    if "bbox_2d" in item:
        b = _finite_numbers(item["bbox_2d"], 4)
        if b is None or not (b[0] < b[2] and b[1] < b[3]):
            return None
        return ParsedObject("box", b, label)
    if "point_2d" in item:
        p = _finite_numbers(item["point_2d"], 2)
        if p is None:
            return None
        return ParsedObject("point", p, label)
    return None


DIALECTS = {"qwen2_5_vl": Qwen25Dialect}


def get_dialect(name: str = "qwen2_5_vl") -> Qwen25Dialect:
    """Dialect by name. Raises ValueError listing the supported names."""
    try:
        return DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; supported: {sorted(DIALECTS)}") from None
