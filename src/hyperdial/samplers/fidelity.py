"""Multi-fidelity search (BOHB-style): fit the model on the largest budget with enough observations.

With a pruner, most trials stop early, so the COMPLETE trials are a thin
sample: a sampler that models only them (GP) ignores what the pruned ones
measured, and keeps proposing the point a pruner turns down after one step
(measured on lcbench with the Median pruner: a thousand trials, ten finished);
one that ranks pruned trials below complete ones (TPE) learns from truncated
curves only that they were stopped. BOHB (Falkner, Klein and Hutter, "BOHB:
Robust and Efficient Hyperparameter Optimization at Scale", ICML 2018,
section 3.1) instead keeps, for each budget b, the observations made at b, and
fits its model on the largest b with at least N_min of them.

Here a budget is a reported step (epochs, say). `budget_view(history)` picks:

- the full budget (the ordinary history) when at least N_min trials are COMPLETE;
- else the largest step b at which at least N_min COMPLETE or PRUNED trials
  have an observation. A trial observed b when it reported at some step <= b
  and went on to b (a COMPLETE trial went all the way); its value at b is its
  latest report at a step <= b, so steps need not line up across trials;
- else (nothing has N_min observations) the ordinary history.

In the view, each trial with an observation at b appears COMPLETE with that
value; COMPLETE trials that never reported at or below b are left out (their
value belongs to another budget); RUNNING, WAITING and FAIL trials are
unchanged. PRUNED trials stopped before b (or with a NaN or infinite report
there), with `stopped=`:

- "pruned" (BOHB; the default of `budget_view`): stay PRUNED, which TPE ranks
  below every COMPLETE trial and GP ignores;
- "worst" (the default of the samplers): appear COMPLETE with the worst value
  observed at b (per objective), a pessimistic guess (like a constant liar) that
  every model can read; at the full budget too, so a model that reads only
  COMPLETE trials still learns where the pruner stopped trials;
- "last": as "worst", or the trial's own last report where that is worse still,
  so stopped trials keep their order (on a smooth objective with an interior
  optimum, GP then spends fewer trials at the edges of the box).

N_min defaults to d + 2 for d parameters (BOHB uses d + 1 and waits for
N_min + 2 random configurations). Reports must be numbers (one objective) or
tuples of one finite number per objective; other reports are not observations.

`MultiFidelity(base)` wraps any sampler so that it sees the view, and samples a
share of the trials at random while a lower budget is modelled (BOHB's 1/3,
which keeps it robust where early steps rank configurations badly). `Auto`, the
default sampler, applies the same view to the algorithm it picks once trials
are pruned. Measurements behind these defaults: docs/multi-fidelity.md.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hyperdial import _plugins
from hyperdial._validation import HasMethod, Int, OneOf, Real, check
from hyperdial.history import History
from hyperdial.samplers._memo import TrialMemo
from hyperdial.samplers.base import PicklableLock, check_seed, trial_uniform
from hyperdial.samplers.random import Random
from hyperdial.space import Distribution
from hyperdial.trial import FrozenTrial, TrialState

_USED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class Budget:
    """The budget a view models: `step` (None: the full budget, i.e. the ordinary history),
    how many trials were observed there, and the N_min it needed."""

    step: int | None
    n_observations: int
    min_observations: int


class _Curve:
    """One finished trial's usable reports, sorted by step (built once per frozen trial)."""

    __slots__ = ("last", "source", "steps", "values")

    def __init__(self, t: FrozenTrial, n_objectives: int) -> None:
        self.source = t
        pairs = []
        for step, raw in t.intermediate_values.items():
            v = _as_values(raw, n_objectives)
            if v is not None:
                pairs.append((step, v))
        pairs.sort(key=lambda p: p[0])
        self.steps = [p[0] for p in pairs]
        self.values = [p[1] for p in pairs]
        # How far the trial went: a COMPLETE trial saw every budget, a pruned one its last report
        # (a NaN last report still counts as reached, but the value before it is stale: see `at`).
        last = max(t.intermediate_values) if t.intermediate_values else -math.inf
        self.last = math.inf if t.state == TrialState.COMPLETE else last

    def at(self, step: int) -> tuple[float, ...] | None:
        """The latest usable report at a step <= `step`, if the trial reached `step`."""
        if step > self.last:
            return None
        i = bisect.bisect_right(self.steps, step) - 1
        if i < 0:
            return None
        if self.source.state != TrialState.COMPLETE and self.steps[i] != step and step == self.last:
            return None  # its report at `step` itself was unusable (NaN or infinite: diverged): no observation
        return self.values[i]


def _as_values(raw: Any, n_objectives: int) -> tuple[float, ...] | None:
    """A report as a tuple of finite floats of the study's length, or None if it is not one."""
    items = raw if isinstance(raw, (tuple, list)) else (raw,)
    if len(items) != n_objectives:
        return None
    out = []
    for x in items:
        if isinstance(x, bool):
            return None
        try:
            f = float(x)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(f):
            return None
        out.append(f)
    return tuple(out)


def _n_params(history: History) -> int:
    joint = history.joint_space()
    if joint:
        return len(joint)
    return max((len(t.distributions) for t in history.trials if t.state in _USED), default=0)


class BudgetView(PicklableLock):
    """Builds budget views (see the module docstring), reusing work between calls; thread-safe.

    `min_observations` is N_min (None: d + 2 for d parameters); `stopped` ("pruned" or
    "worst") says how trials stopped before the budget appear.

    A view's trials are new frozen objects only where they change, and the same object is
    handed out again while a trial's budget stays the same, so a sampler caching by object
    identity (TPE) reuses its rows, and one that caches by trial number must compare values
    (GP caches parameters only). When the budget moves, the view objects are new.

    >>> import hyperdial as hd
    >>> def run(i, curve, state):
    ...     return hd.FrozenTrial(number=i, state=state, values=(curve[-1],) if state == hd.TrialState.COMPLETE else None,
    ...                           params={"x": i / 10}, distributions={"x": hd.Float(0, 1)},
    ...                           intermediate_values=dict(enumerate(curve, 1)))
    >>> trials = [run(0, [0.5, 0.4, 0.3], hd.TrialState.COMPLETE)] + [
    ...     run(i, [0.6 - i / 100, 0.5], hd.TrialState.PRUNED) for i in range(1, 4)]
    >>> view, budget = BudgetView(min_observations=3)(hd.History(["minimize"], trials))
    >>> budget.step, budget.n_observations, [t.values for t in view.complete]
    (2, 4, [(0.4,), (0.5,), (0.5,), (0.5,)])
    """

    def __init__(self, *, min_observations: int | None = None, stopped: str = "pruned") -> None:
        self.stopped = check("stopped", stopped, OneOf("pruned", "worst", "last"))
        self.min_observations = check("min_observations", min_observations, Int(low=1), None,
                                      rule="must be an int >= 1 or None (d + 2 for d parameters)")
        self._lock = threading.Lock()
        self._curves: dict[int, _Curve] = {}  # trial number -> curve of that frozen object
        self._views: dict[int, tuple[FrozenTrial, Any, FrozenTrial]] = {}  # number -> (source, key, view)
        self._m = 0

    def n_min(self, history: History) -> int:
        """N_min for this history: `min_observations`, or d + 2 for d parameters."""
        return self.min_observations if self.min_observations is not None else _n_params(history) + 2

    def __call__(self, history: History) -> tuple[History, Budget]:
        n_min = self.n_min(history)
        n_complete = sum(1 for t in history.complete if t.values is not None and len(t.values) == history.n_objectives)
        if not history.with_states(TrialState.PRUNED) or (n_complete >= n_min and self.stopped == "pruned"):
            return history, Budget(None, n_complete, n_min)
        with self._lock:
            return self._build(history, n_min, n_complete)

    def _curve(self, t: FrozenTrial, m: int) -> _Curve:
        c = self._curves.get(t.number)
        if c is None or c.source is not t:
            c = self._curves[t.number] = _Curve(t, m)
        return c

    def _build(self, history: History, n_min: int, n_complete: int) -> tuple[History, Budget]:
        """The view: every used trial at the chosen budget's value (stopped ones as `stopped` says)."""
        m = history.n_objectives
        trials = history.trials
        if m != self._m or len(self._curves) > 2 * len(trials) + 1024:  # another study, or mostly stale
            self._curves.clear()
            self._views.clear()
            self._m = m
        step: int | None = None
        if n_complete < n_min:
            curves = [self._curve(t, m) for t in trials if t.state in _USED]
            step = _largest_budget([c for c in curves if c.steps], n_min)
        if step is None and (self.stopped == "pruned" or n_complete == 0):
            return history, Budget(None, n_complete, n_min)
        values = self._values_at(trials, step, m)
        signs = [history.sign(i) for i in range(m)]
        worst: tuple[float, ...] | None = None
        if self.stopped != "pruned" and values:
            worst = tuple(s * max(s * v[i] for v in values.values()) for i, s in enumerate(signs))
        out: list[FrozenTrial] = []
        for t in trials:
            seen = self._as_seen(t, values.get(t.number), step, worst, signs, m)
            if seen is not None:
                out.append(seen)
        return History(history.directions, out), Budget(step, len(values), n_min)

    def _values_at(self, trials: Sequence[FrozenTrial], step: int | None, m: int) -> dict[int, tuple[float, ...]]:
        """Each used trial's value at `step` (None: the final values of COMPLETE trials)."""
        values: dict[int, tuple[float, ...]] = {}
        for t in trials:
            if t.state not in _USED:
                continue
            if step is None:
                if t.state == TrialState.COMPLETE and t.values is not None and len(t.values) == m:
                    values[t.number] = tuple(t.values)
                continue
            c = self._curves.get(t.number)
            value = c.at(step) if c is not None and c.source is t and c.steps else None
            if value is not None:
                values[t.number] = value
        return values

    def _as_seen(
        self, t: FrozenTrial, value: tuple[float, ...] | None, step: int | None,
        worst: tuple[float, ...] | None, signs: Sequence[float], m: int,
    ) -> FrozenTrial | None:
        """How the model sees trial `t` at the budget (None: left out of the view)."""
        if t.state not in _USED:
            return t
        if value is None:
            if t.state != TrialState.PRUNED:
                return None  # COMPLETE without a report up to this budget: its value is another budget's
            if worst is None:
                return t  # stopped before this budget: evidence against its region
            value = worst  # a pessimistic guess, for models that ignore PRUNED trials
            if self.stopped == "last":  # its own last report, if that is worse still
                c = self._curve(t, m)
                if c.values:
                    own = c.values[-1]
                    value = tuple(s * max(s * w, s * o) for s, w, o in zip(signs, worst, own))
        elif step is None:
            return t
        key = (step, value)
        hit = self._views.get(t.number)
        if hit is not None and hit[0] is t and hit[1] == key:
            return hit[2]
        view = replace(t, state=TrialState.COMPLETE, values=value)
        self._views[t.number] = (t, key, view)
        return view


def _largest_budget(curves: Sequence[_Curve], n_min: int) -> int | None:
    """The largest step at which at least `n_min` of the curves have an observation."""
    if len(curves) < n_min:
        return None
    # A curve observes the steps in [its first usable report, how far it went], less those whose
    # report was unusable; this interval count is an upper bound that rules most candidates out fast.
    firsts = sorted(c.steps[0] for c in curves)
    lasts = sorted(c.last for c in curves)
    candidates = {s for c in curves for s in c.steps} | {int(c.last) for c in curves if math.isfinite(c.last)}
    for b in sorted(candidates, reverse=True):
        if bisect.bisect_right(firsts, b) - bisect.bisect_left(lasts, b) < n_min:
            continue
        if sum(1 for c in curves if c.at(b) is not None) >= n_min:
            return b
    return None


def budget_view(
    history: History, *, min_observations: int | None = None, stopped: str = "pruned"
) -> tuple[History, Budget]:
    """The history as the model should see it: the largest budget with enough observations.

    One-off form of `BudgetView` (which caches between calls); see the module docstring.

    >>> import hyperdial as hd
    >>> h = hd.History(["maximize"], [hd.FrozenTrial(number=i, state=hd.TrialState.PRUNED, params={"x": 0.1 * i},
    ...     distributions={"x": hd.Float(0, 1)}, intermediate_values={1: 0.1 * i, 2: 0.2 * i}) for i in range(4)])
    >>> view, budget = budget_view(h)
    >>> budget
    Budget(step=2, n_observations=4, min_observations=3)
    >>> view.best_trial().number
    3
    """
    return BudgetView(min_observations=min_observations, stopped=stopped)(history)


class MultiFidelity(PicklableLock):
    """Wrap a sampler so it models the largest budget with enough observations (BOHB-style).

    Use it with a pruner: `base` (TPE unless given) sees `BudgetView`'s history:
    while fewer than N_min trials are COMPLETE, the trials observed at the largest
    step with N_min observations appear COMPLETE with their value there; trials
    stopped earlier appear with the worst value seen there (`stopped="worst"`),
    or stay PRUNED (`stopped="pruned"`, BOHB's view, which GP would ignore). A
    share `random_fraction` of the trials (chosen by seed and trial number) is
    sampled at random while a lower budget is modelled, since early steps can
    rank configurations differently from the end. `budgets` records, per trial
    number, the `Budget` its first proposal modelled (the last 10,000).

    Args (keyword-only after `base`):
        base: the sampler that models the view (default: `TPE(seed=seed)`).
        min_observations: N_min; None means d + 2 for d parameters.
        random_fraction: share of trials sampled at random while a lower budget is modelled.
        stopped: "worst" or "pruned": how trials stopped before the modelled budget appear.
        seed: seeds the random share (default: `base.seed`, else a fresh seed).

    >>> import hyperdial as hd
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", -3, 3)
    ...     for step in range(1, 5):
    ...         trial.report((x - 1) ** 2 + 1 / step, step)
    ...         if trial.should_prune():
    ...             raise hd.TrialPruned()
    ...     return (x - 1) ** 2
    >>> study = hd.create_study(sampler=hd.samplers.MultiFidelity(hd.samplers.TPE(seed=0, n_startup_trials=5)),
    ...                         pruner=hd.pruners.ASHA(min_resource=1, max_resource=4))
    >>> study.optimize(objective, n_trials=40, show_progress_bar=False)
    >>> abs(study.best_params["x"] - 1) < 0.5
    True
    """

    def __init__(
        self,
        base: Any = None,
        *,
        min_observations: int | None = None,
        random_fraction: float = 1 / 3,
        stopped: str = "worst",
        seed: int | None = None,
    ) -> None:
        check("base", base, HasMethod("sample"), None, rule="must be a sampler (an object with a `sample` method)")
        check("random_fraction", random_fraction, Real(low=0, high=1))
        if seed is None and base is not None and isinstance(getattr(base, "seed", None), int):
            seed = base.seed
        self.seed = check_seed(seed)
        if base is None:
            from hyperdial.samplers.tpe import TPE

            base = TPE(seed=self.seed)
        self.base = base
        self.random_fraction = float(random_fraction)
        self.view = BudgetView(min_observations=min_observations, stopped=stopped)
        self._random = Random(seed=self.seed)
        self._lock = threading.Lock()
        self.budgets: TrialMemo[Budget] = TrialMemo()

    @property
    def joint_sampling(self) -> bool:
        return _plugins.joint_sampling(self.base)

    def is_random(self, number: int) -> bool:
        """Whether trial `number` belongs to the random share (when a lower budget is modelled)."""
        return trial_uniform(self.seed, number, "multi-fidelity random") < self.random_fraction

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        view, budget = self.view(history)
        with self._lock:
            first = self.budgets.get(trial.number)
            if first is None:
                first = budget
                self.budgets.put(trial.number, budget, history)
        if first.step is not None and self.is_random(trial.number):
            return self._random.sample(history, trial, space)
        return dict(self.base.sample(view, trial, space))

    def explain(self, trial: FrozenTrial) -> dict[str, Any] | None:
        return _plugins.explain(self.base, trial)

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        _plugins.after_trial(self.base, history, trial)

    def __repr__(self) -> str:
        return (
            f"MultiFidelity({self.base!r}, min_observations={self.view.min_observations}, "
            f"random_fraction={self.random_fraction:g}, stopped={self.view.stopped!r}, seed={self.seed})"
        )
