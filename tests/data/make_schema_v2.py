"""Writes tests/data/schema_v2.db: a database saved by schema version 2 (before hyperdial.storage.query's
indexes), with two studies sharing parameter names, so the v3 migration's backfill of
`hd_trial_params.study_id` is tested on a real old file.

Run once with a schema-2 hyperdial: python tests/data/make_schema_v2.py
"""

import logging
import pathlib

import hyperdial as hd

path = pathlib.Path(__file__).with_name("schema_v2.db")
path.unlink(missing_ok=True)
hd.set_verbosity(logging.WARNING)


def objective(trial: hd.Trial) -> float:
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    opt = trial.suggest_categorical("opt", ["adam", "sgd"])
    if opt == "sgd":
        trial.suggest_float("momentum", 0.0, 0.9)
    for step in range(3):
        trial.report(lr * (3 - step), step)
    return lr + (opt == "sgd")


for name, seed in (("v2a", 1), ("v2b", 2)):
    study = hd.create_study(study_name=name, storage=f"sqlite:///{path}", seed=seed)
    study.optimize(objective, n_trials=8, show_progress_bar=False)
