"""Sampler-specific behaviour: Grid exhaustion and validation, QMC coverage, seeding under threads."""

from __future__ import annotations

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.history import History


def grid_objective(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", None])
    return x + (opt == "sgd")


def test_grid_exhausts_then_stops(storage_url: str | None) -> None:
    grid = hd.samplers.Grid({"x": [0.0, 0.5, 1.0], "opt": ["adam", "sgd", None]}, seed=3)
    assert len(grid) == 9
    study = hd.create_study(storage=storage_url, sampler=grid)
    study.optimize(grid_objective, n_trials=100, show_progress_bar=False)
    combos = [(t.params["x"], t.params["opt"]) for t in study.trials]
    assert len(combos) == 9 and len(set(combos)) == 9
    study.optimize(grid_objective, show_progress_bar=False)  # nothing left: returns at once
    assert len(study.trials) == 9


def test_grid_with_threads_and_enqueued_point() -> None:
    grid = hd.samplers.Grid({"x": [0.0, 0.25, 0.5, 0.75, 1.0], "opt": ["adam", "sgd", None]}, seed=0)
    study = hd.create_study(sampler=grid)
    study.enqueue_trial({"x": 0.5, "opt": "sgd"})
    study.optimize(grid_objective, n_jobs=3, show_progress_bar=False)
    combos = [(t.params["x"], t.params["opt"]) for t in study.trials]
    assert combos[0] == (0.5, "sgd")
    assert set(combos) == {(x, o) for x in [0.0, 0.25, 0.5, 0.75, 1.0] for o in ["adam", "sgd", None]}
    assert len(combos) <= 15 + 2  # at most one repeat per extra thread, in the final race


def test_grid_seed_changes_order_not_content() -> None:
    orders = []
    for seed in (0, 0, 1):
        study = hd.create_study(sampler=hd.samplers.Grid({"x": [0.0, 0.5, 1.0], "opt": ["adam", "sgd"]}, seed=seed))
        study.optimize(grid_objective, show_progress_bar=False)
        orders.append([(t.params["x"], t.params["opt"]) for t in study.trials])
    assert orders[0] == orders[1] and orders[0] != orders[2] and sorted(orders[0], key=str) == sorted(orders[2], key=str)


def test_grid_errors() -> None:
    with pytest.raises(hd.InvalidParameterError, match="for grid parameter 'x'"):
        hd.samplers.Grid({"x": []})
    with pytest.raises(hd.InvalidParameterError, match="search_space"):
        hd.samplers.Grid({})
    study = hd.create_study(sampler=hd.samplers.Grid({"x": [0.0, 2.0]}))
    with pytest.raises(hd.InvalidParameterError, match="'y' is not in the grid"):
        study.optimize(lambda t: t.suggest_float("y", 0, 1), n_trials=1, show_progress_bar=False)
    study = hd.create_study(sampler=hd.samplers.Grid({"x": [5.0]}))
    with pytest.raises(hd.InvalidParameterError, match="grid value 5.0 for 'x' is outside"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1, show_progress_bar=False)


def test_qmc_covers_the_box_better_than_random() -> None:
    from scipy.stats import qmc

    def points(sampler: object) -> np.ndarray:
        study = hd.create_study(sampler=sampler)
        study.optimize(lambda t: t.suggest_float("a", 0, 1) + t.suggest_float("b", 0, 1), n_trials=65,
                       show_progress_bar=False)
        return np.array([[t.params["a"], t.params["b"]] for t in study.trials[1:]])  # trial 0 is random

    d_qmc = np.mean([qmc.discrepancy(points(hd.samplers.QMC(seed=s))) for s in range(3)])
    d_rand = np.mean([qmc.discrepancy(points(hd.samplers.Random(seed=s))) for s in range(3)])
    assert d_qmc < 0.5 * d_rand, (d_qmc, d_rand)


def test_qmc_validation() -> None:
    with pytest.raises(hd.InvalidParameterError, match="`qmc_type` must be 'sobol' or 'halton', got qmc_type='lhs'"):
        hd.samplers.QMC(qmc_type="lhs")


def test_random_is_reproducible_under_threads() -> None:
    def params(n_jobs: int) -> dict[int, dict]:
        study = hd.create_study(sampler=hd.samplers.Random(seed=5))
        study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 0, 9), n_trials=30, n_jobs=n_jobs,
                       show_progress_bar=False)
        return {t.number: t.params for t in study.trials}

    # Values derive from (seed, trial number, name): threads change timing, not suggestions.
    assert params(1) == params(3)


def test_random_covers_log_scale_evenly() -> None:
    sampler = hd.samplers.Random(seed=0)
    history = History(["minimize"], [])
    values = [sampler.sample(history, hd.FrozenTrial(i, hd.TrialState.RUNNING), {"lr": hd.Float(1e-6, 1.0, log=True)})["lr"]
              for i in range(3000)]
    decades = np.histogram(np.log10(values), bins=6, range=(-6, 0))[0]
    assert decades.min() > 400, decades
