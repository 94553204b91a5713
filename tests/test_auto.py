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
        (History(["minimize"], _trials(6, MIXED, extra={"momentum": hd.Float(0, 1)})), "GP"),
        (History(["minimize"], _trials(250, MIXED, extra={"momentum": hd.Float(0, 1)})), "TPE"),
        (History(["minimize"], _trials(250, NUMERIC, extra={"momentum": hd.Float(0, 1)})), "TPE"),
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

    with caplog.at_level(logging.DEBUG, logger="hyperdial"):
        study.optimize(objective, n_trials=14, show_progress_bar=False)
    records = [r for r in caplog.records if r.getMessage().startswith("Auto sampler")]
    lines = [r.getMessage() for r in records]
    assert lines[0] == "Auto sampler: trial 0 onwards uses TPE (no search space seen yet)"
    assert lines[1].startswith("Auto sampler: trial 1 onwards uses GP (flat numeric space of 1 joint parameters")
    assert [c[1] for c in study.sampler.choice_log] == ["TPE", "GP"]
    # At INFO, once per algorithm: TPE before any space is seen is a placeholder, not a choice.
    assert [r.levelno for r in records] == [logging.DEBUG, logging.INFO]


def test_conditional_study_uses_the_conditional_gp() -> None:
    study = hd.create_study(sampler=hd.samplers.Auto(seed=1))

    def objective(trial: hd.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "tree"])
        if kind == "linear":
            return trial.suggest_float("alpha", 1e-3, 1.0, log=True)
        return trial.suggest_int("depth", 1, 8) / 8

    study.optimize(objective, n_trials=15, show_progress_bar=False)
    assert study.sampler.choice_log[-1][1] == "GP" and "conditional space" in study.sampler.choice_log[-1][2]
    assert study.sampler._samplers["GP"].conditional


def test_default_sampler_is_auto() -> None:
    assert isinstance(hd.create_study(seed=3).sampler, hd.samplers.Auto)
    assert hd.create_study(seed=3).sampler.seed == 3


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
def test_auto_conformance(check) -> None:  # type: ignore[no-untyped-def]
    check(lambda seed: hd.samplers.Auto(seed=seed))


def _pruned_history(n_complete: int, n_pruned: int) -> History:
    dists = {"x": hd.Float(0, 1), "y": hd.Float(0, 1)}
    trials = [FrozenTrial(number=i, state=TrialState.COMPLETE, values=(1.0 + i,), params={"x": 0.1, "y": 0.1},
                          distributions=dists, intermediate_values={1: 2.0 + i, 2: 1.0 + i})
              for i in range(n_complete)]
    trials += [FrozenTrial(number=n_complete + i, state=TrialState.PRUNED, params={"x": 0.2, "y": 0.2},
                           distributions=dists, intermediate_values={1: 3.0 + i}) for i in range(n_pruned)]
    return History(["minimize"], trials)


def test_multi_fidelity_view_only_once_trials_are_pruned() -> None:
    auto = hd.samplers.Auto(seed=0)
    assert auto.multi_fidelity and auto.random_fraction == pytest.approx(1 / 3) and auto.min_observations is None
    few = _pruned_history(2, 5)  # d = 2: N_min = 4 > 2 COMPLETE; step 1 has 7 observations
    view, budget = auto.view(few)
    assert budget is not None and budget.step == 1 and len(view.complete) == 7
    assert auto.choose(view)[0] == "GP"
    enough = _pruned_history(4, 5)  # 4 COMPLETE: the full budget, pruned trials at the worst value
    view, budget = auto.view(enough)
    assert budget is not None and budget.step is None
    assert [t.values for t in view.complete] == [(1.0,), (2.0,), (3.0,), (4.0,)] + [(4.0,)] * 5
    off = hd.samplers.Auto(seed=0, multi_fidelity=False)
    assert off.view(few) == (few, None)
    unpruned = _pruned_history(2, 0)
    assert auto.view(unpruned) == (unpruned, None)


def test_bohb_view_keeps_pruned_trials_pruned() -> None:
    view, budget = hd.samplers.Auto(seed=0, stopped="pruned").view(_pruned_history(4, 5))
    assert budget is not None and budget.step is None and len(view.complete) == 4


@pytest.mark.parametrize("kwargs, message", [
    ({"multi_fidelity": "yes"}, "`multi_fidelity` must be a bool"),
    ({"min_observations": 0}, "`min_observations` must be an int >= 1"),
    ({"random_fraction": -0.1}, "`random_fraction` must be a number in"),
    ({"stopped": "best"}, "`stopped` must be 'pruned', 'worst' or 'last'"),
    ({"pruned_prior_quantile": 1.5}, "`pruned_prior_quantile` must be a number in \\[0, 1\\], got pruned_prior_quantile=1.5"),
    ({"pruned_prior_quantile": True}, "`pruned_prior_quantile` must be a number in"),
])
def test_multi_fidelity_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(hd.exceptions.InvalidParameterError, match=message):
        hd.samplers.Auto(**kwargs)


def test_pruned_studies_get_a_gp_with_the_optimistic_prior() -> None:
    # Once trials are pruned, Auto's GP puts its prior mean at the best value observed (pruned
    # trials sit at the worst value); without pruning it stays at the worst value.
    def objective(trial: hd.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        y = trial.suggest_float("y", 0, 1)
        for step in range(1, 10):
            trial.report((x - 0.3) ** 2 + y * step / 10, step)
            if trial.should_prune():
                raise hd.TrialPruned()
        return (x - 0.3) ** 2 + y

    pruned = hd.create_study(sampler=hd.samplers.Auto(seed=0))
    pruned.optimize(objective, n_trials=40, show_progress_bar=False)
    assert any(t.state == TrialState.PRUNED for t in pruned.trials)
    gps = {k: v.prior_quantile for k, v in pruned.sampler._samplers.items() if isinstance(v, hd.samplers.GP)}
    assert gps == {"GP": 0.0, "GP (pruned trials)": 1.0}  # the plain one ran before the first pruned trial

    chosen = hd.create_study(sampler=hd.samplers.Auto(seed=0, pruned_prior_quantile=0.5))
    chosen.optimize(objective, n_trials=40, show_progress_bar=False)
    assert chosen.sampler._samplers["GP (pruned trials)"].prior_quantile == 0.5

    plain = hd.create_study(sampler=hd.samplers.Auto(seed=0), pruner=hd.pruners.Nop())
    plain.optimize(objective, n_trials=15, show_progress_bar=False)
    assert plain.sampler._samplers["GP"].prior_quantile == 0.0
