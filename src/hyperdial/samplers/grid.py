"""Exhaustive search over explicit values per parameter."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hyperdial.exceptions import InvalidParameterError, invalid
from hyperdial.history import History
from hyperdial.samplers._memo import TrialMemo
from hyperdial.samplers.base import PicklableLock, check_seed
from hyperdial.space import Categorical, Distribution, choice_key
from hyperdial.system_attrs import FIXED_PARAMS
from hyperdial.trial import FrozenTrial, TrialState


class Grid(PicklableLock):
    """Try every combination of the given values once, then the study stops.

    Parallel-safe: trial number k takes grid point k of a seeded permutation, and
    trial numbers are unique across processes, so workers never pick the same
    point; only when a point is already taken (enqueued trials, reruns) does a
    trial fall back to the first free point it sees.

    >>> import hyperdial as hd
    >>> study = hd.create_study(sampler=hd.samplers.Grid({"x": [0, 1, 2], "y": ["a", "b"]}))
    >>> study.optimize(lambda t: t.suggest_int("x", 0, 2) + len(t.suggest_categorical("y", ["a", "b"])),
    ...                show_progress_bar=False)
    >>> len(study.trials)
    6
    """

    joint_sampling = True

    def __init__(self, search_space: Mapping[str, Sequence[Any]], *, seed: int | None = 0, shuffle: bool = True) -> None:
        if not isinstance(search_space, Mapping) or not search_space:
            raise invalid("search_space", "must be a non-empty dict of name -> list of values", search_space)
        self.space: dict[str, tuple[Any, ...]] = {}
        for name, values in sorted(search_space.items()):
            try:
                Categorical(values)  # same rules: non-empty, hashable scalars, no repeats
            except InvalidParameterError as exc:
                raise InvalidParameterError(f"{exc} for grid parameter {name!r}") from None
            self.space[name] = tuple(values)
        self.names = list(self.space)
        self.points = list(itertools.product(*self.space.values()))
        self._index = {tuple(choice_key(v) for v in p): i for i, p in enumerate(self.points)}
        self.seed = check_seed(seed)
        n = len(self.points)
        self.order = np.random.default_rng(self.seed).permutation(n) if shuffle else np.arange(n)
        self._assigned: TrialMemo[int] = TrialMemo()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.points)

    def _point_of(self, trial: FrozenTrial) -> int | None:
        params = {**trial.system_attrs.get(FIXED_PARAMS, {}), **trial.params}
        if not all(n in params for n in self.names):
            return None
        return self._index.get(tuple(choice_key(params[n]) for n in self.names))

    def _taken(self, history: History, exclude: int) -> set[int]:
        out = set()
        for t in history.trials:
            if t.number != exclude:
                p = self._point_of(t)
                if p is not None:
                    out.add(p)
        return out

    def _assign(self, history: History, trial: FrozenTrial) -> int:
        with self._lock:
            known = self._assigned.get(trial.number)
            if known is not None:
                return known
            mine = self._point_of(trial)  # an enqueued trial may already name a point
            if mine is None:
                taken = self._taken(history, trial.number)
                n = len(self.points)
                start = trial.number % n
                mine = next(
                    (int(self.order[(start + k) % n]) for k in range(n) if int(self.order[(start + k) % n]) not in taken),
                    int(self.order[start]),
                )
            self._assigned.put(trial.number, mine, history)
            return mine

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        point = self.points[self._assign(history, trial)]
        # The joint space holds the earlier trials' distributions: a grid that grew past them (a new
        # value) leaves that parameter to the objective's own request, checked against what it asks.
        joint = len(space) > 1 and dict(space) == history.joint_space()
        out = {}
        for name, dist in space.items():
            if name not in self.space:
                raise InvalidParameterError(
                    f"parameter {name!r} is not in the grid; the grid has {self.names}"
                )
            value = point[self.names.index(name)]
            if not dist.contains(value):
                if joint:
                    continue
                raise InvalidParameterError(f"grid value {value!r} for {name!r} is outside {dist!r}")
            out[name] = value
        return out

    def is_exhausted(self, history: History) -> bool:
        """True once every grid point belongs to some trial (finished or running), counting each
        running trial that has no point yet as one more point taken: it will get a free one (a
        driver asks for the next trial before the last one's objective has suggested anything)."""
        taken = set()
        pending = 0
        for t in history.trials:
            if t.state == TrialState.WAITING:
                continue
            p = self._point_of(t)
            if p is not None:
                taken.add(p)
            elif t.state == TrialState.RUNNING:
                pending += 1
        return len(taken) + pending >= len(self.points)

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        with self._lock:
            self._assigned.pop(trial.number)

    def __repr__(self) -> str:
        return f"Grid({len(self.points)} points, seed={self.seed})"
