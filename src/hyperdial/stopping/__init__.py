"""Knowing when to stop: end a study once more trials are unlikely to beat the objective's noise.

- `RegretBound`: the rule of Makarova et al. 2022 ("Automatic termination for hyperparameter
  optimization", AutoML-Conf): a GP's upper bound on how far the best trial can still be from
  the optimum, compared with the statistical error of the objective (`regret_bound.py`).
- `report_cv_scores(trial, scores)`: record a trial's cross-validation fold scores, from which
  that error is estimated (`noise.py`).
- `StopWhenConverged`: a callback for `study.optimize(..., callbacks=[...])` that calls
  `study.stop()` when the rule says so (`callback.py`).

>>> import hyperdial as hd
>>> rule = hd.stopping.RegretBound(min_trials=20)
>>> rule.min_trials
20
"""

from hyperdial.stopping.callback import StopWhenConverged
from hyperdial.stopping.noise import CV_SCORES, cv_noise, report_cv_scores
from hyperdial.stopping.regret_bound import Estimate, RegretBound

__all__ = ["CV_SCORES", "Estimate", "RegretBound", "StopWhenConverged", "cv_noise", "report_cv_scores"]
