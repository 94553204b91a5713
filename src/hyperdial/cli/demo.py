"""`hyperdial demo`: a real tuning job with nothing to download.

It tunes a support vector classifier on scikit-learn's bundled digits data set
(1797 8x8 images) by 3-fold cross-validated accuracy. The space has a conditional
parameter: `degree` exists only for the polynomial kernel. The practitioner's
default (C=1, gamma=1e-3, rbf) is enqueued so it runs first and sets the bar.
"""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable
from typing import Any

import hyperdial as hd
from hyperdial._imports import optional_import

DEFAULT_PARAMS: dict[str, Any] = {"C": 1.0, "gamma": 1e-3, "kernel": "rbf"}


def make_objective() -> Callable[[hd.Trial], float]:
    """The objective: mean 3-fold accuracy of an SVC on digits (imports scikit-learn).

    >>> objective = make_objective()
    >>> objective(hd.FixedTrial({"C": 1.0, "gamma": 1e-3, "kernel": "rbf"})) > 0.9
    True
    """
    optional_import("sklearn", extra="demo", purpose="the demo")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    X, y = load_digits(return_X_y=True)

    def objective(trial: hd.Trial) -> float:
        C = trial.suggest_float("C", 1e-2, 1e3, log=True)
        # Raw pixels are 0..16, so useful RBF widths lie well below 1e-2.
        gamma = trial.suggest_float("gamma", 1e-6, 1e-2, log=True)
        kernel = trial.suggest_categorical("kernel", ["rbf", "sigmoid", "poly"])
        degree = trial.suggest_int("degree", 2, 5) if kernel == "poly" else 3  # conditional
        model = SVC(C=C, gamma=gamma, kernel=kernel, degree=degree)
        return float(cross_val_score(model, X, y, cv=3).mean())

    return objective


def _hint(storage: str, study_name: str, default_storage: str) -> str:
    # Shown to the user to copy, never run: quoted so it is safe to paste.
    cmd = ["hyperdial"]
    if storage != default_storage:
        cmd += ["--storage", storage]
    return shlex.join([*cmd, "trials", study_name])


def run_demo(
    *,
    storage: str,
    study_name: str = "demo",
    n_trials: int = 40,
    seed: int | None = None,
    n_jobs: int = 1,
) -> int:
    """Run the demo study in `storage` (continuing it if it exists) and print the best result.

    Example (writes ./hyperdial.db): ``run_demo(storage="sqlite:///hyperdial.db", n_trials=10)``
    """
    from hyperdial.cli._output import escape
    from hyperdial.cli.commands import display_storage
    from hyperdial.cli.main import DEFAULT_STORAGE

    objective = make_objective()
    hd.set_verbosity(logging.WARNING)  # one INFO line per trial would tear up the progress bar
    study = hd.create_study(
        study_name=study_name, storage=storage, direction="maximize", seed=seed, load_if_exists=True
    )
    study.enqueue_trial(DEFAULT_PARAMS, skip_if_exists=True)
    print(
        f"Tuning an SVC on the digits data set: {n_trials} trials of 3-fold CV accuracy, "
        f"study {study_name!r} in {display_storage(storage)}",
        file=sys.stderr,
    )
    study.optimize(objective, n_trials=n_trials, n_jobs=n_jobs, show_progress_bar=True)
    best = study.best_trial
    print(f"Best accuracy: {best.value:.4f} (trial {best.number} of {len(study.trials)})")
    print("Best params:")
    for name in sorted(best.params):  # a shared study's names come from other people: escaped
        print(f"  {escape(name)}: {escape(str(best.params[name]))}")
    print(f"Inspect the study with: {_hint(display_storage(storage), study_name, DEFAULT_STORAGE)}")
    return 0
