"""Give a trial some patience: let another pruner act only once the trial has stalled.

The early-stopping rule of Prechelt ("Early Stopping - But When?", Neural
Networks: Tricks of the Trade, 1998; Keras' `EarlyStopping(patience=...)`),
combined with a pruner that compares trials, as in Optuna's `PatientPruner`.
"""

from __future__ import annotations

import math
from typing import Any

from hyperdial._validation import Int, Real, check
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.pruners._util import as_float, single_objective
from hyperdial.trial import FrozenTrial


class Patience:
    """Prune only when the trial has not improved for `patience` reports AND `wrapped` says prune.

    The reports are taken in step order. The last `patience + 1` of them form the
    window; the trial has stalled when no value in the window beats the best value
    before it by more than `min_delta` (in the study's direction). So `patience`
    reports without improvement are tolerated, and from the next one on the
    wrapped pruner decides (`wrapped=None`: prune then). A trial with no more than
    `patience + 1` reports is never pruned.

    Differences from Optuna's `PatientPruner`: an improvement must be larger than
    `min_delta` (Keras' convention; Optuna instead tolerates a worsening up to
    `min_delta`), and a value equal to the best so far is no improvement.

    >>> import hyperdial as hd
    >>> from hyperdial.testing.pruners import curve
    >>> stalled = curve(0, [1.0, 0.5, 0.6, 0.7, 0.6], hd.TrialState.RUNNING)
    >>> history = hd.History(["minimize"], [stalled])
    >>> hd.pruners.Patience(None, patience=2).should_prune(history, stalled)
    True
    >>> hd.pruners.Patience(hd.pruners.Nop(), patience=2).should_prune(history, stalled)
    False
    """

    def __init__(self, wrapped: Any = None, *, patience: int, min_delta: float = 0.0) -> None:
        if wrapped is not None and not callable(getattr(wrapped, "should_prune", None)):
            raise invalid("wrapped", "must be a pruner (with should_prune(history, trial)) or None", wrapped)
        self.wrapped = wrapped
        self.patience = check("patience", patience, Int(low=0))
        self.min_delta = float(check("min_delta", min_delta, Real(low=0, finite=True)))

    def stalled(self, history: History, trial: FrozenTrial) -> bool:
        """Whether the last `patience + 1` reports brought no improvement."""
        single_objective(history, self)
        steps = sorted(trial.intermediate_values)
        if len(steps) <= self.patience + 1:
            return False
        sign = history.sign()
        values = [sign * as_float(trial.intermediate_values[s]) for s in steps]
        split = len(values) - self.patience - 1
        before = [v for v in values[:split] if not math.isnan(v)]
        after = [v for v in values[split:] if not math.isnan(v)]
        if not after:
            return True  # only NaN lately: nothing improved
        if not before:
            return False  # the first finite values are an improvement
        return not min(after) < min(before) - self.min_delta

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        if not self.stalled(history, trial):
            return False
        return True if self.wrapped is None else bool(self.wrapped.should_prune(history, trial))

    def __repr__(self) -> str:
        return f"Patience({self.wrapped!r}, patience={self.patience}, min_delta={self.min_delta})"
