"""Prune a trial whose best intermediate value is worse than a percentile of the others'.

The median stopping rule (Golovin et al., "Google Vizier: A Service for Black-Box
Optimization", KDD 2017, section 3.2.2) is the 50th percentile: stop a trial when
its best value so far is worse than the median of the COMPLETE trials' values at
the same step.
"""

from __future__ import annotations

import math

import numpy as np

from hyperdial._validation import Int, Real, check
from hyperdial.history import History
from hyperdial.pruners._util import as_float, is_check_step, single_objective
from hyperdial.trial import FrozenTrial


class Percentile:
    """Stop trials whose best value so far is in the worst `100 - percentile` % at their step.

    The trial's best intermediate value so far is compared with the `percentile`-th
    percentile of the values that COMPLETE trials reported at the same step
    (`Percentile(25.0)` keeps the best quarter). The rules, as in Optuna's
    `PercentilePruner`:

    - nothing is pruned until `n_startup_trials` trials are COMPLETE;
    - steps below `n_warmup_steps` never prune (the earliest check is at
      `step == n_warmup_steps`);
    - then one check every `interval_steps`, counted from the warmup: checks sit
      at steps `n_warmup_steps + j * interval_steps`; if the trial did not report
      that exact step, its first report after it takes the check;
    - at least `n_min_trials` COMPLETE trials must have reported the step.

    A NaN at the current (checked) step prunes: a diverged curve does not come back.

    >>> import hyperdial as hd
    >>> from hyperdial.testing.pruners import curve
    >>> done = [curve(i, [1.0, 0.8, 0.6 + 0.01 * i]) for i in range(5)]
    >>> slow = curve(5, [1.0, 0.9], hd.TrialState.RUNNING)
    >>> hd.pruners.Percentile(25.0, n_startup_trials=5).should_prune(hd.History(["minimize"], done + [slow]), slow)
    True
    """

    def __init__(
        self,
        percentile: float,
        *,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        n_min_trials: int = 1,
    ) -> None:
        self.percentile = float(check("percentile", percentile, Real(low=0, high=100)))
        self.n_startup_trials = check("n_startup_trials", n_startup_trials, Int(low=0))
        self.n_warmup_steps = check("n_warmup_steps", n_warmup_steps, Int(low=0))
        self.interval_steps = check("interval_steps", interval_steps, Int(low=1))
        self.n_min_trials = check("n_min_trials", n_min_trials, Int(low=1))

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        single_objective(history, self)
        step = trial.last_step
        if step is None:
            return False
        if not is_check_step(step, trial.intermediate_values, self.n_warmup_steps, self.interval_steps):
            return False
        complete = history.complete
        if not complete or len(complete) < self.n_startup_trials:
            return False
        sign = history.sign()
        if math.isnan(as_float(trial.intermediate_values[step])):
            return True
        mine = [sign * v for v in map(as_float, trial.intermediate_values.values()) if not math.isnan(v)]
        best = min(mine)
        others = [
            sign * as_float(t.intermediate_values[step])
            for t in complete
            if step in t.intermediate_values and t.number != trial.number
        ]
        others = [v for v in others if not math.isnan(v)]
        if not others or len(others) < self.n_min_trials:
            return False
        return bool(best > np.percentile(others, self.percentile))

    def _args(self) -> str:
        return (
            f"n_startup_trials={self.n_startup_trials}, n_warmup_steps={self.n_warmup_steps}, "
            f"interval_steps={self.interval_steps}, n_min_trials={self.n_min_trials}"
        )

    def __repr__(self) -> str:
        return f"Percentile({self.percentile}, {self._args()})"


class Median(Percentile):
    """The median stopping rule, `Percentile(50)` (the study's default pruner is `ASHA`).

    Same rules as `Percentile` (and Optuna's `MedianPruner`): `n_startup_trials`
    COMPLETE trials first, no pruning before `n_warmup_steps`, one check every
    `interval_steps` counted from the warmup, `n_min_trials` values at the step.

    >>> import hyperdial as hd
    >>> study = hd.create_study(pruner=hd.pruners.Median(n_startup_trials=3, n_warmup_steps=2))
    """

    def __init__(
        self, *, n_startup_trials: int = 5, n_warmup_steps: int = 0, interval_steps: int = 1, n_min_trials: int = 1
    ) -> None:
        super().__init__(
            50.0,
            n_startup_trials=n_startup_trials,
            n_warmup_steps=n_warmup_steps,
            interval_steps=interval_steps,
            n_min_trials=n_min_trials,
        )

    def __repr__(self) -> str:
        return f"Median({self._args()})"
