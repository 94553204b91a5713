"""Study and Trial behaviour end to end, over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import math
import threading
import time

import pytest

import hyperdial as hd
from hyperdial import TrialState


def quadratic(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    return (x - 1) ** 2


def test_optimize_ask_tell_and_reload(storage_url: str | None) -> None:
    study = hd.create_study(study_name="s", storage=storage_url, seed=3)
    study.optimize(quadratic, n_trials=20, show_progress_bar=False)
    t = study.ask()
    x = t.suggest_float("x", -5, 5)
    frozen = study.tell(t, (x - 1) ** 2)
    assert frozen.number == 20 and frozen.state == TrialState.COMPLETE and frozen.params == {"x": x}
    assert len(study.trials) == 21 and [t.number for t in study.trials] == list(range(21))
    best = min(study.trials, key=lambda t: t.value)
    assert study.best_trial.number == best.number and study.best_value == best.value
    assert study.best_params == best.params
    if storage_url is not None:
        again = hd.load_study(study_name="s", storage=storage_url)
        assert [t.params for t in again.trials] == [t.params for t in study.trials]
        assert again.best_value == study.best_value
        assert [s.name for s in hd.get_all_studies(storage_url)] == ["s"]
        hd.delete_study(study_name="s", storage=storage_url)
        assert hd.get_all_studies(storage_url) == []


def test_same_name_twice_and_different_arguments() -> None:
    study = hd.create_study(seed=0)
    trial = study.ask()
    a = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    assert trial.suggest_float("lr", 1e-5, 1e-1, log=True) == a
    with pytest.raises(hd.InvalidParameterError, match="'lr' was already suggested"):
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    with pytest.raises(hd.InvalidParameterError, match="'lr' was already suggested"):
        trial.suggest_int("lr", 1, 3)


def test_failures_are_recorded_then_propagate(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url, seed=0)

    def objective(trial: hd.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"):
        study.optimize(objective, n_trials=5, show_progress_bar=False)
    (t,) = study.trials
    assert t.state == TrialState.FAIL and t.system_attrs["fail_reason"] == "ValueError: bad batch"
    study.optimize(objective, n_trials=3, catch=(ValueError,), show_progress_bar=False)
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 4
    with pytest.raises(hd.NoCompletedTrials):
        _ = study.best_trial


@pytest.mark.parametrize(
    "returned, reason",
    [
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ("0.5", "non-number"),
        (None, "None"),
        ([1.0, 2.0], "expected 1 value"),
    ],
)
def test_bad_objective_values_fail_with_reason(returned: object, reason: str) -> None:
    study = hd.create_study()
    study.optimize(lambda t: returned, n_trials=1, show_progress_bar=False)
    (t,) = study.trials
    assert t.state == TrialState.FAIL and t.values is None
    assert reason in t.system_attrs["fail_reason"]


def test_numpy_values_are_accepted() -> None:
    import numpy as np

    study = hd.create_study()
    study.optimize(lambda t: np.float32(0.25), n_trials=1, show_progress_bar=False)
    assert study.best_value == 0.25


def test_keyboard_interrupt_records_the_trial(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url)

    def objective(trial: hd.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        if trial.number == 2:
            raise KeyboardInterrupt
        return 1.0

    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=10, show_progress_bar=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
    assert "KeyboardInterrupt" in study.trials[2].system_attrs["fail_reason"]
    study.optimize(lambda t: 0.5, n_trials=1, show_progress_bar=False)  # still usable
    assert len(study.trials) == 4


def test_pruning_end_to_end(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url, pruner=hd.pruners.Median(n_startup_trials=3), seed=1)

    def objective(trial: hd.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(10):
            trial.report(x + 1 / (step + 1), step)
            if trial.should_prune():
                raise hd.TrialPruned()
        return x

    study.optimize(objective, n_trials=30, show_progress_bar=False)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert 3 <= len(pruned) < 27
    for t in pruned:
        assert t.last_step < 9 and t.value == t.intermediate_values[t.last_step]
    complete_x = [t.params["x"] for t in study.trials if t.state == TrialState.COMPLETE]
    # The median rule keeps the lower half: pruned trials were worse than the median at their step.
    assert sum(t.params["x"] for t in pruned) / len(pruned) > sum(complete_x) / len(complete_x)


def test_report_validation_and_duplicate_step(caplog: pytest.LogCaptureFixture) -> None:
    study = hd.create_study()
    trial = study.ask()
    with pytest.raises(hd.InvalidParameterError, match="`step` must be an int >= 0, got step=-1"):
        trial.report(0.1, -1)
    with pytest.raises(hd.InvalidParameterError, match="`value` must be a number"):
        trial.report("x", 0)  # type: ignore[arg-type]
    trial.report(0.5, 0)
    with caplog.at_level(logging.WARNING, logger="hyperdial"):
        trial.report(0.7, 0)
    assert trial.intermediate_values == {0: 0.5} and "already reported step 0" in caplog.text
    study.tell(trial, 1.0)
    with pytest.raises(hd.exceptions.TrialFinishedError):
        trial.report(0.1, 1)
    with pytest.raises(hd.exceptions.TrialFinishedError):
        study.tell(trial, 1.0)


def test_multi_objective_best_trials(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url, directions=["minimize", "maximize"])
    points = [(1, 1), (2, 3), (3, 3), (0.5, 0.5), (2, 2), (4, 5)]
    for a, b in points:
        t = study.ask()
        study.tell(t, [a, b])
    front = sorted(t.values for t in study.best_trials)
    assert front == [(0.5, 0.5), (1.0, 1.0), (2.0, 3.0), (4.0, 5.0)]
    with pytest.raises(ValueError, match="best_trials"):
        _ = study.best_trial
    t = study.ask()
    t.report([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="must be a list of 2 numbers"):
        t.report(1.0, 1)


def test_enqueue_runs_first_and_validates(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url, seed=0)
    study.enqueue_trial({"lr": 1e-4, "batch": 32, "opt": "adam"}, user_attrs={"why": "defaults"})
    study.enqueue_trial({"lr": 1e-4, "batch": 32, "opt": "adam"}, skip_if_exists=True)  # already queued
    seen = []

    def objective(trial: hd.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        batch = trial.suggest_categorical("batch", [16, 32, 64])
        opt = trial.suggest_categorical("opt", ["adam", "sgd"])
        seen.append((lr, batch, opt))
        return lr

    study.optimize(objective, n_trials=3, show_progress_bar=False)
    assert seen[0] == (1e-4, 32, "adam") and len(study.trials) == 3
    assert study.trials[0].user_attrs == {"why": "defaults"}
    with pytest.raises(hd.InvalidParameterError, match="outside Float.* for 'lr', got params=5.0"):
        study.enqueue_trial({"lr": 5.0})  # outside the range the trials used: refused at once
    with pytest.raises(hd.InvalidParameterError, match="params"):
        study.enqueue_trial({"lr": object()})


def test_enqueue_from_another_study_object(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    worker = hd.create_study(study_name="q", storage=url, seed=0)
    other = hd.load_study(study_name="q", storage=url)
    other.enqueue_trial({"x": 0.25})
    worker.optimize(quadratic, n_trials=1, show_progress_bar=False)
    assert worker.trials[0].params == {"x": 0.25}


def test_add_trial(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url)
    study.add_trial(hd.FrozenTrial(number=0, state=TrialState.COMPLETE, values=(0.1,),
                                   params={"x": 2.0}, distributions={"x": hd.Float(0, 5)}))
    with pytest.raises(hd.InvalidParameterError, match="outside"):
        study.add_trial(hd.FrozenTrial(number=0, state=TrialState.COMPLETE, values=(0.1,),
                                       params={"x": 9.0}, distributions={"x": hd.Float(0, 5)}))
    with pytest.raises(hd.InvalidParameterError, match="finite"):
        study.add_trial(hd.FrozenTrial(number=0, state=TrialState.COMPLETE, values=(math.nan,)))
    assert study.best_params == {"x": 2.0}


def test_declarative_space(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url, seed=0)
    space = {"lr": hd.Float(1e-5, 1e-1, log=True), "bs": hd.Categorical([16, 32, 64]), "layers": [1, 2]}
    configs = []

    def train(config: dict) -> float:
        configs.append(config)
        return config["lr"] * config["bs"]

    study.optimize(train, n_trials=5, space=space, show_progress_bar=False)
    assert len(configs) == 5 and all(set(c) == {"lr", "bs", "layers"} for c in configs)
    assert [t.params for t in study.trials] == configs

    def train_with_trial(config: dict, trial: hd.Trial) -> float:
        trial.report(config["lr"], 0)
        return config["lr"]

    study.optimize(train_with_trial, n_trials=2, space=space, show_progress_bar=False)
    assert all(t.intermediate_values for t in study.trials[-2:])


def test_threads_and_stop(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url, seed=0)
    threads = set()

    def objective(trial: hd.Trial) -> float:
        threads.add(threading.get_ident())
        time.sleep(0.01)
        return quadratic(trial)

    study.optimize(objective, n_trials=24, n_jobs=3, show_progress_bar=False)
    assert len(study.trials) == 24 and len({t.number for t in study.trials}) == 24 and len(threads) >= 2

    def stopper(s: hd.Study, t: hd.FrozenTrial) -> None:
        if t.number >= 26:
            s.stop()

    study.optimize(quadratic, n_trials=100, callbacks=[stopper], show_progress_bar=False)
    assert len(study.trials) == 27


def test_timeout() -> None:
    study = hd.create_study()
    start = time.monotonic()
    study.optimize(lambda t: time.sleep(0.05) or quadratic(t), timeout=0.3, show_progress_bar=False)
    assert 0.25 < time.monotonic() - start < 5 and 2 <= len(study.trials) <= 7


def test_argument_validation() -> None:
    study = hd.create_study()
    for kwargs, fragment in [
        ({"n_trials": -1}, "`n_trials` must be an int >= 0 or None, got n_trials=-1"),
        ({"n_trials": 1.5}, "n_trials=1.5"),
        ({"timeout": 0}, "`timeout` must be a number of seconds > 0 or None, got timeout=0"),
        ({"n_jobs": 0}, "`n_jobs` must be an int >= 1, or -1 for one per CPU, got n_jobs=0"),
        ({"catch": [42]}, "`catch` must be an exception class or a tuple of them (ValueError, not ValueError()), got catch=42"),
    ]:
        with pytest.raises(hd.InvalidParameterError) as info:
            study.optimize(quadratic, show_progress_bar=False, **kwargs)
        assert fragment in str(info.value)
    with pytest.raises(hd.InvalidParameterError, match="`direction` must be 'minimize' or 'maximize', got direction='up'"):
        hd.create_study(direction="up")
    with pytest.raises(hd.InvalidParameterError, match="cannot be given together"):
        hd.create_study(direction="minimize", directions=["minimize"])
    with pytest.raises(hd.InvalidParameterError, match="`sampler` must have a sample"):
        hd.create_study(sampler=object())
    with pytest.raises(hd.InvalidParameterError, match="`seed` must be an int >= 0 or None, got seed=-3"):
        hd.samplers.Random(seed=-3)
    with pytest.raises(hd.InvalidParameterError, match="`storage` must be"):
        hd.create_study(storage=42)  # type: ignore[arg-type]
    with pytest.raises(hd.InvalidParameterError, match="n_startup_trials"):
        hd.pruners.Median(n_startup_trials=-1)


def test_load_if_exists_and_duplicates(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    hd.create_study(study_name="d", storage=url)
    with pytest.raises(hd.DuplicatedStudyError, match="load_if_exists=True"):
        hd.create_study(study_name="d", storage=url)
    again = hd.create_study(study_name="d", storage=url, load_if_exists=True)
    assert again.study_name == "d"
    with pytest.raises(hd.InvalidParameterError, match="directions"):
        hd.create_study(study_name="d", storage=url, direction="maximize", load_if_exists=True)
    with pytest.raises(hd.StudyNotFound, match="'nope'"):
        hd.load_study(study_name="nope", storage=url)
    assert hd.load_study(storage=url).study_name == "d"  # the only study


def test_fixed_trial() -> None:
    def objective(trial) -> float:  # type: ignore[no-untyped-def]
        x = trial.suggest_float("x", 0, 10)
        n = trial.suggest_int("n", 1, 3)
        trial.report(x, 0)
        return x * n if not trial.should_prune() else 0.0

    assert objective(hd.FixedTrial({"x": 2.0, "n": 3})) == 6.0
    with pytest.raises(hd.InvalidParameterError, match="'n'"):
        objective(hd.FixedTrial({"x": 2.0}))
    with pytest.raises(hd.InvalidParameterError, match="outside"):
        objective(hd.FixedTrial({"x": 20.0, "n": 1}))


def test_trials_dataframe() -> None:
    study = hd.create_study(seed=0)
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 3), n_trials=4, show_progress_bar=False)
    study.trials[0]
    df = study.trials_dataframe()
    assert list(df["number"]) == [0, 1, 2, 3] and {"value", "params_x", "params_n", "state"} <= set(df.columns)
    assert (df["value"] == df["params_x"] + df["params_n"]).all()


def test_user_attrs(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url)
    study.set_user_attr("dataset", "digits")
    t = study.ask()
    t.set_user_attr("gpu", {"name": "none"})
    study.tell(t, 1.0)
    assert study.user_attrs == {"dataset": "digits"} and study.trials[0].user_attrs == {"gpu": {"name": "none"}}


def test_log_line_per_finished_trial(caplog: pytest.LogCaptureFixture) -> None:
    study = hd.create_study(seed=0)
    with caplog.at_level(logging.INFO, logger="hyperdial"):
        study.optimize(quadratic, n_trials=3, show_progress_bar=False)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Trial ")]
    assert len(lines) == 3 and lines[0].startswith("Trial 0 complete with value") and "Best is trial" in lines[2]


def test_progress_bar_shows_best(capsys: pytest.CaptureFixture[str]) -> None:
    study = hd.create_study(seed=0)
    study.optimize(quadratic, n_trials=5, show_progress_bar=True)
    err = capsys.readouterr().err
    assert "5/5" in err and f"best={study.best_value:.6g}" in err


def test_storage_errors_are_clear(tmp_path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(hd.exceptions.StorageError, match="no SQLite database at"):
        hd.load_study(study_name="x", storage=f"sqlite:///{missing}")
    with pytest.raises(hd.exceptions.StorageError, match="no SQLite database at"):
        hd.get_all_studies(f"sqlite:///{missing}")
    assert not missing.exists()  # reading never creates a database
    with pytest.raises(hd.InvalidParameterError, match="`storage` must be a SQLAlchemy URL"):
        hd.create_study(storage="not a url")
    with pytest.raises(hd.exceptions.StorageError, match=r"cannot open storage postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/db"):
        hd.create_study(storage="postgresql+psycopg://u:secret@127.0.0.1:1/db")


def test_constraints_make_best_trial_prefer_feasible(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url)
    for x, c in [(0.1, 1.0), (0.5, -0.2), (0.7, 0.0), (0.05, 2.0)]:
        t = study.ask()
        t.set_constraint([c, -1.0])
        study.tell(t, x)
    t = study.ask()
    study.tell(t, 0.9)  # no constraints: feasible
    trials = study.trials
    assert trials[0].constraints == (1.0, -1.0) and not trials[0].feasible and trials[0].violation == 1.0
    assert trials[1].feasible and trials[2].feasible and trials[4].feasible
    assert study.best_trial.number == 1  # the best feasible value, not the infeasible 0.05
    with pytest.raises(hd.InvalidParameterError, match="`constraint` must not be NaN"):
        study.ask().set_constraint([float("nan")])

    infeasible = hd.create_study(directions=["minimize", "minimize"])
    for values, c in [((1, 2), 3.0), ((2, 1), 1.0), ((0, 0), 5.0), ((3, 0.5), 1.0)]:
        t = infeasible.ask()
        t.set_constraint([c])
        infeasible.tell(t, values)
    # Nothing feasible: the least-violating trials form the front.
    assert sorted(t.values for t in infeasible.best_trials) == [(2.0, 1.0), (3.0, 0.5)]


def test_default_pruner_prunes_in_multi_objective_studies() -> None:
    study = hd.create_study(directions=["minimize", "minimize"], seed=0)
    assert isinstance(study.pruner, hd.pruners.ASHA)
    single = hd.create_study().pruner  # ASHA for one objective too, first rung skipped (docs/design-notes.md)
    assert isinstance(single, hd.pruners.ASHA) and single.rungs(52) == [3, 9, 27]

    def objective(trial: hd.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        for step in range(9):
            trial.report([x + 1 / (step + 1), 1 - x + 1 / (step + 1)], step)
            if trial.should_prune():
                raise hd.TrialPruned()
        return x, 1 - x

    study.optimize(objective, n_trials=20, show_progress_bar=False)
    assert {t.state for t in study.trials} <= {TrialState.COMPLETE, TrialState.PRUNED}


def test_joint_proposal_is_visible_to_other_processes(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    a = hd.create_study(study_name="p", storage=url, sampler=hd.samplers.TPE(seed=0, n_startup_trials=3))
    a.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 4), n_trials=6, show_progress_bar=False)
    running = a.ask()  # the objective has not asked for anything yet
    assert running.params == {} and set(running.system_attrs["proposal"]["params"]) == {"x", "n"}
    b = hd.load_study(study_name="p", storage=url)  # another worker, as another process would see it
    (seen,) = b.history().running
    view = seen.with_proposal()
    assert view.params == running.system_attrs["proposal"]["params"]
    assert view.distributions == {"x": hd.Float(0, 1), "n": hd.Int(1, 4)}
    assert running.suggest_float("x", 0, 1) == view.params["x"]  # the objective gets what was proposed
    done = a.tell(running, 1.0)
    assert done.with_proposal() is done  # finished trials are what they are


def test_threads_with_trials_longer_than_the_poll_interval() -> None:
    # Python 3.10: concurrent.futures.TimeoutError is not the built-in TimeoutError, and the
    # main thread's 0.2 s polls of the workers must not end the run (CI runs 3.10 and 3.13).
    study = hd.create_study(sampler=hd.samplers.Random(seed=0))
    study.optimize(lambda t: time.sleep(0.3) or t.suggest_float("x", 0, 1), n_trials=6, n_jobs=2,
                   show_progress_bar=False)
    assert [t.state for t in study.trials] == [hd.TrialState.COMPLETE] * 6
