"""TPE's split of the observations into "good" (below) and "bad" (above), and its defaults.

Bergstra et al. 2011, section 4.1: with y* the gamma-quantile of the objective,
l(x) = p(x | y < y*) and g(x) = p(x | y >= y*); EI is monotone in l(x) / g(x).
The order that decides which trials are "good" follows Optuna's (c-TPE-lite):

1. COMPLETE feasible trials, by value (one objective) or by non-dominated rank
   with a greedy hypervolume subset selection to break the last rank (MOTPE,
   Ozaki et al. 2020/2022, section 3);
2. PRUNED feasible trials: deeper last step first, then the better last value;
3. infeasible trials (COMPLETE or PRUNED), by total violation.

The first `n_below` of that order are good, the rest bad. RUNNING trials are
added to the bad side by the sampler (the constant liar).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from hyperdial.pareto import crowding_distance, hypervolume, non_dominated_ranks

COMPLETE, PRUNED, OTHER = 0, 1, 2
_HSSP_BUDGET = 400  # exact hypervolume evaluations (3+ objectives) before falling back to crowding


def default_gamma(n: int) -> int:
    """Good-set size for one objective: 10% of the trials, at most 25 (Optuna's default; the
    "linear" split with beta = 0.1 of Watanabe 2023, section 3.1, capped)."""
    return min(math.ceil(0.1 * n), 25)


def default_gamma_multi(n: int) -> int:
    """Good-set size for several objectives: 10% of the trials, uncapped (MOTPE)."""
    return math.ceil(0.1 * n)


@functools.lru_cache(maxsize=16)
def default_weights(n: int) -> np.ndarray:
    """Observation weights, oldest first: the newest 25 weigh 1, older ones ramp down to 1/n
    (Bergstra et al. 2011 / Hyperopt's "old-decay"; Watanabe 2023, section 3.2). Read-only (cached)."""
    w = np.ones(n) if n < 25 else np.concatenate([np.linspace(1.0 / n, 1.0, num=n - 25), np.ones(25)])
    w.flags.writeable = False
    return w


def split(
    *,
    state: np.ndarray,
    values: np.ndarray,
    signs: np.ndarray,
    violation: np.ndarray,
    last_step: np.ndarray,
    last_value: np.ndarray,
    n_below: int,
) -> np.ndarray:
    """Boolean mask of the good trials among COMPLETE/PRUNED rows (other rows are never good)."""
    n = len(state)
    below = np.zeros(n, dtype=bool)
    if n_below <= 0 or n == 0:
        return below
    usable = state != OTHER
    feasible = violation <= 0.0
    complete = np.flatnonzero(usable & feasible & (state == COMPLETE))
    pruned = np.flatnonzero(usable & feasible & (state == PRUNED))
    infeasible = np.flatnonzero(usable & ~feasible)

    left = n_below
    if len(complete):
        y = values[complete] * signs
        if y.shape[1] == 1:
            chosen = complete[_first_k(y[:, 0], left)]
        else:
            chosen = complete[_select_multi(y, left)]
        below[chosen] = True
        left -= len(chosen)
    if left > 0 and len(pruned):
        if values.shape[1] == 1:
            v = last_value[pruned] * signs[0]
            v = np.where(np.isnan(v), np.inf, v)
            order = np.lexsort((v, -last_step[pruned]))  # deeper first, then better value
        else:
            order = np.arange(len(pruned))  # no ranking of pruned trials with several objectives
        chosen = pruned[order[:left]]
        below[chosen] = True
        left -= len(chosen)
    if left > 0 and len(infeasible):
        chosen = infeasible[np.argsort(violation[infeasible], kind="stable")[:left]]
        below[chosen] = True
    return below


def _first_k(v: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest values, ties by position: the set a stable argsort's first k give, in O(n)."""
    if 4 * k >= len(v):
        return np.argsort(v, kind="stable")[:k]
    t = np.partition(v, k - 1)[k - 1]
    less = np.flatnonzero(v < t)
    return np.concatenate([less, np.flatnonzero(v == t)[: k - len(less)]])


def _select_multi(y: np.ndarray, k: int) -> np.ndarray:
    """Indices of k points: whole non-dominated fronts, then the last front by greedy hypervolume."""
    if k >= len(y):
        return np.arange(len(y))
    ranks = non_dominated_ranks(y)
    counts = np.bincount(ranks)
    full = int(np.searchsorted(np.cumsum(counts), k, side="right"))  # fronts that fit entirely
    chosen = np.flatnonzero(ranks < full)
    need = k - len(chosen)
    if need == 0:
        return chosen
    tie = np.flatnonzero(ranks == full)
    return np.concatenate([chosen, tie[_hssp_greedy(y[tie], need)]])


def _hssp_greedy(front: np.ndarray, k: int) -> np.ndarray:
    """Greedy hypervolume subset selection: repeatedly add the point that adds the most volume.

    The reference point is Optuna's: the worst value of each objective, pushed out by 10%.
    """
    worst = front.max(axis=0)
    ref = np.maximum(1.1 * worst, 0.9 * worst)
    ref[ref == worst] += 1e-12  # an objective equal to 0: keep the reference strictly worse
    if front.shape[1] == 2:
        return _hssp_greedy_2d(front, k, ref)
    if k * len(front) > _HSSP_BUDGET:
        return np.argsort(-crowding_distance(front), kind="stable")[:k]
    chosen: list[int] = []
    base = 0.0
    for _ in range(k):
        gains = [-1.0 if i in chosen else hypervolume(front[[*chosen, i]], ref) - base for i in range(len(front))]
        best = int(np.argmax(gains))
        chosen.append(best)
        base += gains[best]
    return np.array(chosen, dtype=int)


def _hssp_greedy_2d(front: np.ndarray, k: int, ref: np.ndarray) -> np.ndarray:
    """2-D greedy HSSP in O(k n log n): on a front sorted by the first objective, the volume a
    point adds to a chosen set is the rectangle up to its chosen neighbours (or the reference)."""
    order = np.lexsort((front[:, 1], front[:, 0]))
    x, y = front[order, 0], front[order, 1]
    n = len(x)
    chosen = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    for _ in range(k):
        sel = np.flatnonzero(chosen)
        after = np.searchsorted(sel, idx, side="right")  # first chosen point right of i
        before = np.searchsorted(sel, idx, side="left") - 1  # last chosen point left of i
        right = np.where(after < len(sel), x[sel[np.minimum(after, len(sel) - 1)]], ref[0]) if len(sel) else ref[0]
        above = np.where(before >= 0, y[sel[np.maximum(before, 0)]], ref[1]) if len(sel) else ref[1]
        gain = np.maximum(right - x, 0.0) * np.maximum(above - y, 0.0)
        gain[chosen] = -1.0
        chosen[int(np.argmax(gain))] = True
    return order[chosen]
