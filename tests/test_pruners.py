"""The pruners: conformance, exact rung arithmetic, asynchronous decisions, semantics per pruner."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.history import History
from hyperdial.pruners.hyperband import _schedule
from hyperdial.testing import pruners as conformance
from hyperdial.testing.pruners import curve
from hyperdial.trial import FrozenTrial, TrialState

RUNNING, COMPLETE, PRUNED, FAIL = TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL

PRUNERS: dict[str, Callable[[], Any]] = {
    "Nop": lambda: hd.pruners.Nop(),
    "Median": lambda: hd.pruners.Median(),
    "Median-interval": lambda: hd.pruners.Median(n_startup_trials=2, n_warmup_steps=1, interval_steps=3),
    "Percentile-25": lambda: hd.pruners.Percentile(25.0, n_min_trials=3),
    "Threshold": lambda: hd.pruners.Threshold(upper=1.2, n_warmup_steps=1),
    "Patience-Median": lambda: hd.pruners.Patience(hd.pruners.Median(), patience=1),
    "Patience-alone": lambda: hd.pruners.Patience(patience=2, min_delta=0.01),
    "Wilcoxon": lambda: hd.pruners.Wilcoxon(),
    "ASHA": lambda: hd.pruners.ASHA(),
    "ASHA-fixed": lambda: hd.pruners.ASHA(min_resource=2, max_resource=8, reduction_factor=2, bootstrap_count=1),
    "ASHA-rate1": lambda: hd.pruners.ASHA(min_early_stopping_rate=1, reduction_factor=2),
    "Hyperband": lambda: hd.pruners.Hyperband(),
    "Hyperband-fixed": lambda: hd.pruners.Hyperband(max_resource=8, reduction_factor=2),
}


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_conformance(name: str, check: Callable[..., None]) -> None:
    check(PRUNERS[name])


def minimize(trials: Sequence[FrozenTrial]) -> History:
    return History(["minimize"], trials)


def running(number: int, values: dict[int, Any]) -> FrozenTrial:
    return FrozenTrial(number=number, state=RUNNING, intermediate_values=dict(values))


def trial_at(number: int, values: dict[int, Any], state: TrialState = COMPLETE) -> FrozenTrial:
    last = values[max(values)] if values else 0.0
    done = state == COMPLETE and not isinstance(last, tuple)
    return FrozenTrial(number=number, state=state, values=(last,) if done else None, intermediate_values=dict(values))


# -- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "build, param",
    [
        (lambda: hd.pruners.Percentile(101), "percentile"),
        (lambda: hd.pruners.Median(n_warmup_steps=-1), "n_warmup_steps"),
        (lambda: hd.pruners.Median(interval_steps=0), "interval_steps"),
        (lambda: hd.pruners.Threshold(), "lower"),
        (lambda: hd.pruners.Threshold(lower=2.0, upper=1.0), "lower"),
        (lambda: hd.pruners.Threshold(upper=math.nan), "upper"),
        (lambda: hd.pruners.Patience(patience=-1), "patience"),
        (lambda: hd.pruners.Patience("median", patience=1), "wrapped"),
        (lambda: hd.pruners.Patience(patience=1, min_delta=-0.1), "min_delta"),
        (lambda: hd.pruners.Wilcoxon(p_threshold=1.5), "p_threshold"),
        (lambda: hd.pruners.Wilcoxon(n_startup_steps=-2), "n_startup_steps"),
        (lambda: hd.pruners.ASHA(min_resource=0), "min_resource"),
        (lambda: hd.pruners.ASHA(max_resource="max"), "max_resource"),
        (lambda: hd.pruners.ASHA(min_resource=5, max_resource=3), "max_resource"),
        (lambda: hd.pruners.ASHA(reduction_factor=1), "reduction_factor"),
        (lambda: hd.pruners.ASHA(reduction_factor=2.5), "reduction_factor"),  # type: ignore[arg-type]
        (lambda: hd.pruners.ASHA(min_early_stopping_rate=-1), "min_early_stopping_rate"),
        (lambda: hd.pruners.ASHA(bootstrap_count=-1), "bootstrap_count"),
        (lambda: hd.pruners.Hyperband(max_resource=0), "max_resource"),
        (lambda: hd.pruners.Hyperband(reduction_factor=True), "reduction_factor"),
    ],
)
def test_invalid_arguments_name_parameter_and_value(build: Callable[[], Any], param: str) -> None:
    with pytest.raises(hd.InvalidParameterError, match=f"`{param}`.*got"):
        build()


def test_constructor_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        hd.pruners.ASHA(1, 27)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        hd.pruners.Threshold(0.0, 1.0)  # type: ignore[call-arg]


# -- Median / Percentile: Optuna's MedianPruner rules ------------------------------------------
def _median_setup(n_complete: int = 5) -> list[FrozenTrial]:
    return [curve(i, [1.0 - 0.01 * s for s in range(12)]) for i in range(n_complete)]


def test_median_startup_warmup_and_min_trials() -> None:
    done = _median_setup(4)
    bad = running(10, {s: 5.0 for s in range(4)})
    assert not hd.pruners.Median(n_startup_trials=5).should_prune(minimize([*done, bad]), bad)
    assert hd.pruners.Median(n_startup_trials=4).should_prune(minimize([*done, bad]), bad)
    assert not hd.pruners.Median(n_startup_trials=0, n_warmup_steps=4).should_prune(minimize([*done, bad]), bad)
    assert hd.pruners.Median(n_startup_trials=0, n_warmup_steps=3).should_prune(minimize([*done, bad]), bad)
    assert not hd.pruners.Median(n_startup_trials=0, n_min_trials=5).should_prune(minimize([*done, bad]), bad)
    assert not hd.pruners.Median(n_startup_trials=0).should_prune(minimize([bad]), bad)


@pytest.mark.parametrize(
    "steps, pruned",
    [
        ([0, 1, 2], True),  # first check at step == n_warmup_steps
        ([0, 1, 2, 3], False),
        ([0, 1, 2, 3, 4], False),
        ([0, 1, 2, 3, 4, 5], True),  # 2 + 3
        ([0, 1, 2, 3, 4, 6], True),  # 5 skipped: the first report after it takes the check
        ([0, 1, 2, 3, 4, 6, 7], False),  # ... and only that one
        ([0, 1, 2, 3, 4, 9], True),  # jumps over 5 and 8: one check
        ([0, 1], False),
    ],
)
def test_median_interval_is_counted_from_warmup(steps: list[int], pruned: bool) -> None:
    done = _median_setup()
    bad = running(10, {s: 5.0 for s in steps})
    pruner = hd.pruners.Median(n_startup_trials=1, n_warmup_steps=2, interval_steps=3)
    assert pruner.should_prune(minimize([*done, bad]), bad) is pruned


def test_median_and_percentile_agree_with_optuna() -> None:
    optuna = pytest.importorskip("optuna")
    from optuna.trial import TrialState as OTS
    from optuna.trial import create_trial

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rng = random.Random(0)
    disagreements = []
    decisions: Counter[bool] = Counter()
    for case in range(120):
        direction = rng.choice(["minimize", "maximize"])
        n_done = rng.randint(0, 7)
        curves = [{s: rng.gauss(0, 1) for s in range(12) if rng.random() < 0.8 or s == 11} for _ in range(n_done)]
        mine = {s: rng.gauss(0.3, 1) for s in sorted(rng.sample(range(12), rng.randint(1, 8)))}
        kwargs = {
            "n_startup_trials": rng.randint(0, 4),
            "n_warmup_steps": rng.randint(0, 4),
            "interval_steps": rng.randint(1, 4),
            "n_min_trials": rng.randint(1, 3),
        }
        percentile = rng.choice([25.0, 50.0, 75.0])
        ours = hd.pruners.Percentile(percentile, **kwargs)
        theirs = optuna.pruners.PercentilePruner(percentile, **kwargs)
        history = History([direction], [trial_at(i, c) for i, c in enumerate(curves)] + [running(n_done, mine)])
        study = optuna.create_study(direction=direction)
        for c in curves:
            study.add_trial(create_trial(value=c[max(c)], intermediate_values=c))
        frozen = create_trial(state=OTS.RUNNING, intermediate_values=mine)
        a = ours.should_prune(history, running(n_done, mine))
        b = theirs.prune(study, frozen)
        decisions[a] += 1
        if a != b:
            disagreements.append((case, a, b))
    assert not disagreements
    assert decisions[True] >= 10 and decisions[False] >= 10  # the cases exercise both answers


def test_median_maximize_and_nan() -> None:
    done = [curve(i, [0.1 * s + 0.01 * i for s in range(5)]) for i in range(5)]
    history = History(["maximize"], done)
    low = running(9, {0: 0.0, 1: 0.05, 2: 0.1})
    high = running(9, {0: 0.0, 1: 0.2, 2: 0.3})
    assert hd.pruners.Median().should_prune(history, low)
    assert not hd.pruners.Median().should_prune(history, high)
    diverged = running(9, {0: 0.0, 1: 0.5, 2: math.nan})
    assert hd.pruners.Median().should_prune(history, diverged)


def test_single_objective_pruners_refuse_several_objectives() -> None:
    t = running(0, {0: (1.0, 2.0)})
    history = History(["minimize", "minimize"], [t])
    for pruner in (
        hd.pruners.Median(),
        hd.pruners.Threshold(upper=1.0),
        hd.pruners.Patience(patience=1),
        hd.pruners.Wilcoxon(),
    ):
        with pytest.raises(hd.InvalidParameterError, match="several"):
            pruner.should_prune(history, t)


# -- Threshold ------------------------------------------------------------------------------
def test_threshold() -> None:
    pruner = hd.pruners.Threshold(lower=0.0, upper=1.0, n_warmup_steps=2)

    def ask(values: dict[int, float]) -> bool:
        t = running(0, values)
        return pruner.should_prune(minimize([t]), t)

    assert not ask({0: 5.0, 1: -3.0})  # warmup
    assert ask({0: 0.5, 1: 0.5, 2: 1.5})
    assert ask({0: 0.5, 1: 0.5, 2: -0.1})
    assert ask({0: 0.5, 1: 0.5, 2: math.nan})
    assert not ask({0: 0.5, 1: 0.5, 2: 0.9})
    assert not ask({0: 5.0, 1: 5.0, 2: 1.0})  # only the latest value counts; bounds are inclusive
    only_upper = hd.pruners.Threshold(upper=3.0, interval_steps=2)
    t = running(0, {0: 1.0, 1: 9.0})
    assert not only_upper.should_prune(minimize([t]), t)  # step 1 is not a check step
    t = running(0, {0: 1.0, 1: 9.0, 2: 9.0})
    assert only_upper.should_prune(minimize([t]), t)


# -- Patience -------------------------------------------------------------------------------
class Always:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls = 0

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        self.calls += 1
        return self.answer


def test_patience_waits_for_a_stall_then_asks_the_wrapped_pruner() -> None:
    def ask(values: list[float], wrapped: Any, patience: int = 2, min_delta: float = 0.0, d: str = "minimize") -> bool:
        t = running(0, dict(enumerate(values)))
        return hd.pruners.Patience(wrapped, patience=patience, min_delta=min_delta).should_prune(History([d], [t]), t)

    yes, no = Always(True), Always(False)
    assert not ask([1.0, 0.9, 0.95], yes)  # too few reports: patience + 1 = 3 is not enough
    assert not ask([1.0, 0.9, 0.95, 0.95], yes)  # 2 reports without improvement are tolerated ...
    assert ask([1.0, 0.9, 0.95, 0.95, 0.95], yes)  # ... the third lets the wrapped pruner decide
    assert not ask([1.0, 0.9, 0.95, 0.95, 0.95], no)  # ... which says no
    assert not ask([1.0, 0.9, 0.95, 0.95, 0.85], yes)  # improved at the last step
    assert ask([1.0, 0.9, 0.9, 0.9, 0.9], yes)  # equal is no improvement
    assert ask([1.0, 0.9, 0.95, 0.95, 0.89], yes, min_delta=0.05)  # 0.01 better: within min_delta
    assert not ask([1.0, 0.9, 0.95, 0.95, 0.84], yes, min_delta=0.05)
    assert ask([0.0, 0.5, 0.4, 0.45, 0.45], yes, d="maximize")
    assert not ask([0.0, 0.5, 0.4, 0.45, 0.55], yes, d="maximize")
    assert ask([1.0, 0.9, math.nan, math.nan, math.nan], yes)
    assert ask([1.0, 0.9, 0.95], yes, patience=0) and not ask([1.0, 0.9, 0.85], yes, patience=0)
    stalled_only = Always(True)
    assert not ask([1.0, 0.5, 0.4, 0.3, 0.2], stalled_only)
    assert stalled_only.calls == 0  # the wrapped pruner is not even asked while improving


# -- Wilcoxon -------------------------------------------------------------------------------
def _instances(number: int, offset: float, ids: Sequence[int], state: TrialState = COMPLETE) -> FrozenTrial:
    values = {i: math.sin(i) + 2.0 + offset for i in ids}
    if state == COMPLETE:
        mean = sum(values.values()) / len(values)
        return FrozenTrial(number=number, state=state, values=(mean,), intermediate_values=values)
    return running(number, values)


def test_wilcoxon_semantics() -> None:
    pruner = hd.pruners.Wilcoxon(p_threshold=0.1, n_startup_steps=2)
    best = _instances(0, 0.0, range(20))
    other = _instances(1, 0.5, range(20))
    worse = _instances(2, 0.3, [3, 1, 4, 15, 9, 2], RUNNING)  # in any order
    better = _instances(2, -0.3, [3, 1, 4, 15, 9, 2], RUNNING)
    history = minimize([best, other])
    assert pruner.should_prune(minimize([best, other, worse]), worse)
    assert not pruner.should_prune(minimize([best, other, better]), better)
    two = _instances(2, 0.3, [3, 1], RUNNING)
    assert not pruner.should_prune(history, two)  # not enough pairs yet (and p >= 0.25 with 2 pairs)
    assert not hd.pruners.Wilcoxon(n_startup_steps=10).should_prune(history, worse)
    nan = running(2, {**worse.intermediate_values, 7: math.nan})
    assert not pruner.should_prune(history, nan)  # NaN or inf: never pruned
    unknown = running(2, {100 + i: 9.0 for i in range(8)})
    assert not pruner.should_prune(history, unknown)  # instances the best trial never saw are ignored
    mixed = running(2, {**{100 + i: -5.0 for i in range(8)}, **worse.intermediate_values})
    assert not pruner.should_prune(history, mixed)  # worse on shared instances, better on average

    # maximize: the same data mirrored
    def flip(t: FrozenTrial) -> FrozenTrial:
        return FrozenTrial(
            number=t.number,
            state=t.state,
            values=None if t.values is None else (-t.values[0],),
            intermediate_values={s: -v for s, v in t.intermediate_values.items()},
        )

    assert pruner.should_prune(History(["maximize"], [flip(best), flip(other)]), flip(worse))
    assert not pruner.should_prune(History(["maximize"], [flip(best), flip(other)]), flip(better))


def test_wilcoxon_is_lenient_with_a_strict_threshold() -> None:
    best = _instances(0, 0.0, range(20))
    slightly = _instances(1, 0.3, range(6), RUNNING)
    assert hd.pruners.Wilcoxon(p_threshold=0.1).should_prune(minimize([best]), slightly)
    assert not hd.pruners.Wilcoxon(p_threshold=0.01).should_prune(minimize([best]), slightly)


# -- ASHA: exact rung arithmetic ------------------------------------------------------------
def _rung_history() -> list[FrozenTrial]:
    """9 COMPLETE trials: values 1..9 at step 1 (rung 0), 0..8 at step 3, -1..7 at step 9, -2..6 at 27."""
    return [trial_at(i, {0: 10.0, 1: v, 3: v - 1, 9: v - 2, 27: v - 3}) for i, v in enumerate(range(1, 10))]


def _ask(pruner: Any, values: dict[int, Any], others: Sequence[FrozenTrial] | None = None) -> bool:
    me = running(99, values)
    return bool(pruner.should_prune(minimize([*(_rung_history() if others is None else others), me]), me))


def test_asha_rungs() -> None:
    asha = hd.pruners.ASHA(min_resource=1, reduction_factor=3)
    assert asha.rungs(30) == [1, 3, 9, 27]
    assert asha.rungs(28) == [1, 3, 9, 27]
    assert asha.rungs(27) == [1, 3, 9]  # 27 is a full run: no check there
    assert asha.rungs(9) == [1, 3]
    assert asha.rungs(52) == [1, 3, 9, 27]
    assert hd.pruners.ASHA(min_resource=2, reduction_factor=2, min_early_stopping_rate=1).rungs(40) == [4, 8, 16, 32]


@pytest.mark.parametrize(
    "value, pruned",
    # 9 others at rung 0 (1 .. 9) + this trial: n = 10, the top 10 // 3 = 3 continue (ties continue).
    [(0.5, False), (2.5, False), (3.0, False), (3.5, True), (9.5, True), (math.nan, True)],
)
def test_asha_keeps_the_top_third_at_rung_0(value: float, pruned: bool) -> None:
    assert _ask(hd.pruners.ASHA(reduction_factor=3), {0: 10.0, 1: value}) is pruned


def test_asha_decides_once_per_rung_when_the_report_reaches_it() -> None:
    asha = hd.pruners.ASHA(reduction_factor=3)
    assert _ask(asha, {0: 10.0, 1: 9.5})  # reaches rung 0 (step 1) in the bottom
    assert not _ask(asha, {0: 10.0, 1: 9.5, 2: 9.5})  # step 2: between rungs, no decision
    assert not _ask(asha, {0: 10.0, 1: 2.0, 2: 1.0, 3: 1.0})  # rung 1 (step 3) vs 0..8: 1 better
    assert _ask(asha, {0: 10.0, 1: 2.0, 2: 2.0, 3: 3.0})  # rung 1: 0, 1, 2 better
    # One report jumping over two rungs decides both, each with the latest value at or before the rung.
    assert _ask(asha, {0: 10.0, 5: 0.0})  # rung 0 uses the value at step 0 (10): bottom
    assert not _ask(asha, {0: 0.5, 5: 0.0})  # rung 0: best; rung 1 (step 3): 0.5 vs 0..8, 1 better
    assert _ask(asha, {0: 2.5, 5: 0.0})  # rung 0: 2 better, continue; rung 1: 3 better, pruned


def test_asha_max_resource_caps_the_rungs() -> None:
    late = {0: 10.0, 1: 1.0, 3: 0.0, 9: -1.5, 27: 50.0}
    assert not _ask(hd.pruners.ASHA(max_resource=27), late)  # 27 is a full run: no check
    assert not _ask(hd.pruners.ASHA(), late)  # auto: the largest last step of a COMPLETE trial, 27
    assert _ask(hd.pruners.ASHA(max_resource=28), late)  # 27 is a rung below the end now
    unfinished = [trial_at(t.number, t.intermediate_values, RUNNING) for t in _rung_history()]
    assert _ask(hd.pruners.ASHA(), late, unfinished)  # auto with nothing COMPLETE: no cap


def test_asha_min_early_stopping_rate_and_bootstrap() -> None:
    rate1 = hd.pruners.ASHA(min_early_stopping_rate=1)  # rungs at 3, 9
    assert not _ask(rate1, {0: 10.0, 1: 9.5})
    assert _ask(rate1, {0: 10.0, 1: 0.0, 3: 8.5})
    first = [trial_at(0, {0: 1.0, 1: 0.5}, RUNNING)]
    assert not _ask(hd.pruners.ASHA(), {0: 1.0, 1: 0.6}, [])  # alone: the best continues
    assert not _ask(hd.pruners.ASHA(), {0: 1.0, 1: 0.4}, first)  # n = 2: the best continues
    assert _ask(hd.pruners.ASHA(), {0: 1.0, 1: 0.6}, first)
    boot = hd.pruners.ASHA(bootstrap_count=2)  # as Optuna: not promoted until n > bootstrap_count
    assert _ask(boot, {0: 1.0, 1: 0.4}, first)
    two = [*first, trial_at(1, {0: 1.0, 1: 0.7}, RUNNING)]
    assert not _ask(boot, {0: 1.0, 1: 0.4}, two)


def test_asha_maximize_mirrors_minimize() -> None:
    done = [trial_at(i, {0: -10.0, 1: -v, 3: -v, 9: -v}) for i, v in enumerate(range(1, 10))]
    for value, pruned in [(-2.5, False), (-3.5, True)]:
        me = running(99, {0: -10.0, 1: value})
        assert hd.pruners.ASHA().should_prune(History(["maximize"], [*done, me]), me) is pruned


def test_asha_asynchronous_a_late_trial_is_compared_with_all_that_reached_the_rung() -> None:
    # Eight trials reached rung 0 (step 1) before trial 8: running ones far ahead, pruned ones, complete ones.
    # Trial 8 is ranked among all nine values; FAIL and WAITING trials and trials below the rung do not count.
    others = [
        trial_at(0, {0: 1.0, 1: 0.10, 3: 0.1, 9: 0.1, 27: 0.1}),
        trial_at(1, {0: 1.0, 1: 0.20, 3: 0.2, 9: 0.2, 27: 0.2}),
        trial_at(2, {0: 1.0, 1: 0.90}, PRUNED),
        trial_at(3, {0: 1.0, 1: 0.30, 2: 0.3, 3: 0.8}, PRUNED),
        trial_at(4, {0: 1.0, 1: 0.70, 2: 0.6, 3: 0.55, 4: 0.5}, RUNNING),
        trial_at(5, {0: 1.0, 1: 0.80, 3: 0.7, 9: 0.6, 12: 0.6}, RUNNING),
        trial_at(6, {0: 1.0, 1: 0.85}, RUNNING),
        trial_at(7, {1: 0.60}, RUNNING),
        trial_at(9, {0: 1.0, 1: 0.0}, FAIL),
        trial_at(10, {0: 0.0}, RUNNING),  # not at rung 0 yet
    ]
    asha = hd.pruners.ASHA()
    for value, pruned in [(0.25, False), (0.29, False), (0.31, True), (0.65, True)]:
        # n = 9 -> keep 3: 0.10, 0.20 and 0.30 are the competitors to beat
        me = running(8, {0: 1.0, 1: value})
        history = minimize([*others, me])
        assert asha.should_prune(history, me) is pruned, value
        # the answer is the same whatever order the trials come in, and from a new instance
        shuffled = list(history.trials)
        random.Random(value).shuffle(shuffled)
        assert hd.pruners.ASHA().should_prune(minimize(shuffled), me) is pruned


def test_asha_asynchronous_in_a_study_with_interleaved_workers() -> None:
    """Nine workers (ask/tell, interleaved): each decision counts every trial that reached the rung."""
    study = hd.create_study(pruner=hd.pruners.ASHA(max_resource=9), sampler=hd.samplers.Random(seed=0))
    trials = [study.ask() for _ in range(9)]
    scores = [0.5, 0.2, 0.9, 0.1, 0.6, 0.3, 0.8, 0.05, 0.4]
    decisions = []
    for t, s in zip(trials, scores):
        t.report(1.0, 0)
        t.report(s, 1)  # rung 0
        decisions.append(t.should_prune())
    # Trial i is ranked among trials 0..i at rung 0, keep max(1, (i + 1) // 3).
    expected = []
    for i, s in enumerate(scores):
        seen = scores[: i + 1]
        expected.append(sum(v < s for v in seen) >= max(1, len(seen) // 3))
    assert decisions == expected
    assert decisions.count(True) >= 3


@pytest.mark.parametrize("eta, bootstrap", [(3, 0), (2, 0), (4, 1)])
def test_asha_agrees_with_optuna_successive_halving_in_sequential_runs(eta: int, bootstrap: int) -> None:
    """Run one after another, reporting every step, ASHA prunes exactly where Optuna's SH does.

    (Optuna's SH has no maximum resource, hence the huge `max_resource`.)
    """
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rng = random.Random(eta)
    curves = []
    for _ in range(30):
        level, speed = rng.uniform(0, 1), rng.uniform(0.5, 3)
        curves.append([level + speed / s + rng.gauss(0, 0.05) for s in range(1, 31)])

    def run(study: Any, pruned: Any) -> list[int | None]:
        stops: list[int | None] = []
        for c in curves:
            t = study.ask()
            stop = None
            for step, value in enumerate(c, 1):
                t.report(value, step)
                if t.should_prune():
                    stop = step
                    break
            if stop is None:
                study.tell(t, c[-1])
            else:
                study.tell(t, state=pruned)
            stops.append(stop)
        return stops

    ours = run(
        hd.create_study(pruner=hd.pruners.ASHA(max_resource=10**6, reduction_factor=eta, bootstrap_count=bootstrap)),
        PRUNED,
    )
    theirs = run(
        optuna.create_study(
            pruner=optuna.pruners.SuccessiveHalvingPruner(
                min_resource=1, reduction_factor=eta, bootstrap_count=bootstrap
            )
        ),
        optuna.trial.TrialState.PRUNED,
    )
    assert ours == theirs
    assert sum(s is not None for s in ours) >= 10


def test_asha_nan_competitors_count_but_never_win() -> None:
    done = [trial_at(i, {0: 1.0, 1: math.nan}, PRUNED) for i in range(5)]
    me = running(5, {0: 1.0, 1: 3.0})
    assert not hd.pruners.ASHA().should_prune(minimize([*done, me]), me)  # 0 better, keep 2


# -- Hyperband ------------------------------------------------------------------------------
def test_hyperband_brackets_are_deterministic_and_follow_the_budgets() -> None:
    hb = hd.pruners.Hyperband(min_resource=1, max_resource=81, reduction_factor=3)
    assert hb.n_brackets() == 5
    budgets = hb.budgets()
    assert budgets == [81, 34, 15, 8, 5]  # ceil(5 / (s + 1) * 3^s), s = 4 .. 0
    first = [hb.bracket_of(m) for m in range(1000)]
    again = [
        hd.pruners.Hyperband(min_resource=1, max_resource=81, reduction_factor=3).bracket_of(m)
        for m in reversed(range(1000))
    ][::-1]
    assert first == again
    cycle = sum(budgets)
    for start in (0, cycle, 5 * cycle):
        counts = Counter(hb.bracket_of(m) for m in range(start, start + cycle))
        assert [counts[b] for b in range(5)] == budgets
    # spread out: every bracket shows up within the first 30 trials, and no bracket runs long
    assert set(first[:30]) == set(range(5))
    runs = max(len(list(g)) for _, g in __import__("itertools").groupby(first))
    assert runs <= 3
    assert len(_schedule(tuple(budgets))) == cycle


def test_hyperband_auto_needs_a_complete_trial() -> None:
    hb = hd.pruners.Hyperband()
    with pytest.raises(hd.InvalidParameterError, match="history"):
        hb.bracket_of(3)
    empty = minimize([])
    assert hb.n_brackets(empty) == 0 and hb.bracket_of(3, empty) == 0
    done = minimize([trial_at(0, {s: 1.0 for s in range(28)})])
    assert hb.n_brackets(done) == 4  # max_resource = 27
    assert hb.bracket_of(5, done) == hd.pruners.Hyperband(max_resource=27).bracket_of(5)


def test_hyperband_compares_only_within_a_bracket() -> None:
    hb = hd.pruners.Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
    numbers = list(range(60))
    in_0 = [m for m in numbers if hb.bracket_of(m) == 0]
    not_0 = [m for m in numbers if hb.bracket_of(m) != 0]
    me = in_0[-1]
    trial = running(me, {0: 1.0, 1: 0.5})
    # Far better trials in other brackets do not matter ...
    strong_elsewhere = [trial_at(m, {0: 1.0, 1: 0.0, 3: 0.0, 9: 0.0, 27: 0.0}) for m in not_0[:10]]
    weak_here = [trial_at(m, {0: 1.0, 1: 0.9, 3: 0.9, 9: 0.9, 27: 0.9}) for m in in_0[:5]]
    assert not hb.should_prune(minimize([*strong_elsewhere, *weak_here, trial]), trial)
    # ... while better trials in its own bracket do.
    strong_here = [trial_at(m, {0: 1.0, 1: 0.0, 3: 0.0, 9: 0.0, 27: 0.0}) for m in in_0[:5]]
    assert hb.should_prune(minimize([*strong_here, trial]), trial)
    # The top bracket (early-stopping rate 3: first rung at 27 = max) never prunes.
    top = next(m for m in numbers if hb.bracket_of(m) == 3)
    loser = running(top, {s: 99.0 for s in range(28)})
    assert not hb.should_prune(minimize([*strong_elsewhere, *strong_here, loser]), loser)
    # Bracket 1 decides first at step 3, not at step 1.
    b1 = [m for m in numbers if hb.bracket_of(m) == 1]
    rivals = [trial_at(m, {0: 1.0, 1: 0.0, 3: 0.0, 9: 0.0, 27: 0.0}) for m in b1[:-1]]
    assert not hb.should_prune(minimize([*rivals]), running(b1[-1], {0: 1.0, 1: 9.0}))
    assert hb.should_prune(minimize([*rivals]), running(b1[-1], {0: 1.0, 1: 9.0, 3: 9.0}))


# -- several objectives ---------------------------------------------------------------------
def _mo(number: int, at_rung: tuple[float, float], state: TrialState = COMPLETE) -> FrozenTrial:
    values = {0: (9.0, 9.0), 1: at_rung, 3: at_rung, 9: at_rung}
    return FrozenTrial(
        number=number,
        state=state,
        values=at_rung if state == COMPLETE else None,
        intermediate_values=values,
    )


def test_multi_objective_asha_keeps_the_non_dominated() -> None:
    front = [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    dominated = [(0.6 + 0.1 * i, 0.6 + 0.1 * i) for i in range(5)]
    others = [_mo(i, v) for i, v in enumerate(front + dominated)]  # 8 others + me: keep 3
    directions = ["minimize", "minimize"]
    asha = hd.pruners.ASHA()

    def ask(value: tuple[float, float], d: Sequence[str] = directions, trials: Sequence[FrozenTrial] = others) -> bool:
        me = FrozenTrial(number=99, state=RUNNING, intermediate_values={0: (9.0, 9.0), 1: value})
        return asha.should_prune(History(d, [*trials, me]), me)

    assert not ask((-1.0, 2.0))  # a new extreme of the front: rank 0, infinite crowding distance
    assert not ask((0.2, 0.2))  # dominates the middle point
    assert ask((0.7, 0.7))  # dominated by the front
    assert ask((0.55, 0.55))  # dominated by (0.5, 0.5): rank 1, behind the 3 of rank 0
    assert ask((math.nan, 0.0))
    # maximize the second objective: mirror it
    mirrored = [_mo(i, (v[0], -v[1])) for i, v in enumerate(front + dominated)]
    assert not ask((-1.0, -2.0), ["minimize", "maximize"], mirrored)
    assert ask((0.7, -0.7), ["minimize", "maximize"], mirrored)
    # order of the history does not matter, even with ties in crowding distance
    me = FrozenTrial(number=99, state=RUNNING, intermediate_values={0: (9.0, 9.0), 1: (0.25, 0.75)})
    tied = [_mo(i, v) for i, v in enumerate([(0.0, 1.0), (0.5, 0.5), (1.0, 0.0), (0.75, 0.25), (0.6, 0.6)])]
    answers = set()
    for seed in range(6):
        shuffled = [*tied, me]
        random.Random(seed).shuffle(shuffled)
        answers.add(asha.should_prune(History(directions, shuffled), me))
    assert len(answers) == 1


def test_multi_objective_study_end_to_end() -> None:
    study = hd.create_study(directions=["minimize", "maximize"], pruner=hd.pruners.ASHA(), seed=3)

    def objective(trial: hd.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        y = trial.suggest_float("y", 0, 1)
        for step in range(1, 10):
            a, b = (x + y) * (1 + 1 / step), (x - y * y) * (1 - 1 / (step + 1))
            trial.report([a, b], step)
            if trial.should_prune():
                raise hd.TrialPruned()
        return a, b

    study.optimize(objective, n_trials=40, show_progress_bar=False)
    states = Counter(t.state for t in study.trials)
    assert states[PRUNED] >= 10 and states[COMPLETE] >= 5
    assert {t.last_step for t in study.trials if t.state == PRUNED} <= {1, 3}  # rungs with max 9


def test_multi_objective_hyperband_ranks_within_a_bracket() -> None:
    hb = hd.pruners.Hyperband(max_resource=27)
    in_0 = [m for m in range(40) if hb.bracket_of(m) == 0]
    others = [_mo(m, (0.1 * k, 0.1 * k)) for k, m in enumerate(in_0[:6])]
    me = FrozenTrial(number=in_0[6], state=RUNNING, intermediate_values={0: (9.0, 9.0), 1: (0.05, 0.05)})
    assert not hb.should_prune(History(["minimize", "minimize"], [*others, me]), me)
    me = FrozenTrial(number=in_0[6], state=RUNNING, intermediate_values={0: (9.0, 9.0), 1: (0.25, 0.25)})
    assert hb.should_prune(History(["minimize", "minimize"], [*others, me]), me)  # 3 dominate it, keep 2


def test_patience_can_wrap_asha_and_reprs_show_the_settings() -> None:
    pruner = hd.pruners.Patience(hd.pruners.ASHA(), patience=0)
    assert _ask(hd.pruners.ASHA(), {0: 10.0, 1: 9.5})  # bottom of rung 0 ...
    assert not _ask(pruner, {0: 10.0, 1: 9.5})  # ... but still improving: patience keeps it
    assert _ask(pruner, {0: 9.0, 1: 9.5})  # stalled and at the bottom
    for p in (hd.pruners.Median(n_warmup_steps=3), hd.pruners.ASHA(max_resource=9), hd.pruners.Wilcoxon()):
        assert "=" in repr(p)
    assert "n_warmup_steps=3" in repr(hd.pruners.Median(n_warmup_steps=3))


# -- determinism, end to end ----------------------------------------------------------------
def _random_history(seed: int) -> tuple[History, list[FrozenTrial]]:
    rng = random.Random(seed)
    trials = []
    for i in range(40):
        state = rng.choice([COMPLETE, COMPLETE, PRUNED, RUNNING, FAIL])
        n = 28 if state == COMPLETE else rng.randint(1, 27)
        level = rng.uniform(0, 1)
        values = {s: level + 1 / (s + 1) + rng.gauss(0, 0.02) for s in range(n)}
        trials.append(trial_at(i, values, state))
    asked = [t for t in trials if t.state == RUNNING]
    return minimize(trials), asked


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_same_history_same_decisions_in_any_order(name: str) -> None:
    history, asked = _random_history(1)
    first = [PRUNERS[name]().should_prune(history, t) for t in asked]
    again = [PRUNERS[name]().should_prune(history, t) for t in asked]
    assert first == again
    for seed in range(3):
        shuffled = list(history.trials)
        random.Random(seed).shuffle(shuffled)
        assert [PRUNERS[name]().should_prune(minimize(shuffled), t) for t in asked] == first


def _curve_objective(trial: hd.Trial) -> float:
    """Learning curves whose final value is predictable from the early ones (plus noise)."""
    q = trial.suggest_float("q", 0, 1)
    rng = random.Random(trial.number)
    value = 1.0
    for step in range(1, 28):
        value = q + 1.0 / step + rng.gauss(0, 0.01)
        trial.report(value, step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return value


@pytest.mark.parametrize(
    "name, min_pruned",
    [("Median", 10), ("ASHA", 20), ("Hyperband", 10), ("Patience-Median", 10), ("Threshold", 5), ("Nop", 0)],
)
def test_end_to_end_study(name: str, min_pruned: int) -> None:
    pruner = {
        "Median": hd.pruners.Median(),
        "ASHA": hd.pruners.ASHA(max_resource=27),
        "Hyperband": hd.pruners.Hyperband(max_resource=27),
        "Patience-Median": hd.pruners.Patience(hd.pruners.Median(), patience=2),
        "Threshold": hd.pruners.Threshold(upper=1.0, n_warmup_steps=3),
        "Nop": hd.pruners.Nop(),
    }[name]
    study = hd.create_study(pruner=pruner, sampler=hd.samplers.Random(seed=0))
    study.optimize(_curve_objective, n_trials=40, show_progress_bar=False)
    pruned = [t for t in study.trials if t.state == PRUNED]
    assert len(pruned) >= min_pruned
    complete = [t for t in study.trials if t.state == COMPLETE]
    assert complete
    if name in ("ASHA", "Hyperband"):
        epochs = sum(len(t.intermediate_values) for t in study.trials)
        assert epochs < {"ASHA": 0.25, "Hyperband": 0.5}[name] * 27 * 40  # far fewer steps than without pruning
        best_q = min(t.params["q"] for t in study.trials)
        assert study.best_params["q"] - best_q < 0.1  # pruning did not lose the best region
    if name == "ASHA":
        assert {t.last_step for t in pruned} <= {1, 3, 9}
    # a rerun with the same seed makes the same decisions
    again = hd.create_study(pruner=type(pruner)(**_kwargs(pruner)), sampler=hd.samplers.Random(seed=0))
    again.optimize(_curve_objective, n_trials=40, show_progress_bar=False)
    assert [t.state for t in again.trials] == [t.state for t in study.trials]


def _kwargs(pruner: Any) -> dict[str, Any]:
    if isinstance(pruner, hd.pruners.Patience):
        return {"wrapped": pruner.wrapped, "patience": pruner.patience}
    if isinstance(pruner, hd.pruners.Threshold):
        return {"upper": pruner.upper, "n_warmup_steps": pruner.n_warmup_steps}
    if isinstance(pruner, (hd.pruners.ASHA, hd.pruners.Hyperband)):
        return {"max_resource": pruner.max_resource}
    return {}


def test_wilcoxon_end_to_end_on_folds() -> None:
    instances = [0.1 * i for i in range(30)]

    def objective(trial: hd.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        order = list(range(len(instances)))
        random.Random(trial.number).shuffle(order)
        losses = []
        for i in order:
            losses.append((x - 0.3) ** 2 + instances[i])
            trial.report(losses[-1], i)
            if trial.should_prune():
                return sum(losses) / len(losses)
        return sum(losses) / len(losses)

    study = hd.create_study(pruner=hd.pruners.Wilcoxon(), sampler=hd.samplers.Random(seed=1))
    study.optimize(objective, n_trials=30, show_progress_bar=False)
    evaluated = [len(t.intermediate_values) for t in study.trials]
    assert sum(evaluated) < 0.6 * 30 * len(instances)  # most trials stop early
    assert abs(study.best_params["x"] - 0.3) < 0.3
