"""Sweep agents as separate processes: sharing one SQLite file, killed with SIGKILL, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hyperdial as hd

PROGRAMS = Path(__file__).parent / "sweep_programs"
SRC = str(Path(hd.__file__).parent.parent)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    e = dict(os.environ, PYTHONPATH=SRC, DUMP_TO=str(tmp_path / "dump.jsonl"),
             STARTED_FLAG=str(tmp_path / "started"))
    yield e
    for flag in tmp_path.glob("started.*"):  # children left by a SIGKILLed agent
        try:
            os.kill(int(flag.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def hyperdial(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "hyperdial", "--storage", f"sqlite:///{tmp_path / 'hd.db'}",
                             *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def write(tmp_path: Path, config: dict[str, object]) -> str:
    path = tmp_path / "sweep.yaml"
    path.write_text(json.dumps(config))
    return str(path)


def wait_for(paths: list[Path], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() and p.read_text() for p in paths):
        assert time.monotonic() < deadline, f"never appeared: {paths}"
        time.sleep(0.1)


def states(tmp_path: Path, study: str) -> list[hd.TrialState]:
    return [t.state for t in hd.load_study(study_name=study, storage=f"sqlite:///{tmp_path / 'hd.db'}").trials]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_agents_in_two_processes_share_one_sqlite_file(tmp_path: Path, env: dict[str, str]) -> None:
    config = {"name": "shared", "method": "bayes", "metric": {"name": "loss"},
              "program": str(PROGRAMS / "dump_args.py"), "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    first = hyperdial(tmp_path, env, "sweep", write(tmp_path, config), "--count", "1")
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    agents = [hyperdial(tmp_path, env, "agent", "shared", "--count", "5") for _ in range(2)]
    for a in agents:
        out, err = a.communicate(timeout=300)
        assert a.returncode == 0, err
        assert "stopped: --count reached" in out
    assert states(tmp_path, "shared") == [hd.TrialState.COMPLETE] * 11
    records = [json.loads(line) for line in (tmp_path / "dump.jsonl").read_text().splitlines()]
    assert sorted(int(r["env"]["HYPERDIAL_TRIAL"]) for r in records) == list(range(11))


def test_sigkilled_agent_leaves_nothing_running_after_fail_stale(tmp_path: Path, env: dict[str, str]) -> None:
    config = {"study": "killed", "command": [sys.executable, str(PROGRAMS / "slow.py")], "metric": {"name": "loss"},
              "parameters": {"x": {"type": "float", "low": 0, "high": 1}}, "budget": {"trials": 3}}
    agent = hyperdial(tmp_path, env, "sweep", write(tmp_path, config))
    wait_for([tmp_path / "started.0"])
    child = int((tmp_path / "started.0").read_text())
    agent.kill()
    agent.communicate(timeout=30)
    assert states(tmp_path, "killed") == [hd.TrialState.RUNNING]
    if sys.platform.startswith("linux"):  # the kernel kills the program with its agent (PR_SET_PDEATHSIG)
        deadline = time.monotonic() + 30
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(child)
    clean = hyperdial(tmp_path, env, "fail-stale", "killed", "--older-than", "0")
    out, err = clean.communicate(timeout=60)
    assert clean.returncode == 0, err
    assert "trial 0: FAIL" in out
    assert states(tmp_path, "killed") == [hd.TrialState.FAIL]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_terminates_children_and_records_their_trials(tmp_path: Path, env: dict[str, str], sig: int) -> None:
    config = {"study": "interrupted", "command": [sys.executable, str(PROGRAMS / "slow.py")],
              "metric": {"name": "loss"}, "parameters": {"x": {"type": "float", "low": 0, "high": 1}},
              "budget": {"trials": 10}, "parallel": 2}
    agent = hyperdial(tmp_path, env, "sweep", write(tmp_path, config), "--grace", "2")
    flags = [tmp_path / "started.0", tmp_path / "started.1"]
    wait_for(flags)
    pids = [int(f.read_text()) for f in flags]
    agent.send_signal(sig)  # Ctrl-C, or `kill` / a job scheduler's SIGTERM
    out, err = agent.communicate(timeout=60)
    assert agent.returncode == 130, err
    assert "stopped: interrupted" in out
    assert states(tmp_path, "interrupted") == [hd.TrialState.FAIL] * 2
    study = hd.load_study(study_name="interrupted", storage=f"sqlite:///{tmp_path / 'hd.db'}")
    assert all("interrupted" in t.system_attrs["fail_reason"] for t in study.trials)
    assert not any(alive(pid) for pid in pids)


def test_a_trial_finished_elsewhere_meanwhile_keeps_its_stored_outcome(tmp_path: Path, env: dict[str, str]) -> None:
    config = {"study": "taken", "command": [sys.executable, str(PROGRAMS / "slow.py")], "metric": {"name": "loss"},
              "parameters": {"x": {"type": "float", "low": 0, "high": 1}}, "budget": {"trials": 2}}
    agent = hyperdial(tmp_path, env | {"SLOW_FOR": "3"}, "sweep", write(tmp_path, config))
    wait_for([tmp_path / "started.0"])
    study = hd.load_study(study_name="taken", storage=f"sqlite:///{tmp_path / 'hd.db'}")
    study.tell(0, state=hd.TrialState.FAIL, fail_reason="failed by hand")
    _, err = agent.communicate(timeout=120)
    assert agent.returncode == 0, err
    assert "Trial 0 was finished elsewhere (FAIL) while its program ran" in err
    assert states(tmp_path, "taken") == [hd.TrialState.FAIL, hd.TrialState.COMPLETE]


# --- gpus_per_trial and executor (native files) ---

def native(tmp_path: Path, **keys: object) -> str:
    config = {"study": "where", "command": [sys.executable, str(PROGRAMS / "where.py")], "metric": {"name": "loss"},
              "parameters": {"x": {"type": "float", "low": 0.0, "high": 1.0}}, **keys}
    return write(tmp_path, config)


def records(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / "dump.jsonl").read_text().splitlines()]


def overlap(a: dict[str, object], b: dict[str, object]) -> bool:
    (a0, a1), (b0, b1) = a["span"], b["span"]  # type: ignore[misc]
    return bool(a0 < b1 and b0 < a1)


def test_gpus_per_trial_gives_each_agent_its_own_devices(tmp_path: Path, env: dict[str, str]) -> None:
    env["CUDA_VISIBLE_DEVICES"] = "0,1,2,3"  # the devices this machine lets hyperdial use (none need exist)
    proc = hyperdial(tmp_path, env, "sweep", native(tmp_path, parallel=3, gpus_per_trial=2, budget={"trials": 6}))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    rs = records(tmp_path)
    assert len(rs) == 6 and {r["cuda"] for r in rs} == {"0,1", "2,3"}  # 3 agents asked, 2 groups of 2: 2 agents
    assert any(overlap(a, b) for a in rs for b in rs if a is not b)  # the two agents ran at once...
    assert all(a["cuda"] != b["cuda"] for a in rs for b in rs if a is not b and overlap(a, b))  # ...on disjoint GPUs
    by_trial = {int(r["trial"]): r["cuda"] for r in rs}  # type: ignore[call-overload]
    study = hd.load_study(study_name="where", storage=f"sqlite:///{tmp_path / 'hd.db'}")
    assert {t.number: t.user_attrs["gpus"] for t in study.trials} == by_trial

    too_many = hyperdial(tmp_path, env, "sweep", native(tmp_path, study="where2", gpus_per_trial=5))
    _, err = too_many.communicate(timeout=120)
    assert too_many.returncode != 0 and "gpus_per_trial" in err and "more than the 4 GPU(s)" in err


@pytest.fixture
def dask_scheduler(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, list[int]]]:
    """A scheduler and two single-threaded workers, separate processes started in another directory."""
    pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
    elsewhere = tmp_path / "workers"
    elsewhere.mkdir()
    sched_file = str(tmp_path / "scheduler.json")
    cli = [sys.executable, "-m"]
    procs = [subprocess.Popen([*cli, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", sched_file], cwd=elsewhere, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    wait_for([Path(sched_file)], timeout=60)
    procs += [subprocess.Popen([*cli, "distributed.cli.dask_worker", "--scheduler-file", sched_file, "--host",
                                "127.0.0.1", "--nthreads", "1", "--no-dashboard", "--no-nanny"], cwd=elsewhere,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    from distributed import Client

    with Client(scheduler_file=sched_file, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        address = client.scheduler.address
    yield address, [p.pid for p in procs[1:]]
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def test_agents_run_as_tasks_on_a_dask_cluster(tmp_path: Path, env: dict[str, str],
                                               dask_scheduler: tuple[str, list[int]]) -> None:
    address, worker_pids = dask_scheduler
    # the file's relative SQLite path and the relative log folder are the sweep command's, not the workers'
    path = native(tmp_path, executor={"type": "dask", "address": address}, parallel=2, budget={"trials": 6},
                  storage="sqlite:///cluster.db")
    proc = subprocess.Popen([sys.executable, "-m", "hyperdial", "sweep", path], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "budget of 6 trials reached" in out
    study = hd.load_study(study_name="where", storage=f"sqlite:///{tmp_path / 'cluster.db'}")
    assert [t.state for t in study.trials] == [hd.TrialState.COMPLETE] * 6
    rs = records(tmp_path)
    assert {r["ppid"] for r in rs} == set(worker_pids)  # the programs were started by agents on both workers
    assert {r["cwd"] for r in rs} == {str(tmp_path)}
    assert all(Path(t.user_attrs["log"]).is_relative_to(tmp_path / "hyperdial-logs") for t in study.trials)
    assert not (tmp_path / "workers" / "cluster.db").exists()


def test_agents_on_a_local_dask_cluster_get_their_gpus_from_the_sweep_command(tmp_path: Path,
                                                                             env: dict[str, str]) -> None:
    pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
    env["CUDA_VISIBLE_DEVICES"] = "5,7"
    proc = hyperdial(tmp_path, env, "sweep", native(tmp_path, executor="dask", parallel=2, gpus_per_trial=1,
                                                    budget={"trials": 4}))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    rs = records(tmp_path)
    assert len(rs) == 4 and {r["cuda"] for r in rs} <= {"5", "7"}
    assert proc.pid not in {r["ppid"] for r in rs}  # run by agents in the cluster's worker processes
    assert all(a["cuda"] != b["cuda"] for a in rs for b in rs if a is not b and overlap(a, b))



def test_ctrl_c_stops_agents_running_on_a_dask_cluster(tmp_path: Path, env: dict[str, str],
                                                       dask_scheduler: tuple[str, list[int]]) -> None:
    address, _ = dask_scheduler
    config = {"study": "remote-stop", "command": [sys.executable, str(PROGRAMS / "slow.py")],
              "metric": {"name": "loss"}, "parameters": {"x": {"type": "float", "low": 0, "high": 1}},
              "budget": {"trials": 10}, "parallel": 2, "executor": {"type": "dask", "address": address}}
    agent = hyperdial(tmp_path, env, "sweep", write(tmp_path, config), "--grace", "2")
    flags = [tmp_path / "started.0", tmp_path / "started.1"]
    wait_for(flags)
    pids = [int(f.read_text()) for f in flags]
    agent.send_signal(signal.SIGINT)  # to the sweep command only: the workers run on
    out, err = agent.communicate(timeout=120)
    assert agent.returncode == 130, err
    assert "stopped: interrupted" in out
    study = hd.load_study(study_name="remote-stop", storage=f"sqlite:///{tmp_path / 'hd.db'}")
    assert [t.state for t in study.trials] == [hd.TrialState.FAIL] * 2
    assert all("interrupted" in t.system_attrs["fail_reason"] for t in study.trials)
    assert not any(alive(pid) for pid in pids)


def test_ctrl_c_in_the_terminal_stops_agents_on_a_local_dask_cluster(tmp_path: Path, env: dict[str, str]) -> None:
    """A Ctrl-C typed in a terminal reaches the whole process group: the sweep command and the worker
    processes of its local Dask cluster. The agents in the workers must still stop cleanly."""
    pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
    config = {"study": "group-stop", "command": [sys.executable, str(PROGRAMS / "slow.py")],
              "metric": {"name": "loss"}, "parameters": {"x": {"type": "float", "low": 0, "high": 1}},
              "budget": {"trials": 10}, "parallel": 2, "executor": "dask"}
    agent = subprocess.Popen([sys.executable, "-m", "hyperdial", "--storage", f"sqlite:///{tmp_path / 'hd.db'}",
                              "sweep", write(tmp_path, config), "--grace", "2"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        flags = [tmp_path / "started.0", tmp_path / "started.1"]
        wait_for(flags)
        pids = [int(f.read_text()) for f in flags]
        os.killpg(agent.pid, signal.SIGINT)  # as the terminal does: to every process of the group
        out, err = agent.communicate(timeout=120)
    finally:
        if agent.poll() is None:
            os.killpg(agent.pid, signal.SIGKILL)
            agent.communicate()
    assert agent.returncode == 130, err
    assert "stopped: interrupted" in out and "KeyboardInterrupt" not in err
    study = hd.load_study(study_name="group-stop", storage=f"sqlite:///{tmp_path / 'hd.db'}")
    assert [t.state for t in study.trials] == [hd.TrialState.FAIL] * 2
    assert all("interrupted" in t.system_attrs["fail_reason"] for t in study.trials)
    assert not any(alive(pid) for pid in pids)


def test_agents_run_as_tasks_on_a_local_ray_instance_and_stop_on_ctrl_c(tmp_path: Path, env: dict[str, str]) -> None:
    """`executor: ray`: the agents run in Ray's worker processes (a local instance the sweep starts); trials
    complete there, and a Ctrl-C to the whole process group stops the running ones cleanly."""
    pytest.importorskip("ray", reason="the ray extra is part of the test extra")
    config = {"study": "on-ray", "command": [sys.executable, str(PROGRAMS / "slow.py")],
              "metric": {"name": "loss"}, "parameters": {"x": {"type": "float", "low": 0, "high": 1}},
              "budget": {"trials": 10}, "parallel": 2, "executor": "ray"}
    agent = subprocess.Popen([sys.executable, "-m", "hyperdial", "--storage", f"sqlite:///{tmp_path / 'hd.db'}",
                              "sweep", write(tmp_path, config), "--grace", "2"], cwd=tmp_path,
                             env=env | {"SLOW_FOR": "8"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        flags = [tmp_path / f"started.{i}" for i in range(4)]
        wait_for(flags, timeout=240)  # trials 0 and 1 ran their 8 s; 2 and 3 are running
        pids = [int(f.read_text()) for f in flags]
        os.killpg(agent.pid, signal.SIGINT)
        out, err = agent.communicate(timeout=120)
    finally:
        if agent.poll() is None:
            os.killpg(agent.pid, signal.SIGKILL)
            agent.communicate()
    assert agent.returncode == 130, err
    assert "stopped: interrupted" in out
    study = hd.load_study(study_name="on-ray", storage=f"sqlite:///{tmp_path / 'hd.db'}")
    by_number = {t.number: t for t in study.trials}
    assert [by_number[n].state for n in (0, 1)] == [hd.TrialState.COMPLETE] * 2
    assert by_number[0].value == 0.5  # slow.py's last report
    assert [by_number[n].state for n in (2, 3)] == [hd.TrialState.FAIL] * 2
    assert all("interrupted" in by_number[n].system_attrs["fail_reason"] for n in (2, 3))
    assert len(study.trials) == 4 and not any(alive(pid) for pid in pids)
