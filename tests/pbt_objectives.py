"""Objectives for the PBT tests: module-level, so spawned workers and cluster nodes import them.

A real model trained by segments: scikit-learn's `SGDClassifier` (logistic loss, constant
learning rate `lr`, L2 strength `alpha`) on the digits data, one `partial_fit` pass per step,
its validation accuracy reported. The model is checkpointed (pickled) when its segment pauses,
and the objective records a fingerprint of the weights it resumed from and of those it saved,
so a test can tell whose checkpoint a segment continued.

A file `kill-at-step` next to the study's SQLite file holding a step number makes the first
process that reports that step kill itself with SIGKILL (a lost worker, mid-segment).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

import hyperdial as hd

EPOCHS = 12


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, train_size=0.5, random_state=0, stratify=y)
    return x_train, x_val, y_train, y_val


def fingerprint(model: Any) -> str:
    return hashlib.sha256(np.ascontiguousarray(model.coef_).tobytes()).hexdigest()[:16]


def sgd(trial: hd.Trial) -> float:
    """One segment of a PBT member (or a whole run without a scheduler)."""
    import warnings

    from sklearn.linear_model import SGDClassifier

    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    alpha = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    x_train, x_val, y_train, y_val = digits()
    path = trial.load_checkpoint()
    if path is None:
        model, epoch = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=lr, random_state=0), 0
        trial.set_user_attr("resumed", None)
    else:
        model = pickle.loads((path / "model.pkl").read_bytes())
        epoch = int(trial.checkpoint_step or 0)
        trial.set_user_attr("resumed", {"step": epoch, "weights": fingerprint(model)})
    trial.set_user_attr("pid", os.getpid())
    model.set_params(eta0=lr, alpha=alpha)
    score = 0.0
    for step in range(epoch + 1, EPOCHS + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning is the point of one pass
            model.partial_fit(x_train, y_train, classes=np.arange(10))
        score = float(model.score(x_val, y_val))
        trial.report(score, step)
        _maybe_die(trial, step)
        if step < EPOCHS and trial.should_prune():
            with tempfile.TemporaryDirectory() as d:
                Path(d, "model.pkl").write_bytes(pickle.dumps(model))
                trial.save_checkpoint(d, step=step)
            trial.set_user_attr("saved", fingerprint(model))
            raise hd.TrialPruned()
    return score


def _maybe_die(trial: hd.Trial, step: int) -> None:
    url = trial.study.storage_url or ""
    if not url.startswith("sqlite:///"):
        return
    marker = Path(url[len("sqlite:///"):]).parent / "kill-at-step"
    if not marker.exists() or marker.read_text().strip() != str(step):
        return
    try:
        marker.rename(marker.with_suffix(".done"))  # atomic: only one process dies
    except FileNotFoundError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
