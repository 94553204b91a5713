"""Prune a trial whose best intermediate value is worse than a percentile of the others'.

The median stopping rule (Golovin et al., "Google Vizier", KDD 2017, section 3.2.2)
is the 50th percentile: stop a trial when its best value so far is worse than the
median of the other trials' values at the same step.
"""

from __future__ import annotations

import math

import numpy as np

from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.pruners.base import check_int
from hyperdial.trial import FrozenTrial


class Percentile:
    """Stop trials in the worst `100 - percentile` % at their current step.

    `n_startup_trials` COMPLETE trials are needed before anything is pruned; steps
    below `n_warmup_steps` never prune; then one decision every `interval_steps`;
    at least `n_min_trials` other trials must have reported the same step.

    >>> import hyperdial as hd
    >>> pruner = hd.pruners.Percentile(25.0, n_startup_trials=5)
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
        if isinstance(percentile, bool) or not isinstance(percentile, (int, float)) or not 0 <= percentile <= 100:
            raise invalid("percentile", "must be a number in [0, 100]", percentile)
        self.percentile = float(percentile)
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, 0)
        self.n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, 0)
        self.interval_steps = check_int("interval_steps", interval_steps, 1)
        self.n_min_trials = check_int("n_min_trials", n_min_trials, 1)

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        if history.is_multi_objective:
            raise invalid(
                "pruner", "handles one objective; this study has several", type(self).__name__
            )
        step = trial.last_step
        if step is None or step < self.n_warmup_steps:
            return False
        if (step - self.n_warmup_steps) % self.interval_steps != 0:
            return False
        complete = history.complete
        if len(complete) < self.n_startup_trials:
            return False
        sign = history.sign()
        mine = [sign * float(v) for v in trial.intermediate_values.values()]
        if any(math.isnan(v) for v in mine):
            return True  # a diverged curve does not come back
        best = min(mine)
        others = [
            sign * float(t.intermediate_values[step])
            for t in complete
            if step in t.intermediate_values and t.number != trial.number
        ]
        others = [v for v in others if not math.isnan(v)]
        if len(others) < self.n_min_trials:
            return False
        return bool(best > np.percentile(others, self.percentile))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(percentile={self.percentile})"


class Median(Percentile):
    """The median stopping rule: `Percentile(50)`; hyperdial's default pruner for now.

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
        return f"Median(n_startup_trials={self.n_startup_trials}, n_warmup_steps={self.n_warmup_steps})"
