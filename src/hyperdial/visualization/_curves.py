"""Intermediate values: one learning curve per trial, pruned trials marked where they stopped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperdial.history import StudyDirection
from hyperdial.trial import FrozenTrial, TrialState
from hyperdial.visualization._common import best_first, direction_sign, finite


def intermediate(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *,
                 max_points: int) -> dict[str, Any]:
    """Every trial that reported: its steps and values (non-finite values as None) and its state.

    Subsampling picks whole curves until `max_points` points are drawn: the best COMPLETE trials
    first (a fifth of the budget), then curves evenly spread over the rest; a curve longer than
    the whole budget is thinned to evenly spaced steps, its last step kept.
    """
    reported = [t for t in trials if t.intermediate_values]
    sign = direction_sign(directions[0])
    finals = [float(t.values[0]) if (t.state == TrialState.COMPLETE and t.values and finite(t.values[0]) is not None)
              else float("inf") * sign for t in reported]
    order = best_first(finals, sign)
    n_best = max(1, len(reported) // 5) if len(directions) == 1 else 0
    priority = order[:n_best]
    first = set(priority)
    rest = [i for i in range(len(reported)) if i not in first]
    chosen: list[int] = []
    used = 0
    for i in priority:
        if used >= max_points // 5:
            break
        chosen.append(i)
        used += len(reported[i].intermediate_values)
    # then evenly over the others, with a stride that fits what is left of the budget
    if rest:
        mean = sum(len(reported[i].intermediate_values) for i in rest) / len(rest)
        room = max(1, int((max_points - used) // max(mean, 1.0)))
        stride = max(1.0, len(rest) / room)
        k = 0.0
        while int(k) < len(rest) and used < max_points:
            i = rest[int(k)]
            chosen.append(i)
            used += len(reported[i].intermediate_values)
            k += stride
    curves = [_curve(reported[i], max_points) for i in sorted(chosen)]
    states: dict[str, int] = {}
    for t in reported:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    return {"kind": "intermediate", "direction": directions[0].value, "curves": curves,
            "n_trials": len(reported), "n_by_state": states}


def _curve(t: FrozenTrial, max_points: int) -> dict[str, Any]:
    steps = sorted(t.intermediate_values)
    if len(steps) > max_points:
        stride = len(steps) / (max_points - 1)
        steps = sorted({steps[int(j * stride)] for j in range(max_points - 1)} | {steps[-1]})
    return {"number": t.number, "state": t.state.name, "step": [int(s) for s in steps],
            "value": [finite(t.intermediate_values[s]) for s in steps]}
