"""Multi-objective math shared by samplers, `History` and visualisations.

Everything here *minimises*: multiply a maximised objective by -1 first
(`History.sign(i)` gives the factor). Rows are points, columns objectives.

- `non_dominated_ranks`: the fast non-dominated sort of Deb et al. (2002), NSGA-II
  section III-A; rank 0 is the Pareto front.
- `constrained_ranks`: the same under constrained domination (ibid., section VI).
- `crowding_distance`: the density estimate of NSGA-II (ibid., section III-B).
- `hypervolume`: the volume dominated by a set of points and bounded by a
  reference point; exact in 2-D by a sweep, and in d dimensions by slicing the
  last objective (HSO, While et al. 2006) down to the 2-D sweep.

>>> import numpy as np
>>> y = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]])
>>> non_dominated_ranks(y).tolist()
[0, 0, 0, 1]
>>> hypervolume(y, [4.0, 4.0])
6.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from hyperdial.exceptions import invalid


def _matrix(values: ArrayLike, what: str = "values") -> np.ndarray:
    y = np.asarray(values, dtype=float)
    if y.ndim == 1 and y.size == 0:
        return y.reshape(0, 1)
    if y.ndim != 2:
        raise invalid(what, "must be a 2-D array (points x objectives)", f"shape={y.shape}")
    if np.isnan(y).any():
        raise invalid(what, "must not contain NaN", f"{int(np.isnan(y).sum())} NaN entries")
    return y


def dominates(a: ArrayLike, b: ArrayLike) -> bool:
    """True when `a` is no worse than `b` in every objective and better in one (minimising).

    >>> dominates([1, 2], [1, 3]), dominates([1, 2], [1, 2])
    (True, False)
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(x <= y) and np.any(x < y))


def _domination_matrix(y: np.ndarray) -> np.ndarray:
    """dom[i, j]: point i dominates point j. O(n^2 m) time, O(n^2) memory (one objective at a time)."""
    n = len(y)
    le = np.ones((n, n), dtype=bool)
    lt = np.zeros((n, n), dtype=bool)
    for k in range(y.shape[1]):
        col = y[:, k]
        le &= col[:, None] <= col[None, :]
        lt |= col[:, None] < col[None, :]
    return le & lt


def non_dominated_ranks(values: ArrayLike) -> np.ndarray:
    """Front index of each point: 0 for the non-dominated ones, 1 for those only they dominate, ...

    Deb et al.'s fast non-dominated sort, vectorised: count the points that
    dominate each point (n_p), peel the points with n_p = 0 as the next front,
    and subtract what they dominate (S_p) from the counts. Equal points share a rank.
    """
    y = _matrix(values)
    n = len(y)
    ranks = np.full(n, -1, dtype=int)
    if n == 0:
        return ranks
    dom = _domination_matrix(y)
    count = dom.sum(axis=0)  # n_p: how many points dominate p
    rank = 0
    remaining = np.ones(n, dtype=bool)
    while remaining.any():
        front = remaining & (count == 0)
        ranks[front] = rank
        remaining &= ~front
        count = count - dom[front].sum(axis=0)
        rank += 1
    return ranks


def pareto_mask(values: ArrayLike) -> np.ndarray:
    """Boolean mask of the non-dominated points (rank 0), in O(n^2 m)."""
    y = _matrix(values)
    if len(y) == 0:
        return np.zeros(0, dtype=bool)
    return ~np.any(_domination_matrix(y), axis=0)


def constrained_ranks(values: ArrayLike, violations: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks under constrained domination (Deb et al. 2002, section VI).

    A feasible point (violation 0) dominates every infeasible one; of two infeasible
    points the one with the smaller violation dominates. Feasible points therefore
    keep their ordinary ranks, and infeasible ones follow, one front per distinct
    violation in increasing order.

    >>> constrained_ranks([[1.0], [0.0], [5.0], [2.0]], [0.0, 0.5, 0.0, 0.1]).tolist()
    [0, 3, 1, 2]
    """
    y = _matrix(values)
    v = np.asarray(violations, dtype=float)
    if v.shape != (len(y),):
        raise invalid("violations", "must have one entry per point", f"shape={v.shape}")
    feasible = v <= 0.0
    ranks = np.empty(len(y), dtype=int)
    ranks[feasible] = non_dominated_ranks(y[feasible])
    offset = int(ranks[feasible].max()) + 1 if feasible.any() else 0
    _, inverse = np.unique(v[~feasible], return_inverse=True)
    ranks[~feasible] = offset + inverse.reshape(-1)
    return ranks


def crowding_distance(values: ArrayLike) -> np.ndarray:
    """Crowding distance of each point within its front (Deb et al. 2002, section III-B).

    Per objective, the points are sorted; the two extremes get infinity and every
    other point the gap between its neighbours, normalised by the objective's range.
    The distances are summed over objectives.

    >>> crowding_distance([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]]).tolist()
    [inf, 2.0, inf]
    """
    y = _matrix(values)
    n, m = y.shape
    dist = np.zeros(n)
    if n <= 2:
        dist[:] = np.inf
        return dist
    for k in range(m):
        order = np.argsort(y[:, k], kind="stable")
        col = y[order, k]
        span = col[-1] - col[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist


def hypervolume(points: ArrayLike, reference: ArrayLike) -> float:
    """Volume of the region dominated by `points` and dominating `reference` (minimising).

    Points not strictly better than the reference in every objective add nothing.
    2-D: one sort and a sweep, O(n log n). d >= 3: sort by the last objective and
    add slab by slab the (d-1)-dimensional volume of the points below the slab
    (HSO), O(n^(d-1) log n): fine for 4 objectives and a few hundred points.

    >>> hypervolume([[1.0, 1.0, 1.0]], [2.0, 3.0, 4.0])
    6.0
    """
    y = _matrix(points, "points")
    ref = np.asarray(reference, dtype=float).reshape(-1)
    if len(y) and y.shape[1] != ref.size:
        raise invalid("reference", f"must have {y.shape[1]} coordinates, one per objective", ref.tolist())
    if not np.all(np.isfinite(ref)):
        raise invalid("reference", "must be finite", ref.tolist())
    if len(y) == 0:
        return 0.0
    y = y[np.all(y < ref, axis=1)]
    if len(y) == 0:
        return 0.0
    if y.shape[1] > 2:
        y = y[pareto_mask(y)]  # dominated points add no volume; fewer points, faster slicing
    return float(_hv(y, ref))


def _hv(y: np.ndarray, ref: np.ndarray) -> float:
    d = y.shape[1]
    if d == 1:
        return float(ref[0] - y[:, 0].min())
    if d == 2:
        order = np.lexsort((y[:, 1], y[:, 0]))
        x, best = y[order, 0], np.minimum.accumulate(y[order, 1])
        widths = np.diff(np.append(x, ref[0]))
        return float(np.sum(widths * (ref[1] - best)))
    order = np.argsort(y[:, -1], kind="stable")
    y = y[order]
    tops = np.append(y[1:, -1], ref[-1])
    total = 0.0
    for i in range(len(y)):
        depth = tops[i] - y[i, -1]
        if depth > 0:
            below = y[: i + 1, :-1]
            if d > 3:  # in 2-D the sweep skips dominated points by itself
                below = below[pareto_mask(below)]
            total += depth * _hv(below, ref[:-1])
    return total
