"""Map a search space to the unit box [0, 1]^d and back.

Every model-based sampler works in the box: log scales become linear, integers
own an equal-width cell each (bounds widened by half a step, so rounding gives
every integer the same probability), and categoricals are either one column per
choice (one-hot, for GP-like models) or a single index column.

>>> import numpy as np
>>> from hyperdial.space import Float, Int
>>> t = UnitTransform({"lr": Float(1e-4, 1e-0, log=True), "n": Int(1, 3)})
>>> p = t.from_unit(np.array([0.5, 0.99]))
>>> round(p["lr"], 9), p["n"]
(0.01, 3)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperdial.space import Categorical, Distribution, Float, Int


def numeric_bounds(dist: Float | Int) -> tuple[float, float]:
    """Bounds in the (possibly log) coordinate that maps linearly to [0, 1]."""
    low, high = float(dist.low), float(dist.high)
    if isinstance(dist, Int):
        low, high = low - 0.5 * dist.step, high + 0.5 * dist.step
        if dist.log:  # log Int has step 1 and low >= 1, so low - 0.5 > 0
            return math.log(low), math.log(high)
        return low, high
    if dist.step is not None:
        low, high = low - 0.5 * dist.step, high + 0.5 * dist.step
    if dist.log:
        return math.log(low), math.log(high)
    return low, high


def round_to_space(dist: Float | Int, value: float) -> float | int:
    """Snap a number to the distribution's grid and clip it into its bounds."""
    if isinstance(dist, Int):
        k = round((value - dist.low) / dist.step)
        v = dist.low + k * dist.step
        return int(min(max(v, dist.low), dist.high))
    if dist.step is not None:
        steps = round((value - dist.low) / dist.step)
        # Rounding to 12 decimals avoids drift such as 0.30000000000000004.
        snapped = float(np.round(dist.low + steps * dist.step, 12))
        return min(max(snapped, dist.low), dist.high)
    return float(min(max(value, dist.low), dist.high))


def decode(dist: Distribution, u: float) -> Any:
    """One parameter's value at position u in [0, 1] of its unit interval."""
    if isinstance(dist, Categorical):
        n = len(dist.choices)
        return dist.choices[min(int(u * n), n - 1)]
    assert isinstance(dist, (Float, Int))
    lo, hi = numeric_bounds(dist)
    v = lo + min(max(float(u), 0.0), 1.0) * (hi - lo)
    return round_to_space(dist, math.exp(v) if dist.log else v)


class UnitTransform:
    """Encode/decode parameter dicts as points of the unit box, in a fixed column order."""

    def __init__(self, space: Mapping[str, Distribution], *, one_hot: bool = False) -> None:
        self.space = dict(space)
        self.names = list(self.space)
        self.one_hot = one_hot
        self.columns: list[tuple[int, int]] = []  # (start, width) per parameter
        width_total = 0
        for dist in self.space.values():
            width = len(dist.choices) if (one_hot and isinstance(dist, Categorical)) else 1
            self.columns.append((width_total, width))
            width_total += width
        self.dim = width_total

    def to_unit(self, params: Mapping[str, Any]) -> np.ndarray:
        x = np.zeros(self.dim)
        for (start, width), (name, dist) in zip(self.columns, self.space.items()):
            value = params[name]
            if isinstance(dist, Categorical):
                idx = dist.index(value)
                if self.one_hot:
                    x[start + idx] = 1.0
                else:
                    x[start] = (idx + 0.5) / len(dist.choices)
            else:
                assert isinstance(dist, (Float, Int))
                lo, hi = numeric_bounds(dist)
                v = math.log(value) if dist.log else float(value)
                x[start] = 0.5 if hi == lo else (v - lo) / (hi - lo)
        return x

    def from_unit(self, x: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for (start, width), (name, dist) in zip(self.columns, self.space.items()):
            if isinstance(dist, Categorical) and self.one_hot:
                out[name] = dist.choices[int(np.argmax(x[start : start + width]))]
            else:
                out[name] = decode(dist, float(x[start]))
        return out
