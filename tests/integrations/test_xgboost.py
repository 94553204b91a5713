"""`XGBoostPruningCallback` with real XGBoost training: xgb.train, xgb.cv and the scikit-learn API."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

import hyperdial as hd
from hyperdial.integrations.xgboost import XGBoostPruningCallback

ROUNDS = 12


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=300) > 0).astype(int)
    return X, y


def _train(trial: hd.Trial, data, key: str = "validation-logloss") -> tuple[xgb.Booster, dict]:
    X, y = data
    log: dict = {}
    booster = xgb.train({"objective": "binary:logistic", "eval_metric": "logloss", "eta": 0.3, "nthread": 1},
                        xgb.DMatrix(X[:200], label=y[:200]), num_boost_round=ROUNDS,
                        evals=[(xgb.DMatrix(X[200:], label=y[200:]), "validation")], evals_result=log,
                        verbose_eval=False, callbacks=[XGBoostPruningCallback(trial, key)])
    return booster, log


def test_every_round_is_reported_as_xgboost_logged_it(data) -> None:
    study = hd.create_study(direction="minimize", pruner=hd.pruners.Nop())
    logs = []
    study.optimize(lambda t: logs.append(_train(t, data)[1]) or 0.0, n_trials=1, show_progress_bar=False)
    trial = study.trials[0]
    expected = logs[0]["validation"]["logloss"]
    assert trial.state == hd.TrialState.COMPLETE
    assert trial.intermediate_values == pytest.approx({r + 1: v for r, v in enumerate(expected)})


def test_a_pruned_trial_stops_training_at_the_round_it_was_pruned(data) -> None:
    # every logloss here is > 0.01: the threshold prunes at the first round it may (after 3)
    study = hd.create_study(direction="minimize", pruner=hd.pruners.Threshold(upper=0.01, n_warmup_steps=3))
    rounds_run = []

    def objective(trial: hd.Trial) -> float:
        X, y = data

        class Count(xgb.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log) -> bool:  # type: ignore[no-untyped-def]
                rounds_run.append(epoch + 1)
                return False

        xgb.train({"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1},
                  xgb.DMatrix(X[:200], label=y[:200]), num_boost_round=ROUNDS,
                  evals=[(xgb.DMatrix(X[200:], label=y[200:]), "validation")], verbose_eval=False,
                  callbacks=[Count(), XGBoostPruningCallback(trial, "validation-logloss")])
        return 0.0

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    trial = study.trials[0]
    assert trial.state == hd.TrialState.PRUNED
    assert sorted(trial.intermediate_values) == [1, 2, 3] and max(rounds_run) == 3
    assert trial.value == pytest.approx(trial.intermediate_values[3])


def test_the_sklearn_api_and_cv_report_their_own_keys(data) -> None:
    X, y = data
    study = hd.create_study(direction="maximize", pruner=hd.pruners.Nop())
    trial = study.ask()
    model = xgb.XGBClassifier(n_estimators=5, eval_metric="auc", n_jobs=1,
                              callbacks=[XGBoostPruningCallback(trial, "validation_0-auc")])
    model.fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])], verbose=False)
    assert trial.intermediate_values == pytest.approx(dict(enumerate(model.evals_result()["validation_0"]["auc"], 1)))
    trial = study.ask()
    history = xgb.cv({"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1},
                     xgb.DMatrix(X, label=y), num_boost_round=4, nfold=3, seed=0,
                     callbacks=[XGBoostPruningCallback(trial, "test-logloss", report_interval=2)])
    assert trial.intermediate_values == pytest.approx({2: history["test-logloss-mean"][1],
                                                       4: history["test-logloss-mean"][3]})


def test_bad_arguments_name_themselves(data) -> None:
    trial = hd.create_study().ask()
    with pytest.raises(hd.InvalidParameterError, match="observation_key"):
        XGBoostPruningCallback(trial, "logloss")
    with pytest.raises(hd.InvalidParameterError, match="report_interval"):
        XGBoostPruningCallback(trial, "validation-logloss", report_interval=0)
    with pytest.raises(hd.InvalidParameterError, match="`trial`"):
        XGBoostPruningCallback(object(), "validation-logloss")
    with pytest.raises(hd.InvalidParameterError, match=r"validation-logloss"):
        _train(trial, data, key="valid-auc")
