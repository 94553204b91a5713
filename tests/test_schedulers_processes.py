"""Pause and promote across real processes on one SQLite file, and on local Dask and Ray clusters."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import scheduler_objectives as objectives
from scheduler_checks import check_synchronous, hyperband_brackets, lines, live
from test_executors import dask_cluster  # noqa: F401 - the fixture

import hyperdial as hd
from hyperdial.system_attrs import DUPLICATE_OF, SUCCESSOR_OF

pytestmark = pytest.mark.slow

TESTS_DIR = str(Path(__file__).parent)
R, ETA = objectives.MAX_EPOCHS, 3
N_CONFIGS = sum(n for n, _ in hyperband_brackets(1, R, ETA))

WORKER = textwrap.dedent(
    """
    import logging, sys
    import hyperdial as hd
    import scheduler_objectives as objectives
    hd.set_verbosity(logging.WARNING)
    url, n_configs = sys.argv[1], int(sys.argv[2])
    hb = hd.schedulers.Hyperband(min_resource=1, max_resource=objectives.MAX_EPOCHS, reduction_factor=3,
                                 n_configs=n_configs)
    study = hd.load_study(study_name="hb", storage=url, scheduler=hb)
    study.optimize(objectives.sgd_digits, n_trials=1000, show_progress_bar=False)
    """
)

# Both processes promote the same paused trials at the same moments: each queues a successor of each
# (as two processes that both saw a rung complete would) and then asks for a trial.
RACER = textwrap.dedent(
    """
    import sys, time, json
    import hyperdial as hd
    from hyperdial.system_attrs import SUCCESSOR_OF
    url, n, go, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    study = hd.load_study(study_name="race", storage=url, pruner=hd.pruners.Nop())
    got = []
    for i in range(n):
        while time.time() < go + 0.3 * i:
            time.sleep(0.001)
        study.add_waiting_trial({"x": 0.5}, system_attrs={SUCCESSOR_OF: i}, resume_from=i)
        trial = study.ask()
        got.append([trial.number, trial.system_attrs.get(SUCCESSOR_OF)])
        study.tell(trial, 0.0)
    open(out, "w").write(json.dumps(got))
    """
)


def _env() -> dict[str, str]:
    src = str(Path(hd.__file__).parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS_DIR, src, os.environ.get("PYTHONPATH", "")])}


def test_two_processes_run_one_hyperband(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hb.db"
    hd.create_study(study_name="hb", storage=url, sampler=hd.samplers.Random(seed=5))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(N_CONFIGS)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()
    study = hd.load_study(study_name="hb", storage=url)
    check_synchronous(study, hyperband_brackets(1, R, ETA), ETA)
    assert {t.user_attrs["pid"] for t in live(study)} == {p.pid for p in procs}


def test_racing_promotions_run_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/race.db"
    n = 12
    study = hd.create_study(study_name="race", storage=url, pruner=hd.pruners.Nop())
    for _ in range(n):  # n paused trials
        t = study.ask()
        t.suggest_float("x", 0, 1)
        t.report(1.0, step=1)
        study.tell(t, state=hd.TrialState.PRUNED)
    go = time.time() + 3.0
    outs = [tmp_path / f"got{i}.json" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", RACER, url, str(n), str(go), str(out)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for out in outs]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    import json

    handed = [tuple(x) for out in outs for x in json.loads(out.read_text())]
    trials = {t.number: t for t in study.trials}
    for i in range(n):
        successors = [t for t in trials.values() if t.system_attrs.get(SUCCESSOR_OF) == i]
        assert len(successors) == 2  # both processes queued one
        winner, loser = sorted(successors, key=lambda t: t.number)
        assert winner.state == hd.TrialState.COMPLETE and DUPLICATE_OF not in winner.system_attrs
        assert loser.state == hd.TrialState.PRUNED and loser.system_attrs[DUPLICATE_OF] == winner.number
        assert (loser.number, i) not in handed  # the duplicate never reached an objective
    assert len([h for h in handed if h[1] is not None]) == n  # every promotion ran exactly once


def test_hyperband_on_a_dask_cluster(dask_cluster: tuple[str, list[subprocess.Popen[bytes]]],  # noqa: F811
                                     tmp_path: Path) -> None:
    address, workers = dask_cluster
    hb = hd.schedulers.Hyperband(min_resource=1, max_resource=R, reduction_factor=ETA, n_configs=N_CONFIGS)
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/d.db", scheduler=hb, sampler=hd.samplers.Random(seed=6))
    study.optimize(objectives.sgd_digits, n_trials=1000, n_jobs=2, executor=hd.executors.Dask(address),
                   show_progress_bar=False)
    check_synchronous(study, hyperband_brackets(1, R, ETA), ETA)
    assert {t.user_attrs["pid"] for t in live(study)} == {w.pid for w in workers}


def test_asha_on_a_ray_cluster(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="the ray extra is part of the test extra")
    asha = hd.schedulers.ASHA(min_resource=1, max_resource=R, reduction_factor=ETA, n_configs=12)
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/r.db", scheduler=asha, sampler=hd.samplers.Random(seed=7))
    executor = hd.executors.Ray(runtime_env={"env_vars": {"PYTHONPATH": _env()["PYTHONPATH"]}})
    try:
        study.optimize(objectives.sgd_digits, n_trials=1000, n_jobs=2, executor=executor, show_progress_bar=False)
    finally:
        executor.close()
    assert not ray.is_initialized()
    configs = lines(study)
    assert len(configs) == 12 and any(len(line) == 3 for line in configs)
    assert os.getpid() not in {t.user_attrs["pid"] for t in live(study)}


def test_hyperdial_worker_takes_a_scheduler(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    hd.create_study(study_name="w", storage=url)
    cmd = [sys.executable, "-m", "hyperdial", "--storage", url, "worker", "w", "--objective",
           "scheduler_objectives:sgd_digits", "--scheduler", "scheduler_objectives:successive_halving",
           "--sampler", "Random", "--seed", "8"]
    procs = [subprocess.Popen(cmd, env=_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    for p in procs:  # no --n-trials: the scheduler ends both when its 9 configurations are through
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()
    study = hd.load_study(study_name="w", storage=url)
    check_synchronous(study, [(9, [1, 3])], ETA)
    skipped = [t for t in study.trials if "skipped" in t.system_attrs]  # a 10th configuration raced in, or not
    assert len(skipped) <= 1 and all(t.intermediate_values == {} for t in skipped)
    bad = subprocess.run([*cmd[:-4], "--scheduler", "scheduler_objectives:MAX_EPOCHS"], check=False, env=_env(), cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "on_trial_finished" in bad.stderr
