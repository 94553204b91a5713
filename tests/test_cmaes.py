"""CMAES: conformance, convergence against Random, restarts, integers with margin, fallbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.history import History
from hyperdial.samplers.cmaes import CMAES
from hyperdial.testing import samplers

MAKERS: dict[str, Callable[[int], Any]] = {
    "default": lambda seed: CMAES(seed=seed),
    "bipop-popsize4": lambda seed: CMAES(seed=seed, popsize=4, restart_strategy="bipop"),
}


@pytest.mark.parametrize("check", samplers.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_conformance(name: str, check: Callable[..., None]) -> None:
    check(MAKERS[name])


def rosenbrock(trial: hd.Trial) -> float:
    x = [trial.suggest_float(f"x{i}", -2.0, 2.0) for i in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


ROTATION = np.linalg.qr(np.random.default_rng(123).normal(size=(4, 4)))[0]


def rotated_ellipsoid(trial: hd.Trial) -> float:
    x = np.array([trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)])
    z = ROTATION @ (x - 1.0)
    return float(np.sum(10.0 ** np.arange(4) * z**2))  # condition number 1000, not axis-aligned


def best(sampler: Any, objective: Callable[[hd.Trial], float], n_trials: int) -> float:
    study = hd.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n_trials, show_progress_bar=False)
    return float(study.best_value)


@pytest.mark.parametrize("objective", [rosenbrock, rotated_ellipsoid])
def test_beats_random(objective: Callable[[hd.Trial], float]) -> None:
    cma = [best(CMAES(seed=s), objective, 150) for s in range(3)]
    rnd = [best(hd.samplers.Random(seed=s), objective, 150) for s in range(3)]
    assert all(c < r for c, r in zip(cma, rnd)), (cma, rnd)
    assert np.mean(cma) < 0.3 * np.mean(rnd), (cma, rnd)


def flat(trial: hd.Trial) -> float:
    trial.suggest_float("x", -1, 1)
    trial.suggest_float("y", -1, 1)
    return 1.0  # every generation has the same values: converged at once (tolfun)


def test_ipop_restart_doubles_population() -> None:
    sizes = []
    sampler = CMAES(seed=0, restart_strategy="ipop")
    study = hd.create_study(sampler=sampler)
    for _ in range(330):
        study.optimize(flat, n_trials=1, show_progress_bar=False)
        sizes.append(sampler.population_size)
    default = 4 + int(3 * np.log(2))
    assert sizes[1] == default
    seen = [s for i, s in enumerate(sizes) if i == 0 or s != sizes[i - 1]]
    assert seen == [None, default, 2 * default, 4 * default]
    assert sampler.n_restarts == 2

    no_restart = CMAES(seed=0, restart_strategy=None)
    hd.create_study(sampler=no_restart).optimize(flat, n_trials=330, show_progress_bar=False)
    assert no_restart.population_size == default and no_restart.n_restarts == 0


def test_bipop_alternates_small_and_large_runs() -> None:
    sampler = CMAES(seed=0, restart_strategy="bipop")
    study = hd.create_study(sampler=sampler)
    sizes = []
    for _ in range(600):
        study.optimize(flat, n_trials=1, show_progress_bar=False)
        sizes.append(sampler.population_size or 0)
    runs = [s for i, s in enumerate(sizes) if i > 0 and s != sizes[i - 1]]
    default = runs[0]
    assert runs[1] == 2 * default  # the first restart is a large one
    assert min(runs[2:]) <= default  # then small runs use the budget the large one spent
    assert max(runs) >= 4 * default  # and large runs keep doubling


def integer_bowl(trial: hd.Trial) -> float:
    n = [trial.suggest_int(f"n{i}", -10, 10) for i in range(4)]
    return (n[0] - 3) ** 2 + 2 * (n[1] + 2) ** 2 + 3 * (n[2] - 5) ** 2 + 4 * n[3] ** 2


def stepped_bowl(trial: hd.Trial) -> float:
    s = [trial.suggest_float(f"s{i}", 0.0, 1.0, step=0.1) for i in range(3)]
    return sum((v - 0.7) ** 2 for v in s)


@pytest.mark.parametrize("objective", [integer_bowl, stepped_bowl])
def test_discrete_parameters_reach_the_optimum(objective: Callable[[hd.Trial], float]) -> None:
    # With margin the distribution keeps some mass on neighbouring values, so CMA-ES does
    # not freeze on a plateau one step away from the optimum.
    for seed in range(3):
        assert best(CMAES(seed=seed), objective, 200) == pytest.approx(0.0, abs=1e-12)


def mixed(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    y = trial.suggest_float("y", -3, 3)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", "rmsprop"])
    value = (x - 1) ** 2 + (y + 1) ** 2 + (opt != "sgd")
    if opt == "sgd":
        value += 0.01 * trial.suggest_float("momentum", 0.0, 1.0)
    return value


def test_categorical_and_conditional_fall_back_with_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hyperdial")
    study = hd.create_study(sampler=CMAES(seed=0))
    study.optimize(mixed, n_trials=120, show_progress_bar=False)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("CMAES:")]
    assert sum("'opt'" in line and "categorical" in line for line in lines) == 1
    assert sum("'momentum'" in line and "conditional" in line for line in lines) == 1
    assert not any("'x'" in line or "'y'" in line for line in lines)
    assert {t.params["opt"] for t in study.trials} == {"adam", "sgd", "rmsprop"}
    assert abs(study.best_params["x"] - 1) < 0.3 and abs(study.best_params["y"] + 1) < 0.3


def test_fresh_sampler_replays_the_same_distribution() -> None:
    # No state outside the history: a new sampler (a restarted process) proposes what the old one would.
    old = CMAES(seed=5)
    study = hd.create_study(sampler=old)
    study.optimize(integer_bowl, n_trials=60, show_progress_bar=False)
    history = History(study.directions, study.trials)
    nxt = hd.FrozenTrial(number=60, state=hd.TrialState.RUNNING)
    space = history.joint_space()
    assert CMAES(seed=5).sample(history, nxt, space) == old.sample(history, nxt, space)
    assert CMAES(seed=6).sample(history, nxt, space) != old.sample(history, nxt, space)


def test_x0_and_sigma0_set_the_first_distribution() -> None:
    study = hd.create_study(sampler=CMAES(seed=0, x0={"x": 0.9, "y": 0.1}, sigma0=0.01))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=7,
                   show_progress_bar=False)
    for t in study.trials[1:]:
        assert abs(t.params["x"] - 0.9) < 0.05 and abs(t.params["y"] - 0.1) < 0.05
    bad = hd.create_study(sampler=CMAES(x0={"x": 5.0}))
    with pytest.raises(hd.InvalidParameterError, match="x0.*'x'"):
        bad.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=3,
                     show_progress_bar=False)


def test_startup_trials_are_random() -> None:
    study = hd.create_study(sampler=CMAES(seed=0, n_startup_trials=10, x0={"x": 0.5, "y": 0.5}, sigma0=1e-3))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=14,
                   show_progress_bar=False)
    spread = [abs(t.params["x"] - 0.5) for t in study.trials]
    assert max(spread[:10]) > 0.1 and max(spread[10:]) < 0.01


def test_threads() -> None:
    study = hd.create_study(sampler=CMAES(seed=0))
    study.optimize(rotated_ellipsoid, n_trials=80, n_jobs=3, show_progress_bar=False)
    assert len(study.trials) == 80 and all(t.state == hd.TrialState.COMPLETE for t in study.trials)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"popsize": 1}, "popsize"),
        ({"popsize": 4.0}, "popsize"),
        ({"sigma0": 0}, "sigma0"),
        ({"sigma0": float("inf")}, "sigma0"),
        ({"restart_strategy": "lpop"}, "restart_strategy"),
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"x0": [0.5]}, "x0"),
        ({"independent_sampler": object()}, "independent_sampler"),
        ({"seed": -1}, "seed"),
    ],
)
def test_validation(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(hd.InvalidParameterError, match=f"`{param}`"):
        CMAES(**kwargs)


def test_sampler_reused_for_another_study_starts_afresh() -> None:
    shared = CMAES(seed=3)
    hd.create_study(sampler=shared).optimize(rotated_ellipsoid, n_trials=40, show_progress_bar=False)
    again = hd.create_study(sampler=shared)
    again.optimize(rotated_ellipsoid, n_trials=40, show_progress_bar=False)
    fresh = hd.create_study(sampler=CMAES(seed=3))
    fresh.optimize(rotated_ellipsoid, n_trials=40, show_progress_bar=False)
    assert [t.params for t in again.trials] == [t.params for t in fresh.trials]
