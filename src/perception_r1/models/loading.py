"""Load any local Hugging Face VLM checkpoint + processor, exactly as a real checkpoint is loaded.

Nothing is downloaded by this project: ``path`` is a local directory (or a hub id that transformers resolves
itself where a network exists). ``pr1-tiny`` resolves to the checkpoint shipped in the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The shipped, warm-started pr1-tiny checkpoint (built by ``pr1 build-tiny``).
TINY_CHECKPOINT = Path(__file__).resolve().parent / "pr1_tiny"


def resolve_model_path(path: str | Path) -> str:
    """Map the alias ``pr1-tiny`` to the shipped checkpoint; return other paths unchanged (as str).

    Raises:
        FileNotFoundError: ``path`` looks like a local path (exists-check on anything with a path separator or
            starting with ``.``) but does not exist.
    """
    s = str(path)
    if s == "pr1-tiny":
        if not (TINY_CHECKPOINT / "config.json").exists():
            raise FileNotFoundError(f"the shipped pr1-tiny checkpoint is missing at {TINY_CHECKPOINT}; "
                                    "rebuild it with `pr1 build-tiny --out src/perception_r1/models/pr1_tiny`")
        return str(TINY_CHECKPOINT)
    if (os.sep in s or s.startswith(".")) and not Path(s).exists():
        raise FileNotFoundError(f"model directory {s} does not exist")
    return s


def load_model_and_processor(path: str | Path, padding_side: str = "left", min_pixels: int | None = None,
                             max_pixels: int | None = None, trust_remote_code: bool = False):
    """Load ``(model, processor)`` with ``AutoModelForImageTextToText`` / ``AutoProcessor`` in float32 on CPU.

    Args:
        path: checkpoint directory or ``"pr1-tiny"``.
        padding_side: ``"left"`` for generation, ``"right"`` for SFT.
        min_pixels, max_pixels: override the image processor's pixel limits (Qwen's ``smart_resize`` bounds).
        trust_remote_code: passed through to transformers (off unless a recipe turns it on).
    """
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    p = resolve_model_path(path)
    model = AutoModelForImageTextToText.from_pretrained(p, dtype=torch.float32, trust_remote_code=trust_remote_code)
    processor = AutoProcessor.from_pretrained(p, padding_side=padding_side, trust_remote_code=trust_remote_code)
    set_pixel_limits(processor, min_pixels, max_pixels)
    return model, processor


def set_pixel_limits(processor, min_pixels: int | None, max_pixels: int | None) -> None:
    """Set the image processor's ``min_pixels`` / ``max_pixels`` (transformers 5: ``size`` shortest/longest edge)."""
    ip = processor.image_processor
    size = dict(getattr(ip, "size", None) or {})
    if min_pixels is not None:
        size["shortest_edge"] = int(min_pixels)
    if max_pixels is not None:
        size["longest_edge"] = int(max_pixels)
    if size:
        ip.size = size
    for name, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels)):
        if v is not None and hasattr(ip, name):
            setattr(ip, name, int(v))


def pixel_limits(processor) -> tuple[int, int]:
    """``(min_pixels, max_pixels)`` the processor resizes images with."""
    ip = processor.image_processor
    size = getattr(ip, "size", None) or {}
    lo = size.get("shortest_edge", getattr(ip, "min_pixels", None))
    hi = size.get("longest_edge", getattr(ip, "max_pixels", None))
    return int(lo), int(hi)
