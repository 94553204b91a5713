"""Executors with real components: spawned processes, a Dask cluster of separate processes, Ray."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hyperdial as hd
from hyperdial import TrialState

sys.path.insert(0, str(Path(__file__).parent))
import executor_objectives as objectives

TESTS_DIR = str(Path(__file__).parent)


def _check_curve_study(study: hd.Study, n: int) -> None:
    trials = study.trials
    assert len(trials) == n and sorted(t.number for t in trials) == list(range(n))
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    assert any(t.state == TrialState.PRUNED for t in trials), "pruning decisions flowed during trials"
    assert all(t.user_attrs["pid"] != os.getpid() for t in trials), "trials ran in other processes"
    # each records the process (and thread) that ran it, not the driver that asked for it
    assert all(t.system_attrs["worker"].split("/")[0].endswith(f":{t.user_attrs['pid']}") for t in trials)
    assert all(("depth" in t.params) == (t.params["kind"] == "b") for t in trials)
    assert all(t.intermediate_values for t in trials)


def test_process_executor(tmp_path: Path) -> None:
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/p.db", seed=0, pruner=hd.pruners.Median(n_startup_trials=3))
    study.optimize(objectives.curve, n_trials=20, n_jobs=2, executor="process", show_progress_bar=False)
    _check_curve_study(study, 20)
    assert len({t.user_attrs["pid"] for t in study.trials}) == 2


def test_process_executor_errors(tmp_path: Path) -> None:
    with pytest.raises(hd.InvalidParameterError, match="in-memory"):
        hd.create_study().optimize(objectives.slow, n_trials=1, executor="process", show_progress_bar=False)
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/e.db")
    with pytest.raises(ValueError, match="objective exploded on the worker"):
        study.optimize(objectives.boom, n_trials=4, n_jobs=2, executor="process", show_progress_bar=False)
    assert study.trials and all(t.state == TrialState.FAIL for t in study.trials)
    assert "objective exploded" in study.trials[0].system_attrs["fail_reason"]
    study.optimize(objectives.boom, n_trials=3, n_jobs=2, executor="process", catch=(ValueError,),
                   show_progress_bar=False)
    with pytest.raises(hd.InvalidParameterError, match="`executor` must be"):
        study.optimize(objectives.slow, n_trials=1, executor="fibers", show_progress_bar=False)
    with pytest.raises(hd.InvalidParameterError, match="`gpus_per_trial` needs executor='process'"):
        study.optimize(objectives.slow, n_trials=1, gpus_per_trial=1, show_progress_bar=False)


def test_gpus_get_their_own_devices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")  # three "GPUs" visible to this driver
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/g.db")
    study.optimize(objectives.gpu_probe, n_trials=8, n_jobs=4, executor="process", gpus_per_trial=1,
                   show_progress_bar=False)
    trials = study.trials
    assert len(trials) == 8 and {t.user_attrs["cuda"] for t in trials} <= {"0", "1", "2"}
    events = sorted([(t.user_attrs["span"][0], 1) for t in trials] + [(t.user_attrs["span"][1], -1) for t in trials])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak <= 3  # never more trials than GPUs
    for a in trials:  # trials running at the same time never share a device
        for b in trials:
            overlap = a.user_attrs["span"][0] < b.user_attrs["span"][1] and b.user_attrs["span"][0] < a.user_attrs["span"][1]
            if a.number != b.number and overlap:
                assert a.user_attrs["cuda"] != b.user_attrs["cuda"]
    with pytest.raises(hd.InvalidParameterError, match="more than the 3 GPU"):
        study.optimize(objectives.gpu_probe, n_trials=1, executor="process", gpus_per_trial=4, show_progress_bar=False)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A scheduler and two workers, each a separate process on 127.0.0.1."""
    pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
    sched_file = str(tmp_path / "scheduler.json")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS_DIR, os.environ.get("PYTHONPATH", "")])}
    cli = [sys.executable, "-m", "distributed.cli"]
    scheduler = subprocess.Popen([*cli[:2], "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", sched_file],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    workers = [
        subprocess.Popen([*cli[:2], "distributed.cli.dask_worker", "--scheduler-file", sched_file,
                          "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard", "--no-nanny"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for _ in range(2)
    ]
    deadline = time.monotonic() + 60
    while not os.path.exists(sched_file) and time.monotonic() < deadline:
        time.sleep(0.1)
    from distributed import Client

    with Client(scheduler_file=sched_file, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        address = client.scheduler.address
    yield address, workers
    for p in [*workers, scheduler]:
        if p.poll() is None:
            p.terminate()
    for p in [*workers, scheduler]:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def test_dask_cluster_runs_trials(dask_cluster: tuple[str, list[subprocess.Popen[bytes]]], tmp_path: Path) -> None:
    address, workers = dask_cluster
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/d.db", seed=1, pruner=hd.pruners.Median(n_startup_trials=3))
    study.optimize(objectives.curve, n_trials=50, n_jobs=2, executor=hd.executors.Dask(address),
                   show_progress_bar=False)
    _check_curve_study(study, 50)
    assert {t.user_attrs["pid"] for t in study.trials} == {w.pid for w in workers}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_killed_dask_worker_loses_no_trial(
    kind: str, dask_cluster: tuple[str, list[subprocess.Popen[bytes]]], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    address, workers = dask_cluster
    url = f"sqlite:///{tmp_path}/k.db" if kind == "sqlite" else request.getfixturevalue("pg_url")
    study = hd.create_study(storage=url, heartbeat_interval=0.2, grace_period=1.0, max_retries=2)
    finished: list[int] = []
    killed = []

    def kill_one(s: hd.Study, t: hd.FrozenTrial) -> None:
        finished.append(t.number)
        if len(finished) == 20 and not killed:
            workers[0].send_signal(signal.SIGKILL)  # a worker dies mid-study, with a trial on it
            killed.append(workers[0].pid)

    study.optimize(objectives.slow, n_trials=200, n_jobs=2, executor=hd.executors.Dask(address), callbacks=[kill_one],
                   n_trials_scope="study", show_progress_bar=False)
    time.sleep(1.2)
    study.reap_stale_trials(force=True)
    trials = study.trials
    assert killed
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert sum(t.state == TrialState.COMPLETE for t in trials) >= 200
    by_number = {t.number: t for t in trials}
    assert all(by_number[n].state in (TrialState.COMPLETE, TrialState.FAIL) for n in finished)
    assert all(by_number[n].state == TrialState.COMPLETE for n in finished if by_number[n].state != TrialState.FAIL)


def test_ray_local_cluster(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="the ray extra is part of the test extra")
    study = hd.create_study(storage=f"sqlite:///{tmp_path}/r.db", seed=2, pruner=hd.pruners.Median(n_startup_trials=3))
    # The workers import these tests' objectives, and the hyperdial under test (not another install).
    here = os.pathsep.join([TESTS_DIR, str(Path(hd.__file__).parent.parent)])
    executor = hd.executors.Ray(runtime_env={"env_vars": {"PYTHONPATH": here}})
    try:
        study.optimize(objectives.curve, n_trials=50, n_jobs=2, executor=executor, show_progress_bar=False)
    finally:
        executor.close()
    _check_curve_study(study, 50)
    assert not ray.is_initialized()
