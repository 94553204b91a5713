"""Objectives for the scheduler tests, importable by name in worker processes and cluster nodes.

`sgd_digits`: a linear classifier (scikit-learn's SGDClassifier) trained with `partial_fit` on
the digits, one epoch per step, reporting the validation error after each epoch (step =
epochs done) and checkpointing its state with `hyperdial.checkpoints.save_state` before asking
the pruner. A trial that resumes (a promotion, a retry) restores the state and goes on from
the checkpoint's step: `user_attrs["resumed_at"]`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import numpy as np

import hyperdial as hd
from hyperdial.checkpoints import load_state, save_state

MAX_EPOCHS = 9


@lru_cache(maxsize=1)
def digits() -> tuple[Any, Any, Any, Any, Any]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    return x[:1200], y[:1200], x[1200:], y[1200:], np.unique(y)


def new_model(params: dict[str, Any]) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(alpha=params["alpha"], learning_rate="constant", eta0=params["eta0"], random_state=0)


def train_epoch(model: Any) -> float:
    """One epoch of partial_fit; the validation error after it. Deterministic given the model's state."""
    xtr, ytr, xva, yva, classes = digits()
    model.partial_fit(xtr, ytr, classes=classes)
    return float(1.0 - model.score(xva, yva))


def sgd_digits(trial: hd.Trial) -> float:
    params = {"alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
              "eta0": trial.suggest_float("eta0", 1e-4, 1.0, log=True)}
    model = new_model(params)
    start = 0
    loaded = load_state(trial)
    if loaded is not None:
        state, start = loaded
        xtr, ytr, _, _, classes = digits()
        model.partial_fit(xtr[:1], ytr[:1], classes=classes)  # allocates; the state overwrites it
        model.coef_, model.intercept_, model.t_ = state["coef"], state["intercept"], float(state["t"])
    trial.set_user_attr("resumed_at", start)
    trial.set_user_attr("pid", os.getpid())
    error = float("nan")
    for epoch in range(start + 1, MAX_EPOCHS + 1):
        error = train_epoch(model)
        trial.report(error, step=epoch)
        save_state(trial, {"coef": model.coef_, "intercept": model.intercept_, "t": model.t_}, step=epoch)
        if trial.should_prune():
            raise hd.TrialPruned()
    return error


def uninterrupted(params: dict[str, Any], epochs: int) -> float:
    """The error of a run of `epochs` epochs from scratch (what a promoted line must reproduce)."""
    model = new_model(params)
    error = float("nan")
    for _ in range(epochs):
        error = train_epoch(model)
    return error


# For `hyperdial worker --scheduler scheduler_objectives:successive_halving`.
successive_halving = hd.schedulers.SuccessiveHalving(min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3,
                                                     n_configs=9)
