"""The PBT benchmark's task: a one-hidden-layer MLP on scikit-learn's digits, SGD with momentum, NumPy only.

The learning rate and momentum can change between epochs (PBT's perturbations): the model
state is a dict of arrays (weights and momentum buffers), so a checkpoint is exact and a
replayed schedule reproduces a curve bit for bit. Epoch `e` shuffles with seed `e`, so the
data order depends on the step, never on which process trains.

A constant learning rate is not the best schedule here: with a high rate the validation loss
falls fast and then stalls (noisy, overfitting); a low one is slow. `python pbt_task.py`
prints the final validation loss of a few constant rates and of a decaying schedule.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache

import numpy as np

HIDDEN = 64
BATCH = 16
EPOCHS = int(os.environ.get("PBT_TASK_EPOCHS", "36"))  # per member (the benchmark passes it to its workers)
SPACE_BOUNDS = {"lr": (1e-3, 1.0), "momentum": (0.0, 0.99)}


@lru_cache(maxsize=1)
def data() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    # A small training set makes the schedule matter: fast early progress, then overfitting.
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, train_size=500, random_state=0, stratify=y)
    x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, train_size=0.5, random_state=0, stratify=y_rest)
    return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}


def init_state(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 1 / math.sqrt(64), (64, HIDDEN))
    w2 = rng.normal(0, 1 / math.sqrt(HIDDEN), (HIDDEN, 10))
    state = {"w1": w1, "b1": np.zeros(HIDDEN), "w2": w2, "b2": np.zeros(10)}
    for k in list(state):
        state["v_" + k] = np.zeros_like(state[k])
    state["epoch"] = np.array(0)
    return state


def _forward(state: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.maximum(x @ state["w1"] + state["b1"], 0.0)
    z = h @ state["w2"] + state["b2"]
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return h, p


def train_epoch(state: dict[str, np.ndarray], lr: float, momentum: float) -> None:
    """One epoch of minibatch SGD with momentum, in place; the shuffle depends on the epoch only."""
    x, y = data()["train"]
    epoch = int(state["epoch"])
    order = np.random.default_rng(epoch).permutation(len(x))
    for i in range(0, len(x), BATCH):
        idx = order[i : i + BATCH]
        xb, yb = x[idx], y[idx]
        h, p = _forward(state, xb)
        p[np.arange(len(yb)), yb] -= 1.0
        p /= len(yb)
        grads = {"w2": h.T @ p, "b2": p.sum(axis=0)}
        dh = (p @ state["w2"].T) * (h > 0)
        grads["w1"] = xb.T @ dh
        grads["b1"] = dh.sum(axis=0)
        for k, g in grads.items():
            v = state["v_" + k]
            v *= momentum
            v -= lr * g
            state[k] += v
    state["epoch"] = np.array(epoch + 1)


def evaluate(state: dict[str, np.ndarray], split: str = "val") -> tuple[float, float]:
    """(log loss, accuracy) on a split; a diverged model scores a large finite loss."""
    x, y = data()[split]
    with np.errstate(all="ignore"):
        _, p = _forward(state, x)
        loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))
    if not math.isfinite(loss):
        return 30.0, 0.0
    return loss, float(np.mean(p.argmax(axis=1) == y))


def run_schedule(schedule: list[tuple[int, float, float]], epochs: int = EPOCHS) -> tuple[float, float]:
    """Train from scratch with (from_epoch, lr, momentum) entries; returns the final validation (loss, accuracy)."""
    state = init_state()
    for e in range(epochs):
        lr, mom = next((lr, m) for start, lr, m in reversed(schedule) if e >= start)
        train_epoch(state, lr, mom)
    return evaluate(state)


def main() -> None:
    for lr in (0.01, 0.03, 0.1, 0.3):
        print(f"constant lr={lr}: val loss, acc = {run_schedule([(0, lr, 0.9)])}")
    print("decaying 0.3 -> 0.03 -> 0.003:", run_schedule([(0, 0.3, 0.9), (12, 0.03, 0.9), (30, 0.003, 0.9)]))


if __name__ == "__main__":
    main()
