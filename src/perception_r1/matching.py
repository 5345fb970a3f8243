"""Reward matching between predicted and ground-truth subjects (paper section 4.2, "multi-subject reward matching").

Notation: ``N`` predictions, ``M`` ground truths; ``K = min(N, M)`` matched pairs.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def hungarian(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost bipartite matching (Kuhn 1955) via ``scipy.optimize.linear_sum_assignment``.

    Args:
        cost: ``(N, M)`` finite cost matrix (rectangular allowed; lower is better).

    Returns:
        ``(rows, cols)``: two int arrays of length ``K``; prediction ``rows[k]`` is matched to truth ``cols[k]``.
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    r, k = linear_sum_assignment(c)
    return r.astype(np.int64), k.astype(np.int64)


def sequential(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Index-order matching (prediction i <-> truth i), the paper's "w/o reward matching" ablation (Table 5).

    Returns:
        ``(rows, cols)`` = ``(arange(K), arange(K))`` with ``K = min(n, m)``.
    """
    k = min(n, m)
    idx = np.arange(k, dtype=np.int64)
    return idx, idx.copy()


def match(cost: np.ndarray, method: str = "hungarian") -> tuple[np.ndarray, np.ndarray]:
    """Dispatch on ``method`` (``"hungarian"`` or ``"sequential"``). Raises ValueError for anything else."""
    if method == "hungarian":
        return hungarian(cost)
    if method == "sequential":
        c = np.asarray(cost)
        return sequential(c.shape[0], c.shape[1] if c.ndim == 2 else 0)
    raise ValueError(f"unknown matching {method!r}: expected 'hungarian' or 'sequential'")
