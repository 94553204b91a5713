"""Kernel-method presets: `svm()` with scikit-learn `SVC` names.

>>> svm().defaults["C"]
1.0
"""

from __future__ import annotations

from hyperdial import _validation as rules
from hyperdial.presets.base import Preset
from hyperdial.space import Categorical, Float

__all__ = ["svm"]


def svm(*, n_features: int | None = None) -> Preset:
    """RBF support vector machine: `C` and `gamma` on log scales, and `class_weight`.

    scikit-learn's default `gamma="scale"` is 1 / (n_features * X.var()): it depends on the data,
    so the space is a plain log Float (no string choice) and the default is 1 / n_features (the
    "scale" value for standardised features) when `n_features` is given, else 0.1 (10 features).

    >>> svm(n_features=20).defaults["gamma"]
    0.05
    """
    rules.check("n_features", n_features, rules.Int(low=1), None)
    gamma = 1.0 / n_features if n_features is not None else 0.1
    gamma_space = Float(min(1e-5, gamma), max(10.0, gamma), log=True)
    return Preset(
        name="svm",
        version="1",
        space={
            "C": Float(1e-3, 1e3, log=True),
            "gamma": gamma_space,
            "class_weight": Categorical([None, "balanced"]),
        },
        defaults={"C": 1.0, "gamma": gamma, "class_weight": None},
        priority=("C", "gamma", "class_weight"),
        sources={
            "C": "scikit-learn SVC default C=1.0; log grid from Hsu, Chang & Lin, 'A Practical Guide to SVC'",
            "gamma": "scikit-learn SVC gamma='scale' = 1/(n_features * X.var()); log grid from Hsu, Chang & Lin",
            "class_weight": "scikit-learn SVC default class_weight=None",
        },
    )
