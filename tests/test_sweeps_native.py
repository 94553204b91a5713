"""hyperdial's native sweep format: what it builds, and every malformed file refused with key path and line."""

from __future__ import annotations

import pytest

import hyperdial as hd
from hyperdial.sweeps import SweepFileError, read_sweep

BASE = "study: s\ncommand: [python, t.py, '${args}']\nmetric: {name: loss}\n"


def test_a_full_file_builds_its_sampler_pruner_and_budget() -> None:
    spec = read_sweep(BASE + """parameters:
  lr: {type: float, low: 1e-5, high: 1e-1, log: true}
  layers: {type: int, low: 1, high: 8, step: 1}
  opt: {values: [adam, sgd]}
  momentum: {type: float, low: 0.0, high: 0.99, when: {opt: sgd}}
  epochs: {value: 5}
defaults: {lr: 0.001, opt: adam}
method: {name: TPE, n_startup_trials: 5}
early_stopping: {type: ASHA, min_resource: 2}
budget: {trials: 30, timeout: 60}
parallel: 3
storage: sqlite:///x.db
seed: 4
trial_timeout: 10
""")
    assert spec.format == "native" and spec.study == "s" and spec.directions == ["minimize"]
    assert spec.space()["lr"] == hd.Float(1e-5, 1e-1, log=True)
    assert spec.parameters[3].when == (("opt", ("sgd",)),)
    sampler = spec.make_sampler()
    assert isinstance(sampler, hd.samplers.TPE) and sampler.seed == 4
    assert isinstance(spec.make_pruner(), hd.pruners.ASHA)
    assert (spec.trials, spec.timeout, spec.parallel, spec.storage, spec.trial_timeout) == (30, 60, 3, "sqlite:///x.db",
                                                                                           10.0)
    assert spec.defaults == {"lr": 0.001, "opt": "adam"}


def test_several_metrics_make_a_multi_objective_study() -> None:
    spec = read_sweep("study: s\ncommand: [x]\nmetrics: [{name: err}, {name: speed, goal: maximize}]\n"
                      "method: NSGA2\n")
    assert spec.directions == ["minimize", "maximize"]
    assert isinstance(spec.make_sampler(), hd.samplers.NSGA2)


@pytest.mark.parametrize(("extra", "match"), [
    ("parameters:\n  lr: {type: float, low: 0.1, high: 0.01}\n", r"`parameters\.lr` \(line 5\) is invalid: `low`"),
    ("parameters:\n  lr: {type: float, low: 0, high: 1, log: true}\n", r"`parameters\.lr` \(line 5\).*> 0"),
    ("parameters:\n  lr: {type: double, low: 0, high: 1}\n", r"`parameters\.lr\.type` \(line 5\) must be one of"),
    ("parameters:\n  lr: {low: 0, high: 1}\n", r"needs exactly one of `type`"),
    ("parameters:\n  n: {type: int, low: 1.5, high: 3}\n", r"`parameters\.n\.low` \(line 5\) must be an integer"),
    ("parameters:\n  a: {type: int, low: 1, high: 3, when: {b: 1}}\n  b: {values: [1]}\n",
     r"`parameters\.a\.when\.b` \(line 5\) must name a parameter defined above"),
    ("parameters:\n  b: {values: [x, y]}\n  a: {type: int, low: 1, high: 3, when: {b: z}}\n",
     r"can never equal this value of 'b', got 'z'"),
    ("method: hyperopt\n", r"`method` \(line 4\) must name one of .*TPE"),
    ("method: {name: TPE, n_startup: 3}\n", r"`method\.n_startup` \(line 4\) is not an argument of TPE"),
    ("early_stopping: {type: Median, n_warmup_steps: -1}\n", r"`early_stopping` .*is invalid"),
    ("early_stopping: {type: Magic}\n", r"`early_stopping` \(line 4\) must name one of"),
    ("budget: {trials: 0}\n", r"`budget\.trials` \(line 4\) must be >= 1"),
    ("budget: {runs: 3}\n", r"`budget\.runs` \(line 4\) is not a known key"),
    ("parallel: two\n", r"`parallel` \(line 4\) must be an integer"),
    ("executor: spark\n", r"`executor` \(line 4\) must be one of local, dask, ray, got 'spark'"),
    ("executor: {address: 'tcp://h:1'}\n", r"`executor` \(line 4\) needs `type`"),
    ("executor: {type: dask, workers: 2}\n", r"`executor\.workers` \(line 4\) is not a known key"),
    ("executor: {type: local, address: x}\n", r"`executor` \(line 4\) `local` takes no address"),
    ("gpus_per_trial: -1\n", r"`gpus_per_trial` \(line 4\) must be >= 0"),
    ("gpus_per_trial: 0.5\n", r"`gpus_per_trial` \(line 4\) must be an integer"),
    ("defaults: {nope: 1}\n", r"`defaults\.nope` \(line 4\) must name a searched parameter"),
    ("epochs: 3\n", r"`epochs` \(line 4\) is not a known key"),
    ("parameters:\n  lr: 3\n", r"`parameters\.lr` \(line 5\) must be a mapping"),
    ("budget: 5\n", r"`budget` \(line 4\) must be a mapping"),
    ("parameters:\n  a: {values: [1]}\n  b: {values: [1], when: a}\n", r"`parameters\.b\.when` \(line 6\) must be a"),
])
def test_malformed_native_files_name_the_key_path_and_line(extra: str, match: str) -> None:
    with pytest.raises(SweepFileError, match=match):
        read_sweep(BASE + extra, source="native.yaml")


@pytest.mark.parametrize(("text", "match"), [
    ("study: s\nmetric: {name: loss}\n", r"needs `command`"),
    ("study: s\ncommand: [x]\n", r"needs `metric"),
    ("study: s\ncommand: 'python t.py'\nmetric: {name: loss}\n", r"`command` \(line 2\) must be a list"),
    ("study: ''\ncommand: [x]\nmetric: {name: loss}\n", r"`study` \(line 1\) must be a non-empty string"),
    ("- a\n- b\n", r"must be a mapping"),
    ("study: s\ncommand: [x]\nmetrics:\n  - loss\n", r"`metrics\.0` \(line 3\) must be a mapping"),
])
def test_missing_pieces(text: str, match: str) -> None:
    with pytest.raises(SweepFileError, match=match):
        read_sweep(text)


def test_missing_file_and_missing_yaml_reader_are_clear(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from hyperdial.sweeps import _yaml, load_sweep

    with pytest.raises(SweepFileError, match=r"cannot read sweep file '/nonexistent\.yaml'"):
        load_sweep("/nonexistent.yaml")
    monkeypatch.setattr(_yaml, "_LOADER", None)
    monkeypatch.setitem(__import__("sys").modules, "yaml", None)
    with pytest.raises(hd.MissingDependency, match=r"pip install 'hyperdial\[sweeps\]'"):
        read_sweep(BASE)


@pytest.mark.parametrize(("extra", "executor", "address", "gpus"), [
    ("", None, None, 0),
    ("executor: local\n", None, None, 0),
    ("executor: dask\ngpus_per_trial: 2\n", "dask", None, 2),
    ("executor: {type: Dask, address: 'tcp://10.0.0.5:8786'}\n", "dask", "tcp://10.0.0.5:8786", 0),
    ("executor: {type: ray, address: auto}\ngpus_per_trial: 1\n", "ray", "auto", 1),
])
def test_executor_and_gpus_per_trial_are_read(extra: str, executor: str | None, address: str | None,
                                              gpus: int) -> None:
    spec = read_sweep(BASE + extra, source="native.yaml")
    assert (spec.executor, spec.executor_address, spec.gpus_per_trial) == (executor, address, gpus)


def test_dry_run_of_a_native_file_shows_its_plan_and_runs_nothing(tmp_path: object,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    from hyperdial.cli.main import main

    here = Path(str(tmp_path))
    (here / "s.yaml").write_text(BASE + """parameters:
  opt: {values: [adam, sgd]}
  momentum: {type: float, low: 0.0, high: 0.9, when: {opt: sgd}}
defaults: {opt: sgd, momentum: 0.5}
method: {name: TPE, n_startup_trials: 3}
early_stopping: {type: ASHA, min_resource: 2}
budget: {trials: 9, timeout: 60}
parallel: 2
trial_timeout: 30
executor: {type: ray, address: auto}
gpus_per_trial: 1
storage: sqlite:///never-made.db
""")
    assert main(["sweep", str(here / "s.yaml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "native format" in out and "study: s   storage: sqlite:///never-made.db" in out
    assert "method: TPE(" in out and "early stopping: ASHA(min_resource=2" in out
    assert "budget: 9 trials, 60 s   parallel: 2   trial timeout: 30 s" in out
    assert "agents on ray (auto)   gpus per trial: 1" in out
    assert "momentum: Float(low=0.0, high=0.9, log=False, step=None)  when opt in ['sgd']" in out
    assert "first command: python t.py --momentum=0.5 --opt=sgd" in out  # the defaults come first
    assert not (here / "never-made.db").exists() and not Path("never-made.db").exists()
