"""Objectives for the executor tests: module-level, so spawned workers and cluster nodes import them."""

from __future__ import annotations

import os
import time

import hyperdial as hd


def curve(trial: hd.Trial) -> float:
    """Reports a learning curve and prunes; a conditional parameter is suggested on the worker."""
    x = trial.suggest_float("x", 0.0, 1.0)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    if kind == "b":
        trial.suggest_int("depth", 1, 4)
    trial.set_user_attr("pid", os.getpid())
    for step in range(6):
        trial.report(x + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return x


def boom(trial: hd.Trial) -> float:
    trial.suggest_float("x", 0.0, 1.0)
    raise ValueError("objective exploded on the worker")


def slow(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -1.0, 1.0)
    trial.set_user_attr("pid", os.getpid())
    time.sleep(0.04)
    return x * x


def gpu_probe(trial: hd.Trial) -> float:
    """Records which devices the trial saw and when it ran."""
    trial.suggest_float("x", 0.0, 1.0)
    start = time.time()
    time.sleep(0.3)
    trial.set_user_attr("cuda", os.environ.get("CUDA_VISIBLE_DEVICES"))
    trial.set_user_attr("span", [start, time.time()])
    return 0.0


def jittered(trial: hd.Trial) -> float:
    """A conditional space, reports for the pruner, and a random duration (unseeded, so the
    order in which trials finish differs from run to run)."""
    import random

    x = trial.suggest_float("x", -3, 3)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    y = trial.suggest_float("y", 0, 1) if kind == "b" else 0.0
    for step in range(3):
        time.sleep(random.uniform(0.0, 0.04))
        trial.report((x - 1) ** 2 + y + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return (x - 1) ** 2 + y


def staged(trial: hd.Trial) -> float:
    """Three parameters for `hd.samplers.Staged` (priority a, b, c; defaults 0.5, 2, "p"), with a
    random duration so trials finish out of order, and reports for a pruner."""
    import random

    a = trial.suggest_float("a", 0.0, 1.0)
    b = trial.suggest_int("b", 1, 8)
    c = trial.suggest_categorical("c", ["p", "q", "r"])
    value = (a - 0.8) ** 2 + 0.01 * (b - 5) ** 2 + (0.0 if c == "q" else 0.1)
    for step in range(3):
        time.sleep(random.uniform(0.0, 0.02))
        trial.report(value + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return value
