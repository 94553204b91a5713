"""Hyperband: several brackets of successive halving with different early-stopping rates.

Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar, "Hyperband: A Novel
Bandit-Based Approach to Hyperparameter Optimization", JMLR 18(185), 2018,
Algorithm 1; run asynchronously with ASHA in each bracket (Li et al., MLSys 2020,
section 3.3). With s_max = floor(log_eta(R / r)) there are s_max + 1 brackets;
bracket b runs ASHA with minimum early-stopping rate b (its first rung at
r * eta^b), so bracket 0 prunes hardest and bracket s_max trains everything fully
(when R = r * eta^s_max; otherwise it checks once, at r * eta^s_max < R).
Algorithm 1 gives bracket s = s_max - b a budget of n = ceil((s_max + 1) / (s + 1)
* eta^s) configurations; trials are dealt to brackets in those proportions.
"""

from __future__ import annotations

import math
from functools import lru_cache

from hyperdial._validation import Int, check
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.pruners.asha import ASHA, auto_max_resource, check_max_resource
from hyperdial.trial import FrozenTrial


@lru_cache(maxsize=64)
def _schedule(budgets: tuple[int, ...]) -> tuple[int, ...]:
    """One cycle of brackets, each b appearing budgets[b] times, spread out evenly.

    Smooth weighted round robin: every turn each bracket gains its budget, the
    richest is picked and pays the total. Over one cycle of sum(budgets) turns each
    bracket is picked exactly budgets[b] times, and never in long runs.
    """
    total = sum(budgets)
    credit = [0] * len(budgets)
    out = []
    for _ in range(total):
        credit = [c + w for c, w in zip(credit, budgets)]
        pick = max(range(len(budgets)), key=lambda b: (credit[b], -b))
        credit[pick] -= total
        out.append(pick)
    return tuple(out)


class Hyperband:
    """Hyperband over ASHA brackets; each trial belongs to one bracket, fixed by its number.

    Trial number m goes to bracket `bracket_of(m)`: position m modulo one cycle of
    a deterministic schedule in which bracket b appears `budgets()[b]` times
    (Hyperband's n_i per bracket, Li et al. 2018, Algorithm 1). Any worker computes
    the same bracket, and a sampler can use `bracket_of` to model each bracket
    apart. Within a bracket the trial is pruned by ASHA (see `ASHA`) against the
    trials of the same bracket only.

    Resources are in `report`'s step units. `max_resource="auto"`: the largest
    last step among COMPLETE trials; until one completes there are no brackets and
    nothing is pruned. With an int `max_resource`, brackets are known up front.

    >>> import hyperdial as hd
    >>> hb = hd.pruners.Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
    >>> hb.n_brackets(), hb.budgets()
    (4, [27, 12, 6, 4])
    >>> [hb.bracket_of(m) for m in range(8)]
    [0, 1, 0, 2, 0, 3, 0, 1]
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
        bootstrap_count: int = 0,
    ) -> None:
        self.min_resource = check("min_resource", min_resource, Int(low=1))
        self.max_resource = max_resource
        self._max = check_max_resource(max_resource, self.min_resource)
        self.reduction_factor = check("reduction_factor", reduction_factor, Int(low=2))
        self.bootstrap_count = check("bootstrap_count", bootstrap_count, Int(low=0))
        self._brackets: dict[int, ASHA] = {}

    def _resolve(self, history: History | None) -> int | None:
        if self._max is not None:
            return self._max
        if history is None:
            raise invalid("history", "is needed with max_resource='auto' (brackets depend on the trials)", None)
        return auto_max_resource(history)

    def n_brackets(self, history: History | None = None) -> int:
        """s_max + 1, with s_max the largest s such that min_resource * eta^s <= max_resource (0 if unknown)."""
        max_resource = self._resolve(history)
        if max_resource is None:
            return 0
        s_max = 0
        while self.min_resource * self.reduction_factor ** (s_max + 1) <= max_resource:
            s_max += 1
        return s_max + 1

    def budgets(self, history: History | None = None) -> list[int]:
        """Trials per cycle for each bracket b: ceil(n_brackets / (s + 1) * eta^s) with s = n_brackets - 1 - b."""
        n = self.n_brackets(history)
        return [math.ceil(n * self.reduction_factor ** (n - 1 - b) / (n - b)) for b in range(n)]

    def bracket_of(self, trial_number: int, history: History | None = None) -> int:
        """The bracket of trial `trial_number` (0: prunes hardest). `history` is needed with max_resource='auto'."""
        trial_number = check("trial_number", trial_number, Int(low=0))
        budgets = self.budgets(history)
        if not budgets:
            return 0
        schedule = _schedule(tuple(budgets))
        return schedule[trial_number % len(schedule)]

    def _bracket(self, b: int) -> ASHA:
        asha = self._brackets.get(b)
        if asha is None:  # a benign race: two threads may build equal objects
            asha = ASHA(
                min_resource=self.min_resource,
                max_resource="auto",
                reduction_factor=self.reduction_factor,
                min_early_stopping_rate=b,
                bootstrap_count=self.bootstrap_count,
            )
            self._brackets[b] = asha
        return asha

    def same_bracket(self, history: History, trial_number: int) -> list[FrozenTrial] | None:
        """The trials of `history` in the bracket of trial `trial_number` (None while brackets are unknown).

        `should_prune` ranks a trial against these only; `samplers.PerBracket` models them only.
        """
        found = self._members(history, trial_number)
        return None if found is None else found[1]

    def _members(self, history: History, trial_number: int) -> tuple[int, list[FrozenTrial]] | None:
        budgets = self.budgets(history)
        if not budgets:
            return None
        schedule = _schedule(tuple(budgets))
        b = schedule[trial_number % len(schedule)]
        return b, [t for t in history.trials if schedule[t.number % len(schedule)] == b]

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        max_resource = self._resolve(history)
        if max_resource is None or not trial.intermediate_values:
            return False
        found = self._members(history, trial.number)
        if found is None:
            return False
        b, same = found
        return self._bracket(b).decide(history, trial, same, max_resource)

    def __repr__(self) -> str:
        return (
            f"Hyperband(min_resource={self.min_resource}, max_resource={self.max_resource!r}, "
            f"reduction_factor={self.reduction_factor}, bootstrap_count={self.bootstrap_count})"
        )
