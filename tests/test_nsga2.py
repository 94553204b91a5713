"""NSGA2: conformance, hypervolume against Random, constraints, parent selection, breeding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.history import History
from hyperdial.pareto import hypervolume
from hyperdial.samplers.nsga2 import NSGA2, polynomial_mutation, sbx
from hyperdial.testing import samplers

MAKERS: dict[str, Callable[[int], Any]] = {
    "default": lambda seed: NSGA2(seed=seed),
    "pop6-uniform": lambda seed: NSGA2(seed=seed, population_size=6, crossover="uniform"),  # 4 generations bred
    "pop6-sbx": lambda seed: NSGA2(seed=seed, population_size=6, mutation_prob=0.5),
}


@pytest.mark.parametrize("check", samplers.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_conformance(name: str, check: Callable[..., None]) -> None:
    check(MAKERS[name])


def zdt1(trial: hd.Trial) -> tuple[float, float]:
    x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(10)])
    g = 1 + 9 * x[1:].mean()
    return float(x[0]), float(g * (1 - np.sqrt(x[0] / g)))


def front_volume(study: hd.Study, reference: list[float]) -> float:
    return hypervolume([t.values for t in study.trials if t.values is not None], reference)


def test_zdt1_hypervolume_beats_random() -> None:
    for seed in range(3):
        volumes = []
        for sampler in (NSGA2(seed=seed, population_size=20), hd.samplers.Random(seed=seed)):
            study = hd.create_study(directions=["minimize", "minimize"], sampler=sampler)
            study.optimize(zdt1, n_trials=300, show_progress_bar=False)
            volumes.append(front_volume(study, [1.1, 11.0]))
        assert volumes[0] > volumes[1] + 0.2, (seed, volumes)


def constrained(trial: hd.Trial) -> tuple[float, float]:
    x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(4)])
    trial.set_constraint([2.0 - x[1:].sum()])  # feasible on 1/6 of the cube, against the pull of g
    g = 1 + x[1:].mean()
    return float(x[0]), float(g * (1 - np.sqrt(x[0] / g)))


def test_constraints_steer_towards_feasible_trials() -> None:
    for seed in range(3):
        fractions = []
        for sampler in (NSGA2(seed=seed, population_size=20), hd.samplers.Random(seed=seed)):
            study = hd.create_study(directions=["minimize", "minimize"], sampler=sampler)
            study.optimize(constrained, n_trials=200, show_progress_bar=False)
            fractions.append(np.mean([t.feasible for t in study.trials if t.number >= 140]))
        assert fractions[0] > fractions[1] + 0.3, (seed, fractions)


def test_single_objective_beats_random() -> None:
    def sphere(trial: hd.Trial) -> float:
        return sum((trial.suggest_float(f"x{i}", -5, 5) - 1) ** 2 for i in range(3))

    for seed in range(3):
        values = []
        for sampler in (NSGA2(seed=seed, population_size=10), hd.samplers.Random(seed=seed)):
            study = hd.create_study(sampler=sampler)
            study.optimize(sphere, n_trials=300, show_progress_bar=False)
            values.append(study.best_value)
        assert values[0] < 0.5 * values[1], (seed, values)


def frozen(number: int, values: tuple[float, ...], x: float, violation: float | None = None) -> hd.FrozenTrial:
    attrs = {} if violation is None else {"constraints": [violation]}
    return hd.FrozenTrial(number=number, state=hd.TrialState.COMPLETE, values=values, params={"x": x},
                          distributions={"x": hd.Float(0, 1)}, system_attrs=attrs)


def test_parents_are_elitist_and_constrained() -> None:
    trials = [
        frozen(0, (1.0, 4.0), 0.1),
        frozen(1, (2.0, 2.0), 0.2),
        frozen(2, (4.0, 1.0), 0.3),
        frozen(3, (3.0, 3.0), 0.4),  # dominated by trial 1
        frozen(4, (0.0, 0.0), 0.5, violation=1.0),  # best values, but infeasible
        frozen(5, (5.0, 5.0), 0.6, violation=0.0),  # feasible, dominated by everyone feasible
        frozen(6, (9.0, 9.0), 0.7),  # generation 2's own trial, never one of its parents
    ]
    history = History(("minimize", "minimize"), trials)
    sampler = NSGA2(population_size=3, seed=0)
    # Generation 1 (trials 3-5) breeds from trials 0-2 only.
    assert sorted(p.trial.number for p in sampler.parents(history, 1)) == [0, 1, 2]
    # Generation 2 breeds from trials 0-5: the front {0, 1, 2}; 4 is infeasible and ranks last.
    parents = sampler.parents(history, 2)
    assert sorted(p.trial.number for p in parents) == [0, 1, 2] and {p.rank for p in parents} == {0}
    small = NSGA2(population_size=5, seed=0).parents(history, 2)
    assert [p.trial.number for p in small][3:] == [3, 5]  # rank 1, then rank 2; trial 4 (infeasible) is out
    # Maximising the second objective changes the fronts: trial 0 dominates all, 3 dominates 2.
    flipped = NSGA2(population_size=4, seed=0).parents(History(("minimize", "maximize"), trials[:4]), 2)
    assert {p.trial.number: p.rank for p in flipped} == {0: 0, 1: 1, 3: 1, 2: 2}


def test_children_come_from_the_parents() -> None:
    # Uniform crossover without mutation: every value of a child is a value of a parent.
    sampler = NSGA2(population_size=8, crossover="uniform", crossover_prob=1.0, mutation_prob=0.0, seed=1)
    study = hd.create_study(directions=["minimize", "minimize"], sampler=sampler)

    def objective(trial: hd.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        n = trial.suggest_int("n", 0, 100)
        c = trial.suggest_categorical("c", ["a", "b", "c", "d"])
        return x + n / 100, 1 - x + (c == "a")

    study.optimize(objective, n_trials=24, show_progress_bar=False)
    history = History(study.directions, study.trials)
    for t in study.trials[8:16]:
        parents = [p.trial.params for p in sampler.parents(history, 1)]
        for name in ("x", "n", "c"):
            assert t.params[name] in {p[name] for p in parents}
    # and a fresh sampler (another process) breeds the same child for the same trial number
    nxt = hd.FrozenTrial(number=24, state=hd.TrialState.RUNNING)
    space = history.joint_space()
    again = NSGA2(population_size=8, crossover="uniform", crossover_prob=1.0, mutation_prob=0.0, seed=1)
    assert again.sample(history, nxt, space) == sampler.sample(history, nxt, space)


def test_operators_stay_in_the_box() -> None:
    rng = np.random.default_rng(0)
    for _ in range(500):
        a, b, u = rng.random(3)
        c1, c2 = sbx(a, b, u)
        assert 0 <= c1 <= c2 <= 1
        if u < 0.5:  # contracting: the children lie between the parents
            assert min(a, b) - 1e-12 <= c1 <= c2 <= max(a, b) + 1e-12
        m = polynomial_mutation(a, u)
        assert 0 <= m <= 1 and (m - a) * (u - 0.5) >= 0  # u < 1/2 moves down, u > 1/2 up


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"population_size": 1}, "population_size"),
        ({"population_size": True}, "population_size"),
        ({"crossover": "blx"}, "crossover"),
        ({"crossover_prob": 1.5}, "crossover_prob"),
        ({"swapping_prob": -0.1}, "swapping_prob"),
        ({"mutation_prob": "high"}, "mutation_prob"),
        ({"independent_sampler": 3}, "independent_sampler"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_validation(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(hd.InvalidParameterError, match=f"`{param}`"):
        NSGA2(**kwargs)


def test_sampler_reused_for_another_study_starts_afresh() -> None:
    shared = NSGA2(seed=3, population_size=10)
    hd.create_study(directions=["minimize"] * 2, sampler=shared).optimize(zdt1, n_trials=30, show_progress_bar=False)
    again = hd.create_study(directions=["maximize"] * 2, sampler=shared)  # same first generation, other parents
    again.optimize(zdt1, n_trials=30, show_progress_bar=False)
    fresh = hd.create_study(directions=["maximize"] * 2, sampler=NSGA2(seed=3, population_size=10))
    fresh.optimize(zdt1, n_trials=30, show_progress_bar=False)
    assert [t.params for t in again.trials] == [t.params for t in fresh.trials]
