"""The task of benchmarks/hyperband_pause.py, in a module of its own so that hyperdial's worker processes and
Ray's workers import it by name: an MLP on the digits, one epoch per step, its pickle checkpointed every epoch."""

from __future__ import annotations

import math
import pickle
import tempfile
import time
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MAX_EPOCHS = 27
N_CONFIGS = 49  # one Hyperband cycle for R = 27, eta = 3: 27 + 12 + 6 + 4


# -- the task (identical under both frameworks) ------------------------------------------------------------
@lru_cache(maxsize=1)
def data() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_val), y_train, y_val


def new_model(cfg: dict[str, Any]) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(64,), learning_rate_init=float(cfg["lr"]), alpha=float(cfg["alpha"]),
                         batch_size=int(cfg["batch_size"]), random_state=0)


def train_epoch(model: Any) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss

    x_train, x_val, y_train, y_val = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(x_train, y_train, classes=np.arange(10))
    loss = float(log_loss(y_val, model.predict_proba(x_val), labels=np.arange(10)))
    return loss if math.isfinite(loss) else 10.0


def configs_for(seed: int) -> list[dict[str, Any]]:
    rng = np.random.RandomState(seed)
    return [{"lr": float(10 ** rng.uniform(-4, -1)), "alpha": float(10 ** rng.uniform(-6, -1)),
             "batch_size": int(rng.choice([32, 64, 128, 256]))} for _ in range(N_CONFIGS)]


# -- hyperdial's objective -------------------------------------------------------------------------------------------------
class ListSampler:
    """Hands the k-th new configuration the k-th entry of a list (promotions keep their parameters)."""

    joint_sampling = False

    def __init__(self, configs: list[dict[str, Any]]) -> None:
        self.configs = configs

    def sample(self, history: Any, trial: Any, space: dict[str, Any]) -> dict[str, Any]:
        k = sum(1 for t in history.trials if t.number < trial.number
                and "successor_of" not in t.system_attrs and "retry_of" not in t.system_attrs)
        return {name: self.configs[k % len(self.configs)][name] for name in space}


def hd_objective(trial: Any) -> float:
    import hyperdial as hd

    cfg = {"lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
           "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
           "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256])}
    t0 = time.perf_counter()
    path = trial.load_checkpoint()
    start = 0
    if path is not None:
        with open(path / "model.pkl", "rb") as f:
            model = pickle.load(f)
        start = trial.checkpoint_step
    else:
        model = new_model(cfg)
    load = time.perf_counter() - t0
    framework = 0.0
    loss = math.nan
    with tempfile.TemporaryDirectory() as tmp:
        for epoch in range(start + 1, MAX_EPOCHS + 1):
            loss = train_epoch(model)
            with open(Path(tmp) / "model.pkl", "wb") as f:
                pickle.dump(model, f)
            t0 = time.perf_counter()
            trial.report(loss, step=epoch)
            trial.save_checkpoint(tmp, step=epoch)
            stop = trial.should_prune()
            framework += time.perf_counter() - t0
            if stop:
                trial.set_user_attr("timing", [framework, epoch - start, load])
                raise hd.TrialPruned()
    trial.set_user_attr("timing", [framework, MAX_EPOCHS - start, load])
    return loss


# -- Ray Tune's trainable --------------------------------------------------------------------------------
def ray_trainable(config: dict[str, Any]) -> None:
    from ray import tune

    cfg = config["cfg"]
    t0 = time.perf_counter()
    checkpoint = tune.get_checkpoint()
    start = 0
    if checkpoint is not None:
        with checkpoint.as_directory() as d, open(Path(d) / "model.pkl", "rb") as f:
            model, start = pickle.load(f)
    else:
        model = new_model(cfg)
    load = time.perf_counter() - t0
    framework = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for epoch in range(start + 1, MAX_EPOCHS + 1):
            loss = train_epoch(model)
            with open(Path(tmp) / "model.pkl", "wb") as f:
                pickle.dump((model, epoch), f)
            t0 = time.perf_counter()
            tune.report({"loss": loss, "epoch": epoch, "framework": framework, "trained": epoch - start,
                         "load": load, "resumed": start > 0},
                        checkpoint=tune.Checkpoint.from_directory(tmp))
            framework += time.perf_counter() - t0


