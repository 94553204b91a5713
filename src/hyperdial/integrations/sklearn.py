"""`SearchCV`: scikit-learn's `RandomizedSearchCV`, with a hyperdial study choosing the candidates.

Each trial is one candidate, cross-validated fold by fold: after each fold the running mean of
the test score is reported (step = folds done), and a trial the study's pruner stops is recorded
PRUNED and dropped from the best-candidate choice. Everything else is scikit-learn's contract:
`fit`, the prediction methods of the refit `best_estimator_`, `cv_results_` in scikit-learn's
layout (pruned trials included, see `hyperdial.integrations._sklearn_results`), `best_params_`,
`best_score_`, `best_index_`, `n_splits_`, `refit_time_`, `multimetric_`, `scorer_`, plus
`study_`, the hyperdial study. `pip install 'hyperdial[sklearn]'`.

>>> import hyperdial as hd
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> X, y = load_iris(return_X_y=True)
>>> search = SearchCV(LogisticRegression(max_iter=500), {"C": hd.Float(1e-3, 1e2, log=True)},
...                   n_trials=6, cv=3, random_state=0).fit(X, y)
>>> search.best_score_ > 0.9, len(search.cv_results_["params"]), search.study_.best_trial.number == search.best_index_
(True, 6, True)
"""

from __future__ import annotations

import logging
import numbers
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial._imports import optional_import
from hyperdial.exceptions import TrialPruned, invalid
from hyperdial.history import StudyDirection
from hyperdial.integrations._sklearn_folds import FoldResult, TrialFolds, fit_and_score
from hyperdial.integrations._sklearn_results import format_results
from hyperdial.presets import Preset
from hyperdial.space import parse_space
from hyperdial.study import Study

optional_import("sklearn", extra="sklearn", purpose="hyperdial.integrations.sklearn")

from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, indexable

__all__ = ["SearchCV"]

_logger = logging.getLogger("hyperdial")


def _check_refit(search: SearchCV, attr: str) -> None:
    if not search.refit:
        raise AttributeError(
            f"This {type(search).__name__} instance was initialized with `refit=False`. {attr} is available only "
            "after refitting on the best parameters. You can refit an estimator manually using the `best_params_` "
            "attribute"
        )


def _estimator_has(attr: str) -> Callable[[SearchCV], bool]:
    """Delegate `attr` only with refit=True, to the fitted best estimator, or before fit to `estimator`."""

    def check(self: SearchCV) -> bool:
        _check_refit(self, attr)
        getattr(self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator, attr)
        return True

    return check


class SearchCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated search over `space_or_preset` with a hyperdial study: a drop-in for `RandomizedSearchCV`.

    `space_or_preset`: a dict name -> `hd.Float` / `hd.Int` / `hd.Categorical` (a list is a
    categorical, as in `RandomizedSearchCV`'s `param_distributions`), or a `hyperdial.presets.Preset`,
    whose defaults are then the first trial. Names are the estimator's `set_params` names
    (`"svc__C"` in a pipeline).

    `n_trials` candidates are tried (fewer if `timeout` seconds pass first), `n_jobs` at once (threads).
    The study maximizes the mean test score of `scoring` (of `refit` when it names one of several
    metrics, else of the first). `sampler`, `pruner` and `random_state` (which seeds the default
    sampler) make a new in-memory study for each `fit`; `study=` uses yours instead (for example in
    SQLite, to watch or resume it), and `cv_results_` then holds only the trials of this `fit`.
    `pruner=None` is hyperdial's default (ASHA, deciding after 3 folds); `hd.pruners.Nop()` never
    prunes, `hd.pruners.Median()` compares each running mean with the median of the finished trials.

    Parameters are validated by `fit`, not here: scikit-learn's contract is that `__init__`
    stores its arguments untouched. A pickle keeps the fitted search but no live study handle:
    `study_` comes back only when it lives in a database (reopened from its URL on first access,
    so loading the pickle does not need the database), an in-memory one is dropped, and the
    `study` parameter is None in the copy.

    >>> import hyperdial as hd
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> X, y = load_iris(return_X_y=True)
    >>> search = SearchCV(SVC(), hd.presets.svm(n_features=4), n_trials=5, cv=3, random_state=0).fit(X, y)
    >>> search.cv_results_["params"][0] == dict(hd.presets.svm(n_features=4).defaults)   # defaults first
    True
    >>> search.predict(X[:2]).tolist()
    [0, 0]
    """

    def __init__(
        self,
        estimator: Any,
        space_or_preset: Mapping[str, Any] | Preset,
        *,
        n_trials: int = 10,
        cv: Any = None,
        scoring: Any = None,
        refit: bool | str | Callable[[dict[str, Any]], int] = True,
        random_state: Any = None,
        n_jobs: int | None = None,
        sampler: Any = None,
        pruner: Any = None,
        study: Study | None = None,
        timeout: float | None = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.space_or_preset = space_or_preset
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.sampler = sampler
        self.pruner = pruner
        self.study = study
        self.timeout = timeout
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags.pairwise = inner.input_tags.pairwise  # cross-validation sees precomputed kernels
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

    # -- checking the arguments ------------------------------------------------------------------------
    def _checked_space(self) -> tuple[dict[str, Any], Preset | None]:
        if isinstance(self.space_or_preset, Preset):
            return dict(self.space_or_preset.space), self.space_or_preset
        if not isinstance(self.space_or_preset, Mapping) or not self.space_or_preset:
            raise invalid("space_or_preset", "must be a non-empty dict of name -> hd.Float/Int/Categorical or a "
                          "hyperdial.presets.Preset", self.space_or_preset)
        return parse_space(self.space_or_preset), None

    def _check_params(self) -> None:
        if not callable(getattr(self.estimator, "fit", None)):
            raise invalid("estimator", "must be a scikit-learn estimator with a fit method", self.estimator)
        rules.check("n_trials", self.n_trials, rules.Int(low=1))
        rules.check("timeout", self.timeout, rules.Real(low=0, closed="neither"), None)
        rules.check("n_jobs", self.n_jobs, rules.Int(), None)
        if self.n_jobs is not None and (self.n_jobs == 0 or self.n_jobs < -1):
            raise invalid("n_jobs", "must be an int >= 1, -1 (one per CPU) or None", self.n_jobs)
        rules.check("return_train_score", self.return_train_score, rules.Bool())
        rules.check("verbose", self.verbose, rules.Int(low=0))
        if not (self.error_score == "raise" or (isinstance(self.error_score, numbers.Real)
                                                and not isinstance(self.error_score, bool))):
            raise invalid("error_score", "must be 'raise' or a number", self.error_score)
        if not (isinstance(self.refit, (bool, str)) or callable(self.refit)):
            raise invalid("refit", "must be a bool, a metric name or a callable", self.refit)
        if self.study is not None:
            if not isinstance(self.study, Study):
                raise invalid("study", "must be a hyperdial Study (hd.create_study(...)) or None", self.study)
            for name in ("sampler", "pruner", "random_state"):
                if getattr(self, name) is not None:
                    raise invalid(name, "cannot be combined with `study`, which has its own sampler and pruner",
                                  getattr(self, name))
            if len(self.study.directions) != 1 or self.study.direction != StudyDirection.MAXIMIZE:
                raise invalid("study", "must maximize one objective (scikit-learn scores are higher-is-better)",
                              [d.value for d in self.study.directions])
        elif self.random_state is not None and self.sampler is not None:
            raise invalid("random_state", "seeds the default sampler; pass the seed to your `sampler` instead",
                          self.random_state)

    def _scorers(self) -> tuple[Any, list[str] | None]:
        """The scorer (or dict name -> scorer) and the metric names when known before fitting."""
        if callable(self.scoring):
            return self.scoring, None
        if self.scoring is None or isinstance(self.scoring, str):
            return check_scoring(self.estimator, self.scoring), ["score"]
        if isinstance(self.scoring, (list, tuple, set)):
            names = list(self.scoring)
            if not names or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
                raise ValueError(f"The list/tuple elements must be unique strings of predefined scorers. "
                                 f"Got {self.scoring!r}")
            scorers = {n: check_scoring(self.estimator, n) for n in names}
        elif isinstance(self.scoring, Mapping):
            if not self.scoring or not all(isinstance(n, str) for n in self.scoring):
                raise ValueError(f"Non-string types were found in the keys of the given dict. scoring={self.scoring!r}")
            scorers = {n: check_scoring(self.estimator, s) for n, s in self.scoring.items()}
        else:
            raise invalid("scoring", "must be None, a metric name, a callable, or a list/tuple/dict of metrics",
                          self.scoring)
        self._check_refit_for_multimetric(list(scorers))
        return scorers, list(scorers)

    def _check_refit_for_multimetric(self, names: list[str]) -> None:
        if self.refit is not False and not callable(self.refit) and not (isinstance(self.refit, str)
                                                                         and self.refit in names):
            raise ValueError(
                "For multi-metric scoring, the parameter refit must be set to a scorer key or a callable to refit "
                "an estimator with the best parameter setting on the whole data and make the best_* attributes "
                f"available for that metric. If this is not needed, refit should be set to False explicitly. "
                f"{self.refit!r} was passed."
            )

    def _make_study(self) -> Study:
        if self.study is not None:
            return self.study
        from hyperdial._api import create_study

        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = int(seed.randint(np.iinfo(np.int32).max))
        rules.check("random_state", seed, rules.Int(low=0), None,
                    rule="must be None, an int >= 0 or a numpy RandomState")
        return create_study(direction="maximize", sampler=self.sampler, pruner=self.pruner, seed=seed)

    # -- fitting -----------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> SearchCV:
        """Run the study: `n_trials` candidates, each cross-validated (and maybe pruned), then refit the best.

        `fit_params` go to the estimator's `fit`, split with the data when they hold one entry per
        sample (`sample_weight`); `groups` goes to the splitter, as in scikit-learn.
        """
        self._check_params()
        space, preset = self._checked_space()
        scorer, metric_names = self._scorers()
        X, y = indexable(X, y)
        fit_params = dict(fit_params)
        groups = fit_params.pop("groups", None)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        n_splits = cv.get_n_splits(X, y, groups)
        splits = list(cv.split(X, y, groups))  # once: every trial sees the same folds
        if len(splits) != n_splits:
            raise ValueError(f"cv.split and cv.get_n_splits return inconsistent results. Expected {n_splits} "
                             f"splits, got {len(splits)}")
        if not splits:
            raise ValueError("No fits were performed. Was the CV iterator empty?")
        study = self._make_study()
        base = clone(self.estimator)
        records: dict[int, TrialFolds] = {}

        def objective(config: dict[str, Any], trial: Any) -> float:
            record = records[trial.number] = TrialFolds(params=dict(config), n_splits=n_splits)
            for i, (train, test) in enumerate(splits):
                record.folds[i] = fit_and_score(
                    base, config, X, y, train, test, scorer=scorer, fit_params=fit_params,
                    error_score=self.error_score, return_train_score=self.return_train_score,
                    error_names=metric_names if metric_names != ["score"] else None)
                running = _running_mean(record, self.refit)
                if np.isfinite(running):  # a failed fold is not a learning-curve point
                    trial.report(running, step=i + 1)
                    if i + 1 < n_splits and trial.should_prune():
                        raise TrialPruned(f"pruned after {i + 1} of {n_splits} folds")
            return _running_mean(record, self.refit)

        run: dict[str, Any] = {"n_jobs": self.n_jobs, "timeout": self.timeout, "show_progress_bar": self.verbose > 0}
        if self.verbose > 0:
            print(f"Fitting {n_splits} folds for each of {self.n_trials} candidates, totalling "
                  f"{n_splits * self.n_trials} fits (fewer if trials are pruned)")
        # verbose=0 is quiet, as in scikit-learn: the per-trial log lines go to DEBUG for this fit
        level = study.trial_log_level
        study.trial_log_level = level if self.verbose > 0 else logging.DEBUG
        try:
            if preset is not None:
                preset.tune(objective, n_trials=self.n_trials, study=study, **run)
            else:
                study.optimize(objective, n_trials=self.n_trials, space=space, **run)
        finally:
            study.trial_log_level = level
        trials = [t for t in study.trials if t.number in records]
        finished = [(t.number, t.state.name, records[t.number]) for t in trials]
        self._warn_or_raise_about_fit_failures([r for _, _, r in finished])
        first = finished[0][2].folds[min(finished[0][2].folds)]
        self.multimetric_ = first.multimetric
        metrics = list(first.test)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(metrics)
            _fill_error_scores(finished, metrics, self.error_score)
        self.cv_results_ = format_results(finished, metrics, n_splits, self.return_train_score)
        refit_metric = self.refit if self.multimetric_ and isinstance(self.refit, str) else metrics[0]
        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(refit_metric)
            if not callable(self.refit):
                self.best_score_ = float(self.cv_results_[f"mean_test_{refit_metric}"][self.best_index_])
            self.best_params_ = self.cv_results_["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(base).set_params(**clone(self.best_params_, safe=False))
            start = time.perf_counter()
            if y is None:
                self.best_estimator_.fit(X, **fit_params)
            else:
                self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = scorer
        self.n_splits_ = n_splits
        self._study = study
        self.__dict__.pop("_study_ref", None)
        return self

    def _select_best_index(self, metric: str) -> int:
        if callable(self.refit):
            best = self.refit(self.cv_results_)
            if not isinstance(best, numbers.Integral):
                raise TypeError("best_index_ returned is not an integer")
            if best < 0 or best >= len(self.cv_results_["params"]):
                raise IndexError("best_index_ index out of range")
            return int(best)
        return int(self.cv_results_[f"rank_test_{metric}"].argmin())

    def _warn_or_raise_about_fit_failures(self, records: list[TrialFolds]) -> None:
        folds = [f for r in records for f in r.folds.values()]
        failed = [f.fit_error for f in folds if f.fit_error is not None]
        if not failed:
            return
        summary = "\n".join(f"{n} fits failed with the following error:\n{e}" for e, n in Counter(failed).items())
        if len(failed) == len(folds):
            raise ValueError(
                f"\nAll the {len(folds)} fits failed.\nIt is very likely that your model is misconfigured.\n"
                f"You can try to debug the error by setting error_score='raise'.\n\nBelow are more details about "
                f"the failures:\n{summary}"
            )
        warnings.warn(
            f"\n{len(failed)} fits failed out of a total of {len(folds)}.\nThe score on these train-test partitions "
            f"for these parameters will be set to {self.error_score}.\nIf these failures are not expected, you can "
            f"try to debug them by setting error_score='raise'.\n\nBelow are more details about the failures:\n"
            f"{summary}",
            FitFailedWarning,
            stacklevel=3,
        )

    # -- using the best estimator -------------------------------------------------------------------------
    def score(self, X: Any, y: Any = None) -> float:
        """The `scoring` metric (the `refit` one of several) of `best_estimator_` on X, y."""
        _check_refit(self, "score")
        check_is_fitted(self)
        if isinstance(self.scorer_, Mapping):
            return float(self.scorer_[self.refit](self.best_estimator_, X, y))
        value = self.scorer_(self.best_estimator_, X, y)
        return value[self.refit] if self.multimetric_ else value

    @available_if(_estimator_has("score_samples"))
    def score_samples(self, X: Any) -> Any:
        """`best_estimator_.score_samples(X)`."""
        check_is_fitted(self)
        return self.best_estimator_.score_samples(X)

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """`best_estimator_.predict(X)`."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """`best_estimator_.predict_proba(X)`."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """`best_estimator_.predict_log_proba(X)`."""
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """`best_estimator_.decision_function(X)`."""
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """`best_estimator_.transform(X)`."""
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    @available_if(_estimator_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        """`best_estimator_.inverse_transform(X)`."""
        check_is_fitted(self)
        return self.best_estimator_.inverse_transform(X)

    @property
    def n_features_in_(self) -> int:
        """Number of features seen during `fit` (only with refit=True)."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(f"{type(self).__name__} object has no n_features_in_ attribute.") from exc
        return int(self.best_estimator_.n_features_in_)

    @property
    def classes_(self) -> Any:
        """Class labels (only with refit=True and a classifier)."""
        _estimator_has("classes_")(self)
        return self.best_estimator_.classes_

    @property
    def study_(self) -> Study:
        """The hyperdial study of the last `fit` (reopened from its database after unpickling)."""
        study = self.__dict__.get("_study")
        if study is None:
            ref = self.__dict__.get("_study_ref")
            if ref is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute 'study_' (not fitted, or "
                                     "unpickled: an in-memory study is not kept)")
            from hyperdial._api import open_study

            study = self.__dict__["_study"] = open_study(study_name=ref[1], storage=ref[0])
        return study

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        study = state.pop("_study", None)
        if study is not None and study.storage_url is not None:
            state["_study_ref"] = (study.storage_url, study.study_name)
        if state.get("study") is not None:  # a live handle (connections, locks) cannot be pickled
            state["study"] = None
        return state


def _running_mean(record: TrialFolds, refit: Any) -> float:
    """The mean test score over the folds done so far, of the metric the study optimizes."""
    first: FoldResult = record.folds[min(record.folds)]
    metric = refit if first.multimetric and isinstance(refit, str) and refit in first.test else next(iter(first.test))
    return float(np.mean([f.test.get(metric, np.nan) for f in record.folds.values()]))


def _fill_error_scores(finished: list[tuple[int, str, TrialFolds]], metrics: list[str], error_score: Any) -> None:
    """A callable scorer's metric names are known only once one fold scored: name the failed folds' scores."""
    for _, _, record in finished:
        for fold in record.folds.values():
            if fold.fit_error is not None and list(fold.test) != metrics:
                fold.test = {m: float(error_score) for m in metrics}
                fold.multimetric = True
                if fold.train is not None:
                    fold.train = dict(fold.test)
