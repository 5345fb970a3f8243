"""Hungarian and sequential reward matching (perception_r1.matching)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from perception_r1.matching import hungarian, match, sequential


def test_hungarian_finds_the_optimum_where_greedy_fails():
    # greedy takes (0,0)=1 first and is then forced into (1,1)=100: total 101; optimum is 2 + 3 = 5
    cost = np.array([[1.0, 2.0], [3.0, 100.0]])
    r, c = hungarian(cost)
    assert cost[r, c].sum() == 5.0
    assert sorted(zip(r.tolist(), c.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_hungarian_equals_brute_force_on_random_squares():
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 5):
        cost = rng.uniform(0, 10, size=(n, n))
        best = min(sum(cost[i, p[i]] for i in range(n)) for p in itertools.permutations(range(n)))
        r, c = hungarian(cost)
        assert cost[r, c].sum() == pytest.approx(best)


def test_rectangular_and_empty():
    cost = np.array([[5.0, 1.0, 9.0]])  # 1 prediction, 3 truths: matched to the cheapest
    r, c = hungarian(cost)
    assert r.tolist() == [0] and c.tolist() == [1]
    r, c = hungarian(np.zeros((0, 3)))
    assert len(r) == 0 and len(c) == 0
    r, c = match(np.ones((4, 2)), "hungarian")
    assert len(r) == 2


def test_sequential_pairs_by_index():
    r, c = sequential(3, 5)
    assert r.tolist() == [0, 1, 2] and c.tolist() == [0, 1, 2]
    r, c = match(np.ones((2, 0)), "sequential")
    assert len(r) == 0


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown matching"):
        match(np.ones((1, 1)), "greedy")
