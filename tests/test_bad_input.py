"""Bad input is refused early, with a message that names the culprit (issue 11, "Bad input").

Each row is (id, a call that must fail, the error class, a pattern of its message).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.exceptions import StorageError


def _one(trial: hd.Trial) -> float:
    return trial.suggest_float("x", 0, 1)


def _memory_study() -> hd.Study:
    return hd.create_study(seed=0)


def _tell(values: Any, state: hd.TrialState) -> Callable[[], Any]:
    def call() -> Any:
        study = _memory_study()
        return study.tell(study.ask(), values, state=state)

    return call


def _optimize(**kwargs: Any) -> Callable[[], Any]:
    return lambda: _memory_study().optimize(_one, n_trials=1, show_progress_bar=False, **kwargs)


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    ("sampler class", lambda: hd.create_study(sampler=hd.samplers.TPE),
     hd.InvalidParameterError, r"`sampler` must be an instance.*pass an instance: TPE\(\)"),
    ("pruner class", lambda: hd.create_study(pruner=hd.pruners.ASHA),
     hd.InvalidParameterError, r"`pruner` must be an instance.*pass an instance: ASHA\(\)"),
    ("catch instance", _optimize(catch=ValueError()),
     hd.InvalidParameterError, r"`catch` must be an exception class or a tuple of them.*ValueError\(\)"),
    ("catch tuple of instances", _optimize(catch=(ValueError(),)),
     hd.InvalidParameterError, r"`catch` must be an exception class or a tuple of them"),
    ("executor typo", _optimize(executor="proces"),
     hd.InvalidParameterError, r"`executor` must be 'thread', 'process'.*got executor='proces'"),
    ("enqueued user attr", lambda: _memory_study().enqueue_trial({"x": 0.5}, user_attrs={"note": {1}}),
     hd.InvalidParameterError, r"`value` must be JSON .* for 'note', got value=\{1\}"),
    ("pruned with a value", _tell(1.0, hd.TrialState.PRUNED),
     hd.InvalidParameterError, r"`values` must be None with state=PRUNED"),
    ("failed with values", _tell([1.0], hd.TrialState.FAIL),
     hd.InvalidParameterError, r"`values` must be None with state=FAIL"),
]


@pytest.mark.parametrize(("call", "error", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused(call: Callable[[], Any], error: type[BaseException], pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        call()


def test_load_study_refuses_a_sampler_class(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    hd.create_study(study_name="s", storage=url)
    with pytest.raises(hd.InvalidParameterError, match=r"pass an instance: Random\(\)"):
        hd.load_study(study_name="s", storage=url, sampler=hd.samplers.Random)


def test_pruned_without_values_keeps_the_last_report() -> None:
    study = _memory_study()
    trial = study.ask()
    trial.report(0.5, step=1)
    assert study.tell(trial, state=hd.TrialState.PRUNED).values == (0.5,)


@pytest.mark.parametrize(("name", "fragment"), [
    ("Grid", "--sampler Grid needs its grid"),
    ("PerBracket", "--sampler PerBracket needs a base sampler"),
    ("BudgetView", "unknown sampler 'BudgetView'"),
])
def test_worker_sampler_choice_is_one_line(tmp_path, capsys, name: str, fragment: str) -> None:
    from hyperdial.cli.main import main

    url = f"sqlite:///{tmp_path}/s.db"
    hd.create_study(study_name="s", storage=url)
    assert main(["--storage", url, "worker", "s", "--objective", "math:sqrt", "--sampler", name]) == 1
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    choices = err.split("choose one of ")[1]
    assert "BudgetView" not in choices and "Sampler" not in choices and "Grid" not in choices


def test_worker_samplers_build_from_a_name_and_a_seed() -> None:
    from hyperdial.cli.worker import BY_NAME, make_sampler

    for name in BY_NAME:
        assert callable(make_sampler(name, 1).sample)


class _Opaque:
    pass


_circular: list[Any] = []
_circular.append(_circular)


@pytest.mark.parametrize("value", [{1, 2}, _Opaque(), _circular, b"bytes"], ids=["set", "object", "circular", "bytes"])
def test_user_attrs_must_be_json_in_every_storage(storage_url: str | None, value: Any) -> None:
    study = hd.create_study(storage=storage_url)
    trial = study.ask()
    for set_attr in (trial.set_user_attr, study.set_user_attr, hd.FixedTrial({}).set_user_attr):
        with pytest.raises(hd.InvalidParameterError, match=r"`value` must be JSON .* for 'note', got value="):
            set_attr("note", value)
    assert trial.user_attrs == {} and study.user_attrs == {}


def test_user_attrs_read_back_the_same_in_every_storage(storage_url: str | None) -> None:
    # NaN and infinities are kept (a diverged run's loss is worth recording); tuples become lists.
    study = hd.create_study(storage=storage_url)
    trial = study.ask()
    value = {"loss": float("nan"), "best": float("inf"), "shape": (2, 3)}
    trial.set_user_attr("note", value)
    study.set_user_attr("note", value)
    study.tell(trial, 1.0)
    for got in (trial.user_attrs["note"], study.trials[0].user_attrs["note"], study.user_attrs["note"]):
        assert got["loss"] != got["loss"] and got["best"] == float("inf") and got["shape"] == [2, 3]


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 16)


def _malformed(path: Path) -> None:
    hd.create_study(study_name="a", storage=f"sqlite:///{path}")
    with open(path, "r+b") as f:  # keep SQLite's header, scramble the schema page
        f.seek(100)
        f.write(bytes(range(256)) * 8)


STORAGE_CASES: list[tuple[str, Callable[[Path], str], type[BaseException], str]] = [
    ("mysql", lambda tmp: "mysql://u@h/db",
     hd.InvalidParameterError, (r"`storage` uses the unsupported backend 'mysql'; hyperdial supports sqlite:///"
                                r"path.db and postgresql\+psycopg://user@host/db, got storage='mysql://u@h/db'")),
    ("other postgres driver", lambda tmp: "postgresql+asyncpg://u:pw@h/db",
     hd.InvalidParameterError, r"`storage` uses the unsupported driver 'asyncpg'.*got storage='postgresql\+asyncpg://u:\*\*\*@h/db'"),
    ("below a file", lambda tmp: (tmp / "afile").write_text("x") and f"sqlite:///{tmp}/afile/s.db",
     StorageError, r"'.*/afile' is a file, not a directory \(SQLite file '.*/afile/s.db'\)"),
    ("missing directory", lambda tmp: f"sqlite:///{tmp}/typo/deeper/s.db",
     StorageError, r"no directory '.*/typo/deeper' for the SQLite file '.*/typo/deeper/s.db'; create it first"),
    ("garbage file", lambda tmp: _garbage(tmp / "bad.db") or f"sqlite:///{tmp}/bad.db",
     StorageError, r"cannot open storage sqlite:///.*/bad.db: file is not a database \(the file is damaged"),
    ("malformed file", lambda tmp: _malformed(tmp / "m.db") or f"sqlite:///{tmp}/m.db",
     StorageError, r"cannot open storage sqlite:///.*/m.db: database disk image is malformed \(the file is damaged"),
]


@pytest.mark.parametrize(("url", "error", "pattern"), [c[1:] for c in STORAGE_CASES], ids=[c[0] for c in STORAGE_CASES])
def test_bad_storage(tmp_path: Path, url: Callable[[Path], str], error: type[BaseException], pattern: str) -> None:
    storage = url(tmp_path)
    with pytest.raises(error, match=pattern):
        hd.create_study(study_name="a", storage=storage, load_if_exists=True)
    assert not (tmp_path / "typo").exists()  # never created behind the user's back


@pytest.mark.skipif(importlib.util.find_spec("psycopg2") is not None, reason="psycopg2 is installed here")
def test_psycopg2_url_says_which_driver_to_use() -> None:
    with pytest.raises(hd.exceptions.MissingDependency,
                       match=r"postgresql\+psycopg2:// needs psycopg2, which hyperdial does not install: "
                             r"use postgresql\+psycopg://\.\.\. \(psycopg 3, pip install 'hyperdial\[postgres\]'\) "
                             r"or pip install psycopg2"):
        hd.create_study(storage="postgresql+psycopg2://u@h/db")


def test_cli_names_a_damaged_file(tmp_path: Path, capsys) -> None:
    from hyperdial.cli.main import main

    _garbage(tmp_path / "bad.db")
    assert main(["--storage", f"sqlite:///{tmp_path}/bad.db", "studies"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.db: file is not a database (the file is damaged" in err, err


def _space(trial: hd.Trial) -> float:
    trial.suggest_int("n", 0, 2**60)
    trial.suggest_categorical("opt", ["adam", "sgd"])
    return trial.suggest_float("x", 0, 1)


ENQUEUED: list[tuple[str, dict[str, Any], str]] = [
    ("out of range", {"x": 5.0}, r"`params` \(enqueued\) value is outside Float\(low=0.0, high=1.0.*for 'x', got params=5.0"),
    ("a string for a float", {"x": "0.5"}, r"`params` \(enqueued\) value must be a number in Float\(.*for 'x', got params='0.5'"),
    ("a bool for an int", {"n": True}, r"must be a number in Int\(.*for 'n', got params=True"),
    ("not a choice", {"opt": "rmsprop"}, r"value is outside Categorical\(choices=\('adam', 'sgd'\)\) for 'opt'"),
    ("beyond float precision", {"n": 2**59 + 1},
     (r"`params` \(enqueued\) value must be an integer a float holds exactly \(\|value\| <= 2\*\*53\) for 'n', "
      r"got params=576460752303423489")),
]


@pytest.mark.parametrize(("params", "pattern"), [c[1:] for c in ENQUEUED], ids=[c[0] for c in ENQUEUED])
def test_enqueue_checks_known_parameters_at_once(storage_url: str | None, params: dict[str, Any], pattern: str) -> None:
    study = hd.create_study(storage=storage_url, seed=0)
    study.optimize(_space, n_trials=2, show_progress_bar=False)
    with pytest.raises(hd.InvalidParameterError, match=pattern):
        study.enqueue_trial(params)
    assert [t.state for t in study.trials] == [hd.TrialState.COMPLETE] * 2  # nothing was queued


@pytest.mark.parametrize(("params", "pattern"), [c[1:] for c in ENQUEUED], ids=[c[0] for c in ENQUEUED])
def test_enqueued_values_are_checked_again_when_claimed(params: dict[str, Any], pattern: str) -> None:
    study = hd.create_study(seed=0)
    study.enqueue_trial(params)  # no trial yet: nothing to check against
    with pytest.raises(hd.InvalidParameterError, match=pattern):
        _space(study.ask())


def test_enqueue_follows_the_latest_distribution_and_keeps_exact_ints(tmp_path: Path) -> None:
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/s.db", seed=0)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1, show_progress_bar=False)
    study.optimize(lambda t: t.suggest_float("x", 0, 10) + t.suggest_int("n", 0, 2**60), n_trials=1,
                   show_progress_bar=False)
    study.enqueue_trial({"x": 5.0, "n": 2**53})  # x was widened by the latest trial; 2**53 is exact
    trial = study.ask()
    assert (trial.suggest_float("x", 0, 10), trial.suggest_int("n", 0, 2**60)) == (5.0, 2**53)


def test_enqueue_warns_about_a_name_no_trial_used(caplog: pytest.LogCaptureFixture) -> None:
    study = hd.create_study(seed=0)
    study.enqueue_trial({"lrr": 0.1})  # no trial yet: every name is new, nothing to say
    assert not caplog.records
    study.optimize(_one, n_trials=2, show_progress_bar=False)
    study.enqueue_trial({"x": 0.5, "lrr": 0.1})
    assert [r.getMessage() for r in caplog.records] == [
        ("enqueue_trial: no trial of this study used the parameter(s) ['lrr'] (known: ['x']); "
         "they apply only if the objective asks for them")
    ]


def test_numpy_attrs_are_stored_as_python_numbers(tmp_path: Path) -> None:
    import numpy as np

    study = hd.create_study(storage=f"sqlite:///{tmp_path}/n.db")
    trial = study.ask()
    trial.set_user_attr("epochs", np.int64(3))
    trial.set_user_attr("curve", np.array([0.5, 0.25]))
    study.tell(trial, 1.0)
    assert study.trials[0].user_attrs == {"epochs": 3, "curve": [0.5, 0.25]}
