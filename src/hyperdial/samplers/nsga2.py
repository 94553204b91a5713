"""NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002) with generations derived from trial numbers.

The paper's loop: parents P_t are chosen from the merged population by non-dominated
rank, then crowding distance (section III-C); children come from binary tournament
selection with the crowded-comparison operator, simulated binary crossover (SBX) and
polynomial mutation (section V-A, eta_c = eta_m = 20). Constraints use constrained
domination (section VI): feasible trials beat infeasible ones, and infeasible ones are
ordered by their total violation (`trial.violation`).

How generations are derived without storing them:
- Generation g is the trials numbered [g * population_size, (g + 1) * population_size).
  Generation 0 is sampled at random (by `independent_sampler`).
- The parents of generation g are the `population_size` best COMPLETE trials numbered
  below g * population_size, by (constrained) rank then crowding distance. The paper
  merges the last parents with their children; merging all earlier trials instead is
  just as elitist and needs nothing but the history. Once every earlier trial has
  finished, the parents of g are cached (finished trials never change).
- A child is bred for trial n with a generator seeded by (seed, n): seeded sequential
  runs repeat, and parallel workers (threads or processes) breed different children.
  Failed and pruned trials simply do not become parents.

Numeric parameters are bred in the unit box of `UnitTransform` (log scales linear,
integers rounded back) by SBX and polynomial mutation; `crossover="uniform"` swaps
whole values instead. SBX is the default: it is the paper's operator and, unlike
uniform crossover, creates values neither parent has. Categorical parameters use
uniform crossover (the child takes the second parent's choice with `swapping_prob`)
and, when mutated, a uniformly random choice. Parameters outside the joint space
(conditional ones) come from `independent_sampler`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperdial._validation import HasMethod, Int, OneOf, Real, check
from hyperdial.history import History
from hyperdial.pareto import constrained_ranks, crowding_distance
from hyperdial.samplers.base import PicklableLock, check_seed, study_fingerprint, trial_rng
from hyperdial.samplers.random import Random
from hyperdial.space import Categorical, Distribution
from hyperdial.transform import UnitTransform, decode
from hyperdial.trial import FrozenTrial

ETA_C = 20.0  # SBX distribution index (Deb et al. 2002, section V-A)
ETA_M = 20.0  # polynomial mutation distribution index (ibid.)


@dataclass(frozen=True)
class _Parent:
    trial: FrozenTrial
    rank: int
    crowding: float


def _better(a: _Parent, b: _Parent) -> _Parent:
    """The crowded-comparison operator (section III-B): lower rank, then larger crowding distance."""
    if a.rank != b.rank:
        return a if a.rank < b.rank else b
    return a if a.crowding >= b.crowding else b


def select_parents(history: History, trials: list[FrozenTrial], size: int) -> list[_Parent]:
    """The `size` best of `trials` by constrained non-dominated rank, then crowding (section III-C)."""
    if not trials:
        return []
    signs = np.array([history.sign(i) for i in range(history.n_objectives)])
    y = np.array([t.values for t in trials], dtype=float) * signs
    ranks = constrained_ranks(y, [t.violation for t in trials])
    chosen: list[_Parent] = []
    for r in range(int(ranks.max()) + 1):
        front = np.flatnonzero(ranks == r)
        crowd = crowding_distance(y[front])
        order = np.argsort(-crowd, kind="stable")  # the least crowded first; ties by trial number
        for i in order[: size - len(chosen)]:
            chosen.append(_Parent(trials[front[i]], r, float(crowd[i])))
        if len(chosen) >= size:
            break
    return chosen


def sbx(x1: float, x2: float, u: float, eta: float = ETA_C) -> tuple[float, float]:
    """Bounded simulated binary crossover on [0, 1] (Deb & Agrawal 1995; Deb's NSGA-II code).

    >>> c1, c2 = sbx(0.2, 0.6, u=0.95)  # u > 1/2 spreads the children beyond the parents
    >>> c1 < 0.2 < 0.6 < c2
    True
    """
    if abs(x1 - x2) < 1e-14:
        return x1, x2
    lo, hi = min(x1, x2), max(x1, x2)

    def spread(beta: float) -> float:
        alpha = 2.0 - beta ** -(eta + 1.0)
        if u <= 1.0 / alpha:
            return float((u * alpha) ** (1.0 / (eta + 1.0)))
        return float((1.0 / (2.0 - u * alpha)) ** (1.0 / (eta + 1.0)))

    c1 = 0.5 * ((lo + hi) - spread(1.0 + 2.0 * lo / (hi - lo)) * (hi - lo))
    c2 = 0.5 * ((lo + hi) + spread(1.0 + 2.0 * (1.0 - hi) / (hi - lo)) * (hi - lo))
    return min(max(c1, 0.0), 1.0), min(max(c2, 0.0), 1.0)


def polynomial_mutation(x: float, u: float, eta: float = ETA_M) -> float:
    """Bounded polynomial mutation on [0, 1] (Deb & Goyal 1996; Deb's NSGA-II code)."""
    power = 1.0 / (eta + 1.0)
    if u < 0.5:
        val = 2.0 * u + (1.0 - 2.0 * u) * (1.0 - x) ** (eta + 1.0)
        delta = val**power - 1.0
    else:
        val = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * x ** (eta + 1.0)
        delta = 1.0 - val**power
    return min(max(x + delta, 0.0), 1.0)


def _probability(name: str, value: Any) -> float:
    return float(check(name, value, Real(low=0, high=1, what="a probability")))


class NSGA2(PicklableLock):
    """NSGA-II: a genetic algorithm for multi-objective (and constrained) studies.

    `population_size` trials form a generation; children come from binary
    tournaments, `crossover` ("sbx", the default, for numbers with uniform crossover
    for categoricals; or "uniform" for all) with probability `crossover_prob`, and
    mutation of each parameter with probability `mutation_prob` (default
    1 / number of parameters). `swapping_prob` is the chance that a parameter comes
    from the second parent (with SBX: the child on the second parent's side). Constraints set with
    `trial.set_constraint` are honoured through constrained domination.

    >>> import hyperdial as hd
    >>> from hyperdial.samplers.nsga2 import NSGA2
    >>> study = hd.create_study(directions=["minimize", "minimize"], sampler=NSGA2(population_size=10, seed=0))
    >>> def objective(t):
    ...     x, y = t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)
    ...     return x, (1 + y) * (1 - x)
    >>> study.optimize(objective, n_trials=40, show_progress_bar=False)
    >>> len(study.best_trials) > 1
    True
    """

    joint_sampling = True

    def __init__(
        self,
        *,
        population_size: int = 50,
        crossover: str = "sbx",
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        mutation_prob: float | None = None,
        independent_sampler: Any = None,
        seed: int | None = None,
    ) -> None:
        self.population_size = check("population_size", population_size, Int(low=2))
        check("crossover", crossover, OneOf("sbx", "uniform"))
        check("independent_sampler", independent_sampler, HasMethod("sample"), None,
              rule="must have a sample(history, trial, space) method")
        self.crossover = crossover
        self.crossover_prob = _probability("crossover_prob", crossover_prob)
        self.swapping_prob = _probability("swapping_prob", swapping_prob)
        self.mutation_prob = None if mutation_prob is None else _probability("mutation_prob", mutation_prob)
        self.seed = check_seed(seed)
        self.independent_sampler = independent_sampler if independent_sampler is not None else Random(seed=self.seed)
        self._lock = threading.Lock()
        self._parents: dict[tuple[Any, int], list[_Parent]] = {}

    def parents(self, history: History, generation: int) -> list[_Parent]:
        """The parent population of `generation` (cached once all earlier trials have finished)."""
        key = (study_fingerprint(history), generation)
        with self._lock:
            if key in self._parents:
                return self._parents[key]
        bound = generation * self.population_size
        archive = [t for t in history.complete if t.number < bound]
        chosen = select_parents(history, archive, self.population_size)
        if all(t.state.is_finished() for t in history.trials if t.number < bound):
            with self._lock:
                self._parents[key] = chosen
        return chosen

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        generation = trial.number // self.population_size
        if generation == 0 or not space or dict(space) != history.joint_space():
            return dict(self.independent_sampler.sample(history, trial, space))
        population = self.parents(history, generation)
        if not population:
            return dict(self.independent_sampler.sample(history, trial, space))
        rng = trial_rng(self.seed, trial.number)

        def tournament(exclude: int | None = None) -> int:
            pool = [i for i in range(len(population)) if i != exclude] or [0]
            a, b = rng.choice(pool, size=2, replace=len(pool) < 2)
            return a if _better(population[a], population[b]) is population[a] else b

        first = tournament()
        p1, p2 = population[first].trial.params, population[tournament(exclude=first)].trial.params
        cross = rng.random() < self.crossover_prob
        mutation_prob = self.mutation_prob if self.mutation_prob is not None else 1.0 / len(space)
        out: dict[str, Any] = {}
        for name, dist in space.items():
            # Every parameter draws the same numbers, so the stream does not depend on the branch taken.
            u_swap, u_sbx, u_mut, u_mut_value = rng.random(4)
            if dist.is_single():
                out[name] = decode(dist, 0.5)
                continue
            swap = cross and u_swap < self.swapping_prob
            mutate = u_mut < mutation_prob
            if isinstance(dist, Categorical):
                out[name] = decode(dist, u_mut_value) if mutate else (p2 if swap else p1)[name]
                continue
            unit = UnitTransform({name: dist})
            x1, x2 = unit.to_unit(p1)[0], unit.to_unit(p2)[0]
            if cross and self.crossover == "sbx":
                low, high = sbx(x1, x2, u_sbx)
                near1, near2 = (low, high) if x1 <= x2 else (high, low)
                x = near2 if swap else near1
            else:
                x = x2 if swap else x1
            if mutate:
                x = polynomial_mutation(x, u_mut_value)
            out[name] = decode(dist, x)
        return out

    def __repr__(self) -> str:
        return f"NSGA2(population_size={self.population_size}, crossover={self.crossover!r}, seed={self.seed})"

