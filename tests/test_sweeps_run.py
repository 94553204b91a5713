"""`hyperdial sweep` running real child programs: what reaches them, how each ending is recorded."""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.cli.main import main

PROGRAMS = Path(__file__).parent / "sweep_programs"
SRC = str(Path(hd.__file__).parent.parent)
REFERENCE = json.loads((Path(__file__).parent / "data" / "wandb_reference.json").read_text())


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch directory as the current one; children import this checkout's hyperdial."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("DUMP_TO", str(tmp_path / "dump.jsonl"))
    return tmp_path


def sweep(here: Path, config: dict[str, Any] | str, *args: str, name: str = "sweep.yaml") -> int:
    path = here / name
    path.write_text(config if isinstance(config, str) else json.dumps(config, indent=1))
    return main(["--storage", f"sqlite:///{here / 'hd.db'}", "sweep", str(path), "--grace", "1", *args])


def trials(here: Path, study: str) -> list[hd.FrozenTrial]:
    return hd.load_study(study_name=study, storage=f"sqlite:///{here / 'hd.db'}").trials


def dumps(here: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (here / "dump.jsonl").read_text().splitlines()]


def program(name: str) -> str:
    return str(PROGRAMS / name)


# --- conformance: the values that reach the program, for every W&B distribution and macro ---

def test_every_distribution_reaches_the_program_as_wandb_passes_it(here: Path) -> None:
    params = {name: ref["spec"] for name, ref in REFERENCE["draws"].items()}
    config = {"name": "dists", "method": "random", "metric": {"name": "loss"}, "program": program("dump_args.py"),
              "command": ["${env}", "${interpreter}", "${program}", "${args}", "--", "${args_json}",
                          "${args_json_file}"], "parameters": params}
    assert sweep(here, config, "--count", "25") == 0
    records = dumps(here)
    assert len(records) == 25
    for rec in records:
        argv = rec["argv"]
        sep = argv.index("--")
        args = dict(a[2:].split("=", 1) for a in argv[:sep])
        assert sorted(args) == sorted(params)  # W&B's order: sorted names, one --name=value each
        as_json = json.loads(argv[sep + 1])
        assert as_json == rec["json_file"]
        for name, spec in params.items():
            text, value = args[name], as_json[name]
            if name == "nested":  # W&B passes the nested dict as Python's str() of it
                assert ast.literal_eval(text) == value and set(value) == {"lr", "opt"}
                assert 0.001 <= value["lr"] <= 0.1 and value["opt"] in ("adam", "sgd")
                assert rec["env"]["HYPERDIAL_PARAM_NESTED_LR"] == json.dumps(value["lr"])
                continue
            assert text == str(value)  # --name=str(value), as W&B's agent writes it
            reference = REFERENCE["draws"][name]["values"]
            assert type(value).__name__ == type(reference[0]).__name__, (name, value)
            if "q" in spec:
                assert abs(value / spec["q"] - round(value / spec["q"])) < 1e-9, (name, value)
            if "values" in spec:
                assert value in spec["values"]
            if name in ("uniform", "int_uniform", "inferred_int", "inferred_float", "log_uniform_values"):
                assert spec["min"] <= value <= spec["max"], (name, value)
            if name == "beta":
                assert 0 <= value <= 1
            assert rec["env"][f"HYPERDIAL_PARAM_{name.upper()}"] == (value if isinstance(value, str)
                                                                    else json.dumps(value))
    study_trials = trials(here, "dists")
    assert [t.state for t in study_trials] == [hd.TrialState.COMPLETE] * 25
    assert all(t.user_attrs["config"] == json.loads(r["argv"][r["argv"].index("--") + 1])
               for t, r in zip(sorted(study_trials, key=lambda t: t.number), sorted(
                   records, key=lambda r: int(r["env"]["HYPERDIAL_TRIAL"]))))


def test_every_macro_expands_as_in_wandb_and_values_stay_one_argument(here: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_VAR", "from-env")
    params = {"yes": {"value": True}, "no": {"value": False}, "evil": {"value": "x; touch pwned"},
              "sub": {"value": "$(id) `id` ${HOME}"}, "n": {"value": 3}, "trainer.lr": {"value": 0.5}}
    config = {"name": "macros", "method": "grid", "metric": {"name": "loss"}, "program": program("dump_args.py"),
              "command": ["${env}", "${interpreter}", "${program}", "A", "${args}", "B", "${args_no_hyphens}", "C",
                          "${args_no_boolean_flags}", "D", "${args_json}", "E", "--tag=${envvar:MY_VAR}"],
              "parameters": {**params, "grid": {"values": [1]}}}
    assert sweep(here, config) == 0
    (rec,) = dumps(here)
    argv = rec["argv"]
    assert argv[: argv.index("B")] == [
        "A", "--evil=x; touch pwned", "--grid=1", "--n=3", "--no=False", "--sub=$(id) `id` ${HOME}",
        "--trainer.lr=0.5", "--yes=True"]
    assert argv[argv.index("B") + 1: argv.index("C")] == [
        "evil=x; touch pwned", "grid=1", "n=3", "no=False", "sub=$(id) `id` ${HOME}", "trainer.lr=0.5", "yes=True"]
    assert argv[argv.index("C") + 1: argv.index("D")] == [
        "--evil=x; touch pwned", "--grid=1", "--n=3", "--sub=$(id) `id` ${HOME}", "--trainer.lr=0.5", "--yes"]
    assert json.loads(argv[argv.index("D") + 1]) == {"evil": "x; touch pwned", "grid": 1, "n": 3, "no": False,
                                                      "sub": "$(id) `id` ${HOME}", "trainer.lr": 0.5, "yes": True}
    assert argv[-1] == "--tag=from-env"
    assert rec["env"]["HYPERDIAL_PARAM_EVIL"] == "x; touch pwned" and rec["env"]["HYPERDIAL_PARAM_YES"] == "true"
    assert rec["env"]["HYPERDIAL_TRIAL"] == "0" and rec["env"]["HYPERDIAL_PARAM_TRAINER_LR"] == "0.5"
    assert not list(here.glob("pwned")) and not (Path.cwd() / "pwned").exists()


# --- real programs ---

DIGITS = """
study: digits
command: ["{python}", "{program}", "${{args}}"]
metric: {{name: error, goal: minimize}}
parameters:
  lr: {{type: float, low: 1e-4, high: 10.0, log: true}}
  alpha: {{type: float, low: 1e-6, high: 1e-1, log: true}}
  epochs: {{value: 6}}
method: {{name: TPE, n_startup_trials: 4}}
early_stopping: {{type: ASHA, min_resource: 1, reduction_factor: 3}}
budget: {{trials: 14}}
parallel: 2
seed: 1
"""


def test_digits_training_script_reports_per_epoch_and_gets_pruned(here: Path) -> None:
    text = DIGITS.format(python=sys.executable, program=program("train_digits.py"))
    assert sweep(here, text, name="digits.yaml") == 0
    ts = trials(here, "digits")
    states = [t.state for t in ts]
    assert len(ts) == 14 and hd.TrialState.RUNNING not in states
    assert states.count(hd.TrialState.PRUNED) >= 1, states
    assert states.count(hd.TrialState.COMPLETE) >= 1, states
    for t in ts:
        if t.state == hd.TrialState.COMPLETE:
            assert sorted(t.intermediate_values) == [1, 2, 3, 4, 5, 6]
            assert t.value == t.intermediate_values[6] and 0 <= t.value < 1
        if t.state == hd.TrialState.PRUNED:  # the pruner may also stop a trial at its last epoch (timing decides)
            assert sorted(t.intermediate_values) == list(range(1, max(t.intermediate_values) + 1))
            if max(t.intermediate_values) < 6:
                assert "SIGTERM" in Path(t.user_attrs["log"]).read_text()
    assert min(t.value for t in ts if t.state == hd.TrialState.COMPLETE) < 0.15  # it learns digits


def test_shell_script_reads_parameters_from_the_environment(here: Path) -> None:
    config = {"name": "shell", "method": "bayes", "metric": {"name": "loss"}, "program": program("train.sh"),
              "command": ["${program}"], "parameters": {"x": {"min": 0.0, "max": 4.0}}, "run_cap": 5}
    assert sweep(here, config) == 0
    ts = trials(here, "shell")
    assert [t.state for t in ts] == [hd.TrialState.COMPLETE] * 5
    for t in ts:
        assert t.value == pytest.approx((t.params["x"] - 2) ** 2, rel=1e-4, abs=1e-4)
        assert f"trial={t.number}" in Path(t.user_attrs["log"]).read_text()


def _one(here: Path, prog: str, name: str, **extra: Any) -> hd.FrozenTrial:
    config = {"study": name, "command": [sys.executable, program(prog)], "metric": {"name": "loss"},
              "parameters": {"x": {"type": "float", "low": 0, "high": 1}}, "budget": {"trials": 1}, **extra}
    assert sweep(here, config) == 0
    (t,) = trials(here, name)
    return t


def test_crashing_program_fails_with_its_stderr_tail(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = _one(here, "crash.py", "crash")
    assert t.state == hd.TrialState.FAIL
    assert "exited with code 3" in t.system_attrs["fail_reason"]
    assert "the data set is broken" in t.system_attrs["fail_reason"]
    capsys.readouterr()
    assert main(["--storage", f"sqlite:///{here / 'hd.db'}", "logs", "crash", "0"]) == 0
    assert "[stderr] ValueError: the data set is broken" in capsys.readouterr().out


@pytest.mark.parametrize("impute", ["latest", "best", "worst"])
def test_metric_impute_records_failed_runs_so_the_sampler_learns(here: Path, impute: str) -> None:
    config = {"name": f"impute-{impute}", "method": "grid", "program": program("flaky.py"),
              "metric": {"name": "loss", "goal": "minimize", "impute": impute},
              "parameters": {"x": {"values": [0.1, 0.3, 0.7, 0.9]}}}
    assert sweep(here, config) == 0
    ts = trials(here, f"impute-{impute}")
    assert len(ts) == 4
    for t in ts:
        x = t.params["x"]
        if x < 0.5:
            assert t.state == hd.TrialState.COMPLETE and t.value == pytest.approx(x) and "imputed" not in t.user_attrs
            continue
        done = [u.value for u in ts if u.number < t.number and u.state == hd.TrialState.COMPLETE]
        expected = {"latest": 10 * x, "best": 10 * x, "worst": max(done, default=None)}[impute]
        if expected is None:  # nothing complete yet to take the worst of: the failure stays a failure
            assert t.state == hd.TrialState.FAIL
            continue
        assert t.state == hd.TrialState.COMPLETE and t.value == pytest.approx(expected)
        assert t.user_attrs["imputed"] == impute and "exited with code 1" in t.user_attrs["failed"]


def test_agents_that_check_the_budget_together_run_no_more_trials_than_it(here: Path) -> None:
    """The race of two agents (threads or machines) that both see room for one more trial, made deterministic."""
    from hyperdial.sweeps import read_sweep
    from hyperdial.sweeps.agent import Agent
    from hyperdial.sweeps.launch import open_sweep_study

    spec = read_sweep(json.dumps({"study": "cap", "command": [sys.executable, program("dump_args.py")],
                                  "metric": {"name": "loss"}, "parameters": {"x": {"type": "float", "low": 0,
                                                                                   "high": 1}},
                                  "budget": {"trials": 1}}))
    study = open_sweep_study(spec, f"sqlite:///{here / 'hd.db'}")
    first, second = Agent(study, spec), Agent(study, spec)
    os.makedirs(first.log_dir)  # what Agent.run does first
    assert first._done() is None and second._done() is None  # both see room for one more trial
    assert first.run_one().state == hd.TrialState.COMPLETE
    given_up = second.run_one()
    assert given_up.state == hd.TrialState.FAIL and "not run" in given_up.system_attrs["fail_reason"]
    assert len(dumps(here)) == 1  # one program ran
    assert second._done() == "budget of 1 trials reached"


def test_hanging_program_is_killed_at_the_trial_timeout(here: Path) -> None:
    start = time.monotonic()
    t = _one(here, "hang.py", "hang", trial_timeout=1)
    assert time.monotonic() - start < 30  # SIGTERM is ignored: SIGKILL after the 1 s grace
    assert t.state == hd.TrialState.FAIL and "timed out after 1 s" in t.system_attrs["fail_reason"]
    log = Path(t.user_attrs["log"]).read_text()
    assert "SIGTERM" in log and "SIGKILL" in log


@pytest.mark.parametrize(("prog", "reason"), [
    ("silent.py", "never reported the metric 'loss' (it reported nothing)"),
    ("nan.py", "the metric 'loss' is not a finite number: nan"),
    ("text_metric.py", "the metric 'loss' is not a finite number: 'low'"),
])
def test_bad_or_missing_metric_fails_saying_so(here: Path, prog: str, reason: str) -> None:
    t = _one(here, prog, prog.replace(".", "-"))
    assert t.state == hd.TrialState.FAIL and reason in t.system_attrs["fail_reason"]


def test_dry_run_prints_the_plan_and_runs_nothing(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {"method": "random", "metric": {"name": "acc", "goal": "maximize"}, "program": "missing.py",
              "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
                             "opt": {"parameters": {"name": {"values": ["adam", "sgd"]}}}}}
    assert sweep(here, config, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "W&B format" in out and "study: sweep" in out and "acc (maximize)" in out
    assert "lr: Float(low=0.0001, high=0.1, log=True, step=None)  [W&B log_uniform_values]" in out
    assert "opt.name: Categorical(choices=('adam', 'sgd'))" in out
    assert "first command: /usr/bin/env " in out and " missing.py --lr=" in out
    assert not (here / "hd.db").exists() and not (here / "hyperdial-logs").exists()


def test_agent_needs_only_the_study_and_storage(here: Path, tmp_path_factory: pytest.TempPathFactory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"name": "shared", "method": "random", "metric": {"name": "loss"}, "program": program("dump_args.py"),
              "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    assert sweep(here, config, "--count", "2") == 0
    (here / "sweep.yaml").unlink()
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    assert main(["--storage", f"sqlite:///{here / 'hd.db'}", "agent", "shared", "--count", "2"]) == 0
    ts = trials(here, "shared")
    assert [t.state for t in ts] == [hd.TrialState.COMPLETE] * 4
    assert (elsewhere / "hyperdial-logs" / "shared" / "trial-3.log").exists()


def test_target_stops_the_sweep_and_defaults_and_conditions_apply(here: Path) -> None:
    text = f"""
study: cond
command: ["{sys.executable}", "{program('dump_args.py')}", "${{args}}"]
metric: {{name: loss, goal: minimize}}
parameters:
  kind: {{values: [a, b]}}
  depth: {{type: int, low: 1, high: 4, when: {{kind: b}}}}
defaults: {{kind: b, depth: 3}}
budget: {{trials: 12}}
seed: 3
"""
    assert sweep(here, text, name="cond.yaml") == 0
    ts = sorted(trials(here, "cond"), key=lambda t: t.number)
    assert ts[0].params == {"kind": "b", "depth": 3}
    for t, rec in zip(ts, sorted(dumps(here), key=lambda r: int(r["env"]["HYPERDIAL_TRIAL"]))):
        assert ("depth" in t.params) == (t.params["kind"] == "b")
        assert any(a.startswith("--depth=") for a in rec["argv"]) == (t.params["kind"] == "b")
    # W&B's metric.target: the sweep ends once a trial reaches it (dump_args reports 0.5 * trial number).
    config = {"name": "target", "method": "random", "metric": {"name": "loss", "target": 0.0},
              "program": program("dump_args.py"), "parameters": {"x": {"min": 0.0, "max": 1.0}}, "run_cap": 10}
    assert sweep(here, config) == 0
    assert len(trials(here, "target")) == 1


EXAMPLES = Path(__file__).parent.parent / "examples" / "sweeps"


@pytest.mark.parametrize(("file", "study"), [("wandb-sweep.yaml", "digits-wandb"), ("native.yaml", "digits-native")])
def test_examples_run(file: str, study: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(EXAMPLES)  # the files name train.py relative to their folder
    monkeypatch.setenv("PYTHONPATH", SRC)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    storage = f"sqlite:///{tmp_path / 'hd.db'}"
    assert main(["--storage", storage, "sweep", file, "--count", "3", "--log-dir", str(tmp_path / "logs")]) == 0
    out = capsys.readouterr().out
    assert f"sweep {study!r} stopped: --count reached" in out and "best error: " in out
    ts = hd.load_study(study_name=study, storage=storage).trials
    assert len(ts) == 3 and all(t.state in (hd.TrialState.COMPLETE, hd.TrialState.PRUNED) for t in ts)
    assert any(t.state == hd.TrialState.COMPLETE and 0 <= t.value < 0.5 for t in ts)


def test_program_written_for_wandb_runs_unchanged(here: Path) -> None:
    config = {"name": "wandb-program", "method": "random", "metric": {"name": "val/loss", "goal": "minimize"},
              "program": program("wandb_train.py"),
              "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
                             "optimizer": {"parameters": {"name": {"values": ["adam", "sgd"]}}}},
              "early_terminate": {"type": "hyperband", "min_iter": 2}, "run_cap": 4}
    assert sweep(here, config) == 0
    ts = trials(here, "wandb-program")
    assert len(ts) == 4 and all(t.state in (hd.TrialState.COMPLETE, hd.TrialState.PRUNED) for t in ts)
    for t in ts:
        lr, opt = t.params["lr"], t.params["optimizer.name"]
        expected = [(lr - 0.01) ** 2 + 1.0 / (e + 1) + (0.1 if opt == "sgd" else 0.0) for e in range(4)]
        steps = sorted(t.intermediate_values)
        assert steps == list(range(1, len(steps) + 1))  # one row per wandb.log, counted from 1
        assert [t.intermediate_values[s] for s in steps] == pytest.approx(expected[: len(steps)])
        if t.state == hd.TrialState.COMPLETE:
            assert steps == [1, 2, 3, 4] and t.value == pytest.approx(expected[-1])  # the sweep's values won
    assert any(t.state == hd.TrialState.COMPLETE for t in ts)


def test_program_written_for_wandb_runs_unchanged_with_the_real_package(here: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """HYPERDIAL_WANDB=real: the installed `wandb` package runs offline; what its run logs reaches the pruner."""
    real = pytest.importorskip("wandb", reason="the real-wandb mode needs the wandb package (pip install wandb)")
    monkeypatch.setenv("HYPERDIAL_WANDB", "real")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_DIR", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = {"name": "real-wandb", "method": "random", "metric": {"name": "val/loss", "goal": "minimize"},
              "program": program("wandb_train.py"),
              "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
                             "optimizer": {"parameters": {"name": {"values": ["adam", "sgd"]}}}},
              "run_cap": 2}
    assert sweep(here, config) == 0
    ts = trials(here, "real-wandb")
    assert len(ts) == 2 and all(t.state == hd.TrialState.COMPLETE for t in ts), [t.fail_reason for t in ts]
    for t in ts:
        lr, opt = t.params["lr"], t.params["optimizer.name"]
        expected = [(lr - 0.01) ** 2 + 1.0 / (e + 1) + (0.1 if opt == "sgd" else 0.0) for e in range(4)]
        assert t.intermediate_values == pytest.approx(dict(zip([1, 2, 3, 4], expected)))  # the sweep's values won
        assert t.value == pytest.approx(expected[-1])
        log = Path(t.user_attrs["log"]).read_text()
        assert "0.0.0+hyperdial" not in log
    runs = sorted((here / "hyperdial-logs" / "real-wandb" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 2, "each trial leaves W&B's own offline run (wandb sync can upload it)"
    assert real.__version__ != "0.0.0+hyperdial"


def test_unknown_wandb_mode_is_refused_before_any_trial(here: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HYPERDIAL_WANDB", "online")
    config = {"name": "bad-mode", "method": "random", "metric": {"name": "loss"}, "program": program("silent.py"),
              "parameters": {"x": {"values": [1, 2]}}, "run_cap": 1}
    assert sweep(here, config) != 0
    assert "HYPERDIAL_WANDB='online'" in capsys.readouterr().err
    assert trials(here, "bad-mode") == []


def test_summary_and_progress_say_what_the_issue_asks(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The closing summary: best value, best parameters (as the program got them: a list, not its position),
    counts by state, where the logs are, the next commands; the progress line: done / pruned / failed /
    running, best so far, elapsed time."""
    config = {"name": "summary", "method": "grid", "metric": {"name": "loss"}, "program": program("dump_args.py"),
              "parameters": {"layers": {"values": [[16, 16], [32]]}, "seed": {"value": 7}},
              "entity": "me", "project": "digits", "description": "W&B service keys", "controller": {"type": "local"}}
    assert sweep(here, config) == 0
    attrs = hd.load_study(study_name="summary", storage=f"sqlite:///{here / 'hd.db'}").user_attrs
    assert {k: attrs[k] for k in ("entity", "project", "name", "description")} == {
        "entity": "me", "project": "digits", "name": "summary", "description": "W&B service keys"}
    out, err = capsys.readouterr()
    best = next(t for t in trials(here, "summary") if t.number == 0)  # dump_args reports 0.5 * trial number
    storage = f"sqlite:///{here / 'hd.db'}"
    assert out.splitlines() == [
        "sweep 'summary' stopped: grid exhausted",
        "trials: 2 complete",
        "best loss: 0 (trial 0)",
        f"best parameters: layers={best.user_attrs['config']['layers']!r}",
        f"logs: hyperdial-logs/ (hyperdial logs summary TRIAL --storage {storage})",
        f"next: hyperdial trials summary --storage {storage}   |   hyperdial best summary --storage {storage}",
        f"more agents: hyperdial agent summary --storage {storage}",
    ]
    assert "2 done (2 complete, 0 pruned, 0 failed), 0 running | best 0 | 00:0" in err


def test_a_pruned_program_that_ignores_sigterm_gets_sigkill_and_is_pruned(here: Path) -> None:
    start = time.monotonic()
    t = _one(here, "hang.py", "pruned-hang", early_stopping={"type": "Threshold", "upper": 0.5})
    assert time.monotonic() - start < 30  # not the hour hang.py sleeps: SIGKILL after the 1 s grace
    assert t.state == hd.TrialState.PRUNED and t.intermediate_values == {1: 1.0}
    log = Path(t.user_attrs["log"]).read_text()
    assert "stopping the program (pruned): SIGTERM" in log and "1 s after SIGTERM: SIGKILL" in log


def test_several_metrics_run_a_multi_objective_sweep(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reporter = ("import os, json; x = float(os.environ['HYPERDIAL_PARAM_X']); "
                "[print('hyperdial: ' + json.dumps({'err': (x - 0.5) ** 2 * (4 - s), 'size': x, 'step': s})) "
                "for s in (1, 2, 3)]")
    config = {"study": "multi", "command": [sys.executable, "-c", reporter],
              "metrics": [{"name": "err"}, {"name": "size", "goal": "minimize"}],
              "parameters": {"x": {"type": "float", "low": 0, "high": 1}}, "method": "NSGA2", "seed": 0,
              "budget": {"trials": 6}}
    assert sweep(here, config) == 0
    out = capsys.readouterr().out
    study = hd.load_study(study_name="multi", storage=f"sqlite:///{here / 'hd.db'}")
    ts = study.trials
    assert [t.state for t in ts] == [hd.TrialState.COMPLETE] * 6
    for t in ts:  # each metric's last report is the trial's value
        x = t.params["x"]
        assert t.values == pytest.approx(((x - 0.5) ** 2, x))
        assert sorted(t.intermediate_values) == [1, 2, 3]
    front = sorted(study.best_trials, key=lambda t: t.number)
    assert f"Pareto front: {len(front)} trial(s):" in out
    for t in front:
        assert f"  trial {t.number}: err={t.values[0]:.6g}, size={t.values[1]:.6g}; x={t.params['x']!r}" in out


def test_budget_timeout_starts_no_trial_after_it(here: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STARTED_FLAG", str(here / "started"))
    monkeypatch.setenv("SLOW_FOR", "3")  # each trial outlasts the 2 s budget
    t = _one(here, "slow.py", "timed", budget={"timeout": 2, "trials": 5})
    assert t.state == hd.TrialState.COMPLETE and t.value == 0.5  # the running trial ends; no other starts
    assert "sweep 'timed' stopped: budget timeout reached" in capsys.readouterr().out


def test_a_missing_envvar_stops_the_sweep_before_anything_runs(here: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("NO_SUCH_VAR", raising=False)
    config = {"name": "envvar", "method": "random", "metric": {"name": "loss"}, "program": program("dump_args.py"),
              "command": ["${env}", "${interpreter}", "${program}", "--data=${envvar:NO_SUCH_VAR}/train"],
              "parameters": {"x": {"values": [1]}}}
    assert sweep(here, config) == 1
    assert "uses ${envvar:NO_SUCH_VAR} but NO_SUCH_VAR is not set" in capsys.readouterr().err
    assert not (here / "hd.db").exists() and not (here / "dump.jsonl").exists()
    monkeypatch.setenv("NO_SUCH_VAR", "/data")
    assert sweep(here, config, "--count", "1") == 0
    assert dumps(here)[0]["argv"] == ["--data=/data/train"]
