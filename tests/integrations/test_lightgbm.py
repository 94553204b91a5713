"""`LightGBMPruningCallback` with real LightGBM training: lgb.train, lgb.cv and the scikit-learn API."""

from __future__ import annotations

import inspect

import lightgbm as lgb
import numpy as np
import pytest

import hyperdial as hd
from hyperdial.integrations.lightgbm import LightGBMPruningCallback

ROUNDS = 12
PARAMS = {"objective": "binary", "metric": "binary_logloss", "verbose": -1, "num_threads": 1}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=300) > 0).astype(int)
    return X, y


def _train(trial: hd.Trial, data, **callback_kwargs) -> dict:
    X, y = data
    log: dict = {}
    lgb.train(PARAMS, lgb.Dataset(X[:200], label=y[:200]), num_boost_round=ROUNDS,
              valid_sets=[lgb.Dataset(X[200:], label=y[200:])],
              callbacks=[lgb.record_evaluation(log), LightGBMPruningCallback(trial, **callback_kwargs)])
    return log


def test_every_iteration_is_reported_as_lightgbm_logged_it(data) -> None:
    study = hd.create_study(direction="minimize", pruner=hd.pruners.Nop())
    logs = []
    study.optimize(lambda t: logs.append(_train(t, data, metric="binary_logloss")) or 0.0, n_trials=1,
                   show_progress_bar=False)
    trial = study.trials[0]
    assert trial.state == hd.TrialState.COMPLETE
    expected = logs[0]["valid_0"]["binary_logloss"]
    assert trial.intermediate_values == pytest.approx({i + 1: v for i, v in enumerate(expected)})


def test_a_pruned_trial_stops_training(data) -> None:
    study = hd.create_study(direction="minimize", pruner=hd.pruners.Threshold(upper=0.01, n_warmup_steps=3))
    logs = []

    def objective(trial: hd.Trial) -> float:
        log: dict = {}
        logs.append(log)
        X, y = data
        lgb.train(PARAMS, lgb.Dataset(X[:200], label=y[:200]), num_boost_round=ROUNDS,
                  valid_sets=[lgb.Dataset(X[200:], label=y[200:])],
                  callbacks=[lgb.record_evaluation(log), LightGBMPruningCallback(trial, "binary_logloss")])
        return 0.0

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    trial = study.trials[0]
    assert trial.state == hd.TrialState.PRUNED
    assert sorted(trial.intermediate_values) == [1, 2, 3]
    assert len(logs[0]["valid_0"]["binary_logloss"]) <= 3 < ROUNDS  # training stopped there


def test_the_sklearn_api_and_cv(data) -> None:
    X, y = data
    study = hd.create_study(direction="maximize", pruner=hd.pruners.Nop())
    trial = study.ask()
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1)
    # LightGBM 4.7 renamed eval_set to eval_X / eval_y (the old name warns)
    evals = ({"eval_X": (X[200:],), "eval_y": (y[200:],)} if "eval_X" in inspect.signature(model.fit).parameters
             else {"eval_set": [(X[200:], y[200:])]})
    model.fit(X[:200], y[:200], eval_metric="auc", callbacks=[LightGBMPruningCallback(trial, "auc")], **evals)
    assert trial.intermediate_values == pytest.approx(dict(enumerate(model.evals_result_["valid_0"]["auc"], 1)))
    trial = study.ask()
    minimize = hd.create_study(direction="minimize", pruner=hd.pruners.Nop()).ask()
    result = lgb.cv(PARAMS, lgb.Dataset(X, label=y), num_boost_round=4, nfold=3, seed=0,
                    callbacks=[LightGBMPruningCallback(minimize, "binary_logloss", report_interval=2)])
    key = next(k for k in result if k.endswith("binary_logloss-mean"))
    assert minimize.intermediate_values == pytest.approx({2: result[key][1], 4: result[key][3]})


def test_a_metric_against_the_study_direction_or_unknown_is_refused(data) -> None:
    maximize = hd.create_study(direction="maximize").ask()
    with pytest.raises(hd.InvalidParameterError, match="lower-is-better but the study is to maximize"):
        _train(maximize, data, metric="binary_logloss")
    minimize = hd.create_study(direction="minimize").ask()
    with pytest.raises(hd.InvalidParameterError, match="valid_0: binary_logloss"):
        _train(minimize, data, metric="auc")
    with pytest.raises(hd.InvalidParameterError, match="report_interval"):
        LightGBMPruningCallback(minimize, "auc", report_interval=0)
