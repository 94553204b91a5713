"""A conditional objective shared by the TPE and GP tests (imported by module name, like executor_objectives)."""

from __future__ import annotations

import math
from typing import Any


def svc_like(t: Any) -> float:
    """SVC-like: `degree` and `coef0` exist only for the poly kernel, `gamma` only for rbf.

    The optimum is poly with degree 3, coef0 0.7, C 10 (value -1).
    """
    kernel = t.suggest_categorical("kernel", ["linear", "poly", "rbf"])
    c = t.suggest_float("C", 1e-3, 1e3, log=True)
    base = (math.log10(c) - 1) ** 2 / 4
    if kernel == "poly":
        degree = t.suggest_int("degree", 2, 6)
        coef0 = t.suggest_float("coef0", 0.0, 1.0)
        return base + (degree - 3) ** 2 / 8 + 2 * (coef0 - 0.7) ** 2 - 1.0
    if kernel == "rbf":
        return base + (math.log10(t.suggest_float("gamma", 1e-4, 1.0, log=True)) + 2) ** 2 / 4
    return base + 0.5
