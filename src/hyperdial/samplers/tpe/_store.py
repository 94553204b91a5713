"""The TPE sampler's in-memory cache of observations.

Finished trials never change, so each is read once: its number, state, values,
constraint violation and last intermediate value go into growing arrays (one
row per trial, in the order the sampler first saw them), and its parameters are
encoded into the unit box once per search space (`Block`). A suggestion then
costs a few array gathers instead of a pass over Python objects.

Rows are keyed by the identity of the FrozenTrial objects (the study's trial
cache hands out the same objects every time), and the finished prefix of the
last history is reused when the next history starts with the same objects, so
the per-suggestion Python work is proportional to what changed.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hyperdial.history import History
from hyperdial.samplers.tpe.encoding import Dim, Layout
from hyperdial.samplers.tpe.parzen import TruncationCache
from hyperdial.samplers.tpe.split import COMPLETE, OTHER, PRUNED
from hyperdial.space import Distribution
from hyperdial.trial import FrozenTrial, TrialState

_STATE = {TrialState.COMPLETE: COMPLETE, TrialState.PRUNED: PRUNED}
_MISSING = object()


def _grow(a: np.ndarray, n: int) -> np.ndarray:
    if len(a) >= n:
        return a
    out = np.empty((max(n, 2 * len(a), 64), *a.shape[1:]), dtype=a.dtype)
    out[: len(a)] = a
    return out


def usable(params: Mapping[str, Any], dists: Mapping[str, Distribution], dims: Sequence[Dim]) -> bool:
    """Whether a trial's parameters can be encoded in these dims (same distribution, or a value inside it)."""
    for d in dims:
        v = params.get(d.name, _MISSING)
        if v is _MISSING:
            return False
        own = dists.get(d.name)
        if own is not d.dist and own != d.dist and not d.dist.contains(v):
            return False
    return True


class Block:
    """Box encodings, cells and kernel features (`Layout.features`) of the store's rows for one space.

    Rows of trials that lack a parameter (or are not COMPLETE/PRUNED) are marked invalid.
    """

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.layout = Layout(space)
        d = len(self.layout.dims)
        self.u = np.empty((0, d))
        self.cells = np.empty((0, d), dtype=np.int64)
        self.features = np.empty((0, len(self.layout.cont) + self.layout.n_features))
        self.truncation = TruncationCache(len(self.layout.cont))
        self.valid = np.empty(0, dtype=bool)
        self.filled = 0

    def update(self, trials: Sequence[FrozenTrial]) -> None:
        n, start = len(trials), self.filled
        if start == n:
            return
        self.u, self.cells, self.valid = _grow(self.u, n), _grow(self.cells, n), _grow(self.valid, n)
        self.features = _grow(self.features, n)
        dims = self.layout.dims
        for i in range(start, n):
            t = trials[i]
            ok = t.state in _STATE and usable(t.params, t.distributions, dims)
            self.valid[i] = ok
            if ok:
                self.u[i], self.cells[i] = self.layout.encode(t.params)
            else:
                self.u[i], self.cells[i] = 0.5, 0
        self.features[start:n] = self.layout.features(self.u[start:n], self.cells[start:n])
        self.filled = n


class Store:
    """Finished trials seen so far, as arrays; `view` maps a History onto the rows."""

    def __init__(self) -> None:
        self.reset(1)

    def reset(self, n_objectives: int) -> None:
        self.m = n_objectives
        self.trials: list[FrozenTrial] = []
        self.row_of: dict[int, int] = {}  # id(FrozenTrial) -> row; the list above keeps the ids alive
        self.number = np.empty(0, dtype=np.int64)
        self.state = np.empty(0, dtype=np.int8)
        self.values = np.empty((0, n_objectives))
        self.violation = np.empty(0)
        self.last_step = np.empty(0)
        self.last_value = np.empty(0)
        self.blocks: dict[tuple[tuple[str, Distribution], ...], Block] = {}
        self.groups: dict[tuple[str, Distribution], tuple[int, dict[str, Distribution] | None]] = {}
        self._last: tuple[FrozenTrial, ...] = ()
        self._last_rows = np.empty(0, dtype=np.int64)
        self._last_prefix = 0

    def _add(self, t: FrozenTrial) -> int:
        i = len(self.trials)
        self.trials.append(t)
        self.row_of[id(t)] = i
        n = i + 1
        self.number, self.state = _grow(self.number, n), _grow(self.state, n)
        self.values, self.violation = _grow(self.values, n), _grow(self.violation, n)
        self.last_step, self.last_value = _grow(self.last_step, n), _grow(self.last_value, n)
        self.number[i] = t.number
        self.state[i] = _STATE.get(t.state, OTHER)
        vals = t.values if t.values is not None and len(t.values) == self.m else (math.nan,) * self.m
        self.values[i] = vals
        self.violation[i] = t.violation
        if t.intermediate_values:
            step = max(t.intermediate_values)
            self.last_step[i] = step
            try:
                self.last_value[i] = float(t.intermediate_values[step])
            except (TypeError, ValueError):
                self.last_value[i] = math.nan
        else:
            self.last_step[i] = -math.inf  # no report: after every pruned trial that reported
            self.last_value[i] = math.nan
        return i

    def view(self, history: History, current: int) -> tuple[np.ndarray, list[FrozenTrial]]:
        """Rows of the history's finished trials, and its RUNNING trials other than `current`."""
        trials = history.trials
        if history.n_objectives != self.m or len(self.trials) > 2 * len(trials) + 1024:
            self.reset(history.n_objectives)  # another study, or mostly stale rows
        p = self._last_prefix
        if p and len(trials) >= p and all(map(operator.is_, trials[:p], self._last[:p])):
            head = self._last_rows[:p]  # unchanged finished prefix (the common, sequential case)
        else:
            p = 0
            head = np.empty(0, dtype=np.int64)
        get = self.row_of.get
        tail = [get(id(t), -1) for t in trials[p:]]
        running: list[FrozenTrial] = []
        for k, r in enumerate(tail):
            if r < 0:
                t = trials[p + k]
                if t.state.is_finished():
                    tail[k] = self._add(t)
                elif t.state == TrialState.RUNNING and t.number != current:
                    running.append(t)
        rows = np.concatenate([head, np.asarray(tail, dtype=np.int64)])
        unfinished = np.flatnonzero(rows < 0)
        self._last, self._last_rows = trials, rows
        self._last_prefix = int(unfinished[0]) if len(unfinished) else len(rows)
        return rows[rows >= 0], running

    def block(self, space: Mapping[str, Distribution]) -> Block:
        key = tuple(space.items())
        b = self.blocks.get(key)
        if b is None:
            b = self.blocks[key] = Block(space)
        b.update(self.trials)
        return b

    def companions(self, name: str, dist: Distribution) -> dict[str, Distribution]:
        """Parameters present, with one distribution, in every COMPLETE/PRUNED trial that has `name`.

        These form `name`'s group (Optuna's group decomposition): a conditional branch
        such as kernel == "poly" -> {degree, coef0} is sampled jointly.
        """
        done, common = self.groups.get((name, dist), (0, None))
        for t in self.trials[done:]:
            if t.state in _STATE and t.distributions.get(name) == dist:
                own = t.distributions
                common = dict(own) if common is None else {k: v for k, v in common.items() if own.get(k) == v}
        self.groups[(name, dist)] = (len(self.trials), common)
        return dict(common or {})
