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


def test_ctrl_c_terminates_children_and_records_their_trials(tmp_path: Path, env: dict[str, str]) -> None:
    config = {"study": "interrupted", "command": [sys.executable, str(PROGRAMS / "slow.py")],
              "metric": {"name": "loss"}, "parameters": {"x": {"type": "float", "low": 0, "high": 1}},
              "budget": {"trials": 10}, "parallel": 2}
    agent = hyperdial(tmp_path, env, "sweep", write(tmp_path, config), "--grace", "2")
    flags = [tmp_path / "started.0", tmp_path / "started.1"]
    wait_for(flags)
    pids = [int(f.read_text()) for f in flags]
    agent.send_signal(signal.SIGINT)
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
