"""Optimisation history (values and the best-so-far line) and the comparison of two studies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperdial.exceptions import invalid
from hyperdial.history import StudyDirection
from hyperdial.trial import FrozenTrial
from hyperdial.visualization._common import (
    best_first,
    best_so_far,
    check_objective,
    check_trials,
    complete_with_value,
    direction_sign,
    directions_of,
    objective_names,
    pick,
)


def _series(trials: Sequence[FrozenTrial], objective: int, direction: StudyDirection,
            max_points: int) -> dict[str, Any]:
    """Points (subsampled: the best trials and every improvement kept) and the exact best-so-far line."""
    done = complete_with_value(trials, objective)
    numbers = [t.number for t in done]
    values = [float(t.values[objective]) for t in done]  # type: ignore[index]
    sign = direction_sign(direction)
    line = best_so_far(numbers, values, sign)
    at = {n: i for i, n in enumerate(numbers)}
    improvements = [at[n] for n in reversed(line["number"])]  # the latest (best) improvement first
    budget_best = max(1, max_points // 5)
    keep = pick(len(done), max_points, must=improvements + best_first(values, sign)[:budget_best])
    return {
        "number": [numbers[i] for i in keep],
        "value": [values[i] for i in keep],
        "best": line,
        "n_points": len(done),
    }


def history(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *, max_points: int,
            objective_names: Sequence[str] | None = None) -> dict[str, Any]:
    """One entry per objective: the COMPLETE trials' values by trial number, and the best so far."""
    names = _names(directions, objective_names)
    objectives = []
    for i, (name, d) in enumerate(zip(names, directions)):
        objectives.append({"name": name, "direction": d.value, **_series(trials, i, d, max_points)})
    return {"kind": "history", "n_trials": len(trials), "objectives": objectives}


def compare(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *, max_points: int,
            other: Any = None, other_directions: Any = None, names: Sequence[str] = ("A", "B"),
            objective: int = 0, objective_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Two studies side by side on one objective: values and best-so-far lines by trial number."""
    if other is None:
        raise invalid("other", "must be the other study's trials for kind 'compare'", other)
    other_trials = check_trials(other)
    other_dirs = directions if other_directions is None else directions_of(other_directions)
    objective = check_objective(objective, directions)
    check_objective(objective, other_dirs)
    if other_dirs[objective] != directions[objective]:
        raise invalid("other_directions", f"must {directions[objective].value} objective {objective} "
                      "like the first study", [d.value for d in other_dirs])
    if isinstance(names, str) or len(names) != 2 or not all(isinstance(n, str) for n in names):
        raise invalid("names", "must be two strings, one per study", names)
    d = directions[objective]
    studies = []
    for name, ts in zip(names, (trials, other_trials)):
        s = _series(ts, objective, d, max_points // 2)
        best = s["best"]["value"][-1] if s["best"]["value"] else None
        studies.append({"name": name, "n_trials": len(ts), "best_value": best, **s})
    return {"kind": "compare", "objective": {"name": _names(directions, objective_names)[objective],
                                             "direction": d.value}, "studies": studies}


def _names(directions: Sequence[StudyDirection], given: Sequence[str] | None) -> list[str]:
    return objective_names(directions, given)
