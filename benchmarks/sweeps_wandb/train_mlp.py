"""A training script written for W&B sweeps (`wandb.init`, `wandb.config`, `wandb.log` per epoch):
scikit-learn's MLPClassifier on the digits data, one `partial_fit` pass per epoch, validation log-loss logged
after each. `benchmarks/sweeps_vs_wandb.py` drives `epochs()` in-process under both engines; the same file runs
as a program under `hyperdial sweep benchmarks/sweeps_wandb/sweep.yaml` (or `wandb agent`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

EPOCHS = 27  # the file's hyperband: min_iter 3, eta 3 -> rungs at 3, 9, 27


@lru_cache(maxsize=1)
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_val), y_train, y_val


def epochs(config: dict[str, Any], n_epochs: int = EPOCHS) -> Iterator[float]:
    """Validation log-loss after each epoch (fixed data split and model seed: the score is a function of config)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier

    x_train, x_val, y_train, y_val = data()
    model = MLPClassifier(hidden_layer_sizes=(int(config["hidden"]),), learning_rate_init=float(config["lr"]),
                          alpha=float(config["alpha"]), batch_size=int(config["batch_size"]), random_state=0)
    classes = np.arange(10)
    for _ in range(n_epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(x_train, y_train, classes=classes)
        loss = float(log_loss(y_val, model.predict_proba(x_val), labels=classes))
        yield loss if np.isfinite(loss) else 10.0


def main() -> None:
    import wandb

    run = wandb.init(config={"lr": 1e-3, "alpha": 1e-4, "hidden": 64, "batch_size": 64})
    for epoch, loss in enumerate(epochs(dict(wandb.config)), 1):
        wandb.log({"val_loss": loss, "epoch": epoch})
    run.finish()


if __name__ == "__main__":
    main()
