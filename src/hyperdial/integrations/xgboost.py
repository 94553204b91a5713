"""`XGBoostPruningCallback`: report an XGBoost evaluation metric each boosting round, stop pruned trials.

Works with `xgb.train`, `xgb.cv` (the mean over folds is reported) and the scikit-learn API
(`XGBClassifier(callbacks=[...])` with `eval_set`). `pip install 'hyperdial[xgboost]'`.

>>> import hyperdial as hd, numpy as np, xgboost as xgb
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 4)); y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
>>> dtrain, dvalid = xgb.DMatrix(X[:150], label=y[:150]), xgb.DMatrix(X[150:], label=y[150:])
>>> def objective(trial):
...     params = {"objective": "binary:logistic", "eval_metric": "logloss",
...               "eta": trial.suggest_float("eta", 1e-3, 0.5, log=True)}
...     booster = xgb.train(params, dtrain, num_boost_round=20, evals=[(dvalid, "validation")],
...                         verbose_eval=False,
...                         callbacks=[XGBoostPruningCallback(trial, "validation-logloss")])
...     return float(booster.eval(dvalid).split(":")[1])
>>> study = hd.create_study(direction="minimize", seed=0)
>>> study.optimize(objective, n_trials=4, show_progress_bar=False)
>>> sorted(study.trials[0].intermediate_values)[:3]
[1, 2, 3]
"""

from __future__ import annotations

from typing import Any

from hyperdial import _validation as rules
from hyperdial._imports import optional_import
from hyperdial.exceptions import TrialPruned, invalid

xgb = optional_import("xgboost", extra="xgboost", purpose="hyperdial.integrations.xgboost")

__all__ = ["XGBoostPruningCallback"]


def _check_trial(trial: Any) -> None:
    if not (callable(getattr(trial, "report", None)) and callable(getattr(trial, "should_prune", None))):
        raise invalid("trial", "must be a hyperdial Trial (with report and should_prune)", trial)


class XGBoostPruningCallback(xgb.callback.TrainingCallback):  # type: ignore[name-defined]
    """Report `observation_key` after every `report_interval` rounds and raise `hd.TrialPruned` when told.

    `observation_key` is `"<eval name>-<metric>"`, as XGBoost prints it: `"validation-logloss"`
    for `evals=[(dvalid, "validation")]`, `"validation_0-auc"` for the scikit-learn API's first
    `eval_set`, `"test-rmse"` for `xgb.cv` (the mean over folds is reported). The same arguments as
    Optuna's `XGBoostPruningCallback(trial, observation_key)`. The step is the number of boosting
    rounds done (1 after the first), the resource hyperdial's pruners expect; Optuna reports the
    0-based round. The metric's direction must be the study's (minimize a loss, maximize AUC).
    """

    def __init__(self, trial: Any, observation_key: str, *, report_interval: int = 1) -> None:
        _check_trial(trial)
        rules.check("observation_key", observation_key, rules.InstanceOf(str))
        if "-" not in observation_key:
            raise invalid("observation_key", "must be '<eval name>-<metric>', e.g. 'validation-logloss'",
                          observation_key)
        super().__init__()
        self.trial = trial
        self.observation_key = observation_key
        self.report_interval = rules.check("report_interval", report_interval, rules.Int(low=1))

    def _score(self, evals_log: Any) -> float:
        # an eval name may hold "-" ("my-valid"): try each dash as the separator
        for cut in range(len(self.observation_key)):
            if self.observation_key[cut] != "-":
                continue
            data, metric = self.observation_key[:cut], self.observation_key[cut + 1:]
            if data in evals_log and metric in evals_log[data]:
                last = evals_log[data][metric][-1]
                return float(last[0] if isinstance(last, tuple) else last)  # xgb.cv: (mean, std)
        known = [f"{d}-{m}" for d, metrics in evals_log.items() for m in metrics]
        raise invalid("observation_key", f"is not among the evaluation results {known}", self.observation_key)

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        rounds = epoch + 1
        if rounds % self.report_interval:
            return False
        self.trial.report(self._score(evals_log), step=rounds)
        if self.trial.should_prune():
            raise TrialPruned(f"pruned after {rounds} boosting rounds ({self.observation_key})")
        return False
