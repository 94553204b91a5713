"""The noise a stopping rule compares the regret bound with: the error of a cross-validated score.

A trial that reports its fold scores s_1..s_k (`report_cv_scores`) gives the standard error of
its mean score with the correction of Nadeau & Bengio 2003 ("Inference for the generalization
error", eq. 8) for the overlap of the training sets,

    sigma^2 = (1/k + 1/(k - 1)) var(s),   var with 1/k (population variance),

the estimate Makarova et al. 2022 (section 4) and Optuna's `CrossValidationErrorEvaluator` use.
The 1/(k - 1) term is n_test / n_train for k folds.

>>> import hyperdial as hd
>>> round(cv_noise([0.90, 0.92, 0.94]), 4)
0.0149
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid

__all__ = ["CV_SCORES", "cv_noise", "report_cv_scores"]

CV_SCORES = "cv_scores"  # the trial system attr that holds the fold scores


def _scores(scores: Any) -> list[float]:
    if isinstance(scores, (str, bytes)) or not hasattr(scores, "__iter__"):
        raise invalid("scores", "must be a sequence of at least two fold scores", scores)
    out = [rules.as_number("scores", s) for s in scores]
    if len(out) < 2:
        raise invalid("scores", "must hold at least two fold scores", list(out))
    if not all(math.isfinite(s) for s in out):
        raise invalid("scores", "must be finite numbers", out)
    return out


def cv_noise(scores: Sequence[float]) -> float:
    """The standard error of the mean of k fold scores, corrected for overlapping training sets (above)."""
    s = np.asarray(_scores(scores), dtype=float)
    k = len(s)
    return float(math.sqrt((1.0 / k + 1.0 / (k - 1)) * float(np.var(s))))


def report_cv_scores(trial: Any, scores: Sequence[float]) -> None:
    """Record a trial's cross-validation fold scores (at least two), for `RegretBound`'s noise.

    Call it in the objective with the scores whose mean the objective returns (the same scale
    and sign: the noise is compared with the regret in objective units). With an `hd.FixedTrial`
    (no study) the scores are checked and not recorded.

    >>> import hyperdial as hd
    >>> study = hd.create_study()
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", 0, 1)
    ...     folds = [x + 0.01, x - 0.01, x]
    ...     report_cv_scores(trial, folds)
    ...     return sum(folds) / 3
    >>> study.optimize(objective, n_trials=1, show_progress_bar=False)
    >>> len(study.trials[0].system_attrs[CV_SCORES])
    3
    """
    from hyperdial.trial import FixedTrial

    values = _scores(scores)
    if isinstance(trial, FixedTrial):  # an objective run outside a study: nothing to record the scores in
        return
    if not hasattr(trial, "set_system_attr"):
        raise invalid("trial", "must be the hd.Trial the objective received", type(trial).__name__)
    trial.set_system_attr(CV_SCORES, values)
