"""Objectives for the checkpoint tests run by executors: module-level, so spawned workers import them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

import hyperdial as hd
from hyperdial.checkpoints import load_state, save_state

STEPS = 4


def stateful(trial: hd.Trial) -> float:
    """A "model" (a vector) trained one step at a time, checkpointed at each step; resumes when it can."""
    lr = trial.suggest_float("lr", 0.1, 1.0)
    loaded = load_state(trial)
    weights, start = (np.zeros(8), 0) if loaded is None else (loaded[0]["w"], loaded[1] + 1)
    trial.set_user_attr("started_at", start)
    trial.set_user_attr("pid", os.getpid())
    for step in range(start, start + STEPS):
        weights = weights + lr
        trial.report(float(weights.sum()), step)
        save_state(trial, {"w": weights})
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "weights.txt").write_text(" ".join(repr(float(w)) for w in weights))
        trial.upload_artifact(Path(tmp) / "weights.txt")
    return float(weights.sum())
