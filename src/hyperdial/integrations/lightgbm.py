"""`LightGBMPruningCallback`: report a LightGBM validation metric each iteration, stop pruned trials.

For `lgb.train(..., valid_sets=[...], callbacks=[cb])`, `lgb.cv` (the mean over folds is
reported) and the scikit-learn API (`LGBMClassifier().fit(X, y, eval_set=[...], callbacks=[cb])`).
`pip install 'hyperdial[lightgbm]'`.

>>> import hyperdial as hd, lightgbm as lgb, numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 4)); y = (X[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int)
>>> train, valid = lgb.Dataset(X[:200], label=y[:200]), lgb.Dataset(X[200:], label=y[200:])
>>> def objective(trial):
...     params = {"objective": "binary", "verbose": -1,
...               "learning_rate": trial.suggest_float("learning_rate", 1e-3, 0.5, log=True)}
...     booster = lgb.train(params, train, num_boost_round=20, valid_sets=[valid],
...                         callbacks=[LightGBMPruningCallback(trial, "binary_logloss")])
...     return booster.best_score["valid_0"]["binary_logloss"]
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
from hyperdial.history import StudyDirection

optional_import("lightgbm", extra="lightgbm", purpose="hyperdial.integrations.lightgbm")

__all__ = ["LightGBMPruningCallback"]

# What lgb.cv calls its validation results: "cv_agg" with metric "valid <metric>" in LightGBM 4.0-4.6,
# "valid" with the plain metric name from 4.7 on.
CV_NAMES = ("cv_agg", "valid")


class LightGBMPruningCallback:
    """Report `metric` on `valid_name` every `report_interval` iterations; raise `hd.TrialPruned` when told.

    The arguments of Optuna's `LightGBMPruningCallback(trial, metric, valid_name="valid_0",
    report_interval=1)`: `metric` as LightGBM names it ("binary_logloss", "auc", "l2"), `valid_name`
    the validation set's name ("valid_0" for the first of `valid_sets` or `eval_set` unless
    `valid_names=` says otherwise; ignored for `lgb.cv`, whose fold mean is reported). The step is
    the number of iterations done (1 after the first), the resource hyperdial's pruners expect.
    A metric whose direction is not the study's (AUC in a minimizing study) is refused at the
    first report: pruning on it would stop the best trials.
    """

    def __init__(self, trial: Any, metric: str, valid_name: str = "valid_0", report_interval: int = 1) -> None:
        if not (callable(getattr(trial, "report", None)) and callable(getattr(trial, "should_prune", None))):
            raise invalid("trial", "must be a hyperdial Trial (with report and should_prune)", trial)
        self.trial = trial
        self.metric = rules.check("metric", metric, rules.InstanceOf(str))
        self.valid_name = rules.check("valid_name", valid_name, rules.InstanceOf(str))
        self.report_interval = rules.check("report_interval", report_interval, rules.Int(low=1))

    def _find(self, env: Any) -> tuple[float, bool]:
        import lightgbm as lgb

        results = env.evaluation_result_list or []
        targets = CV_NAMES if isinstance(env.model, lgb.CVBooster) else (self.valid_name,)
        for result in results:
            name, metric, value, higher_is_better = result[:4]
            if name in targets and metric in (self.metric, f"valid {self.metric}"):
                return float(value), bool(higher_is_better)
        known = [f"{r[0]}: {r[1]}" for r in results]
        raise invalid("metric", f"with valid_name={targets[0]!r} is not among the evaluation results {known}",
                      self.metric)

    def __call__(self, env: Any) -> None:
        done = env.iteration - env.begin_iteration + 1
        if done % self.report_interval:
            return
        value, higher_is_better = self._find(env)
        study = getattr(self.trial, "study", None)
        directions: tuple[StudyDirection, ...] = tuple(getattr(study, "directions", ()))
        if len(directions) == 1:
            wanted = StudyDirection.MAXIMIZE if higher_is_better else StudyDirection.MINIMIZE
            if directions[0] != wanted:
                raise invalid("metric", f"is {'higher' if higher_is_better else 'lower'}-is-better but the study "
                              f"is to {directions[0].value}", self.metric)
        self.trial.report(value, step=done)
        if self.trial.should_prune():
            raise TrialPruned(f"pruned after {done} iterations ({self.valid_name} {self.metric})")
