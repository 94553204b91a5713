"""Conditional search spaces for the GP: one model over the union of the parameters, inactive ones imputed.

A define-by-run objective asks for some parameters only on some branches (`degree` only when
`kernel == "poly"`), so trials have different parameter sets. Instead of modelling only the
parameters every trial has (and drawing the rest at random), the GP models the union:

- Encoding: a parameter a trial does not have is imputed at the value at the centre of its
  range (Levesque et al. 2017, "Bayesian optimization for conditional hyperparameter spaces",
  impute inactive parameters with a constant; with ARD the model learns how much each one
  matters from the trials where it is active).
- Activation rules, learned from the trials: a parameter p is active exactly when some
  categorical parameter c takes one of the choices it took in the trials that have p (c may be
  conditional itself: then c must be active too). If no categorical separates the trials that
  have p from those that do not, p's activation is unknown and it is never imputed.
- The acquisition sees every candidate through the same imputation (`Conditions.project`), so
  the model compares like with like: a candidate with `kernel == "linear"` has `degree` at its
  imputed value, as the linear trials did, whatever value the optimiser put there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hyperdial.history import counts_for
from hyperdial.space import Categorical, Distribution
from hyperdial.transform import decode
from hyperdial.trial import FrozenTrial


def union_space(trials: Sequence[FrozenTrial], joint: Mapping[str, Distribution]) -> dict[str, Distribution]:
    """The joint space, then every other parameter in the order trials first show it.

    A parameter seen with several distributions keeps the one most trials use (ties: the
    latest); trials with another one count as not having it.
    """
    counts: dict[str, dict[Distribution, list[int]]] = {}
    for i, t in enumerate(trials):
        for name, dist in t.distributions.items():
            if name not in joint:
                seen = counts.setdefault(name, {}).setdefault(dist, [0, i])
                seen[0] += 1
                seen[1] = i
    out = dict(joint)
    for name, by_dist in counts.items():
        dist = max(by_dist.items(), key=lambda kv: (kv[1][0], kv[1][1]))[0]
        if not dist.is_single():
            out[name] = dist
    return out


def has(t: FrozenTrial, name: str, dist: Distribution) -> bool:
    # a value asked under a distribution `dist` covers counts too (a space that grows)
    return counts_for(t, name, dist)


def imputed_params(t: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
    """A trial's parameters over `space`, with the centre value for those it does not have."""
    return {name: t.params[name] if has(t, name, dist) else decode(dist, 0.5) for name, dist in space.items()}


class Conditions:
    """Which parameters of the union space are active, given a point's categorical columns.

    `rules[j] = (c, cells)`: column j is active when column c is active and holds one of `cells`
    (choice indices). Columns without a rule are always active.
    """

    def __init__(self, names: Sequence[str], space: Mapping[str, Distribution], trials: Sequence[FrozenTrial],
                 conditional: set[str], centre: np.ndarray) -> None:
        self.names = list(names)
        self.centre = centre  # each column's imputed unit value
        col = {n: j for j, n in enumerate(self.names)}
        self.rules: dict[int, tuple[int, np.ndarray]] = {}
        parents = [n for n in self.names if isinstance(space[n], Categorical)]
        for name in self.names:
            if name not in conditional:
                continue
            dist = space[name]
            on = [has(t, name, dist) for t in trials]
            for parent in parents:
                if parent == name:
                    continue
                pdist = space[parent]
                assert isinstance(pdist, Categorical)
                with_p: set[int] = set()  # the parent's choices (-1: absent) in trials with / without `name`
                without_p: set[int] = set()
                for t, active in zip(trials, on):
                    v = pdist.index(t.params[parent]) if has(t, parent, pdist) else -1
                    (with_p if active else without_p).add(v)
                if -1 not in with_p and not (with_p & without_p):
                    self.rules[col[name]] = (col[parent], np.array(sorted(with_p), dtype=int))
                    break
        self.sizes = {j: len(space[n].choices) for j, n in enumerate(self.names)  # type: ignore[attr-defined]
                      if isinstance(space[n], Categorical)}

    def active(self, x: np.ndarray) -> np.ndarray:
        """(b, d) mask of the columns active at points x (b, d)."""
        out = np.ones(x.shape, dtype=bool)
        done: set[int] = set()

        def resolve(j: int, depth: int = 0) -> np.ndarray:
            if j in done or j not in self.rules or depth > len(self.names):
                return out[:, j]
            parent, cells = self.rules[j]
            parent_on = resolve(parent, depth + 1)
            k = self.sizes[parent]
            choice = np.minimum(np.floor(x[:, parent] * k), k - 1).astype(int)
            out[:, j] = parent_on & np.isin(choice, cells)
            done.add(j)
            return out[:, j]

        for j in self.rules:
            resolve(j)
        return out

    def project(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points with their inactive columns at the imputed value, and the active mask."""
        if not self.rules:
            return x, np.ones(x.shape, dtype=bool)
        on = self.active(x)
        return np.where(on, x, self.centre), on
