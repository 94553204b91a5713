"""Prune a trial whose latest intermediate value leaves a fixed band [lower, upper]."""

from __future__ import annotations

import math

from hyperdial._validation import Int, Real, check
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.pruners._util import as_float, is_check_step, single_objective
from hyperdial.trial import FrozenTrial


class Threshold:
    """Stop a trial as soon as its latest value is below `lower`, above `upper` or NaN.

    Useful to kill diverged runs (`Threshold(upper=10.0)` on a loss) whatever the
    other trials do; it needs no history. The bounds are on the raw reported
    values, whatever the study's direction. `n_warmup_steps` and `interval_steps`
    work as in `Median` (checks at `n_warmup_steps + j * interval_steps`, or the
    first report after). Same semantics as Optuna's `ThresholdPruner`.

    >>> import hyperdial as hd
    >>> from hyperdial.testing.pruners import curve
    >>> t = curve(0, [2.0, 15.0], hd.TrialState.RUNNING)
    >>> hd.pruners.Threshold(upper=10.0).should_prune(hd.History(["minimize"], [t]), t)
    True
    """

    def __init__(
        self,
        *,
        lower: float | None = None,
        upper: float | None = None,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
    ) -> None:
        lo = check("lower", lower, Real(), None)
        hi = check("upper", upper, Real(), None)
        if lo is None and hi is None:
            raise invalid("lower", "or `upper` must be given", "lower=None, upper=None")
        self.lower = -math.inf if lo is None else float(lo)
        self.upper = math.inf if hi is None else float(hi)
        if self.lower > self.upper:
            raise invalid("lower", "must be <= `upper`", f"lower={lower!r}, upper={upper!r}")
        self.n_warmup_steps = check("n_warmup_steps", n_warmup_steps, Int(low=0))
        self.interval_steps = check("interval_steps", interval_steps, Int(low=1))

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        single_objective(history, self)
        step = trial.last_step
        if step is None:
            return False
        if not is_check_step(step, trial.intermediate_values, self.n_warmup_steps, self.interval_steps):
            return False
        value = as_float(trial.intermediate_values[step])
        return bool(math.isnan(value) or value < self.lower or value > self.upper)

    def __repr__(self) -> str:
        return (
            f"Threshold(lower={self.lower}, upper={self.upper}, n_warmup_steps={self.n_warmup_steps}, "
            f"interval_steps={self.interval_steps})"
        )
