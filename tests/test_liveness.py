"""Heartbeats, retries, study-wide budgets and SIGTERM, with real processes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import hyperdial as hd
import hyperdial._clock
from hyperdial import TrialState


class FakeClock:
    """Liveness time that moves only when the test says so (hyperdial._clock)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_dead_trial_is_failed_and_rerun(storage_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(hyperdial._clock, "now", clock)
    study = hd.create_study(storage=storage_url, heartbeat_interval=10, grace_period=30, max_retries=1)
    dead = study.ask()
    x = dead.suggest_float("x", 0, 1)
    study.keep_alive(dead, alive=False)  # its worker "dies": no more beats
    alive = study.ask()
    alive.suggest_float("x", 0, 1)
    clock.now += 20
    study.storage.heartbeat(alive.trial_id)  # the live worker's beat (its thread's real interval is 10 s)
    clock.now += 20  # the dead trial has been silent for 40 s, the live one for 20 s
    retry = study.ask()  # any live worker reaps the silent trial first, then claims its rerun
    assert retry.suggest_float("x", 0, 1) == x
    assert retry.system_attrs["retry_of"] == dead.number and retry.system_attrs["retry_count"] == 1
    by_number = {t.number: t for t in study.trials}
    assert by_number[dead.number].state == TrialState.FAIL
    assert "no heartbeat for more than 30 s" in by_number[dead.number].system_attrs["fail_reason"]
    assert by_number[alive.number].state == TrialState.RUNNING  # its heartbeat kept it alive
    study.keep_alive(retry, alive=False)  # the rerun dies too: no retries left
    clock.now += 31
    study.storage.heartbeat(alive.trial_id)
    assert [t.number for t in study.reap_stale_trials(force=True)] == [retry.number]
    assert not any(t.state == TrialState.WAITING for t in study.trials)


def test_liveness_settings_are_stored_and_validated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    hd.create_study(study_name="l", storage=url, heartbeat_interval=5, max_retries=2)
    loaded = hd.load_study(study_name="l", storage=url)
    assert (loaded.heartbeat_interval, loaded.grace_period, loaded.max_retries) == (5, 10, 2)
    assert hd.load_study(study_name="l", storage=url, max_retries=0).max_retries == 0
    for kwargs, fragment in [
        ({"heartbeat_interval": -1}, "0 to turn liveness off, or None for the default, got heartbeat_interval=-1"),
        ({"heartbeat_interval": 5, "grace_period": 2}, "`grace_period` must be longer than `heartbeat_interval`"),
        ({"max_retries": 2}, "`max_retries` needs `heartbeat_interval`"),
        ({"heartbeat_interval": 1, "max_retries": -1}, "`max_retries` must be an int >= 0, got max_retries=-1"),
    ]:
        with pytest.raises(hd.InvalidParameterError) as info:
            hd.create_study(**kwargs)
        assert fragment in str(info.value)


def test_study_wide_budget_resumes(storage_url: str | None) -> None:
    study = hd.create_study(storage=storage_url, seed=0)
    objective = lambda t: t.suggest_float("x", 0, 1)
    study.optimize(objective, n_trials=6, show_progress_bar=False)
    study.optimize(objective, n_trials=10, n_trials_scope="study", show_progress_bar=False)
    assert len(study.trials) == 10
    study.optimize(objective, n_trials=10, n_trials_scope="study", show_progress_bar=False)
    assert len(study.trials) == 10  # already there: nothing to do
    with pytest.raises(hd.InvalidParameterError, match="`n_trials_scope` must be 'call' or 'study'"):
        study.optimize(objective, n_trials=1, n_trials_scope="total", show_progress_bar=False)


WORKER = textwrap.dedent(
    """
    import logging, os, sys, time
    import hyperdial as hd
    hd.set_verbosity(logging.ERROR)
    url, log_path, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    study = hd.load_study(study_name="w", storage=url, pruner=hd.pruners.Nop())
    log = open(log_path, "a")
    def record(study, trial):
        log.write(f"{trial.number} {trial.state.name}\\n"); log.flush(); os.fsync(log.fileno())
    started = open(log_path + ".pids", "a")
    def objective(trial):
        x = trial.suggest_float("x", -1, 1)
        started.write(f"{os.getpid()}\\n"); started.flush()
        time.sleep(0.08)
        return x * x
    study.optimize(objective, n_trials=total, n_trials_scope="study", callbacks=[record], show_progress_bar=False)
    """
)


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sigkill_workers_during_200_trials(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path}/w.db" if kind == "sqlite" else request.getfixturevalue("pg_url")
    hd.create_study(study_name="w", storage=url, heartbeat_interval=0.2, grace_period=2.0, max_retries=3)
    log_path = tmp_path / "finished.log"
    log_path.touch()
    (tmp_path / "finished.log.pids").touch()
    rng = random.Random(0)
    workers = [_spawn(url, str(log_path), "200") for _ in range(3)]
    kills = 0
    deadline = time.monotonic() + 180
    while kills < 4 and time.monotonic() < deadline and any(w.poll() is None for w in workers):
        time.sleep(rng.uniform(0.3, 0.6))
        # Kill a worker that is running trials (not one still importing).
        busy = set((tmp_path / "finished.log.pids").read_text().split())
        ready = [i for i, w in enumerate(workers) if w.poll() is None and str(w.pid) in busy]
        if not ready:
            continue
        victim = rng.choice(ready)
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].communicate()
        kills += 1
        workers[victim] = _spawn(url, str(log_path), "200")  # preempted, then replaced
    for w in workers:
        _, err = w.communicate(timeout=240)
        assert w.returncode == 0, err.decode()
    assert kills >= 3
    time.sleep(2.2)  # past the grace period: whatever was RUNNING in a killed worker is stale now
    study = hd.load_study(study_name="w", storage=url)
    study.reap_stale_trials(force=True)
    trials = study.trials
    finished = {int(line.split()[0]) for line in log_path.read_text().splitlines() if line.endswith("COMPLETE")}
    by_number = {t.number: t for t in trials}
    assert all(by_number[n].state == TrialState.COMPLETE for n in finished)  # no finished trial lost
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) >= 200
    stale = [t for t in trials if t.state == TrialState.FAIL]
    assert stale and all("no heartbeat" in t.system_attrs["fail_reason"] for t in stale)
    reruns = {t.system_attrs["retry_of"]: t for t in trials if "retry_of" in t.system_attrs}
    for t in stale:  # every killed trial was rerun with the parameters it had
        wanted = {**t.system_attrs.get("fixed_params", {}), **t.params}
        assert t.number in reruns and reruns[t.number].system_attrs["fixed_params"] == wanted
        rerun = reruns[t.number]
        assert all(rerun.params[k] == v for k, v in wanted.items() if k in rerun.params)


def test_sigterm_records_the_trial_and_exits_nonzero(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    hd.create_study(study_name="w", storage=url, heartbeat_interval=1, max_retries=1)
    log_path = tmp_path / "log"
    log_path.touch()
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER.replace("time.sleep(0.08)", "time.sleep(0.08 if trial.number < 3 else 60)"),
         url, str(log_path), "100"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(log_path.read_text().splitlines()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # trial 3 is sleeping inside the objective
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err.decode()
    trials = hd.load_study(study_name="w", storage=url).trials
    assert [t.state for t in trials[:3]] == [TrialState.COMPLETE] * 3
    assert trials[3].state == TrialState.FAIL and trials[3].system_attrs["fail_reason"] == "Terminated: SIGTERM"
    assert trials[4].state == TrialState.WAITING and trials[4].system_attrs["retry_of"] == 3
