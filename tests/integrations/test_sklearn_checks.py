"""scikit-learn's own estimator checks on `SearchCV`, with the instances scikit-learn checks
`RandomizedSearchCV` with (sklearn/utils/_test_common/instance_generator.py): a regressor, a
classifier and a pipeline of each, `cv=2`, `error_score="raise"`, lists as distributions."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import is_regressor
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import hyperdial as hd
from hyperdial.integrations.sklearn import SearchCV


def expected_failed_checks(search: SearchCV) -> dict[str, str]:
    """The one exemption that applies, taken from scikit-learn's own list for its search CVs.

    scikit-learn exempts GridSearchCV, RandomizedSearchCV and the Halving searches from
    `check_supervised_y_2d` ("DataConversionWarning not caught") and `check_requires_y_none`
    (PER_ESTIMATOR_XFAIL_CHECKS in sklearn/utils/_test_common/instance_generator.py). A search
    CV takes its type tags from its estimator but not the target tags (BaseSearchCV copies the
    same ones as `SearchCV.__sklearn_tags__`), so with a multi-output regressor such as Ridge the
    check expects the warning a single-output estimator gives for a column y, and Ridge rightly
    gives none. It fails for the regressors only (the classifiers pass it), and
    `check_requires_y_none` is not run on these instances, so only that one is listed.
    """
    if is_regressor(search):
        return {"check_supervised_y_2d": "DataConversionWarning not caught (scikit-learn exempts its search CVs)"}
    return {}


# an exemption that starts passing fails the run (scikit-learn >= 1.8 offers it)
STRICT = {"xfail_strict": True} if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters else {}


def _as_list(mark: pytest.MarkDecorator) -> pytest.MarkDecorator:
    # scikit-learn < 1.8 hands pytest a generator, which pytest 9 deprecates (an error in this suite)
    return pytest.mark.parametrize(mark.args[0], list(mark.args[1]), **mark.kwargs)


def _instances() -> list[SearchCV]:
    common = {"cv": 2, "error_score": "raise", "n_trials": 2, "random_state": 0}
    return [
        SearchCV(Ridge(), {"alpha": [0.1, 1.0]}, **common),
        SearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, **common),
        SearchCV(Pipeline(steps=[("pca", PCA()), ("ridge", Ridge())]), {"ridge__alpha": [0.1, 1.0]}, **common),
        SearchCV(Pipeline(steps=[("pca", PCA()), ("logisticregression", LogisticRegression())]),
                 {"logisticregression__C": hd.Float(0.1, 1.0, log=True)}, **common),
    ]


# As with RandomizedSearchCV, check_supervised_y_no_nan's infinite targets make scikit-learn's own
# label-type check cast inf to int (sklearn/utils/multiclass.py), which NumPy warns about; scikit-learn
# runs its checks with only deprecation warnings as errors, this suite with all, so that one is let through.
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@_as_list(parametrize_with_checks(_instances(), expected_failed_checks=expected_failed_checks, **STRICT))
def test_sklearn_estimator_checks(estimator: SearchCV, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)
