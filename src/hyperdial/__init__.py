"""hyperdial: hyperparameter tuning with ask/tell, samplers, pruners and SQL storage.

>>> import hyperdial as hd
>>> study = hd.create_study(seed=0)
>>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=30, show_progress_bar=False)
>>> abs(study.best_params["x"] - 2) < 1.5
True

Importing this package stays light: no scipy, SQLAlchemy, pandas or plotting
library is imported until a feature needs it.
"""

from hyperdial import checkpoints, dashboard, executors, importance, presets, pruners, samplers, schedulers, stopping
from hyperdial._api import create_study, delete_study, get_all_studies, load_study, open_study, set_verbosity
from hyperdial.checkpoints import KeepCheckpoints
from hyperdial.exceptions import (
    DuplicatedStudyError,
    HyperdialError,
    InvalidParameterError,
    MissingDependency,
    StudyNotFound,
    TrialPruned,
)
from hyperdial.history import History, StudyDirection
from hyperdial.space import Categorical, Float, Int
from hyperdial.study import NoCompletedTrials, Study
from hyperdial.sweeps.child import report
from hyperdial.trial import FixedTrial, FrozenTrial, Trial, TrialState

__version__ = "0.1.0"

__all__ = [
    "Categorical",
    "DuplicatedStudyError",
    "FixedTrial",
    "Float",
    "FrozenTrial",
    "History",
    "HyperdialError",
    "Int",
    "InvalidParameterError",
    "KeepCheckpoints",
    "MissingDependency",
    "NoCompletedTrials",
    "Study",
    "StudyDirection",
    "StudyNotFound",
    "Trial",
    "TrialPruned",
    "TrialState",
    "checkpoints",
    "create_study",
    "dashboard",
    "delete_study",
    "executors",
    "get_all_studies",
    "importance",
    "load_study",
    "open_study",
    "presets",
    "pruners",
    "report",
    "samplers",
    "schedulers",
    "set_verbosity",
    "stopping",
]
