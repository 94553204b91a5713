"""Who continues whom: the lineage of trials that pause and are continued, read from the history.

A trial continued by `Study.enqueue_successor` has `system_attrs[SUCCESSOR_OF]`; a rerun of a
failed trial has `system_attrs[RETRY_OF]`. Following either link back leads to a root: a trial
that started a configuration from scratch (sampled, or enqueued by the user). Every trial of a
root's line works on the same configuration (a "slot"). Its depth counts successor links only:
a rerun takes its failed trial's place. Duplicates (two processes queued the same successor;
`ask` ended the later one) and trials the scheduler did not admit are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from hyperdial._plugins import NextTrial
from hyperdial.history import History
from hyperdial.pruners._util import as_float
from hyperdial.pruners.asha import value_at
from hyperdial.system_attrs import DUPLICATE_OF, PAUSED, RETRY_COUNT, RETRY_OF, SKIPPED, SUCCESSOR_OF
from hyperdial.trial import FrozenTrial, TrialState


def predecessor(trial: FrozenTrial) -> tuple[int, bool] | None:
    """(number, is a successor link) of the trial this one continues or reruns."""
    of = trial.system_attrs.get(SUCCESSOR_OF)
    if of is not None:
        return int(of), True
    retry = trial.system_attrs.get(RETRY_OF)
    if retry is not None:
        return int(retry), False
    return None


class Lineage:
    """Roots, depths and slots of a set of trials (a running trial may be given in its latest form)."""

    def __init__(self, trials: Iterable[FrozenTrial], latest: FrozenTrial | None = None) -> None:
        self.by_number = {t.number: t for t in trials
                          if DUPLICATE_OF not in t.system_attrs and SKIPPED not in t.system_attrs}
        if latest is not None:
            self.by_number[latest.number] = latest
        self._where: dict[int, tuple[int, int]] = {}  # number -> (root, depth)
        self.roots = sorted(n for n, t in self.by_number.items() if predecessor(t) is None)
        self.index = {root: i for i, root in enumerate(self.roots)}  # a root's rank: the order configs started

    def place(self, trial: FrozenTrial | int) -> tuple[int, int]:
        """(root, depth) of a trial: the configuration it works on, and how many promotions led to it."""
        number = trial if isinstance(trial, int) else trial.number
        found = self._where.get(number)
        if found is not None:
            return found
        chain = []
        root, depth = number, 0
        while True:
            t = self.by_number.get(root)
            link = None if t is None else predecessor(t)
            if link is None:
                break
            chain.append(link[1])
            root = link[0]
        depth = sum(chain)
        self._where[number] = (root, depth)
        return root, depth

    def slots(self, roots: Iterable[int]) -> dict[int, dict[int, FrozenTrial]]:
        """For each root: depth -> its latest attempt (the last rerun) at that depth."""
        wanted = set(roots)
        out: dict[int, dict[int, FrozenTrial]] = {r: {} for r in wanted}
        for n in sorted(self.by_number):
            root, depth = self.place(n)
            if root in wanted:
                out[root][depth] = self.by_number[n]  # numbers grow: a later rerun replaces its trial
        return out

    def has_successor(self, trial: FrozenTrial) -> bool:
        return any(t.system_attrs.get(SUCCESSOR_OF) == trial.number for t in self.by_number.values())


def within_budget(history: History, trial: FrozenTrial, n_configs: int | None) -> bool:
    """`admit` for schedulers with a number of configurations: a new configuration runs if fewer than
    `n_configs` configurations have lower numbers (continuations and reruns always run)."""
    if n_configs is None or predecessor(trial) is not None:
        return True
    lineage = Lineage(history.trials)
    return sum(1 for root in lineage.roots if root < trial.number) < n_configs


def next_trial_within(history: History, n_configs: int | None) -> NextTrial:
    """A scheduler's `next_trial` under `n_configs`: START while configurations may still start or
    promotions are queued; with all `n_configs` started, WAIT while trials run (a pause may
    promote), then DONE."""
    if n_configs is None:
        return NextTrial.START
    states = [t.state for t in history.trials]
    if TrialState.WAITING in states or len(Lineage(history.trials).roots) < n_configs:
        return NextTrial.START
    return NextTrial.WAIT if TrialState.RUNNING in states else NextTrial.DONE


def ended(trial: FrozenTrial, max_retries: int) -> bool:
    """Whether an attempt is over for good: finished, and not a failure about to be rerun."""
    if trial.state == TrialState.FAIL:
        return int(trial.system_attrs.get(RETRY_COUNT, 0)) >= max_retries
    return trial.state.is_finished()


def paused_value(trial: FrozenTrial, history: History) -> float | None:
    """A paused trial's value at the step it paused (signed so lower is better; NaN ranks last),
    or None when the trial is not paused."""
    if trial.state != TrialState.PRUNED or PAUSED not in trial.system_attrs:
        return None
    v = as_float(value_at(trial.intermediate_values, int(trial.system_attrs[PAUSED])))
    return math.inf if math.isnan(v) else history.sign() * v


def top(candidates: list[tuple[float, FrozenTrial]], keep: int) -> list[FrozenTrial]:
    """The `keep` best (lowest signed value; ties to the lowest number, so every process agrees)."""
    return [t for _, t in sorted(candidates, key=lambda c: (c[0], c[1].number))[:keep]]
