"""Tree-ensemble presets with each library's own parameter names and defaults.

`random_forest()` represents scikit-learn's `max_depth=None` (grow until leaves are pure) as the
choice `None` of a Categorical, so the library default is itself a candidate and the value can
be passed straight to `RandomForestClassifier(**params)`.

>>> xgboost().defaults["eta"], lightgbm().defaults["num_leaves"], random_forest().defaults["max_depth"]
(0.3, 31, None)
"""

from __future__ import annotations

from hyperdial.presets.base import Preset
from hyperdial.space import Categorical, Float, Int

__all__ = ["lightgbm", "random_forest", "xgboost"]

_XGB = "XGBoost parameter docs (library default {})"
_LGB = "LightGBM parameter docs (library default {})"
_SK = "scikit-learn RandomForestClassifier defaults ({})"


def xgboost() -> Preset:
    """XGBoost (native names): `eta`, `max_depth`, `subsample`, `colsample_bytree`,
    `min_child_weight`, `lambda`, `alpha`, `gamma`.

    >>> xgboost().defaults["max_depth"]
    6
    """
    return Preset(
        name="xgboost",
        version="1",
        space={
            "eta": Float(1e-3, 1.0, log=True),
            "max_depth": Int(1, 12),
            "subsample": Float(0.5, 1.0),
            "colsample_bytree": Float(0.5, 1.0),
            "min_child_weight": Float(1e-1, 100.0, log=True),
            "lambda": Float(1e-3, 100.0, log=True),
            "alpha": Float(0.0, 10.0),
            "gamma": Float(0.0, 10.0),
        },
        defaults={"eta": 0.3, "max_depth": 6, "subsample": 1.0, "colsample_bytree": 1.0, "min_child_weight": 1.0,
                  "lambda": 1.0, "alpha": 0.0, "gamma": 0.0},
        priority=("eta", "max_depth", "min_child_weight", "subsample", "colsample_bytree", "lambda", "alpha",
                  "gamma"),
        sources={
            "eta": _XGB.format("eta=0.3"),
            "max_depth": _XGB.format("max_depth=6"),
            "subsample": _XGB.format("subsample=1"),
            "colsample_bytree": _XGB.format("colsample_bytree=1"),
            "min_child_weight": _XGB.format("min_child_weight=1"),
            "lambda": _XGB.format("lambda=1"),
            "alpha": _XGB.format("alpha=0; linear range since a log scale cannot hold 0"),
            "gamma": _XGB.format("gamma=0; linear range since a log scale cannot hold 0"),
        },
    )


def lightgbm() -> Preset:
    """LightGBM: `learning_rate`, `num_leaves`, `min_child_samples`, `feature_fraction`,
    `bagging_fraction`, `lambda_l1`, `lambda_l2`.

    >>> lightgbm().defaults["learning_rate"]
    0.1
    """
    return Preset(
        name="lightgbm",
        version="1",
        space={
            "learning_rate": Float(1e-3, 0.5, log=True),
            "num_leaves": Int(2, 256, log=True),
            "min_child_samples": Int(5, 100, log=True),
            "feature_fraction": Float(0.4, 1.0),
            "bagging_fraction": Float(0.4, 1.0),
            "lambda_l1": Float(0.0, 10.0),
            "lambda_l2": Float(0.0, 10.0),
        },
        defaults={"learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20, "feature_fraction": 1.0,
                  "bagging_fraction": 1.0, "lambda_l1": 0.0, "lambda_l2": 0.0},
        priority=("learning_rate", "num_leaves", "min_child_samples", "feature_fraction", "bagging_fraction",
                  "lambda_l2", "lambda_l1"),
        sources={
            "learning_rate": _LGB.format("learning_rate=0.1"),
            "num_leaves": _LGB.format("num_leaves=31"),
            "min_child_samples": _LGB.format("min_data_in_leaf=20"),
            "feature_fraction": _LGB.format("feature_fraction=1.0"),
            "bagging_fraction": _LGB.format("bagging_fraction=1.0"),
            "lambda_l1": _LGB.format("lambda_l1=0.0"),
            "lambda_l2": _LGB.format("lambda_l2=0.0"),
        },
    )


def random_forest() -> Preset:
    """scikit-learn random forest: `n_estimators`, `max_features`, `max_depth` (None = unlimited,
    a Categorical choice), `min_samples_leaf`, `min_samples_split`, `bootstrap`.

    >>> random_forest().defaults["max_features"]
    'sqrt'
    """
    return Preset(
        name="random_forest",
        version="1",
        space={
            "n_estimators": Int(50, 1000, log=True),
            "max_features": Categorical(["sqrt", "log2", 0.5, 1.0]),
            "max_depth": Categorical([None, 4, 8, 16, 32]),
            "min_samples_leaf": Int(1, 20, log=True),
            "min_samples_split": Int(2, 20, log=True),
            "bootstrap": Categorical([True, False]),
        },
        defaults={"n_estimators": 100, "max_features": "sqrt", "max_depth": None, "min_samples_leaf": 1,
                  "min_samples_split": 2, "bootstrap": True},
        priority=("max_features", "min_samples_leaf", "max_depth", "n_estimators", "min_samples_split",
                  "bootstrap"),
        sources={
            "n_estimators": _SK.format("n_estimators=100"),
            "max_features": _SK.format("max_features='sqrt'") + "; Probst et al. 2019 (tunability of RF)",
            "max_depth": _SK.format("max_depth=None"),
            "min_samples_leaf": _SK.format("min_samples_leaf=1"),
            "min_samples_split": _SK.format("min_samples_split=2"),
            "bootstrap": _SK.format("bootstrap=True"),
        },
    )
