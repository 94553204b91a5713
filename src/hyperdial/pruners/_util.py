"""Shared helpers of the pruners: step bookkeeping, direction handling."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.trial import FrozenTrial


def is_check_step(step: int, steps: Iterable[int], n_warmup_steps: int, interval_steps: int) -> bool:
    """Whether `step` (the latest report) is the first report of its pruning interval.

    Pruning checks sit at `n_warmup_steps + j * interval_steps` (the interval is
    counted from the end of the warmup). When a trial skipped that exact step,
    its first report after it takes the check, and later reports in the same
    interval do not (Optuna's `_is_first_in_interval_step`).
    """
    if step < n_warmup_steps:
        return False
    check = (step - n_warmup_steps) // interval_steps * interval_steps + n_warmup_steps
    previous = max((s for s in steps if s < step), default=-1)
    return previous < check


def single_objective(history: History, pruner: Any) -> None:
    """Raise for a multi-objective study (the pruner ranks one value per step)."""
    if history.is_multi_objective:
        raise invalid(
            "pruner",
            "handles one objective; this study has several (use ASHA or Hyperband, which rank "
            "several objectives by non-dominated sorting)",
            type(pruner).__name__,
        )


def as_float(value: Any) -> float:
    """An intermediate value as a float; anything unreadable counts as NaN."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def best_trial(history: History) -> FrozenTrial | None:
    """The best COMPLETE trial (feasible first); ties go to the lowest number.

    Unlike `History.best_trial`, the answer does not depend on the order of
    `history.trials`.
    """
    sign = history.sign()
    best: FrozenTrial | None = None
    for t in history.least_violating():
        assert t.values is not None
        key = (sign * t.values[0], t.number)
        if best is None or key < (sign * best.values[0], best.number):  # type: ignore[index]
            best = t
    return best
