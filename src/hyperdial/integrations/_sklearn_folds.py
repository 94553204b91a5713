"""One fit-and-score on one cross-validation split, as scikit-learn's search estimators do it.

`SearchCV` evaluates a trial fold by fold (so that it can report after each fold and stop a
pruned trial), which scikit-learn's own `_fit_and_score` (private, and evaluating one fold per
call from a joblib batch) does not offer. The semantics follow it: the estimator is cloned and
given the trial's parameters, fit on the training part, scored on the test part; a failed fit
scores `error_score` (or raises with `error_score="raise"`); a scorer that fails scores
`error_score` with a warning; sample-aligned fit parameters are split with the data; a pairwise
estimator (a precomputed kernel) gets the kernel rows and columns of its samples.
"""

from __future__ import annotations

import numbers
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing, get_tags

Scores = dict[str, float]


@dataclass
class FoldResult:
    """What one split gave: scores per metric name ("score" for a single metric), times, failure."""

    test: Scores
    train: Scores | None
    fit_time: float
    score_time: float
    multimetric: bool
    fit_error: str | None = None


@dataclass
class TrialFolds:
    """The folds one trial evaluated so far (index -> result); the rest were pruned away."""

    params: dict[str, Any]
    n_splits: int
    folds: dict[int, FoldResult] = field(default_factory=dict)


def n_samples(x: Any) -> int | None:
    """The number of samples of an array-like, None for a scalar or an object without length."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else None
    if isinstance(x, (str, bytes, Mapping)) or not hasattr(x, "__len__"):
        return None
    return len(x)


def split_params(params: Mapping[str, Any], n: int, indices: np.ndarray) -> dict[str, Any]:
    """Fit parameters with one entry per sample (`sample_weight`...) indexed like the data."""
    return {k: _safe_indexing(v, indices) if v is not None and n_samples(v) == n else v for k, v in params.items()}


def safe_split(estimator: Any, X: Any, y: Any, indices: np.ndarray, train: np.ndarray | None = None) -> tuple[Any, Any]:
    """Rows `indices` of X and y; for a pairwise estimator, the kernel block against `train`."""
    if get_tags(estimator).input_tags.pairwise:
        if not hasattr(X, "shape"):
            raise ValueError("Precomputed kernels or affinity matrices have to be passed as arrays or sparse matrices.")
        if X.shape[0] != X.shape[1]:
            raise ValueError("X should be a square kernel matrix")
        columns = indices if train is None else train
        X_part = X[np.ix_(indices, columns)]
    else:
        X_part = _safe_indexing(X, indices)
    return X_part, None if y is None else _safe_indexing(y, indices)


def _as_scores(value: Any) -> tuple[Scores, bool]:
    """A scorer's result as name -> float ("score" for a single number), and whether it was a dict."""
    multi = isinstance(value, Mapping)
    raw = {str(k): v for k, v in value.items()} if multi else {"score": value}
    out: Scores = {}
    for name, v in raw.items():
        if hasattr(v, "item"):
            v = v.item()
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            # ValueError, as scikit-learn raises for a scorer that returns a non-number
            raise ValueError(f"scoring must return a number, got {v!r} ({type(v)}) instead. (scorer={name})")  # noqa: TRY004
        out[name] = float(v)
    return out, multi


def score(scorer: Any, estimator: Any, X: Any, y: Any, error_score: Any) -> tuple[Scores, bool]:
    """Call the scorer (a callable, or a dict name -> scorer); a failing one scores `error_score`."""
    scorers = scorer if isinstance(scorer, Mapping) else {"score": scorer}
    out: Scores = {}
    multi = isinstance(scorer, Mapping)
    for name, one in scorers.items():
        try:
            value = one(estimator, X) if y is None else one(estimator, X, y)
        except Exception:
            if error_score == "raise":
                raise
            warnings.warn(
                f"Scoring failed. The score on this train-test partition for these parameters will be set to "
                f"{error_score}. Details: \n{traceback.format_exc()}",
                UserWarning,
                stacklevel=2,
            )
            out[name] = float(error_score)
            continue
        got, got_multi = _as_scores(value)
        if isinstance(scorer, Mapping):
            if got_multi:
                raise ValueError(f"scorer {name!r} must return a number, got a dict")
            out[name] = got["score"]
        else:
            out.update(got)
            multi = got_multi
    return out, multi


def fit_and_score(
    base: Any,
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    train: np.ndarray,
    test: np.ndarray,
    *,
    scorer: Any,
    fit_params: Mapping[str, Any],
    error_score: Any,
    return_train_score: bool,
    error_names: Sequence[str] | None,
) -> FoldResult:
    """Fit a clone of `base` with `params` on `train`, score it on `test` (and `train` if asked).

    `error_names`: the metric names to fill with `error_score` when the fit fails (None: "score").
    """
    estimator = clone(base).set_params(**clone(dict(params), safe=False))
    X_train, y_train = safe_split(estimator, X, y, train)
    X_test, y_test = safe_split(estimator, X, y, test, train)
    n = n_samples(X)
    fit_kwargs = split_params(fit_params, n, train) if n is not None else dict(fit_params)
    start = time.perf_counter()
    try:
        if y_train is None:
            estimator.fit(X_train, **fit_kwargs)
        else:
            estimator.fit(X_train, y_train, **fit_kwargs)
    except Exception:
        if error_score == "raise":
            raise
        fit_time = time.perf_counter() - start
        names = list(error_names) if error_names else ["score"]
        filled = {name: float(error_score) for name in names}
        return FoldResult(test=filled, train=dict(filled) if return_train_score else None, fit_time=fit_time,
                          score_time=0.0, multimetric=bool(error_names), fit_error=traceback.format_exc())
    fit_time = time.perf_counter() - start
    test_scores, multi = score(scorer, estimator, X_test, y_test, error_score)
    score_time = time.perf_counter() - start - fit_time
    train_scores = score(scorer, estimator, X_train, y_train, error_score)[0] if return_train_score else None
    return FoldResult(test=test_scores, train=train_scores, fit_time=fit_time, score_time=score_time,
                      multimetric=multi)
