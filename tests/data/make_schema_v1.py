"""Writes tests/data/schema_v1.db: a database saved by schema version 1 (hyperdial 0.1).

Kept so that the migration tests of later schema versions open a real old file.
Run once with hyperdial 0.1: python tests/data/make_schema_v1.py
"""

import logging
import pathlib

import hyperdial as hd

path = pathlib.Path(__file__).with_name("schema_v1.db")
path.unlink(missing_ok=True)
hd.set_verbosity(logging.WARNING)
study = hd.create_study(study_name="v1", storage=f"sqlite:///{path}", seed=1)
study.set_user_attr("made_by", "hyperdial 0.1")
study.enqueue_trial({"lr": 1e-3})


def objective(trial: hd.Trial) -> float:
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", None])
    layers = trial.suggest_int("layers", 1, 4)
    trial.report(lr * layers, 0)
    trial.set_user_attr("note", f"trial {trial.number}")
    return lr * layers + (opt == "sgd")


study.optimize(objective, n_trials=6, show_progress_bar=False)
