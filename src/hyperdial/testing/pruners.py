"""Conformance checks for pruners: `check(make_pruner)` with `make_pruner() -> pruner`.

A pruner is a pure predicate over a History: it must not mutate what it is
given, must answer the same twice and whatever the order of `history.trials`,
must not prune a trial without reports, must cope with NaN reports and with
PRUNED, FAIL and RUNNING trials, must answer or refuse cleanly (InvalidParameterError)
in a multi-objective study, and must work inside a real study.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable
from typing import Any

from hyperdial._api import create_study
from hyperdial.exceptions import TrialPruned
from hyperdial.history import History
from hyperdial.space import Float
from hyperdial.testing._expect import expect, quietly
from hyperdial.trial import FrozenTrial, Trial, TrialState

MakePruner = Callable[[], Any]


def curve(number: int, values: list[float], state: TrialState = TrialState.COMPLETE) -> FrozenTrial:
    """A trial whose learning curve is `values` (step i -> values[i])."""
    return FrozenTrial(
        number=number,
        state=state,
        values=(values[-1],) if state == TrialState.COMPLETE else None,
        params={"x": 0.5},
        distributions={"x": Float(0, 1)},
        intermediate_values=dict(enumerate(values)),
    )


def _history() -> tuple[History, FrozenTrial]:
    done = [curve(i, [1.0 - 0.05 * s + 0.01 * i for s in range(10)]) for i in range(10)]
    bad = curve(10, [5.0, 5.0, 5.0, 5.0, 5.0], TrialState.RUNNING)
    return History(["minimize"], done + [bad]), bad


def check_pure(make: MakePruner) -> None:
    pruner = make()
    history, trial = _history()
    before = copy.deepcopy((history.trials, trial))
    first = pruner.should_prune(history, trial)
    second = pruner.should_prune(history, trial)
    expect(first == second, "should_prune must give the same answer twice")
    expect((history.trials, trial) == before, "should_prune must not change the history or the trial")
    expect(isinstance(first, bool), f"should_prune must return a bool, got {type(first).__name__}")


def check_no_reports_no_prune(make: MakePruner) -> None:
    history, _ = _history()
    fresh = FrozenTrial(number=11, state=TrialState.RUNNING)
    expect(make().should_prune(history, fresh) is False, "a trial without reports must not be pruned")


def check_empty_history(make: MakePruner) -> None:
    trial = curve(0, [1.0, 0.9], TrialState.RUNNING)
    expect(make().should_prune(History(["minimize"], [trial]), trial) is False, "nothing to compare: no pruning")


def check_in_study(make: MakePruner) -> None:
    study = create_study(pruner=make(), seed=0)

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(8):
            trial.report(x + 1.0 / (step + 1), step)
            if trial.should_prune():
                raise TrialPruned()
        return x

    study.optimize(objective, n_trials=20, show_progress_bar=False)
    states = {t.state for t in study.trials}
    expect(states <= {TrialState.COMPLETE, TrialState.PRUNED}, f"unexpected states {states}")
    for t in study.trials:
        if t.state == TrialState.PRUNED and t.last_step is not None:
            expect(t.value == t.intermediate_values[t.last_step], "a pruned trial's value is its last report")


def _mixed_history() -> tuple[History, list[FrozenTrial]]:
    """Trials in every state, partial curves, NaN reports, and several running trials to ask about."""
    done = [curve(i, [1.0 - 0.02 * s * (1 + i % 4) for s in range(10)]) for i in range(8)]
    pruned = [curve(8 + i, [1.0 - 0.01 * s for s in range(2 + 2 * i)], TrialState.PRUNED) for i in range(3)]
    failed = curve(11, [0.1, math.nan], TrialState.FAIL)
    nan_pruned = curve(12, [0.9, 0.9, math.nan, math.nan], TrialState.PRUNED)
    running = [
        curve(13, [1.0, 0.99, 0.98, 0.97], TrialState.RUNNING),
        curve(14, [0.5, 0.4, 0.3, 0.2, 0.1, 0.05], TrialState.RUNNING),
        curve(15, [1.0, math.nan], TrialState.RUNNING),
        curve(16, [1.0, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], TrialState.RUNNING),
        curve(17, [0.8, 0.7, 0.6], TrialState.RUNNING),
    ]
    return History(["minimize"], done + pruned + [failed, nan_pruned] + running), running


def check_order_independent(make: MakePruner) -> None:
    pruner = make()
    for history, asked in (_mixed_history(), (_history()[0], [_history()[1]])):
        expected = [pruner.should_prune(history, t) for t in asked]
        for seed in range(3):
            trials = list(history.trials)
            random.Random(seed).shuffle(trials)
            shuffled = History(history.directions, trials)
            got = [make().should_prune(shuffled, t) for t in asked]
            expect(got == expected, f"the answer changed when history.trials was shuffled: {expected} -> {got}")


def check_mixed_states_and_nan(make: MakePruner) -> None:
    history, asked = _mixed_history()
    for t in asked:
        answer = make().should_prune(history, t)
        expect(isinstance(answer, bool), f"should_prune must return a bool, got {type(answer).__name__}")


def check_multi_objective(make: MakePruner) -> None:
    """In a multi-objective study a pruner answers a bool or refuses with InvalidParameterError."""
    from hyperdial.exceptions import InvalidParameterError

    def mo(number: int, values: list[tuple[float, float]], state: TrialState) -> FrozenTrial:
        return FrozenTrial(
            number=number,
            state=state,
            values=values[-1] if state == TrialState.COMPLETE else None,
            intermediate_values=dict(enumerate(values)),
        )

    done = [mo(i, [(1.0 - 0.1 * s, 0.1 * s * i) for s in range(6)], TrialState.COMPLETE) for i in range(6)]
    me = mo(6, [(2.0, 0.0)] * 4, TrialState.RUNNING)
    history = History(["minimize", "maximize"], [*done, me])
    try:
        answer = make().should_prune(history, me)
    except InvalidParameterError:
        return
    expect(isinstance(answer, bool), f"should_prune must return a bool, got {type(answer).__name__}")
    fresh = FrozenTrial(number=7, state=TrialState.RUNNING)
    expect(make().should_prune(history, fresh) is False, "a trial without reports must not be pruned")


CHECKS = [quietly(check) for check in (
    check_pure,
    check_no_reports_no_prune,
    check_empty_history,
    check_in_study,
    check_order_independent,
    check_mixed_states_and_nan,
    check_multi_objective,
)]
