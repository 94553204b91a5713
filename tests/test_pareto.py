"""Pareto helpers against brute force, hand-computed volumes and Monte Carlo estimates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.pareto import (
    constrained_ranks,
    crowding_distance,
    dominates,
    hypervolume,
    non_dominated_ranks,
    pareto_mask,
)


def brute_force_ranks(y: np.ndarray, violation: np.ndarray | None = None) -> list[int]:
    """Peel fronts with the O(n^2) definition, under constrained domination when violations are given."""
    v = np.zeros(len(y)) if violation is None else violation

    def beats(i: int, j: int) -> bool:
        if v[i] == 0 and v[j] > 0:
            return True
        if v[i] > 0 or v[j] > 0:
            return bool(v[i] > 0 and v[j] > 0 and v[i] < v[j])
        return all(y[i] <= y[j]) and any(y[i] < y[j])

    ranks = [-1] * len(y)
    left = set(range(len(y)))
    rank = 0
    while left:
        front = {j for j in left if not any(beats(i, j) for i in left if i != j)}
        for j in front:
            ranks[j] = rank
        left -= front
        rank += 1
    return ranks


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_non_dominated_ranks_match_brute_force(m: int) -> None:
    rng = np.random.default_rng(m)
    for n in (0, 1, 2, 7, 40, 90):
        y = rng.integers(0, 6, size=(n, m)).astype(float)  # small integers: many ties and duplicates
        ranks = non_dominated_ranks(y)
        assert ranks.tolist() == brute_force_ranks(y)
        assert pareto_mask(y).tolist() == (ranks == 0).tolist()
    y = rng.random((60, m))
    assert non_dominated_ranks(y).tolist() == brute_force_ranks(y)


def test_constrained_ranks_match_brute_force() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        y = rng.integers(0, 5, size=(30, 2)).astype(float)
        v = np.where(rng.random(30) < 0.5, 0.0, rng.integers(1, 4, size=30).astype(float))
        assert constrained_ranks(y, v).tolist() == brute_force_ranks(y, v)
    assert constrained_ranks(y, np.ones(30)).tolist() == [0] * 30  # all equally infeasible


def test_dominates_and_crowding() -> None:
    assert dominates([1, 2], [2, 2]) and not dominates([1, 2], [1, 2]) and not dominates([1, 3], [2, 2])
    d = crowding_distance([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    # Inner points: (3 - 0)/4 + (4 - 1)/4 and (4 - 1)/4 + (3 - 0)/4.
    assert d.tolist() == [np.inf, 1.5, 1.5, np.inf]
    assert crowding_distance([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]).tolist() == [np.inf, 0.0, np.inf]


def test_hypervolume_2d_by_hand() -> None:
    # Staircase of (1, 3), (2, 2), (3, 1) under (4, 4): slabs 1 x 1 + 1 x 2 + 1 x 3 = 6.
    pts = [[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]
    assert hypervolume(pts, [4.0, 4.0]) == pytest.approx(6.0)
    # A dominated point, a duplicate and a point beyond the reference change nothing.
    assert hypervolume([*pts, [3.0, 3.0], [2.0, 2.0], [0.5, 5.0]], [4.0, 4.0]) == pytest.approx(6.0)
    assert hypervolume([[0.0, 0.0]], [2.0, 0.5]) == pytest.approx(1.0)
    assert hypervolume(np.empty((0, 2)), [1.0, 1.0]) == 0.0
    assert hypervolume([[5.0, 5.0]], [1.0, 1.0]) == 0.0


def test_hypervolume_3d_equals_2d_times_depth() -> None:
    rng = np.random.default_rng(0)
    y2 = rng.random((50, 2))
    y3 = np.column_stack([y2, np.full(50, 0.25)])
    assert hypervolume(y3, [1.0, 1.0, 1.0]) == pytest.approx(0.75 * hypervolume(y2, [1.0, 1.0]))


@pytest.mark.parametrize("m", [3, 4])
def test_hypervolume_matches_monte_carlo(m: int) -> None:
    rng = np.random.default_rng(m)
    y = rng.random((40, m))
    y /= np.linalg.norm(y, axis=1, keepdims=True)  # a curved front: most points non-dominated
    ref = np.full(m, 1.2)
    samples = rng.random((200_000, m)) * ref
    covered = np.zeros(len(samples), dtype=bool)
    for p in y:
        covered |= np.all(samples >= p, axis=1)
    estimate = covered.mean() * np.prod(ref)
    stderr = np.sqrt(covered.mean() * (1 - covered.mean()) / len(samples)) * np.prod(ref)
    assert abs(hypervolume(y, ref) - estimate) < 4 * stderr


def test_hypervolume_monotone_under_adding_points() -> None:
    rng = np.random.default_rng(3)
    y = rng.random((30, 3))
    vols = [hypervolume(y[:k], [1.0, 1.0, 1.0]) for k in range(1, 31)]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(vols))


def test_validation() -> None:
    with pytest.raises(hd.InvalidParameterError, match="reference"):
        hypervolume([[1.0, 2.0]], [3.0])
    with pytest.raises(hd.InvalidParameterError, match="points"):
        hypervolume([1.0, 2.0], [3.0, 3.0])
    with pytest.raises(hd.InvalidParameterError, match="NaN"):
        non_dominated_ranks([[np.nan, 1.0]])
    with pytest.raises(hd.InvalidParameterError, match="violations"):
        constrained_ranks([[1.0], [2.0]], [0.0])
