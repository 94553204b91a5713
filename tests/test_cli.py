"""The `hyperdial` command line, run as a real subprocess against a real SQLite file.

Studies are created through the Python API; the CLI's output is parsed and
compared with what the API reports.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd

DEFAULT_PARAMS = {"C": 1.0, "gamma": 1e-3, "kernel": "rbf"}


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m hyperdial ARGS` with stdin not a TTY and $HYPERDIAL_STORAGE unset unless given."""
    full_env = {k: v for k, v in os.environ.items() if k != "HYPERDIAL_STORAGE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hyperdial", *args],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _make_single(url: str, name: str = "single") -> hd.Study:
    """3 COMPLETE (one with the conditional param), 1 PRUNED with a value, 1 FAIL."""
    study = hd.create_study(study_name=name, storage=url, direction="minimize", seed=0)
    for x, opt in [(0.5, "adam"), (-1.5, "sgd"), (0.25, "adam")]:
        study.enqueue_trial({"x": x, "opt": opt, "momentum": 0.9})
    for _ in range(3):
        trial = study.ask()
        x = trial.suggest_float("x", -2.0, 2.0)
        opt = trial.suggest_categorical("opt", ["adam", "sgd"])
        if opt == "sgd":
            trial.suggest_float("momentum", 0.0, 0.99)
        study.tell(trial, x * x)
    pruned = study.ask()
    pruned.suggest_float("x", -2.0, 2.0)
    pruned.report(7.5, step=0)
    study.tell(pruned, state=hd.TrialState.PRUNED)
    failed = study.ask()
    failed.suggest_float("x", -2.0, 2.0)
    study.tell(failed, state=hd.TrialState.FAIL, fail_reason="boom")
    return study


def _make_multi(url: str, name: str = "multi") -> hd.Study:
    """Two objectives; trials 0 and 1 are on the Pareto front, 2 is dominated, 3 FAIL."""
    study = hd.create_study(study_name=name, storage=url, directions=["minimize", "maximize"])
    for a, b in [(1.0, 1.0), (2.0, 3.0), (3.0, 0.5)]:
        trial = study.ask()
        trial.suggest_float("a", 0.0, 5.0)
        study.tell(trial, [a, b])
    failed = study.ask()
    study.tell(failed, state=hd.TrialState.FAIL)
    return study


@pytest.fixture()
def db(tmp_path: Path) -> tuple[str, hd.Study, hd.Study]:
    url = _url(tmp_path / "studies.db")
    return url, _make_single(url), _make_multi(url)


def _names(url: str) -> set[str]:
    return {s.name for s in hd.get_all_studies(url)}


def _no_nan(text: str) -> Any:
    def reject(const: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {const}")

    return json.loads(text, parse_constant=reject)


# -- studies ---------------------------------------------------------------------
def test_studies_json_counts_and_best(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, single, _ = db
    res = run_cli("--storage", url, "studies", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = {r["name"]: r for r in _no_nan(res.stdout)}
    assert set(rows) == {"single", "multi"}
    s = rows["single"]
    counts = [s[k] for k in ("n_trials", "COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")]
    assert counts == [5, 3, 1, 1, 0, 0]
    assert s["directions"] == "minimize"
    assert s["best_value"] == single.best_value == 0.0625
    assert datetime.fromisoformat(s["datetime_start"]) == single.trials[0].datetime_start
    m = rows["multi"]
    assert (m["n_trials"], m["COMPLETE"], m["FAIL"]) == (4, 3, 1)
    assert m["directions"] == "minimize,maximize"
    assert m["best_value"] is None


def test_studies_table(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, _, _ = db
    res = run_cli("--storage", url, "studies", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    header, rule, *lines = res.stdout.splitlines()
    assert header.split()[:4] == ["name", "directions", "n_trials", "COMPLETE"]
    assert set(rule) <= {"-", " "}
    by_name = {line.split()[0]: line.split() for line in lines}
    assert by_name["single"][1:7] == ["minimize", "5", "3", "1", "1", "0"]
    assert by_name["single"][8] == "0.0625"
    assert by_name["multi"][1:3] == ["minimize,maximize", "4"]


def test_read_commands_do_not_create_a_missing_database(tmp_path: Path) -> None:
    res = run_cli("studies", cwd=tmp_path)
    assert res.returncode == 0
    assert "no studies" in res.stderr
    res = run_cli("trials", "demo", cwd=tmp_path)
    assert res.returncode == 1
    assert not (tmp_path / "hyperdial.db").exists()


# -- trials ----------------------------------------------------------------------
def test_trials_csv_matches_api(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, single, _ = db
    res = run_cli("--storage", url, "trials", "single", "--format", "csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    reader = csv.DictReader(io.StringIO(res.stdout))
    assert reader.fieldnames == [
        "number", "state", "value", "params_momentum", "params_opt", "params_x",
        "duration", "datetime_start", "datetime_complete",
    ]  # fmt: skip
    rows = list(reader)
    trials = single.trials
    assert [int(r["number"]) for r in rows] == [t.number for t in trials]
    for row, t in zip(rows, trials):
        assert row["state"] == t.state.name
        assert (float(row["value"]) if row["value"] else None) == t.value
        assert float(row["params_x"]) == t.params["x"]
        assert row["params_opt"] == t.params.get("opt", "")
        assert (float(row["params_momentum"]) if row["params_momentum"] else None) == t.params.get("momentum")
        assert datetime.fromisoformat(row["datetime_start"]) == t.datetime_start
        assert datetime.fromisoformat(row["datetime_complete"]) == t.datetime_complete
        assert float(row["duration"]) == pytest.approx(t.duration)
    assert [r["state"] for r in rows] == ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED", "FAIL"]
    assert rows[3]["value"] == "7.5" and rows[4]["value"] == ""
    assert rows[1]["params_momentum"] == "0.9" and rows[0]["params_momentum"] == ""


def test_trials_json_matches_api(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, single, _ = db
    res = run_cli("trials", "single", "--format", "json", "--storage", url, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = _no_nan(res.stdout)
    assert isinstance(rows, list) and len(rows) == len(single.trials)
    for row, t in zip(rows, single.trials):
        assert row["number"] == t.number
        assert row["state"] == t.state.name
        assert row["value"] == t.value
        params = {k[len("params_") :]: v for k, v in row.items() if k.startswith("params_")}
        assert params == t.params  # a conditional parameter a trial lacks is absent, not null
        assert datetime.fromisoformat(row["datetime_start"]) == t.datetime_start
        assert datetime.fromisoformat(row["datetime_complete"]) == t.datetime_complete
        assert row["duration"] == pytest.approx(t.duration)


def test_trials_table(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, single, _ = db
    res = run_cli("--storage", url, "trials", "single", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    header, rule, *lines = res.stdout.splitlines()
    assert header.split()[:4] == ["number", "state", "value", "params_momentum"]
    assert len(lines) == len(single.trials)
    # aligned: every column starts where its header does
    state_at = header.index("state")
    assert all(line[state_at:].split()[0] == t.state.name for line, t in zip(lines, single.trials))
    assert [line.split()[0] for line in lines] == [str(t.number) for t in single.trials]
    assert len(rule) >= len(header.rstrip())


def test_trials_multi_objective_columns(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, _, multi = db
    res = run_cli("--storage", url, "trials", "multi", "--format", "csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert "value" not in rows[0]
    got = [(r["values_0"], r["values_1"]) for r in rows]
    want = [tuple(str(v) for v in t.values) if t.values else ("", "") for t in multi.trials]
    assert got == want


# -- best ------------------------------------------------------------------------
def test_best_single(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, single, _ = db
    best = single.best_trial
    res = run_cli("--storage", url, "best", "single", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = _no_nan(res.stdout)["best_trial"]
    assert (data["number"], data["value"], data["params"]) == (best.number, best.value, best.params)
    res = run_cli("--storage", url, "best", "single", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"Best trial: {best.number}" in res.stdout
    assert f"Value: {best.value!r}" in res.stdout
    assert "x: 0.25" in res.stdout and "opt: adam" in res.stdout


def test_best_multi_prints_pareto_front(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, _, multi = db
    front = sorted(t.number for t in multi.best_trials)
    assert front == [0, 1]
    res = run_cli("--storage", url, "best", "multi", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = _no_nan(res.stdout)
    assert [t["number"] for t in data["best_trials"]] == front
    assert [t["values"] for t in data["best_trials"]] == [[1.0, 1.0], [2.0, 3.0]]
    res = run_cli("--storage", url, "best", "multi", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Pareto front of 2 trial(s)" in res.stdout
    numbers = [line.split()[0] for line in res.stdout.splitlines()[3:]]
    assert numbers == ["0", "1"]


def test_best_without_complete_trial_fails_cleanly(tmp_path: Path) -> None:
    url = _url(tmp_path / "s.db")
    study = hd.create_study(study_name="empty", storage=url)
    study.tell(study.ask(), state=hd.TrialState.FAIL)
    res = run_cli("--storage", url, "best", "empty", cwd=tmp_path)
    assert res.returncode == 1
    assert "no COMPLETE trial" in res.stderr and "Traceback" not in res.stderr


# -- delete ----------------------------------------------------------------------
def test_delete_with_yes(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, _, _ = db
    res = run_cli("--storage", url, "delete", "single", "--yes", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "single" in res.stdout
    assert _names(url) == {"multi"}
    with pytest.raises(hd.StudyNotFound):
        hd.load_study(study_name="single", storage=url)


def test_delete_without_yes_refuses_on_non_tty(db: tuple[str, hd.Study, hd.Study], tmp_path: Path) -> None:
    url, _, _ = db
    res = run_cli("--storage", url, "delete", "single", cwd=tmp_path)  # stdin is /dev/null
    assert res.returncode == 1
    assert "--yes" in res.stderr and "single" in res.stderr
    assert "Traceback" not in res.stderr
    assert _names(url) == {"single", "multi"}
    assert len(hd.load_study(study_name="single", storage=url).trials) == 5


# -- errors ----------------------------------------------------------------------
@pytest.mark.parametrize("command", [["trials"], ["best"], ["delete", "--yes"]])
def test_unknown_study(db: tuple[str, hd.Study, hd.Study], tmp_path: Path, command: list[str]) -> None:
    url, _, _ = db
    res = run_cli("--storage", url, command[0], "no-such-study", *command[1:], cwd=tmp_path)
    assert res.returncode == 1
    assert "no-such-study" in res.stderr
    assert url in res.stderr
    assert "Traceback" not in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["trials"],
        ["trials", "single", "--format", "xml"],
        ["best", "single", "--format", "csv"],
        ["demo", "--n-trials", "0"],
        ["demo", "--n-jobs", "zero"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str]) -> None:
    res = run_cli(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert "usage:" in res.stderr and "Traceback" not in res.stderr


def test_bad_storage_url_fails_cleanly(tmp_path: Path) -> None:
    res = run_cli("--storage", "not-a-url", "studies", cwd=tmp_path)
    assert res.returncode == 1
    assert "not-a-url" in res.stderr and "Traceback" not in res.stderr


def test_storage_password_is_not_printed(tmp_path: Path) -> None:
    url = "postgresql+psycopg://user:s3cr3t@127.0.0.1:1/nodb?connect_timeout=2"
    res = run_cli("--storage", url, "trials", "x", cwd=tmp_path, timeout=60)
    assert res.returncode == 1
    assert "s3cr3t" not in res.stderr + res.stdout
    assert "Traceback" not in res.stderr


# -- where the storage comes from ---------------------------------------------------------
def test_storage_env_default_and_flag_precedence(tmp_path: Path) -> None:
    default_url = _url(tmp_path / "hyperdial.db")  # sqlite:///hyperdial.db, relative to cwd
    env_url = _url(tmp_path / "env.db")
    flag_url = _url(tmp_path / "flag.db")
    hd.create_study(study_name="in-default", storage=default_url)
    hd.create_study(study_name="in-env", storage=env_url)
    hd.create_study(study_name="in-flag", storage=flag_url)

    def listed(*args: str, env: dict[str, str] | None = None) -> list[str]:
        res = run_cli(*args, cwd=tmp_path, env=env)
        assert res.returncode == 0, res.stderr
        return [row["name"] for row in json.loads(res.stdout)]

    assert listed("studies", "--format", "json") == ["in-default"]
    env = {"HYPERDIAL_STORAGE": env_url}
    assert listed("studies", "--format", "json", env=env) == ["in-env"]
    assert listed("--storage", flag_url, "studies", "--format", "json", env=env) == ["in-flag"]
    assert listed("studies", "--storage", flag_url, "--format", "json", env=env) == ["in-flag"]
    assert listed("studies", "--format", "json", env={"HYPERDIAL_STORAGE": ""}) == ["in-default"]


# -- demo ------------------------------------------------------------------------
def test_demo_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    res = run_cli("demo", "--n-trials", "6", "--seed", "0", cwd=tmp_path, timeout=240)
    assert res.returncode == 0, res.stderr
    db_file = tmp_path / "hyperdial.db"
    assert db_file.exists()
    study = hd.load_study(study_name="demo", storage=_url(db_file))
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) >= 6
    assert study.trials[0].params == DEFAULT_PARAMS  # the enqueued default ran first
    assert {p for t in study.trials for p in t.params} <= {"C", "gamma", "kernel", "degree"}
    assert all(("degree" in t.params) == (t.params["kernel"] == "poly") for t in study.trials)
    best = study.best_trial
    assert best.value is not None and 0.0 < best.value <= 1.0
    assert f"Best accuracy: {best.value:.4f}" in res.stdout
    for name, value in best.params.items():
        assert f"  {name}: {value}" in res.stdout
    assert "hyperdial trials demo" in res.stdout
    assert "Trial 0 complete" not in res.stderr  # per-trial INFO lines are off

    # A second run continues the same study and does not enqueue the default again.
    n_before = len(study.trials)
    res = run_cli("demo", "--n-trials", "1", cwd=tmp_path, timeout=240)
    assert res.returncode == 0, res.stderr
    trials = hd.load_study(study_name="demo", storage=_url(db_file)).trials
    assert len(trials) == n_before + 1
    assert sum(t.params == DEFAULT_PARAMS for t in trials) == 1


def test_demo_without_sklearn_names_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None\n"  # makes `import sklearn` raise ImportError
        "from hyperdial.cli.main import main\n"
        "raise SystemExit(main(['--storage', 'sqlite:///x.db', 'demo', '--n-trials', '1']))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 1
    assert "pip install 'hyperdial[demo]'" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("answer", "deleted"), [("n\n", False), ("yes\n", True)])
def test_delete_asks_on_a_tty(db: tuple[str, hd.Study, hd.Study], tmp_path: Path, answer: str, deleted: bool) -> None:
    url, _, _ = db
    leader, follower = os.openpty()
    try:
        env = {k: v for k, v in os.environ.items() if k != "HYPERDIAL_STORAGE"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "hyperdial", "--storage", url, "delete", "single"],
            cwd=tmp_path,
            env=env,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(leader, answer.encode())
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    assert "Delete study 'single' and its 5 trials" in err
    assert proc.returncode == (0 if deleted else 1)
    assert ("single" in _names(url)) is not deleted
