"""Asynchronous successive halving (ASHA).

Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt, Recht and Talwalkar, "A System
for Massively Parallel Hyperparameter Tuning", MLSys 2020 (arXiv:1810.05934),
Algorithm 2. With minimum resource r, maximum resource R, reduction factor eta and
minimum early-stopping rate s, rung k sits at resource r * eta^(k + s); a trial in
rung k is promoted to rung k + 1 when it is in the top 1/eta of the trials that
reached rung k. In the paper the top rung, k_max = floor(log_eta(R / r)) - s, is
where trials complete, at resource r * eta^(k_max + s) <= R. Here a trial that is
not stopped runs to the end of its own loop, R, so the top rung is R itself and
every rung below R is a decision point (for R = 52, eta = 3: rungs 1, 3, 9, 27, the
last one saving 25 of 52 epochs per stopped trial). When R is a power of eta times
r, as in the paper's examples, the two coincide. Optuna's SuccessiveHalvingPruner
has no R and checks every rung.

A pruner cannot pause a trial and promote it later, so "promotion" here is decided
once, when the trial reaches the rung: it continues if it is in the top 1/eta of
all the values recorded at that rung so far, by COMPLETE, PRUNED and RUNNING
trials alike (at least the best one continues), and stops for good otherwise.
Every decision uses only the intermediate values in the history, so any number of
workers may ask at any time.

Several objectives: the values at a rung are ordered by non-dominated rank, then
by crowding distance within a rank (NSGA-II, Deb et al. 2002), and the trial
continues if it is in the first 1/eta of that order (hyperdial extension; Optuna
refuses `report` in multi-objective studies, optuna#3450).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from hyperdial._validation import Int, OneOf, check
from hyperdial.history import History
from hyperdial.pareto import crowding_distance, non_dominated_ranks
from hyperdial.pruners._util import as_float
from hyperdial.trial import FrozenTrial, TrialState

# Trials whose values at a rung count: everything that ran, except failures.
COMPETING = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


def check_max_resource(max_resource: Any, min_resource: int) -> int | None:
    value = check("max_resource", max_resource, OneOf("auto"), Int(low=min_resource),
                  rule=f"must be 'auto' or an int >= `min_resource` ({min_resource})")
    return None if value == "auto" else value


def auto_max_resource(history: History) -> int | None:
    """`max_resource="auto"`: the largest last step among COMPLETE trials (None before one completes)."""
    steps = [t.last_step for t in history.complete if t.last_step is not None]
    return max(steps) if steps else None


def value_at(values: Mapping[int, Any], resource: int) -> Any:
    """The value reported at the latest step <= `resource` (None if none)."""
    if resource in values:
        return values[resource]
    steps = [s for s in values if s <= resource]
    return values[max(steps)] if steps else None


class ASHA:
    """Asynchronous successive halving: keep the top `1/reduction_factor` at each rung.

    Rung k sits at step `min_resource * reduction_factor ** (k + min_early_stopping_rate)`.
    When a report first reaches a rung (the previous report was below it), the
    trial's value at the rung (its report at that step, or at the latest step
    before it; with neither, the rung is skipped) is ranked with the values every other COMPLETE, PRUNED or RUNNING
    trial recorded at that rung; the trial continues if fewer than
    `max(1, n // reduction_factor)` of the n values are strictly better, and is
    pruned otherwise. A NaN at the rung prunes. Call `should_prune` after every
    report: a rung is checked on the report that reaches it, not later.

    Resources are in the units of `report`'s step: epochs, samples, seconds. Report
    the resource consumed so far (e.g. `step=epoch + 1`) so rung 0 comes after
    `min_resource` units of training.

    `max_resource`: the resource of a full run. Rungs at or beyond it are not
    checked: a trial that passed the last rung below it runs to the end. `"auto"`
    takes the largest last step among COMPLETE trials; until a trial completes
    there is no cap. `bootstrap_count`: as in Optuna, a trial is pruned at a rung
    where no more than `bootstrap_count` values (its own included) are recorded.

    Multi-objective studies: report one value per objective; the values at a rung
    are ordered by non-dominated rank, then crowding distance, and the first
    `max(1, n // reduction_factor)` continue.

    >>> import hyperdial as hd
    >>> from hyperdial.testing.pruners import curve
    >>> done = [curve(i, [1.0, 0.9 - 0.1 * i, 0.8, 0.7]) for i in range(3)]   # rung 0 at step 1
    >>> late = curve(3, [1.0, 0.85], hd.TrialState.RUNNING)
    >>> hd.pruners.ASHA(reduction_factor=3).should_prune(hd.History(["minimize"], done + [late]), late)
    True
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
        bootstrap_count: int = 0,
    ) -> None:
        self.min_resource = check("min_resource", min_resource, Int(low=1))
        self.max_resource = max_resource
        self._max = check_max_resource(max_resource, self.min_resource)
        self.reduction_factor = check("reduction_factor", reduction_factor, Int(low=2))
        self.min_early_stopping_rate = check("min_early_stopping_rate", min_early_stopping_rate, Int(low=0))
        self.bootstrap_count = check("bootstrap_count", bootstrap_count, Int(low=0))

    def rung_resource(self, rung: int) -> int:
        """The step at which rung `rung` sits: `min_resource * eta ** (rung + s)`."""
        return int(self.min_resource * self.reduction_factor ** (rung + self.min_early_stopping_rate))

    def rungs(self, max_resource: int) -> list[int]:
        """The steps where trials are checked when a full run takes `max_resource`.

        >>> ASHA(min_resource=1, reduction_factor=3).rungs(30), ASHA(reduction_factor=3).rungs(27)
        ([1, 3, 9, 27], [1, 3, 9])
        """
        out = []
        k = 0
        while self.rung_resource(k) < max_resource:
            out.append(self.rung_resource(k))
            k += 1
        return out

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        max_resource = self._max if self._max is not None else auto_max_resource(history)
        return self.decide(history, trial, history.trials, max_resource)

    def decide(
        self, history: History, trial: FrozenTrial, others: Iterable[FrozenTrial], max_resource: int | None
    ) -> bool:
        """The ASHA decision for `trial` against the trials in `others` (Hyperband passes one bracket)."""
        mine = trial.intermediate_values
        if not mine:
            return False
        steps = sorted(mine)
        last = steps[-1]
        previous = steps[-2] if len(steps) > 1 else -1
        competitors: list[FrozenTrial] | None = None
        k = 0
        while True:
            resource = self.rung_resource(k)
            if resource > last:
                return False
            if max_resource is not None and resource >= max_resource:
                return False  # the top rung is a full run
            if previous < resource:  # this report is the first at or past rung k: decide now
                value = value_at(mine, resource)
                if value is not None:
                    if competitors is None:
                        competitors = [t for t in others if t.number != trial.number and t.state in COMPETING]
                    at_rung = [
                        v
                        for t in competitors
                        if t.last_step is not None and t.last_step >= resource
                        for v in [value_at(t.intermediate_values, resource)]
                        if v is not None
                    ]
                    if not self._promotable(history, value, at_rung, trial, competitors, resource):
                        return True
            k += 1

    def _promotable(
        self,
        history: History,
        value: Any,
        at_rung: Sequence[Any],
        trial: FrozenTrial,
        competitors: Sequence[FrozenTrial],
        resource: int,
    ) -> bool:
        n = len(at_rung) + 1
        if n <= self.bootstrap_count:
            return False
        keep = max(1, n // self.reduction_factor)
        if history.is_multi_objective:
            better = _n_better_multi(history, trial, competitors, resource)
        else:
            mine = history.sign() * as_float(value)
            if math.isnan(mine):
                return False
            # NaN values at the rung count in n but are never better.
            better = sum(1 for v in at_rung if history.sign() * as_float(v) < mine)
        return better is not None and better < keep

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_resource={self.min_resource}, max_resource={self.max_resource!r}, "
            f"reduction_factor={self.reduction_factor}, min_early_stopping_rate={self.min_early_stopping_rate}, "
            f"bootstrap_count={self.bootstrap_count})"
        )


def _objectives(history: History, value: Any) -> np.ndarray | None:
    """A multi-objective report as a signed (minimised) vector; None if unreadable or NaN."""
    if not isinstance(value, (list, tuple)) or len(value) != history.n_objectives:
        return None
    y = np.array([history.sign(i) * as_float(v) for i, v in enumerate(value)])
    return None if np.isnan(y).any() else y


def _n_better_multi(
    history: History, trial: FrozenTrial, competitors: Sequence[FrozenTrial], resource: int
) -> int | None:
    """How many values at the rung come before the trial's in (rank, -crowding) order; None prunes."""
    mine = _objectives(history, value_at(trial.intermediate_values, resource))
    if mine is None:
        return None
    points = [(trial.number, mine)]
    for t in competitors:
        if t.last_step is not None and t.last_step >= resource:
            y = _objectives(history, value_at(t.intermediate_values, resource))
            if y is not None:  # NaN or malformed values count in n but are never better
                points.append((t.number, y))
    points.sort(key=lambda p: p[0])  # a canonical order: crowding ties do not depend on history order
    me = next(i for i, (number, _) in enumerate(points) if number == trial.number)
    y = np.array([p[1] for p in points])
    ranks = non_dominated_ranks(y)
    crowd = np.zeros(len(y))
    for r in np.unique(ranks):
        front = ranks == r
        crowd[front] = crowding_distance(y[front])
    before = (ranks < ranks[me]) | ((ranks == ranks[me]) & (crowd > crowd[me]))
    return int(before.sum())
