"""Multi-fidelity (BOHB-style) budget views: budget selection, caches, and studies with a pruner."""

from __future__ import annotations

import logging
import math
import pickle

import numpy as np
import pytest

import hyperdial as hd
from hyperdial import FrozenTrial, History, TrialState
from hyperdial.samplers import Budget, BudgetView, MultiFidelity, budget_view
from hyperdial.testing import samplers as conformance

X = {"x": hd.Float(0, 1), "y": hd.Float(0, 1)}


def run(number: int, curve: dict[int, object], state: TrialState = TrialState.PRUNED, *,
        value: object = None, dists: dict | None = None) -> FrozenTrial:
    """A finished trial with reports `curve` (step -> value); COMPLETE ones end at their last report."""
    dists = dists or X
    if state == TrialState.COMPLETE and value is None:
        value = curve[max(curve)]
    values = None if value is None else (value if isinstance(value, tuple) else (value,))
    return FrozenTrial(number=number, state=state, values=values, params=dict.fromkeys(dists, number / 100),
                       distributions=dict(dists), intermediate_values=dict(curve))


# -- budget selection on hand-built histories ------------------------------------------
def test_largest_budget_with_enough_observations() -> None:
    trials = [
        run(0, {1: 0.9, 2: 0.8, 3: 0.7, 4: 0.6}, TrialState.COMPLETE),
        run(1, {1: 0.5, 2: 0.4, 3: 0.3}),  # pruned at 3
        run(2, {1: 0.6, 2: 0.5, 3: 0.45}),
        run(3, {1: 0.7, 2: 0.65}),  # pruned at 2: stays PRUNED in a step-3 view
        run(4, {1: 0.8}),
        run(5, {}, TrialState.COMPLETE, value=0.1),  # finished without reports: another budget's value
        FrozenTrial(number=6, state=TrialState.FAIL, params={"x": 0.5}, distributions={"x": X["x"]}),
        FrozenTrial(number=7, state=TrialState.RUNNING, intermediate_values={1: 0.1}),
    ]
    view, budget = budget_view(History(["minimize"], trials), min_observations=3)
    assert budget == Budget(step=3, n_observations=3, min_observations=3)
    assert {t.number: t.values for t in view.complete} == {0: (0.7,), 1: (0.3,), 2: (0.45,)}
    assert [t.number for t in view.with_states(TrialState.PRUNED)] == [3, 4]
    assert [t.number for t in view.with_states(TrialState.FAIL, TrialState.RUNNING)] == [6, 7]
    assert 5 not in {t.number for t in view.trials}
    assert view.best_trial().number == 1  # type: ignore[union-attr]
    # one more observation needed: the largest step with four is step 2
    view, budget = budget_view(History(["minimize"], trials), min_observations=4)
    assert budget.step == 2 and {t.number: t.values[0] for t in view.complete} == {0: 0.8, 1: 0.4, 2: 0.5, 3: 0.65}


def test_stopped_trials_at_the_worst_value_or_their_own_last() -> None:
    trials = [
        run(0, {1: 0.9, 2: 0.8, 3: 0.7}, TrialState.COMPLETE),
        run(1, {1: 0.5, 2: 0.4, 3: 0.3}),
        run(2, {1: 0.6, 2: 0.95}),  # stopped before step 3, its own last value worse than step 3's worst
        run(3, {1: 0.2}),  # stopped before step 3, its own last value better than step 3's worst
        run(4, {}, TrialState.PRUNED),  # no report at all
    ]
    h = History(["minimize"], trials)
    view, budget = budget_view(h, min_observations=2, stopped="worst")
    assert budget == Budget(3, 2, 2)
    assert {t.number: t.values for t in view.complete} == {0: (0.7,), 1: (0.3,), 2: (0.7,), 3: (0.7,), 4: (0.7,)}
    view, _ = budget_view(h, min_observations=2, stopped="last")
    assert {t.number: t.values for t in view.complete} == {0: (0.7,), 1: (0.3,), 2: (0.95,), 3: (0.7,), 4: (0.7,)}
    # maximising, the worst is the smallest value; at the full budget only PRUNED trials change
    view, budget = budget_view(History(["maximize"], trials), min_observations=1, stopped="worst")
    assert budget == Budget(None, 1, 1) and view is not h
    assert {t.number: t.values for t in view.complete} == {0: (0.7,), 1: (0.7,), 2: (0.7,), 3: (0.7,), 4: (0.7,)}
    assert view.complete[0] is trials[0]
    view, _ = budget_view(History(["maximize"], trials), min_observations=1, stopped="last")
    assert {t.number: t.values for t in view.complete} == {0: (0.7,), 1: (0.3,), 2: (0.7,), 3: (0.2,), 4: (0.7,)}


def test_default_min_observations_is_d_plus_2() -> None:
    trials = [run(i, {1: float(i), 2: float(i)}) for i in range(3)]
    assert budget_view(History(["minimize"], trials))[1] == Budget(None, 0, 4)  # d = 2: 4 needed, 3 observed
    view, budget = budget_view(History(["minimize"], [*trials, run(3, {1: 3.0, 2: 3.0})]))
    assert budget == Budget(2, 4, 4) and len(view.complete) == 4


def test_steps_need_not_line_up() -> None:
    trials = [
        run(0, {2: 0.2, 4: 0.4, 6: 0.6}),
        run(1, {1: 0.1, 3: 0.3, 5: 0.5}),
        run(2, {5: 0.55, 10: 1.0}),
        run(3, {3: 0.33, 9: 0.9}, TrialState.COMPLETE, value=0.95),
    ]
    view, budget = budget_view(History(["maximize"], trials), min_observations=4)
    # step 5: trial 0 reached it (its latest report by then is step 4's), 1 and 2 reported it, 3 completed.
    assert budget.step == 5
    assert {t.number: t.values for t in view.complete} == {0: (0.4,), 1: (0.5,), 2: (0.55,), 3: (0.33,)}
    view, budget = budget_view(History(["maximize"], trials), min_observations=3)
    assert budget.step == 6 and {t.number: t.values[0] for t in view.complete} == {0: 0.6, 2: 0.55, 3: 0.33}


def test_direction_does_not_change_the_budget_only_the_ranking() -> None:
    trials = [run(i, {1: 0.1 * i, 2: 0.2 * i}) for i in range(5)]
    for direction, best in (("minimize", 0), ("maximize", 4)):
        view, budget = budget_view(History([direction], trials), min_observations=5)
        assert budget.step == 2
        assert view.best_trial().number == best  # type: ignore[union-attr]


def test_multi_objective_reports() -> None:
    trials = [
        run(0, {1: (0.1, 0.9), 2: (0.2, 0.8)}),
        run(1, {1: (0.3, 0.95), 2: (0.4, 0.9)}),
        run(2, {1: (0.5, 0.5), 2: 0.3}),  # a scalar report is no observation of two objectives
        run(3, {1: (0.6, 0.4), 2: (0.7, float("nan"))}),  # nor is one with a NaN
    ]
    view, budget = budget_view(History(["minimize", "maximize"], trials), min_observations=2)
    assert budget.step == 2 and {t.number: t.values for t in view.complete} == {0: (0.2, 0.8), 1: (0.4, 0.9)}
    assert [t.number for t in view.pareto_front()] == [0, 1]
    view, budget = budget_view(History(["minimize", "maximize"], trials), min_observations=3)
    assert budget.step == 1 and len(view.complete) == 4
    assert budget_view(History(["minimize", "maximize"], trials), min_observations=5)[1].step is None


def test_nan_report_is_no_observation() -> None:
    trials = [run(0, {1: 0.5, 2: math.nan}), run(1, {1: 0.4, 2: 0.3}), run(2, {1: 0.2, 2: 0.1})]
    view, budget = budget_view(History(["minimize"], trials), min_observations=2)
    assert budget.step == 2 and {t.number for t in view.complete} == {1, 2}
    assert [t.number for t in view.with_states(TrialState.PRUNED)] == [0]  # diverged: evidence against it


def test_too_few_observations_or_enough_complete_trials_give_the_history_itself() -> None:
    few = History(["minimize"], [run(0, {1: 0.5}), run(1, {1: 0.4, 2: 0.3}, TrialState.COMPLETE)])
    view, budget = budget_view(few, min_observations=3)
    assert view is few and budget == Budget(None, 1, 3)
    enough = History(["minimize"], [run(i, {1: 0.5}, TrialState.COMPLETE) for i in range(3)] + [run(3, {1: 0.1})])
    view, budget = budget_view(enough, min_observations=3)
    assert view is enough and budget == Budget(None, 3, 3)
    unpruned = History(["minimize"], [run(0, {1: 0.5}, TrialState.COMPLETE)])
    assert budget_view(unpruned, min_observations=1)[0] is unpruned


# -- caches ------------------------------------------------------------------------------
def _growing_histories() -> tuple[History, History]:
    """Two histories of one study: the budget moves from step 2 to step 3, and every trial's value with it."""
    rng = np.random.default_rng(0)
    first = []
    for i in range(14):
        x, y = rng.random(2)
        f = (x - 0.2) ** 2 + (y - 0.8) ** 2
        first.append(FrozenTrial(number=i, state=TrialState.PRUNED, params={"x": x, "y": y}, distributions=dict(X),
                                 intermediate_values={1: f + 1.0, 2: f + 0.5, 3: (x - 0.9) ** 2 + (y - 0.1) ** 2}
                                 if i < 6 else {1: f + 1.0, 2: f + 0.5}))
    more = [FrozenTrial(number=i, state=TrialState.PRUNED, params={"x": 0.1 * (i - 13), "y": 0.5},
                        distributions=dict(X), intermediate_values={1: 1.0, 2: 0.5, 3: 0.25}) for i in range(14, 18)]
    return History(["minimize"], first), History(["minimize"], first + more)


def test_view_objects_are_reused_while_the_budget_stays_and_renewed_when_it_moves() -> None:
    h1, h2 = _growing_histories()
    bv = BudgetView(min_observations=10)
    v1, b1 = bv(h1)
    again, _ = bv(History(["minimize"], h1.trials))
    assert b1.step == 2 and all(a is b for a, b in zip(v1.trials, again.trials))
    v2, b2 = bv(h2)
    assert b2.step == 3
    old = {t.number: t for t in v1.complete}
    for t in v2.complete:
        if t.number in old:
            assert t is not old[t.number] and t.values == (t.intermediate_values[3],)


@pytest.mark.parametrize("make", [lambda: hd.samplers.TPE(seed=3, n_startup_trials=5),
                                  lambda: hd.samplers.GP(seed=3, n_startup_trials=5)], ids=["TPE", "GP"])
def test_no_stale_values_when_the_budget_moves(make) -> None:  # type: ignore[no-untyped-def]
    """A sampler that modelled step 2 proposes at step 3 what a fresh one would: its caches keep no old value."""
    h1, h2 = _growing_histories()
    bv = BudgetView(min_observations=10)
    running = FrozenTrial(number=18, state=TrialState.RUNNING)
    used = make()
    v1, _ = bv(h1)
    used.sample(v1, running, dict(X))
    v2, _ = bv(h2)
    reused = used.sample(v2, running, dict(X))
    fresh = make().sample(v2, running, dict(X))
    if isinstance(used, hd.samplers.GP):  # GP warm-starts its hyperparameters from the last fit: close, not equal
        assert np.allclose([reused[k] for k in X], [fresh[k] for k in X], atol=0.05)
        # ... and it models step 3, whose optimum (0.9, 0.1) is far from step 2's (0.2, 0.8)
        assert math.dist([reused["x"], reused["y"]], [0.9, 0.1]) < math.dist([reused["x"], reused["y"]], [0.2, 0.8])
    else:
        assert reused == fresh


# -- studies with a pruner -----------------------------------------------------------------
OPT = np.array([0.7, 0.25, 0.4])


def curve_objective(trial: hd.Trial) -> float:
    """Minimise |x - OPT|^2; every step ranks configurations the way the last one does."""
    p = np.array([trial.suggest_float(k, 0, 1) for k in ("a", "b", "c")])
    f = float(np.sum((p - OPT) ** 2))
    for step in range(1, 10):
        trial.report(f + 1.0 / step, step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return f


def _asha_study(sampler: object) -> hd.Study:
    logging.getLogger("hyperdial").setLevel(logging.WARNING)
    study = hd.create_study(sampler=sampler, pruner=hd.pruners.ASHA(min_resource=1, max_resource=9))
    study.optimize(curve_objective, n_trials=60, show_progress_bar=False)
    return study


def _distance(t: FrozenTrial) -> float:
    return float(np.linalg.norm([t.params[k] for k in "abc"] - OPT))


def test_models_the_intermediate_budget_where_plain_mode_cannot() -> None:
    """ASHA lets few trials finish: about GP's 10 start-up ones in 60 trials, so plain GP samples
    quasi-randomly almost throughout. Through the view it models step 1 or 3 (every trial reaches those),
    and its proposals there land next to the optimum."""
    multi = _asha_study(MultiFidelity(hd.samplers.GP(seed=0), random_fraction=0.0, min_observations=12))
    plain = _asha_study(hd.samplers.GP(seed=0))
    assert len([t for t in plain.trials if t.state == TrialState.COMPLETE]) <= 10
    budgets = multi.sampler.budgets
    assert {b.step for b in budgets.values()} == {1, 3, None}
    modelled_low = [_distance(t) for t in multi.trials if t.number >= 15 and budgets[t.number].step is not None]
    assert len(modelled_low) >= 5 and np.median(modelled_low) < 0.15
    assert np.median([_distance(t) for t in plain.trials if t.number >= 15]) > 0.4
    assert multi.best_value < 0.1 * plain.best_value


def test_auto_in_a_study_with_a_pruner() -> None:
    multi = _asha_study(hd.samplers.Auto(seed=0))
    plain = _asha_study(hd.samplers.Auto(seed=0, multi_fidelity=False))
    assert any("modelling step" in why for _, _, why in multi.sampler.choice_log)
    assert not any("multi-fidelity" in why for _, _, why in plain.sampler.choice_log)
    assert multi.best_value < 0.2 * plain.best_value


@pytest.mark.parametrize("make", [lambda: MultiFidelity(hd.samplers.TPE(seed=5, n_startup_trials=5)),
                                  lambda: hd.samplers.Auto(seed=5)], ids=["MultiFidelity(TPE)", "Auto"])
def test_seeded_runs_repeat(make) -> None:  # type: ignore[no-untyped-def]
    runs = [_asha_study(make()) for _ in range(2)]
    assert [t.params for t in runs[0].trials] == [t.params for t in runs[1].trials]
    assert [t.state for t in runs[0].trials] == [t.state for t in runs[1].trials]
    assert sum(t.state == TrialState.PRUNED for t in runs[0].trials) > 20


def test_random_share_follows_the_seed() -> None:
    mf = MultiFidelity(seed=0)
    share = np.mean([mf.is_random(i) for i in range(3000)])
    assert abs(share - 1 / 3) < 0.03
    assert [mf.is_random(i) for i in range(50)] == [MultiFidelity(seed=0).is_random(i) for i in range(50)]
    assert not any(MultiFidelity(seed=0, random_fraction=0.0).is_random(i) for i in range(50))


def test_default_study_switches_it_on_and_logs_why(caplog: pytest.LogCaptureFixture) -> None:
    """create_study() with no sampler and no pruner: Auto + Median. Eight parameters need N_min = 10
    observations; Median lets 5 trials finish first, so for a while the view models a reported step,
    then the full budget (pruned trials at the worst value)."""

    def objective(trial: hd.Trial) -> float:
        p = np.array([trial.suggest_float(f"x{i}", 0, 1) for i in range(8)])
        f = float(np.sum((p - 0.5) ** 2))
        for step in range(1, 6):
            trial.report(f + 1.0 / step, step)
            if trial.should_prune():
                raise hd.TrialPruned()
        return f

    study = hd.create_study(seed=0)
    with caplog.at_level(logging.DEBUG, logger="hyperdial"):  # view changes under one algorithm: DEBUG
        study.optimize(objective, n_trials=40, show_progress_bar=False)
    lines = [r.getMessage() for r in caplog.records if "multi-fidelity" in r.getMessage()]
    assert lines and all("trials are being pruned" in line for line in lines)
    assert any("COMPLETE: multi-fidelity, modelling step" in line for line in lines)
    assert "multi-fidelity at the full budget, pruned trials at the worst value seen there" in lines[-1]
    assert study.sampler.multi_fidelity and [w for _, _, w in study.sampler.choice_log if "multi-fidelity" in w] == [
        line.split(" (", 1)[1][:-1] for line in lines]


def test_auto_without_pruned_trials_is_unchanged() -> None:
    h = History(["minimize"], [run(i, {1: 0.1 * i}, TrialState.COMPLETE) for i in range(3)])
    view, budget = hd.samplers.Auto(seed=0).view(h)
    assert view is h and budget is None


# -- arguments, protocol ---------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"min_observations": 0}, "`min_observations` must be an int >= 1"),
    ({"random_fraction": 1.5}, "`random_fraction` must be a number in [0, 1]"),
    ({"base": "TPE"}, "`base` must be a sampler"),
    ({"stopped": "drop"}, "`stopped` must be 'pruned', 'worst' or 'last'"),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(hd.exceptions.InvalidParameterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        MultiFidelity(**kwargs)


def test_bad_auto_argument() -> None:
    with pytest.raises(hd.exceptions.InvalidParameterError, match="`multi_fidelity` must be a bool"):
        hd.samplers.Auto(multi_fidelity=1)  # type: ignore[arg-type]


def test_pickles_with_its_caches() -> None:
    mf = _asha_study(MultiFidelity(hd.samplers.TPE(seed=2))).sampler
    copy = pickle.loads(pickle.dumps(mf))
    assert copy.seed == mf.seed and copy.budgets == mf.budgets


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
def test_conformance(check) -> None:  # type: ignore[no-untyped-def]
    check(lambda seed: MultiFidelity(hd.samplers.TPE(seed=seed)))
