"""Parameters against the objective: parallel coordinates, slices, contours, importance."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial.history import History, StudyDirection
from hyperdial.trial import FrozenTrial
from hyperdial.visualization._common import (
    best_first,
    check_objective,
    complete_with_value,
    direction_sign,
    objective_names,
    param_axis,
    param_names,
    pick,
)


def _table(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], params: Sequence[str] | None,
           objective: int, names: Sequence[str] | None) -> tuple[list[FrozenTrial], list[str], dict[str, Any]]:
    objective = check_objective(objective, directions)
    done = complete_with_value(trials, objective)
    chosen = param_names(done, params) if done else []
    d = directions[objective]
    head = {"name": objective_names(directions, names)[objective], "direction": d.value, "index": objective}
    return done, chosen, head


def _points(kind: str, trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *,
            params: Sequence[str] | None, max_points: int, objective: int,
            objective_names: Sequence[str] | None) -> tuple[dict[str, Any], list[FrozenTrial], list[str]]:
    """The COMPLETE trials (best ones kept, the rest evenly spaced) with one axis per parameter."""
    done, chosen, head = _table(trials, directions, params, objective, objective_names)
    values = [float(t.values[head["index"]]) for t in done]  # type: ignore[index]
    sign = direction_sign(directions[head["index"]])
    keep = pick(len(done), max_points, must=best_first(values, sign)[: max(1, max_points // 5)])
    shown = [done[i] for i in keep]
    data = {
        "kind": kind,
        "objective": {**head, "values": [values[i] for i in keep]},
        "number": [t.number for t in shown],
        "params": [param_axis(p, shown) for p in chosen],
        "n_trials": len(done),
    }
    return data, done, chosen


def parallel_coordinate(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *,
                        params: Sequence[str] | None, max_points: int, objective: int = 0,
                        objective_names: Sequence[str] | None = None) -> dict[str, Any]:
    """One line per COMPLETE trial through every parameter's axis and the objective's."""
    return _points("parallel_coordinate", trials, directions, params=params, max_points=max_points,
                   objective=objective, objective_names=objective_names)[0]


def slice_(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *,
           params: Sequence[str] | None, max_points: int, objective: int = 0,
           objective_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The objective against each parameter, one panel per parameter."""
    return _points("slice", trials, directions, params=params, max_points=max_points,
                   objective=objective, objective_names=objective_names)[0]


def _bins(axis: dict[str, Any], n_bins: int) -> tuple[list[float], np.ndarray]:
    """Bin centres (in data units) and each trial's bin index (-1 where the trial lacks the parameter)."""
    vals = axis["values"]
    if axis["type"] == "categorical":
        centres = [float(i) for i in range(len(axis["choices"]))]
        return centres, np.array([-1 if v is None else v for v in vals], dtype=int)
    low, high, log = axis["low"], axis["high"], axis["log"]
    if low is None:
        return [], np.full(len(vals), -1, dtype=int)
    f = (lambda x: math.log10(x)) if log else (lambda x: x)
    lo, hi = f(low), f(high)
    if axis["type"] == "int" and not log and high - low + 1 <= n_bins:  # one bin per integer
        centres = [float(low + i) for i in range(int(high - low) + 1)]
        return centres, np.array([-1 if v is None else int(v - low) for v in vals], dtype=int)
    if hi == lo:
        return [float(low)], np.array([-1 if v is None else 0 for v in vals], dtype=int)
    width = (hi - lo) / n_bins
    centres = [lo + (i + 0.5) * width for i in range(n_bins)]
    centres = [10 ** c for c in centres] if log else centres
    idx = [-1 if v is None else min(n_bins - 1, int((f(v) - lo) / width)) for v in vals]
    return centres, np.array(idx, dtype=int)


def _grid(ax: dict[str, Any], ay: dict[str, Any], z: np.ndarray, sign: float, n_bins: int) -> dict[str, Any]:
    """The best objective value in each cell of a grid over two parameters (None where no trial fell)."""
    cx, ix = _bins(ax, n_bins)
    cy, iy = _bins(ay, n_bins)
    best = np.full((len(cy), len(cx)), np.inf)
    ok = (ix >= 0) & (iy >= 0)
    np.minimum.at(best, (iy[ok], ix[ok]), sign * z[ok])
    cells = [[None if not math.isfinite(v) else float(sign * v) for v in row] for row in best]
    return {"x": cx, "y": cy, "z": cells}


def contour(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *,
            params: Sequence[str] | None, max_points: int, objective: int = 0, grid: int = 20,
            objective_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Each pair of parameters: the trials as points, and the best value per grid cell over *all*
    trials (aggregated, so 100,000 trials give the same small grid)."""
    grid = int(rules.check("grid", grid, rules.Int(low=2, high=200)))
    data, done, chosen = _points("contour", trials, directions, params=params, max_points=max_points,
                                 objective=objective, objective_names=objective_names)
    i = data["objective"]["index"]
    z = np.array([float(t.values[i]) for t in done])  # type: ignore[index]
    sign = direction_sign(directions[i])
    full = {p: param_axis(p, done) for p in chosen}
    data["pairs"] = [{"x": a, "y": b, "grid": _grid(full[a], full[b], z, sign, grid)}
                     for a, b in itertools.combinations(chosen, 2)]
    return data


def importance(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *,
               params: Sequence[str] | None, max_points: int, method: str = "ped-anova", objective: int = 0,
               objective_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Parameter importances from `hyperdial.importance` (shares summing to 1, most important first);
    an empty list and a `message` when there are fewer than two COMPLETE trials."""
    from hyperdial.importance import METHODS, NotEnoughTrials, evaluate

    rules.check("method", method, rules.OneOf(*METHODS))
    done, chosen, head = _table(trials, directions, params, objective, objective_names)
    i, sign = head["index"], direction_sign(directions[head["index"]])
    message = None
    shares: dict[str, float] = {}
    try:
        shares = evaluate(History(directions, done), method=method, params=chosen or None,
                          target=lambda t: sign * float(t.values[i]))  # type: ignore[index]
    except NotEnoughTrials as exc:
        message = str(exc)
    return {"kind": "importance", "method": method, "objective": head, "n_trials": len(done),
            "importances": [{"name": k, "share": float(v)} for k, v in shares.items()], "message": message}
