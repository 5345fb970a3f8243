"""Shared fixtures: the shared real-data folder beside the checkout, small synthetic sets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
COCO50 = SHARED_DATA / "coco_val2017_50"


@pytest.fixture(scope="session")
def coco50() -> Path:
    if not (COCO50 / "annotations" / "instances_val2017.json").exists():
        pytest.skip(f"shared COCO data not found at {COCO50}")
    return COCO50


@pytest.fixture
def synth(tmp_path):
    """Write a small synthetic set: ``synth("grounding", n)`` -> path of data.jsonl."""
    from perception_r1.data.synthetic import write_synthetic

    def make(task: str, n: int = 6, seed: int = 11) -> Path:
        return write_synthetic(task, n, seed, tmp_path / f"{task}_{seed}")

    return make
