"""`SearchCV` against scikit-learn itself: RandomizedSearchCV's layout, cross_validate's scores,
pruning across folds, presets, multi-metric scoring, failures, bad input, storage and pickling.
(scikit-learn's estimator checks are in test_sklearn_checks.py.)"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, RandomizedSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import hyperdial as hd
from hyperdial.integrations.sklearn import SearchCV

EXTRA_KEYS = {"state", "n_splits_evaluated", "trial_number"}


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("scoring, refit, train", [
    (None, True, False),
    ("accuracy", True, True),
    (["accuracy", "f1_macro"], "f1_macro", True),
])
def test_cv_results_have_randomized_search_layout_and_cross_validate_scores(iris, scoring, refit, train) -> None:
    X, y = iris
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    space = {"C": [0.01, 0.1, 1.0, 10.0]}
    ours = SearchCV(LogisticRegression(max_iter=1000), space, n_trials=4, cv=cv, scoring=scoring, refit=refit,
                    return_train_score=train, pruner=hd.pruners.Nop(), random_state=0).fit(X, y)
    theirs = RandomizedSearchCV(LogisticRegression(max_iter=1000), space, n_iter=4, cv=cv, scoring=scoring,
                                refit=refit, return_train_score=train, random_state=0).fit(X, y)
    assert set(ours.cv_results_) == set(theirs.cv_results_) | EXTRA_KEYS
    res = ours.cv_results_
    assert list(res["state"]) == ["COMPLETE"] * 4 and list(res["n_splits_evaluated"]) == [3] * 4
    assert isinstance(res["param_C"], np.ma.MaskedArray) and list(res["param_C"]) == [p["C"] for p in res["params"]]
    metrics = ["score"] if not isinstance(scoring, list) else scoring
    for row, params in enumerate(res["params"]):
        expected = cross_validate(LogisticRegression(max_iter=1000, **params), X, y, cv=cv,
                                  scoring=scoring,
                                  return_train_score=train)
        for metric in metrics:
            key = "test_score" if metric == "score" else f"test_{metric}"
            for i in range(3):
                assert res[f"split{i}_test_{metric}"][row] == pytest.approx(expected[key][i])
            assert res[f"mean_test_{metric}"][row] == pytest.approx(expected[key].mean())
            assert res[f"std_test_{metric}"][row] == pytest.approx(expected[key].std())
            if train:
                assert res[f"mean_train_{metric}"][row] == pytest.approx(expected[key.replace("test", "train")].mean())
    refit_metric = refit if isinstance(refit, str) else "score"
    means = res[f"mean_test_{refit_metric}"]
    assert ours.best_index_ == int(np.argmax(means)) and ours.best_score_ == pytest.approx(means.max())
    assert ours.best_params_ == res["params"][ours.best_index_]
    assert ours.multimetric_ == isinstance(scoring, list) and ours.n_splits_ == 3
    best_trial = ours.study_.best_trial
    assert res["trial_number"][ours.best_index_] == best_trial.number
    assert best_trial.value == pytest.approx(ours.best_score_)
    manual = LogisticRegression(max_iter=1000, **ours.best_params_).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), manual.predict_proba(X))
    np.testing.assert_array_equal(ours.predict(X), manual.predict(X))
    np.testing.assert_allclose(ours.decision_function(X), manual.decision_function(X))
    assert list(ours.classes_) == [0, 1, 2] and ours.n_features_in_ == 4 and ours.refit_time_ > 0
    if isinstance(scoring, list):
        assert set(ours.scorer_) == set(scoring)
        assert ours.score(X, y) == pytest.approx(ours.scorer_["f1_macro"](manual, X, y))
    else:
        assert ours.score(X, y) == pytest.approx(manual.score(X, y))


def test_a_pruned_trial_is_in_cv_results_with_its_folds_and_ranks_last(iris) -> None:
    X, y = iris
    cv = StratifiedKFold(4, shuffle=True, random_state=1)
    # C=1e-5 scores about 1/3 on iris: the threshold pruner stops it after its first fold.
    search = SearchCV(LogisticRegression(max_iter=1000), {"C": [1e-5, 1.0]}, n_trials=6, cv=cv,
                      pruner=hd.pruners.Threshold(lower=0.6), random_state=0).fit(X, y)
    res = search.cv_results_
    pruned = [i for i, p in enumerate(res["params"]) if p["C"] == 1e-5]
    complete = [i for i, p in enumerate(res["params"]) if p["C"] == 1.0]
    assert pruned and complete
    for i in pruned:
        assert res["state"][i] == "PRUNED" and res["n_splits_evaluated"][i] == 1
        assert res["split0_test_score"][i] < 0.6
        assert all(np.isnan(res[f"split{k}_test_score"][i]) for k in (1, 2, 3))
        assert np.isnan(res["mean_test_score"][i]) and np.isnan(res["std_test_score"][i])
        assert res["rank_test_score"][i] == len(complete) + 1  # tied last, like a failed fit
        assert res["mean_fit_time"][i] > 0  # over the fold that ran
    for i in complete:
        assert res["state"][i] == "COMPLETE" and res["n_splits_evaluated"][i] == 4
    assert search.best_params_ == {"C": 1.0}
    trials = {t.number: t for t in search.study_.trials}
    for i in range(len(res["params"])):
        t = trials[int(res["trial_number"][i])]
        assert t.state.name == res["state"][i]
        # the reports are the running means of the fold scores, step = folds done
        folds = [res[f"split{k}_test_score"][i] for k in range(res["n_splits_evaluated"][i])]
        assert t.intermediate_values == pytest.approx({k + 1: float(np.mean(folds[: k + 1])) for k in range(len(folds))})


def test_the_default_pruner_stops_bad_candidates_after_three_of_five_folds(cancer) -> None:
    X, y = cancer
    search = SearchCV(LogisticRegression(max_iter=1000), {"C": [1e-6, 1.0]}, n_trials=8, random_state=0).fit(X, y)
    res = search.cv_results_
    assert search.n_splits_ == 5
    pruned = [i for i, s in enumerate(res["state"]) if s == "PRUNED"]
    assert pruned, "ASHA (the study default) never pruned a C=1e-6 candidate"
    assert all(res["params"][i] == {"C": 1e-6} and res["n_splits_evaluated"][i] == 3 for i in pruned)
    assert search.best_params_ == {"C": 1.0}


def test_without_pruning_every_trial_runs_all_folds(cancer) -> None:
    X, y = cancer
    search = SearchCV(LogisticRegression(max_iter=1000), {"C": [1e-6, 1.0]}, n_trials=8, random_state=0,
                      pruner=hd.pruners.Nop()).fit(X, y)
    assert set(search.cv_results_["state"]) == {"COMPLETE"}


def test_a_preset_runs_its_defaults_first_and_is_recorded(iris) -> None:
    X, y = iris
    preset = hd.presets.svm(n_features=4)
    search = SearchCV(SVC(), preset, n_trials=4, cv=3, random_state=0).fit(X, y)
    assert search.cv_results_["params"][0] == dict(preset.defaults)
    assert search.study_.user_attrs["preset"] == {"name": "svm", "version": "1"}
    assert set(search.cv_results_["params"][1]) == set(preset.space)
    assert len(search.cv_results_["params"]) == 4
    assert preset.gain(search.study_)["default_trial"] == 0


def test_refit_false_and_callable_refit(iris) -> None:
    X, y = iris
    kwargs = {"n_trials": 3, "cv": 3, "random_state": 0, "scoring": ["accuracy", "f1_macro"]}
    space = {"C": hd.Float(0.01, 10.0, log=True)}
    no_refit = SearchCV(LogisticRegression(max_iter=1000), space, refit=False, **kwargs).fit(X, y)
    assert not hasattr(no_refit, "best_estimator_") and not hasattr(no_refit, "best_index_")
    with pytest.raises(AttributeError) as info:
        no_refit.predict(X)
    assert "refit=False" in str(info.value.__cause__)

    def lowest_c(results: dict) -> int:
        return int(np.argmin([p["C"] for p in results["params"]]))

    chosen = SearchCV(LogisticRegression(max_iter=1000), space, refit=lowest_c, **kwargs).fit(X, y)
    assert chosen.best_index_ == lowest_c(chosen.cv_results_) and not hasattr(chosen, "best_score_")
    with pytest.raises(ValueError, match="multi-metric scoring, the parameter refit"):
        SearchCV(LogisticRegression(), space, refit=True, **kwargs).fit(X, y)


def test_failed_fits_score_error_score_with_a_warning() -> None:
    X, y = make_regression(n_samples=60, n_features=3, noise=1.0, random_state=0)
    space = {"solver": ["lbfgs", "auto"]}  # Ridge refuses lbfgs without positive=True, at fit time
    search = SearchCV(Ridge(), space, n_trials=6, cv=3, random_state=0)
    with pytest.warns(FitFailedWarning, match="fits failed out of a total of"), \
            pytest.warns(UserWarning, match="One or more of the test scores are non-finite"):
        search.fit(X, y)
    res = search.cv_results_
    assert {p["solver"] for p in res["params"]} == {"lbfgs", "auto"}
    for i, p in enumerate(res["params"]):
        if p["solver"] == "lbfgs":
            assert res["state"][i] == "FAIL" and np.isnan(res["mean_test_score"][i])
            assert res["n_splits_evaluated"][i] == 3  # as in scikit-learn, every fold is tried
        else:
            assert res["state"][i] == "COMPLETE" and res["mean_test_score"][i] > 0.9
    assert search.best_params_ == {"solver": "auto"}
    with pytest.raises(ValueError, match="lbfgs"):
        SearchCV(Ridge(), {"solver": ["lbfgs"]}, n_trials=1, cv=3, error_score="raise").fit(X, y)
    with pytest.raises(ValueError, match="All the 3 fits failed"):
        SearchCV(Ridge(), {"solver": ["lbfgs"]}, n_trials=1, cv=3).fit(X, y)
    zero = SearchCV(Ridge(), space, n_trials=6, cv=3, random_state=0, error_score=0.0)
    with pytest.warns(FitFailedWarning):
        zero.fit(X, y)
    failed = [i for i, p in enumerate(zero.cv_results_["params"]) if p["solver"] == "lbfgs"]
    assert all(zero.cv_results_["mean_test_score"][i] == 0.0 for i in failed)


def test_groups_and_sample_weight_reach_the_splitter_and_the_fits() -> None:
    X, y = make_regression(n_samples=60, n_features=3, noise=1.0, random_state=0)
    groups = np.repeat(np.arange(6), 10)
    weights = np.linspace(0.5, 2.0, 60)
    search = SearchCV(Ridge(), {"alpha": [0.5]}, n_trials=1, cv=GroupKFold(3), pruner=hd.pruners.Nop())
    search.fit(X, y, groups=groups, sample_weight=weights)
    expected = cross_validate(Ridge(alpha=0.5), X, y, cv=GroupKFold(3), groups=groups,
                              params={"sample_weight": weights})
    np.testing.assert_allclose([search.cv_results_[f"split{i}_test_score"][0] for i in range(3)],
                               expected["test_score"])
    np.testing.assert_allclose(search.best_estimator_.coef_, Ridge(alpha=0.5).fit(X, y, sample_weight=weights).coef_)


def test_parallel_trials_and_a_pipeline(iris) -> None:
    X, y = iris
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    search = SearchCV(pipe, {"logisticregression__C": hd.Float(1e-3, 1e2, log=True)}, n_trials=6, cv=3, n_jobs=2,
                      random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert search.best_score_ == pytest.approx(np.nanmax(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.named_steps["logisticregression"].C == search.best_params_["logisticregression__C"]


def test_the_same_seed_gives_the_same_search(iris) -> None:
    X, y = iris
    space = {"C": hd.Float(1e-3, 1e2, log=True)}
    a = SearchCV(LogisticRegression(max_iter=1000), space, n_trials=5, cv=3, random_state=3).fit(X, y)
    b = SearchCV(LogisticRegression(max_iter=1000), space, n_trials=5, cv=3, random_state=3).fit(X, y)
    assert a.cv_results_["params"] == b.cv_results_["params"]


def test_a_study_in_sqlite_is_used_and_reopened_after_pickling(iris, tmp_path: Path) -> None:
    X, y = iris
    url = f"sqlite:///{tmp_path / 'search.db'}"
    study = hd.create_study(study_name="iris", storage=url, direction="maximize", seed=0)
    space = {"C": hd.Float(1e-3, 1e2, log=True)}
    first = SearchCV(LogisticRegression(max_iter=1000), space, n_trials=3, cv=3, study=study).fit(X, y)
    second = SearchCV(LogisticRegression(max_iter=1000), space, n_trials=2, cv=3, study=study).fit(X, y)
    assert list(second.cv_results_["trial_number"]) == [3, 4]  # only this fit's trials
    assert len(hd.load_study(study_name="iris", storage=url).trials) == 5
    again = pickle.loads(pickle.dumps(first))
    assert again.study is None and again.study_.study_name == "iris" and len(again.study_.trials) == 5
    np.testing.assert_array_equal(again.predict(X), first.predict(X))
    in_memory = SearchCV(LogisticRegression(max_iter=1000), space, n_trials=2, cv=3).fit(X, y)
    restored = pickle.loads(pickle.dumps(in_memory))
    assert not hasattr(restored, "study_")  # an in-memory study cannot travel
    np.testing.assert_array_equal(restored.predict(X), in_memory.predict(X))


@pytest.mark.parametrize("kwargs, param", [
    ({"n_trials": 0}, "n_trials"),
    ({"timeout": -1}, "timeout"),
    ({"error_score": "ignore"}, "error_score"),
    ({"random_state": 0, "sampler": hd.samplers.Random(seed=0)}, "random_state"),
    ({"study": hd.create_study(direction="minimize")}, "study"),
    ({"study": hd.create_study(direction="maximize"), "pruner": hd.pruners.Nop()}, "pruner"),
    ({"random_state": "zero"}, "random_state"),
    ({"refit": 3}, "refit"),
])
def test_bad_arguments_are_refused_by_fit_naming_the_parameter(iris, kwargs, param) -> None:
    X, y = iris
    search = SearchCV(LogisticRegression(), {"C": [1.0]}, **kwargs)  # __init__ stores, as scikit-learn requires
    with pytest.raises(hd.InvalidParameterError, match=f"`{param}`"):
        search.fit(X, y)


def test_a_bad_space_is_refused_naming_it(iris) -> None:
    X, y = iris
    for space in ({}, [("C", 1.0)], {"C": object()}):
        with pytest.raises(hd.InvalidParameterError, match="space"):
            SearchCV(LogisticRegression(), space).fit(X, y)
    with pytest.raises(ValueError, match="Invalid parameter 'nope'"):
        SearchCV(LogisticRegression(), {"nope": [1.0]}, n_trials=1, cv=3).fit(X, y)


def test_a_search_over_a_preset_can_be_cloned_and_pickled() -> None:
    from sklearn.base import clone

    search = SearchCV(SVC(), hd.presets.svm())
    assert clone(search).space_or_preset == search.space_or_preset
    assert pickle.loads(pickle.dumps(search)).space_or_preset == search.space_or_preset
