"""Conformance checks for samplers: `check(make_sampler)` with `make_sampler(seed) -> sampler`.

Covered: bounds, log, step, int and categorical spaces, conditional parameters,
failed and NaN trials, single-value distributions, multi-objective studies,
enqueued values, and seeding (same seed, same suggestions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hyperdial._api import create_study
from hyperdial.space import Categorical, Float, Int
from hyperdial.study import Study
from hyperdial.testing._expect import expect, quietly
from hyperdial.trial import Trial, TrialState

MakeSampler = Callable[[int], Any]

SPACE = {
    "f": Float(-3.0, 2.0),
    "flog": Float(1e-5, 1e-1, log=True),
    "fstep": Float(0.0, 1.0, step=0.25),
    "i": Int(-2, 7),
    "ilog": Int(1, 512, log=True),
    "istep": Int(16, 256, step=16),
    "c": Categorical(["adam", "sgd", None, 3, 2.5, True]),
}
N_TRIALS = 24


def _study(make: MakeSampler, seed: int = 0, **kwargs: Any) -> Study:
    return create_study(sampler=make(seed), **kwargs)


def _objective(trial: Trial) -> float:
    p = {name: trial.suggest(name, dist) for name, dist in SPACE.items()}
    return (p["f"] - 1) ** 2 + math.log10(p["flog"]) ** 2 / 10 + p["i"] + (p["c"] == "sgd")


def check_bounds_and_types(make: MakeSampler) -> None:
    study = _study(make)
    study.optimize(_objective, n_trials=N_TRIALS, show_progress_bar=False)
    trials = study.trials
    expect(len(trials) == N_TRIALS and all(t.state == TrialState.COMPLETE for t in trials), "all trials complete")
    for t in trials:
        for name, dist in SPACE.items():
            v = t.params[name]
            expect(dist.contains(v), f"trial {t.number}: {name}={v!r} outside {dist!r}")
            if isinstance(dist, Int):
                expect(type(v) is int, f"{name} must be an int, got {type(v).__name__}")
            if isinstance(dist, Float):
                expect(type(v) is float, f"{name} must be a float, got {type(v).__name__}")


def check_explores(make: MakeSampler) -> None:
    study = _study(make)
    study.optimize(_objective, n_trials=N_TRIALS, show_progress_bar=False)
    xs = {round(t.params["f"], 9) for t in study.trials}
    expect(len(xs) >= N_TRIALS // 3, f"a sampler must not get stuck: {len(xs)} distinct values of f")


def check_conditional(make: MakeSampler) -> None:
    def objective(trial: Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "tree"])
        if kind == "linear":
            return trial.suggest_float("alpha", 1e-4, 1.0, log=True)
        depth = trial.suggest_int("depth", 1, 8)
        return depth / 8 + trial.suggest_float("lr", 0.01, 0.3)

    study = _study(make)
    study.optimize(objective, n_trials=N_TRIALS, show_progress_bar=False)
    for t in study.trials:
        expect(t.state == TrialState.COMPLETE, f"trial {t.number} is {t.state.name}")
        expected = {"kind", "alpha"} if t.params["kind"] == "linear" else {"kind", "depth", "lr"}
        expect(set(t.params) == expected, f"trial {t.number} params {sorted(t.params)}")


def check_survives_failures_and_nan(make: MakeSampler) -> None:
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        if trial.number % 3 == 1:
            return float("nan")
        if trial.number % 3 == 2:
            raise RuntimeError("boom")
        return x * x

    study = _study(make)
    study.optimize(objective, n_trials=15, catch=(RuntimeError,), show_progress_bar=False)
    states = [t.state for t in study.trials]
    expect(states.count(TrialState.COMPLETE) == 5 and states.count(TrialState.FAIL) == 10, f"states {states}")


def check_single_value_distributions(make: MakeSampler) -> None:
    def objective(trial: Trial) -> float:
        a = trial.suggest_float("a", 0.5, 0.5)
        b = trial.suggest_int("b", 3, 3)
        c = trial.suggest_categorical("c", ["only"])
        x = trial.suggest_float("x", 0, 1)
        expect((a, b, c) == (0.5, 3, "only"), f"single-value params gave {(a, b, c)}")
        return x

    _study(make).optimize(objective, n_trials=8, show_progress_bar=False)


def check_multi_objective(make: MakeSampler) -> None:
    study = _study(make, directions=["minimize", "maximize"])
    study.optimize(
        lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=12, show_progress_bar=False
    )
    expect(len(study.best_trials) >= 1, "a Pareto front must exist")


def check_enqueued_first(make: MakeSampler) -> None:
    study = _study(make)
    study.enqueue_trial({"f": 1.0, "i": 3, "c": "sgd"})
    study.optimize(_objective, n_trials=3, show_progress_bar=False)
    first = study.trials[0].params
    expect((first["f"], first["i"], first["c"]) == (1.0, 3, "sgd"), f"enqueued values first, got {first}")


def check_seed_reproducible(make: MakeSampler) -> None:
    runs = []
    for _ in range(2):
        study = _study(make, seed=42)
        study.optimize(_objective, n_trials=N_TRIALS, show_progress_bar=False)
        runs.append([t.params for t in study.trials])
    expect(runs[0] == runs[1], "the same seed must give the same suggestions")
    other = _study(make, seed=43)
    other.optimize(_objective, n_trials=N_TRIALS, show_progress_bar=False)
    expect([t.params for t in other.trials] != runs[0], "a different seed must give different suggestions")


def check_picklable(make: MakeSampler) -> None:
    """Process, Dask and Ray executors ship the sampler to workers by pickling it."""
    import pickle

    study = _study(make)
    study.optimize(_objective, n_trials=12, show_progress_bar=False)
    copy = pickle.loads(pickle.dumps(study.sampler))
    twin = create_study(sampler=copy)
    for t in study.trials:
        twin.add_trial(t)
    twin.optimize(_objective, n_trials=3, show_progress_bar=False)
    expect(all(t.state.name == "COMPLETE" for t in twin.trials), "a pickled copy of the sampler keeps working")


CHECKS = [quietly(check) for check in (
    check_bounds_and_types,
    check_explores,
    check_conditional,
    check_survives_failures_and_nan,
    check_single_value_distributions,
    check_multi_objective,
    check_enqueued_first,
    check_seed_reproducible,
    check_picklable,
)]
