"""What every kind of plot data shares: objectives, parameter axes, deterministic subsampling.

Everything returned is plain JSON: numbers are finite floats or None (NaN and infinities become
None), datetimes are ISO 8601 strings, categorical choices keep their JSON value and gain a
display label. Nothing here formats text for a renderer: escaping is the renderers' job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.history import StudyDirection, parse_directions
from hyperdial.space import Categorical, Distribution, choice_key
from hyperdial.trial import FrozenTrial, TrialState


def finite(x: Any) -> float | None:
    """`x` as a float, or None when missing or not finite (JSON has no NaN)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def directions_of(directions: Any) -> tuple[StudyDirection, ...]:
    """Directions as given by a study (`study.directions`) or by hand (["minimize", ...])."""
    if isinstance(directions, (str, StudyDirection)):
        directions = [directions]
    return parse_directions(None, directions)


def check_trials(trials: Any) -> list[FrozenTrial]:
    """The trials as a list ordered by number; an error naming `trials` for anything else."""
    if isinstance(trials, (str, bytes)) or not isinstance(trials, Iterable):
        raise invalid("trials", "must be a sequence of FrozenTrial", type(trials).__name__)
    out = list(trials)
    for t in out:
        if not isinstance(t, FrozenTrial):
            raise invalid("trials", "must hold only FrozenTrial objects", type(t).__name__)
    return sorted(out, key=lambda t: t.number)


def objective_names(directions: Sequence[StudyDirection], names: Sequence[str] | None) -> list[str]:
    if names is None:
        return ["value"] if len(directions) == 1 else [f"objective {i}" for i in range(len(directions))]
    if isinstance(names, str) or len(names) != len(directions) or not all(isinstance(n, str) for n in names):
        raise invalid("objective_names", f"must be {len(directions)} strings, one per objective", names)
    return list(names)


def check_objective(objective: Any, directions: Sequence[StudyDirection]) -> int:
    return int(rules.check("objective", objective, rules.Int(low=0, high=len(directions) - 1)))


def check_max_points(max_points: Any) -> int:
    return int(rules.check("max_points", max_points, rules.Int(low=10)))


def complete_with_value(trials: Sequence[FrozenTrial], objective: int) -> list[FrozenTrial]:
    """COMPLETE trials with a finite value for `objective`."""
    return [
        t for t in trials
        if t.state == TrialState.COMPLETE and t.values is not None and len(t.values) > objective
        and finite(t.values[objective]) is not None
    ]


def best_so_far(numbers: Sequence[int], values: Sequence[float], sign: float) -> dict[str, list[Any]]:
    """The best-so-far line, exact and small: one point per improvement, plus the last trial.

    `sign` is +1 to minimise, -1 to maximise. Drawn as a step line ("hv": the value holds
    until the next improvement), it is the same line as one point per trial.
    """
    xs: list[int] = []
    ys: list[float] = []
    best = math.inf
    for n, v in zip(numbers, values):
        if sign * v < best:
            best = sign * v
            xs.append(int(n))
            ys.append(float(v))
    if xs and numbers[-1] != xs[-1]:
        xs.append(int(numbers[-1]))
        ys.append(ys[-1])
    return {"number": xs, "value": ys}


def pick(n: int, budget: int, must: Iterable[int] = ()) -> list[int]:
    """At most `budget` indices of `range(n)`, sorted: all of `must` first (in its order, up to the
    budget), the rest evenly spaced over what is left. Deterministic: the same input, the same points.

    >>> pick(10, 4, must=[7])
    [0, 4, 7, 9]
    >>> pick(3, 10)
    [0, 1, 2]
    """
    if n <= budget:
        return list(range(n))
    chosen: dict[int, None] = {}
    for i in must:
        if len(chosen) >= budget:
            break
        chosen[int(i)] = None
    rest = np.setdiff1d(np.arange(n), np.fromiter(chosen, dtype=int, count=len(chosen)))
    room = budget - len(chosen)
    if room > 0 and len(rest):
        idx = np.unique(np.round(np.linspace(0, len(rest) - 1, num=min(room, len(rest)))).astype(int))
        chosen.update(dict.fromkeys(int(i) for i in rest[idx]))
    return sorted(chosen)


def best_first(values: Sequence[float], sign: float) -> list[int]:
    """Indices ordered best value first (ties by position): what subsampling keeps first."""
    return [int(i) for i in np.argsort(sign * np.asarray(values, dtype=float), kind="stable")]


def label_of(choice: Any, strings_quoted: bool = False) -> str:
    """How a categorical choice reads on an axis: strings as they are, others as Python writes them."""
    if isinstance(choice, str):
        return repr(choice) if strings_quoted else choice
    return repr(choice)


def _choices(dists: Sequence[Distribution]) -> list[Any]:
    seen: dict[Any, Any] = {}
    for d in dists:
        if isinstance(d, Categorical):
            for c in d.choices:
                seen.setdefault(choice_key(c), c)
    return list(seen.values())


def param_names(trials: Sequence[FrozenTrial], params: Sequence[str] | None) -> list[str]:
    """`params` checked against the trials' parameters, or all of them in first-seen order."""
    seen: dict[str, None] = {}
    for t in trials:
        seen.update(dict.fromkeys(t.params))
    if params is None:
        return list(seen)
    if isinstance(params, (str, bytes)) or not all(isinstance(p, str) for p in params):
        raise invalid("params", "must be a list of parameter names", params)
    unknown = [p for p in params if p not in seen]
    if unknown:
        raise invalid("params", f"must name parameters of the trials ({sorted(seen)})", unknown)
    return list(dict.fromkeys(params))


def param_axis(name: str, trials: Sequence[FrozenTrial]) -> dict[str, Any]:
    """One parameter over `trials`: its kind, scale and range, and one value per trial.

    The value is None where the trial lacks the parameter (conditional spaces). Categorical
    values are indices into `choices` (their JSON values) and `labels` (how they read); the
    range of a numeric parameter spans every distribution it was asked with (a grown space).
    """
    dists = [t.distributions[name] for t in trials if name in t.distributions]
    if dists and all(isinstance(d, Categorical) for d in dists):
        choices = _choices(dists)
        index = {choice_key(c): i for i, c in enumerate(choices)}
        labels = [label_of(c) for c in choices]
        if len(set(labels)) < len(labels):  # "1" and 1 both present: quote the strings
            labels = [label_of(c, strings_quoted=True) for c in choices]
        values: list[Any] = [
            index.get(choice_key(t.params[name])) if name in t.params else None for t in trials
        ]
        return {"name": name, "type": "categorical", "log": False, "choices": [_json_choice(c) for c in choices],
                "labels": labels, "values": values}
    numeric = [d for d in dists if not isinstance(d, Categorical)]
    log = bool(getattr(numeric[-1], "log", False)) if numeric else False
    kind = "int" if numeric and all(d.kind == "int" for d in numeric) else "float"
    vals = [finite(t.params[name]) if name in t.params else None for t in trials]
    present = [v for v in vals if v is not None]
    lows = [finite(getattr(d, "low", None)) for d in numeric] + present
    highs = [finite(getattr(d, "high", None)) for d in numeric] + present
    low = min((v for v in lows if v is not None), default=None)
    high = max((v for v in highs if v is not None), default=None)
    if log and (low is None or low <= 0):
        log = False  # a log axis needs positive numbers; a mixed history falls back to linear
    out_vals: list[Any] = [int(v) if (v is not None and kind == "int") else v for v in vals]
    return {"name": name, "type": kind, "log": log, "low": low, "high": high, "values": out_vals}


def _json_choice(c: Any) -> Any:
    return finite(c) if isinstance(c, float) else c


def objective_axis(trials: Sequence[FrozenTrial], objective: int, name: str,
                   direction: StudyDirection) -> dict[str, Any]:
    return {"name": name, "direction": direction.value,
            "values": [finite(t.values[objective]) if t.values else None for t in trials]}


def direction_sign(direction: StudyDirection) -> float:
    return 1.0 if direction == StudyDirection.MINIMIZE else -1.0


def iso(dt: Any) -> str | None:
    return None if dt is None else dt.isoformat()
