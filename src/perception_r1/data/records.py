"""Canonical data records and completions files: loading with validation and errors that name file, line and field.

Canonical record, one JSON object per line; coordinates in pixels of the original image, xyxy:

* grounding: ``{"id": str, "image": path, "problem": "<referring expression>", "box": [x1, y1, x2, y2]}``
* counting:  ``{"id": str, "image": path, "problem": "<category>", "points": [[x, y], ...], "count": int}``
  (optional ``"boxes"``: the instances' xyxy boxes, used to render SFT targets)

A relative ``image`` path is relative to the JSONL file's folder.
Completions file: ``{"id": str, "completion": str}`` per line; several lines may share an id.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class DataError(ValueError):
    """Bad user input (data file, record, image). The message names the file, the line / id and the field."""


def _finite(v: list[float]) -> list[float]:
    if not all(math.isfinite(x) for x in v):
        raise ValueError("coordinates must be finite numbers")
    return v


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    image: str
    problem: Annotated[str, Field(min_length=1)]

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, v):
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class GroundingRecord(_Record):
    """One referring expression and its target box (xyxy, original-image pixels, x1 < x2, y1 < y2)."""

    box: Annotated[list[float], Field(min_length=4, max_length=4)]

    @field_validator("box")
    @classmethod
    def _box_ok(cls, v: list[float]) -> list[float]:
        _finite(v)
        if not (v[0] < v[2] and v[1] < v[3]):
            raise ValueError(f"box must be [x1, y1, x2, y2] with x1 < x2 and y1 < y2, got {v}")
        return v


class CountingRecord(_Record):
    """One category, the instances' points (original-image pixels) and their count (== len(points))."""

    points: list[Annotated[list[float], Field(min_length=2, max_length=2)]]
    count: Annotated[int, Field(ge=0)]
    boxes: list[Annotated[list[float], Field(min_length=4, max_length=4)]] | None = None

    @model_validator(mode="after")
    def _count_ok(self):
        for p in self.points:
            _finite(p)
        if self.count != len(self.points):
            raise ValueError(f"count is {self.count} but {len(self.points)} points are given")
        if self.boxes is not None and len(self.boxes) != len(self.points):
            raise ValueError(f"{len(self.boxes)} boxes for {len(self.points)} points")
        return self


RECORD_TYPES: dict[str, type[_Record]] = {"grounding": GroundingRecord, "counting": CountingRecord}


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    if not path.exists():
        raise DataError(f"{path}: file does not exist")
    rows = []
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{ln}: not valid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{ln}: expected a JSON object, got {type(obj).__name__}")
            rows.append((ln, obj))
    return rows


def _field_of(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = ".".join(str(x) for x in e["loc"]) or "(record)"
    return f"field '{loc}': {e['msg']}"


def load_records(path: str | Path, task: str, check_images: bool = True) -> list[_Record]:
    """Load and validate a canonical JSONL file for ``task``; image paths are resolved to absolute paths.

    Args:
        path: the JSONL file. task: ``"grounding"`` or ``"counting"``.
        check_images: verify every image file exists and is a readable image (opens the header only).

    Raises:
        DataError: missing file, malformed JSON line, a record missing a field or with a bad value, duplicate id,
            a missing or unreadable image -- the message names the file, the line and id, and the field.
        ValueError: unknown task.
    """
    if task not in RECORD_TYPES:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(RECORD_TYPES)}")
    path = Path(path)
    cls = RECORD_TYPES[task]
    out = []
    seen: dict[str, int] = {}
    for ln, obj in _read_jsonl(path):
        rid = obj.get("id", "?")
        try:
            rec = cls.model_validate(obj)
        except ValidationError as e:
            raise DataError(f"{path}:{ln} (id {rid}): {_field_of(e)}") from None
        if rec.id in seen:
            raise DataError(f"{path}:{ln} (id {rec.id}): field 'id': duplicate of line {seen[rec.id]}")
        seen[rec.id] = ln
        img = Path(rec.image)
        if not img.is_absolute():
            img = path.parent / img
        rec.image = str(img)
        if check_images:
            image_size(img, where=f"{path}:{ln} (id {rec.id}): field 'image'")
        out.append(rec)
    return out


def image_size(path: str | Path, where: str = "") -> tuple[int, int]:
    """``(width, height)`` of an image file (reads the header). Raises DataError naming ``where`` if unreadable."""
    prefix = f"{where}: " if where else ""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{prefix}image {p} does not exist")
    try:
        with Image.open(p) as im:
            return im.size
    except Exception as e:  # PIL raises many types for corrupt files
        raise DataError(f"{prefix}image {p} is not a readable image ({type(e).__name__}: {e})") from None


def load_image(path: str | Path, where: str = "") -> Image.Image:
    """Open an image fully as RGB. Raises DataError naming ``where`` for a missing, corrupt or truncated file."""
    prefix = f"{where}: " if where else ""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{prefix}image {p} does not exist")
    try:
        with Image.open(p) as im:
            return im.convert("RGB")
    except Exception as e:
        raise DataError(f"{prefix}image {p} is not a readable image ({type(e).__name__}: {e})") from None


def load_completions(path: str | Path) -> list[tuple[str, str]]:
    """Read a completions JSONL file into ``[(id, completion), ...]`` in file order.

    Raises:
        DataError: missing file, bad JSON, or a line without a string ``id``/``completion`` (file and line named).
    """
    path = Path(path)
    out = []
    for ln, obj in _read_jsonl(path):
        rid, comp = obj.get("id"), obj.get("completion")
        if isinstance(rid, int) and not isinstance(rid, bool):
            rid = str(rid)
        if not isinstance(rid, str):
            raise DataError(f"{path}:{ln}: field 'id': missing or not a string")
        if not isinstance(comp, str):
            raise DataError(f"{path}:{ln} (id {rid}): field 'completion': missing or not a string")
        out.append((rid, comp))
    return out


def write_jsonl(path: str | Path, rows: list[dict]) -> Path:
    """Write ``rows`` as JSONL atomically (temp file then rename), so an interrupted write loses nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    tmp.replace(path)
    return path


def write_json(path: str | Path, obj) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
