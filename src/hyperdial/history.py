"""`History`: the read-only view of a study that samplers and pruners receive.

Plugins never see the `Study` or the storage, only directions and frozen trials,
so tests build a History from a list of `FrozenTrial`s.

>>> import hyperdial as hd
>>> t = hd.FrozenTrial(number=0, state=hd.TrialState.COMPLETE, values=(1.0,),
...                    params={"x": 0.5}, distributions={"x": hd.Float(0, 1)})
>>> h = History(("minimize",), [t])
>>> h.joint_space()
{'x': Float(low=0.0, high=1.0, log=False, step=None)}
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from hyperdial.exceptions import invalid
from hyperdial.space import Distribution, covers
from hyperdial.trial import FrozenTrial, TrialState


class StudyDirection(str, enum.Enum):
    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


def parse_directions(direction: Any, directions: Any) -> tuple[StudyDirection, ...]:
    """Validate `direction=` / `directions=` into a tuple of StudyDirection."""
    if direction is not None and directions is not None:
        raise invalid("direction", "cannot be given together with `directions`", direction)
    raw = [direction if direction is not None else "minimize"] if directions is None else directions
    if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
        raise invalid("directions", "must be a list such as ['minimize', 'maximize']", raw)
    raw = list(raw)
    if not raw:
        raise invalid("directions", "must not be empty", raw)
    out = []
    for d in raw:
        try:
            out.append(StudyDirection(d.value if isinstance(d, StudyDirection) else str(d).lower()))
        except ValueError:
            raise invalid("direction", "must be 'minimize' or 'maximize'", d) from None
    return tuple(out)


def intersect_space(
    current: dict[str, Distribution] | None, trial: FrozenTrial
) -> dict[str, Distribution]:
    """One step of the joint-space fold: keep the parameters every trial so far shares.

    A space may grow (docs/design-notes.md, "A space that grows"): a parameter whose range was
    widened, or that gained choices, stays with the grown distribution (every earlier value lies
    inside it); one asked with a narrower or another kind of distribution leaves.
    """
    if current is None:
        return dict(trial.distributions)
    out = {}
    for k, d in current.items():
        own = trial.distributions.get(k)
        if own is None:
            continue
        if own == d or covers(d, own):
            out[k] = d
        elif covers(own, d):
            out[k] = own
    return out


def counts_for(trial: FrozenTrial, name: str, dist: Distribution) -> bool:
    """Whether `trial`'s value of `name` can be modelled under `dist`: asked with that distribution,
    or with one `dist` covers (the space grew since), so the value lies inside."""
    own = trial.distributions.get(name)
    return own is not None and (own is dist or own == dist or covers(dist, own))


class History:
    """Directions plus trials (all states, ordered by number); never mutated."""

    __slots__ = ("_complete", "_joint", "_loader", "_trials", "directions")

    def __init__(
        self,
        directions: Sequence[str | StudyDirection],
        trials: Iterable[FrozenTrial],
        *,
        joint_space: dict[str, Distribution] | None = None,
    ) -> None:
        self.directions = tuple(StudyDirection(getattr(d, "value", d)) for d in directions)
        self._trials: tuple[FrozenTrial, ...] | None = tuple(trials)
        self._loader: Callable[[], tuple[tuple[FrozenTrial, ...], dict[str, Distribution]]] | None = None
        self._joint = joint_space
        self._complete: tuple[FrozenTrial, ...] | None = None

    @classmethod
    def lazy(
        cls,
        directions: Sequence[str | StudyDirection],
        loader: Callable[[], tuple[tuple[FrozenTrial, ...], dict[str, Distribution]]],
    ) -> History:
        """A History whose trials are fetched on first use (samplers that never look cost nothing)."""
        h = cls(directions, ())
        h._trials = None
        h._loader = loader
        return h

    @property
    def trials(self) -> tuple[FrozenTrial, ...]:
        """Finished trials in number order, then unfinished ones in number order."""
        if self._trials is None:
            assert self._loader is not None
            self._trials, self._joint = self._loader()
            self._loader = None
        return self._trials

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    @property
    def is_multi_objective(self) -> bool:
        return len(self.directions) > 1

    def sign(self, objective: int = 0) -> float:
        """+1 to minimise, -1 to maximise: multiply values by this to always minimise."""
        return 1.0 if self.directions[objective] == StudyDirection.MINIMIZE else -1.0

    def with_states(self, *states: TrialState) -> tuple[FrozenTrial, ...]:
        return tuple(t for t in self.trials if t.state in states)

    @property
    def complete(self) -> tuple[FrozenTrial, ...]:
        if self._complete is None:
            self._complete = self.with_states(TrialState.COMPLETE)
        return self._complete

    @property
    def running(self) -> tuple[FrozenTrial, ...]:
        return self.with_states(TrialState.RUNNING)

    def joint_space(self) -> dict[str, Distribution]:
        """Parameters with the same distribution in every COMPLETE trial (empty if none)."""
        if self._trials is None:
            self.trials  # noqa: B018 - the loader also computes the joint space
        if self._joint is None:
            space: dict[str, Distribution] | None = None
            for t in self.complete:
                space = intersect_space(space, t)
            self._joint = space or {}
        return dict(self._joint)

    def best_trial(self) -> FrozenTrial | None:
        """Best COMPLETE trial of a single-objective study (None when there is none)."""
        if self.is_multi_objective:
            raise invalid("directions", "has several objectives; use `pareto_front()`", list(self.directions))
        best: FrozenTrial | None = None
        s = self.sign()
        for t in self.least_violating():
            assert t.values is not None
            if best is None or s * t.values[0] < s * best.values[0]:  # type: ignore[index]
                best = t
        return best

    def least_violating(self) -> tuple[FrozenTrial, ...]:
        """COMPLETE trials that are feasible; if none is, those with the smallest violation."""
        complete = self.complete
        if not complete:
            return ()
        feasible = tuple(t for t in complete if t.feasible)
        if feasible:
            return feasible
        least = min(t.violation for t in complete)
        return tuple(t for t in complete if t.violation == least)

    def pareto_front(self) -> list[FrozenTrial]:
        """Non-dominated COMPLETE trials (feasible ones first, see `least_violating`), by number."""
        return pareto_front(self.least_violating(), self.directions)


def pareto_front(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection]) -> list[FrozenTrial]:
    if not trials:
        return []
    signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in directions])
    y = np.array([t.values for t in trials], dtype=float) * signs
    # Sort lexicographically so a point can only be dominated by one earlier in the order.
    order = np.lexsort(y.T[::-1])
    keep: list[int] = []
    front = np.empty((0, y.shape[1]))
    for i in order:
        p = y[i]
        dominated = np.any(np.all(front <= p, axis=1) & np.any(front < p, axis=1)) if len(front) else False
        if not dominated:
            keep.append(int(i))
            front = np.vstack([front, p])
    return sorted((trials[i] for i in keep), key=lambda t: t.number)
