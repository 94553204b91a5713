"""`cv_results_` in scikit-learn's layout, built from the trials of one `SearchCV.fit`.

One row per trial, in trial-number order: COMPLETE, PRUNED and FAIL trials alike.

- `split{i}_test_<metric>` is the score on fold i, NaN for a fold a pruned trial never ran.
- `mean_test_<metric>` / `std_test_<metric>` are over all `n_splits` folds, so a pruned trial's
  are NaN: a mean over the folds it ran would compare it unfairly with full cross-validations
  (it was stopped *because* its first folds looked bad, or after lucky ones). NaN ranks last in
  `rank_test_<metric>`, tied with failed fits, exactly as scikit-learn ranks a failed candidate.
- `mean_fit_time` / `mean_score_time` (and std) are over the folds that ran.
- Three keys scikit-learn does not have: `state` ("COMPLETE", "PRUNED" or "FAIL"),
  `n_splits_evaluated` and `trial_number` (the trial in `study_`).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.ma import MaskedArray
from scipy.stats import rankdata

from hyperdial.integrations._sklearn_folds import TrialFolds


def _masked_params(candidates: Sequence[dict[str, Any]]) -> dict[str, MaskedArray]:
    """One masked array per parameter name, masked where a candidate lacks it (as scikit-learn does)."""
    by_name: dict[str, dict[int, Any]] = defaultdict(dict)
    for i, params in enumerate(candidates):
        for name, value in params.items():
            by_name[f"param_{name}"][i] = value
    out = {}
    for key, values in by_name.items():
        try:
            arr = np.array(list(values.values()))
            dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else np.dtype(object)
        except ValueError:
            dtype = np.dtype(object)
        masked = MaskedArray(np.empty(len(candidates), dtype=dtype), mask=True)
        for i, value in values.items():
            masked[i] = value
        out[key] = masked
    return out


def _rank(means: np.ndarray) -> np.ndarray:
    """Rank 1 = best; NaN (failed or pruned) ties with the worst, as in scikit-learn."""
    if np.isnan(means).all():
        return np.ones(len(means), dtype=np.int32)
    filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    return np.asarray(rankdata(-filled, method="min"), dtype=np.int32)


def _mean_std_over_ran(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row means and (population) standard deviations over the non-NaN entries (NaN for none)."""
    ran = ~np.isnan(table)
    count = ran.sum(axis=1)
    filled = np.where(ran, table, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / count
        var = np.where(ran, (table - mean[:, None]) ** 2, 0.0).sum(axis=1) / count
    return mean, np.sqrt(var)


def format_results(
    trials: Sequence[tuple[int, str, TrialFolds]],
    metrics: Sequence[str],
    n_splits: int,
    return_train_score: bool,
) -> dict[str, Any]:
    """`cv_results_` for `trials` = (trial number, state name, folds), in that order."""
    n = len(trials)
    results: dict[str, Any] = {}

    def table(get: Any) -> np.ndarray:
        out = np.full((n, n_splits), np.nan)
        for row, (_, _, record) in enumerate(trials):
            for i, fold in record.folds.items():
                out[row, i] = get(fold)
        return out

    for key, get in (("fit_time", lambda f: f.fit_time), ("score_time", lambda f: f.score_time)):
        mean, std = _mean_std_over_ran(table(get))
        results[f"mean_{key}"], results[f"std_{key}"] = mean, std
    candidates = [dict(record.params) for _, _, record in trials]
    results.update(_masked_params(candidates))
    results["params"] = candidates
    pruned = np.array([state == "PRUNED" for _, state, _ in trials], dtype=bool)
    for side in ("test", "train") if return_train_score else ("test",):
        for metric in metrics:
            scores = table(lambda f, m=metric, s=side: (f.test if s == "test" else (f.train or {})).get(m, np.nan))
            for i in range(n_splits):
                results[f"split{i}_{side}_{metric}"] = scores[:, i]
            with np.errstate(invalid="ignore"):
                mean = scores.mean(axis=1)  # NaN when a fold is missing (pruned) or failed
                std = scores.std(axis=1)
            results[f"mean_{side}_{metric}"] = mean
            results[f"std_{side}_{metric}"] = std
            if np.any(~np.isfinite(mean[~pruned])):
                warnings.warn(f"One or more of the {side} scores are non-finite: {mean[~pruned]}", UserWarning,
                              stacklevel=3)
            if side == "test":
                results[f"rank_test_{metric}"] = _rank(mean)
    results["state"] = np.array([state for _, state, _ in trials], dtype=object)
    results["n_splits_evaluated"] = np.array([len(record.folds) for _, _, record in trials], dtype=np.int64)
    results["trial_number"] = np.array([number for number, _, _ in trials], dtype=np.int64)
    return results
