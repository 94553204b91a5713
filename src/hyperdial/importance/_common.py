"""What every importance method shares: which trials count, the target values, the parameters."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hyperdial.exceptions import HyperdialError, invalid
from hyperdial.history import History
from hyperdial.space import Distribution
from hyperdial.trial import FrozenTrial

Target = Callable[[FrozenTrial], float]


class NotEnoughTrials(HyperdialError, ValueError):
    """Importance needs at least two COMPLETE trials with a finite target."""


def as_history(history_or_study: Any) -> History:
    """A `History` as is, or a `Study`'s through its public `history()`."""
    if isinstance(history_or_study, History):
        return history_or_study
    history = getattr(history_or_study, "history", None)
    if callable(history):
        h = history()
        if isinstance(h, History):
            return h
    raise invalid("history_or_study", "must be a hyperdial History or Study", history_or_study)


def scored_trials(history: History, target: Target | None) -> tuple[list[FrozenTrial], np.ndarray]:
    """COMPLETE trials with a finite target, and that target as a loss (lower is better).

    Without `target` the loss is the objective times `history.sign()` (so maximised values are
    negated); a multi-objective history needs `target`, whose values are taken as given.
    """
    if target is None and history.is_multi_objective:
        raise invalid(
            "target",
            f"is required with {history.n_objectives} objectives; e.g. target=lambda t: t.values[0]",
            None,
        )
    if target is not None and not callable(target):
        raise invalid("target", "must be a function of a FrozenTrial returning a number, or None", target)
    trials: list[FrozenTrial] = []
    losses: list[float] = []
    for t in history.complete:
        if target is None:
            assert t.values is not None
            y = history.sign() * float(t.values[0])
        else:
            y = float(target(t))
        if math.isfinite(y):
            trials.append(t)
            losses.append(y)
    if len(trials) < 2:
        raise NotEnoughTrials(
            f"parameter importance needs at least 2 COMPLETE trials with a finite target, got {len(trials)}"
        )
    return trials, np.asarray(losses, dtype=float)


def resolve_params(trials: Sequence[FrozenTrial], params: Sequence[str] | None) -> list[str]:
    """`params` checked against the parameters the trials hold, or all of them (in first-seen order)."""
    seen: dict[str, None] = {}
    for t in trials:
        seen.update(dict.fromkeys(t.params))
    if params is None:
        return list(seen)
    if isinstance(params, (str, bytes)) or not all(isinstance(p, str) for p in params):
        raise invalid("params", "must be a list of parameter names", params)
    unknown = [p for p in params if p not in seen]
    if unknown:
        raise invalid("params", f"must name parameters of the COMPLETE trials ({sorted(seen)})", unknown)
    return list(dict.fromkeys(params))


def latest_distribution(trials: Sequence[FrozenTrial], name: str) -> Distribution:
    """The distribution of `name` in the last trial that has it (the space may have changed)."""
    for t in reversed(trials):
        if name in t.distributions:
            return t.distributions[name]
    raise KeyError(name)  # pragma: no cover - callers pass names from resolve_params


def normalised(raw: dict[str, float]) -> dict[str, float]:
    """Shares summing to 1, most important first (ties by name); all zeros stay zeros."""
    total = sum(raw.values())
    shares = {k: (v / total if total > 0 else 0.0) for k, v in raw.items()}
    return dict(sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])))
