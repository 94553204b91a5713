"""The Auto sampler: its rules on hand-built histories, and what it does in real studies."""

from __future__ import annotations

import logging

import pytest

import hyperdial as hd
from hyperdial import FrozenTrial, History, TrialState
from hyperdial.testing import samplers as conformance


def _trials(n: int, dists: dict, *, extra: dict | None = None) -> list[FrozenTrial]:
    out = []
    for i in range(n):
        d = dict(dists)
        if extra and i % 2:
            d.update(extra)
        params = {k: (v.choices[0] if isinstance(v, hd.Categorical) else v.low) for k, v in d.items()}
        out.append(FrozenTrial(number=i, state=TrialState.COMPLETE, values=(float(i),), params=params, distributions=d))
    return out


NUMERIC = {"x": hd.Float(0, 1), "n": hd.Int(1, 5)}
MIXED = {**NUMERIC, "opt": hd.Categorical(["adam", "sgd"])}


@pytest.mark.parametrize(
    "history, expected",
    [
        (History(["minimize"], []), "TPE"),
        (History(["minimize"], _trials(5, NUMERIC)), "GP"),
        (History(["minimize"], _trials(5, MIXED)), "GP"),
        (History(["minimize"], _trials(6, MIXED, extra={"momentum": hd.Float(0, 1)})), "TPE"),
        (History(["minimize"], _trials(250, NUMERIC)), "CMAES"),
        (History(["minimize"], _trials(250, MIXED)), "TPE"),
        (History(["minimize", "maximize"], [
            FrozenTrial(number=i, state=TrialState.COMPLETE, values=(1.0, 2.0), params={"x": 0.0},
                        distributions={"x": hd.Float(0, 1)}) for i in range(5)]), "TPE"),
    ],
)
def test_rules(history: History, expected: str) -> None:
    assert hd.samplers.Auto(seed=0).choose(history)[0] == expected


def test_long_multi_objective_runs_use_nsga2() -> None:
    trials = [FrozenTrial(number=i, state=TrialState.COMPLETE, values=(1.0, 2.0), params={"x": 0.0},
                          distributions={"x": hd.Float(0, 1)}) for i in range(12)]
    assert hd.samplers.Auto(seed=0, mo_switch_trials=10).choose(History(["minimize", "minimize"], trials))[0] == "NSGA2"


def test_choices_are_logged_with_reasons(caplog: pytest.LogCaptureFixture) -> None:
    study = hd.create_study(sampler=hd.samplers.Auto(seed=0))

    def objective(trial: hd.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        return x * x

    with caplog.at_level(logging.INFO, logger="hyperdial"):
        study.optimize(objective, n_trials=14, show_progress_bar=False)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Auto sampler")]
    assert lines[0] == "Auto sampler: trial 0 onwards uses TPE (no search space seen yet)"
    assert lines[1].startswith("Auto sampler: trial 1 onwards uses GP (flat numeric space of 1 parameters")
    assert [c[1] for c in study.sampler.choice_log] == ["TPE", "GP"]


def test_conditional_study_uses_tpe() -> None:
    study = hd.create_study(sampler=hd.samplers.Auto(seed=1))

    def objective(trial: hd.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "tree"])
        if kind == "linear":
            return trial.suggest_float("alpha", 1e-3, 1.0, log=True)
        return trial.suggest_int("depth", 1, 8) / 8

    study.optimize(objective, n_trials=15, show_progress_bar=False)
    assert study.sampler.choice_log[-1][1] == "TPE" and "conditional" in study.sampler.choice_log[-1][2]


def test_default_sampler_is_auto() -> None:
    assert isinstance(hd.create_study(seed=3).sampler, hd.samplers.Auto)
    assert hd.create_study(seed=3).sampler.seed == 3


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
def test_auto_conformance(check) -> None:  # type: ignore[no-untyped-def]
    check(lambda seed: hd.samplers.Auto(seed=seed))
