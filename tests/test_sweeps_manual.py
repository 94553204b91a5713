"""`hyperdial ask / tell / add`: manual runs that feed the sampler; resuming a sweep's study by name."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

import hyperdial as hd
from hyperdial.cli.main import main

SPACE = """study: manual
command: [python, train.py, "${args}"]
metric: {name: loss}
parameters:
  lr: {type: float, low: 1e-4, high: 1e-1, log: true}
  opt: {values: [adam, sgd]}
  note: {value: "x; touch pwned"}
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    (tmp_path / "space.yaml").write_text(SPACE)
    return f"sqlite:///{tmp_path / 'hd.db'}"


def run(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--storage", db, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_tell_add_round_trip(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(db, capsys, "ask", "manual", "--space", str(tmp_path / "space.yaml"))
    asked = json.loads(out)
    assert code == 0 and asked["trial"] == 0
    assert set(asked["params"]) == {"lr", "opt", "note"} and 1e-4 <= asked["params"]["lr"] <= 0.1
    code, out, err = run(db, capsys, "ask", "manual", "--format", "args")  # the space is stored now
    assert err == "trial 1 (record its result: hyperdial tell manual 1 VALUE)\n"  # the number, apart from the args
    argv = shlex.split(out)
    assert code == 0 and "--note=x; touch pwned" in argv and any(a.startswith("--lr=") for a in argv)
    code, out, _ = run(db, capsys, "ask", "manual", "--format", "env")
    lines = dict(line.split("=", 1) for line in out.splitlines())
    assert lines["HYPERDIAL_TRIAL"] == "2" and shlex.split(lines["HYPERDIAL_PARAM_NOTE"]) == ["x; touch pwned"]
    assert run(db, capsys, "tell", "manual", "0", "0.25")[1] == "trial 0: COMPLETE\n"
    assert run(db, capsys, "tell", "manual", "1", "--state", "pruned")[1] == "trial 1: PRUNED\n"
    assert run(db, capsys, "tell", "manual", "2", "--state", "fail")[1] == "trial 2: FAIL (told by hand)\n"
    code, out, _ = run(db, capsys, "add", "manual", "--params", '{"lr": 0.01, "opt": "sgd"}', "--value", "0.1")
    assert code == 0 and out == "trial 3: COMPLETE with value(s) 0.1\n"
    study = hd.load_study(study_name="manual", storage=db)
    assert [t.state for t in study.trials] == [hd.TrialState.COMPLETE, hd.TrialState.PRUNED, hd.TrialState.FAIL,
                                               hd.TrialState.COMPLETE]
    assert study.best_trial.number == 3 and study.best_params == {"lr": 0.01, "opt": "sgd"}
    assert study.trials[0].params["lr"] == asked["params"]["lr"]


@pytest.mark.parametrize(("args", "message"), [
    (["tell", "manual", "0"], "has 1 metric(s): give as many VALUEs, got 0"),
    (["tell", "manual", "0", "1", "--state", "fail"], "--state fail takes no VALUE"),
    (["tell", "manual", "9", "1"], "has no trial 9"),
    (["add", "manual", "--params", '{"lr": 5}', "--value", "1"], "lr=5.0 lies outside Float"),
    (["add", "manual", "--params", '{"depth": 5}', "--value", "1"], "'depth' is not a parameter of the space"),
    (["add", "manual", "--params", "[1]", "--value", "1"], "--params must be a JSON object"),
    (["add", "manual", "--params", "{}", "--value", "nan"], "--value must be finite numbers"),
    (["logs", "manual", "0"], "has no log (it was not run by a sweep agent)"),
])
def test_bad_manual_input_is_one_clear_line(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            args: list[str], message: str) -> None:
    assert run(db, capsys, "ask", "manual", "--space", str(tmp_path / "space.yaml"))[0] == 0
    code, _, err = run(db, capsys, *args)
    assert code == 1 and message in err and err.count("\n") == 1


def test_a_study_without_a_sweep_file_needs_space(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    hd.create_study(study_name="plain", storage=db)
    code, _, err = run(db, capsys, "ask", "plain")
    assert code == 1 and "stores no sweep file: give its space with --space FILE" in err
    code, _, err = run(db, capsys, "agent", "plain")
    assert code == 1 and "was not made by `hyperdial sweep`" in err


def test_resuming_a_sweep_with_another_space_is_refused(db: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db, capsys, "ask", "manual", "--space", str(tmp_path / "space.yaml"))[0] == 0
    other = tmp_path / "other.yaml"
    other.write_text(SPACE.replace("high: 1e-1", "high: 1.0"))
    code, _, err = run(db, capsys, "sweep", str(other))
    assert code == 1 and "study 'manual' exists with another space or metrics" in err
