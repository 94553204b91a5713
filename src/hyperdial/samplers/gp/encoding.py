"""The model's columns: one per parameter of the joint space that has more than one value.

Numbers go through `UnitTransform` (log scales linear, integers and stepped floats
owning equal cells), categoricals are one column holding (index + 0.5) / n_choices.
Discrete columns (ints, stepped floats) can be snapped to their values' cell
centres and enumerated, which is what the acquisition optimiser needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.transform import UnitTransform, decode

EXHAUSTIVE = 16  # discrete columns with at most this many values are searched exhaustively
_NEIGHBOUR_STEPS = np.array([-8, -4, -2, -1, 1, 2, 4, 8])


class Column:
    """One model column: 'continuous', 'discrete' or 'categorical'."""

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist
        self.log_int = False
        if isinstance(dist, Categorical):
            self.kind, self.size = "categorical", len(dist.choices)
        elif isinstance(dist, Int):
            self.kind = "discrete"
            self.size = (dist.high - dist.low) // dist.step + 1
            if dist.log:
                self.log_int = True
                self._lo, self._hi = math.log(dist.low - 0.5), math.log(dist.high + 0.5)
        elif isinstance(dist, Float) and dist.step is not None:
            self.kind, self.size = "discrete", int(round((dist.high - dist.low) / dist.step)) + 1
        else:
            self.kind, self.size = "continuous", 0

    def snap(self, u: np.ndarray) -> np.ndarray:
        """The cell centre of the value each u decodes to."""
        if self.kind == "continuous":
            return np.clip(u, 0.0, 1.0)
        if self.log_int:
            assert isinstance(self.dist, Int)
            v = np.clip(np.round(np.exp(self._lo + np.clip(u, 0.0, 1.0) * (self._hi - self._lo))),
                        self.dist.low, self.dist.high)
            return (np.log(v) - self._lo) / (self._hi - self._lo)
        idx = np.clip(np.floor(u * self.size), 0, self.size - 1)
        return (idx + 0.5) / self.size

    def grid(self) -> np.ndarray:
        """All values as unit positions (for categoricals and small discrete columns)."""
        if self.log_int:
            assert isinstance(self.dist, Int)
            v = np.arange(self.dist.low, self.dist.high + 1, dtype=float)
            return (np.log(v) - self._lo) / (self._hi - self._lo)
        return (np.arange(self.size) + 0.5) / self.size

    def alternatives(self, u: np.ndarray) -> np.ndarray:
        """Values to try in a local search from each u (b,): shape (b, k)."""
        if self.kind == "categorical" or self.size <= EXHAUSTIVE:
            return np.broadcast_to(self.grid(), (len(u), self.size))
        if self.log_int:
            assert isinstance(self.dist, Int)
            v = np.round(np.exp(self._lo + u * (self._hi - self._lo)))
            v = np.clip(v[:, None] + _NEIGHBOUR_STEPS, self.dist.low, self.dist.high)
            return (np.log(v) - self._lo) / (self._hi - self._lo)
        idx = np.floor(u * self.size)[:, None] + _NEIGHBOUR_STEPS
        return (np.clip(idx, 0, self.size - 1) + 0.5) / self.size


class Encoding:
    """Parameter dicts <-> model points; parameters with a single value are left out of the model."""

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.space = dict(space)
        self.model_space = {k: d for k, d in self.space.items() if not d.is_single()}
        self.fixed = {k: decode(d, 0.5) for k, d in self.space.items() if d.is_single()}
        self.transform = UnitTransform(self.model_space)
        self.columns = [Column(d) for d in self.model_space.values()]
        self.dim = len(self.columns)
        self.cat_sizes = [c.size if c.kind == "categorical" else 0 for c in self.columns]
        self.continuous = np.array([j for j, c in enumerate(self.columns) if c.kind == "continuous"], dtype=int)
        self.numeric = np.array([j for j, c in enumerate(self.columns) if c.kind != "categorical"], dtype=int)
        self.searched = [j for j, c in enumerate(self.columns) if c.kind != "continuous"]

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        return self.transform.to_unit(params)

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        out = self.transform.from_unit(x)
        out.update(self.fixed)
        return {k: out[k] for k in self.space}

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Snap every discrete and categorical column of points x (b, d) to a value."""
        out = np.clip(x, 0.0, 1.0)
        for j in self.searched:
            out[:, j] = self.columns[j].snap(out[:, j])
        return out
