"""Faults met on real clusters, with real processes, files and PostgreSQL servers.

Each test reproduces one fault of docs/reliability.md and checks that no finished
trial is lost, nothing is left RUNNING that cannot be cleaned up, and the error a
user sees says what happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd
from hyperdial import TrialState
from hyperdial.exceptions import StorageError

# A worker process: `optimize` with a Random sampler (no model to fit) and trials that
# report every 0.1 s, recording what its own callbacks saw.
WORKER = textwrap.dedent(
    """
    import sys, time
    import hyperdial as hd
    url, out, seed, n, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    study = hd.load_study(study_name="s", storage=url, sampler=hd.samplers.Random(seed=seed),
                          pruner=hd.pruners.Nop())
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        for step in range(steps):
            time.sleep(0.1)
            trial.report(x, step)
        return x
    def record(study, trial):
        with open(out, "a") as f:
            f.write(f"{trial.number} {trial.state.name}\\n")
    study.optimize(objective, n_trials=n, callbacks=[record], show_progress_bar=False)
    """
)


def _worker(url: str, out: Path, seed: int, n: int, steps: int, **env: str) -> subprocess.Popen[str]:
    out.touch()
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(out), str(seed), str(n), str(steps)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, **env},
    )


def _wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _running(url: str) -> list[hd.FrozenTrial]:
    return hd.load_study(study_name="s", storage=url).get_trials(states=[TrialState.RUNNING])


def test_paused_worker_whose_trial_was_reaped_goes_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    hd.create_study(study_name="s", storage=url, heartbeat_interval=1, grace_period=3)
    paused_out, other_out = tmp_path / "paused.log", tmp_path / "other.log"
    paused = _worker(url, paused_out, 1, 12, 5)
    other = _worker(url, other_out, 2, 12, 5)
    _wait_for(lambda: len(_lines(paused_out)) >= 1 and len(_lines(other_out)) >= 1)
    os.kill(paused.pid, signal.SIGSTOP)  # a stalled machine: no heartbeats for 6 s
    time.sleep(6)
    os.kill(paused.pid, signal.SIGCONT)
    _, err = paused.communicate(timeout=120)
    assert paused.returncode == 0, err
    _, other_err = other.communicate(timeout=120)
    assert other.returncode == 0, other_err
    assert len(_lines(paused_out)) == 12  # it went on with the study after losing one trial
    assert "was taken from this worker" in err and "its result here is dropped" in err
    taken = [int(line.split()[0]) for line in _lines(paused_out) if line.endswith("FAIL")]
    assert len(taken) == 1
    trials = {t.number: t for t in hd.load_study(study_name="s", storage=url).trials}
    assert "no heartbeat for more than 3 s" in trials[taken[0]].system_attrs["fail_reason"]
    assert sum(t.state == TrialState.COMPLETE for t in trials.values()) == 23
    assert not _running(url)


def test_tell_from_another_process_does_not_stop_the_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    study = hd.create_study(study_name="s", storage=url)
    out = tmp_path / "w.log"
    worker = _worker(url, out, 0, 3, 20)  # 2 s per trial
    _wait_for(lambda: bool(_running(url)))
    number = _running(url)[0].number
    study.tell(number, state=TrialState.FAIL, fail_reason="stopped by hand")
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "Trial %d was taken from this worker (it is FAIL in the storage: stopped by hand)" % number in err
    assert len(_lines(out)) == 3
    states = [t.state for t in hd.load_study(study_name="s", storage=url).trials]
    assert states.count(TrialState.FAIL) == 1 and states.count(TrialState.COMPLETE) == 2


def test_liveness_is_on_by_default_for_shared_storages(tmp_path: Path, pg_url: str) -> None:
    for url in (f"sqlite:///{tmp_path}/a.db", pg_url):
        study = hd.create_study(study_name="d", storage=url)
        assert (study.heartbeat_interval, study.grace_period) == (30.0, 120.0)
        assert hd.load_study(study_name="d", storage=url).heartbeat_interval == 30.0
    for url in (None, "sqlite://", "sqlite:///:memory:"):
        assert hd.create_study(storage=url).heartbeat_interval is None  # no other process can see it
    off = f"sqlite:///{tmp_path}/off.db"
    assert hd.create_study(study_name="o", storage=off, heartbeat_interval=0).heartbeat_interval is None
    assert hd.load_study(study_name="o", storage=off).heartbeat_interval is None  # the choice is stored


def _hyperdial(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hyperdial", *args], check=False, capture_output=True, text=True, timeout=60)


def test_fail_stale_cleans_up_after_a_killed_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    hd.create_study(study_name="s", storage=url, max_retries=1)  # default liveness: 120 s before a reaper acts
    worker = _worker(url, tmp_path / "w.log", 0, 5, 50)
    _wait_for(lambda: bool(_running(url)))
    time.sleep(0.3)
    worker.send_signal(signal.SIGKILL)
    worker.communicate()
    [stuck] = _running(url)
    assert "1 stale trial(s)" not in _hyperdial("fail-stale", "s", "--storage", url).stdout  # within the grace
    result = _hyperdial("fail-stale", "s", "--storage", url, "--older-than", "0")
    assert result.returncode == 0, result.stderr
    assert f"trial {stuck.number}: FAIL (no heartbeat for more than 0 s); rerun as trial {stuck.number + 1}" \
        in result.stdout
    trials = hd.load_study(study_name="s", storage=url).trials
    assert trials[stuck.number].state == TrialState.FAIL
    rerun = trials[stuck.number + 1]
    assert rerun.state == TrialState.WAITING and rerun.system_attrs["fixed_params"] == stuck.params
    off = f"sqlite:///{tmp_path}/off.db"
    hd.create_study(study_name="s", storage=off, heartbeat_interval=0)
    result = _hyperdial("fail-stale", "s", "--storage", off)
    assert result.returncode == 1 and "liveness off: give --older-than SECONDS" in result.stderr
    assert _hyperdial("fail-stale", "s", "--storage", off, "--older-than", "-1").returncode == 2


def test_postgres_outage_of_a_few_seconds_is_ridden_out(pg_cluster: Any, tmp_path: Path) -> None:
    url = pg_cluster.url
    hd.create_study(study_name="s", storage=url)
    out = tmp_path / "w.log"
    worker = _worker(url, out, 0, 25, 2)
    _wait_for(lambda: len(_lines(out)) >= 3)
    pg_cluster.stop()  # terminates the worker's connections, then refuses new ones
    time.sleep(3)
    pg_cluster.start()
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    assert "lost the connection to the database postgresql+psycopg://" in err and "reconnected" in err
    trials = hd.load_study(study_name="s", storage=url).trials
    assert len(trials) == 25 and all(t.state == TrialState.COMPLETE for t in trials)


def test_postgres_outage_past_the_retry_budget_is_a_storage_error(pg_cluster: Any, tmp_path: Path) -> None:
    url = pg_cluster.url
    hd.create_study(study_name="s", storage=url)
    out = tmp_path / "w.log"
    worker = _worker(url, out, 0, 100, 2, HYPERDIAL_CONNECTION_RETRY_SECONDS="1")
    _wait_for(lambda: len(_lines(out)) >= 2)
    pg_cluster.stop()
    _, err = worker.communicate(timeout=60)
    pg_cluster.start()
    assert worker.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("hyperdial.exceptions.StorageError: the database postgresql+psycopg://")
    assert "stayed unreachable for 1 s" in last and "HYPERDIAL_CONNECTION_RETRY_SECONDS" in last
    study = hd.load_study(study_name="s", storage=url)
    finished = {int(line.split()[0]) for line in _lines(out)}
    assert all(study.trials[n].state == TrialState.COMPLETE for n in finished)  # nothing finished is lost
    study.reap_stale_trials(older_than=0)  # what the next start does once the grace period is over
    assert not _running(url)


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A real 1 MiB filesystem (tmpfs, mounted as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=False, capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"the disk-full test mounts a tmpfs and needs root: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_is_a_storage_error_naming_the_file(small_disk: Path) -> None:
    url = f"sqlite:///{small_disk}/s.db"
    study = hd.create_study(study_name="s", storage=url, sampler=hd.samplers.Random(seed=0))

    def objective(trial: hd.Trial) -> float:
        trial.set_user_attr("predictions", "x" * 20_000)  # fills the 1 MiB disk within a few dozen trials
        return trial.suggest_float("x", 0, 1)

    with pytest.raises(StorageError) as info:
        study.optimize(objective, n_trials=500, show_progress_bar=False)
    assert str(info.value) == (
        f"cannot write to the SQLite database {small_disk}/s.db: database or disk is full (is the disk full?)"
    )
    complete = study.get_trials(states=[TrialState.COMPLETE])
    assert len(complete) >= 5
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)], check=True)  # the user frees space...
    reopened = hd.load_study(study_name="s", storage=url)
    assert len(reopened.get_trials(states=[TrialState.COMPLETE])) == len(complete)  # ... and nothing was lost
    assert len(reopened.reap_stale_trials(older_than=0)) <= 1  # the trial that hit the full disk, if any
    assert not reopened.get_trials(states=[TrialState.RUNNING])


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_sqlite_file_deleted_or_replaced_during_a_run_stops_it(tmp_path: Path, how: str) -> None:
    path = tmp_path / "s.db"
    study = hd.create_study(study_name="s", storage=f"sqlite:///{path}", sampler=hd.samplers.Random(seed=0))
    hd.create_study(study_name="other", storage=f"sqlite:///{tmp_path}/other.db")

    def objective(trial: hd.Trial) -> float:
        if trial.number == 3:
            if how == "deleted":
                for suffix in ("", "-wal", "-shm"):
                    (tmp_path / f"s.db{suffix}").unlink(missing_ok=True)
            else:
                os.replace(tmp_path / "other.db", path)
        return trial.suggest_float("x", 0, 1)

    with pytest.raises(StorageError, match=f"the SQLite database {path} was {how} .*while in use"):
        study.optimize(objective, n_trials=10, show_progress_bar=False)


def test_in_memory_sqlite_is_refused_by_process_executors() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        study = hd.create_study(storage=url)
        with pytest.raises(hd.InvalidParameterError, match="cannot see an in-memory study"):
            study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2, executor="process",
                           show_progress_bar=False)
        assert not study.trials


def test_sqlite_locked_past_the_retry_budget_is_a_storage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both write paths (SQLAlchemy's and the raw-cursor hot path of report/set_params) end in one
    retry loop that gives a StorageError, never sqlite3's own "database is locked"."""
    import sqlite3

    from hyperdial.storage.sql import engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(engine, "RETRY_SECONDS", 0.5)
    path = tmp_path / "l.db"
    study = hd.create_study(study_name="s", storage=f"sqlite:///{path}")
    trial = study.ask()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock and does not let go
    try:
        with pytest.raises(StorageError, match=r"the SQLite database .*l\.db stayed locked for 0\.5 s: database is locked"):
            trial.report(0.5, step=0)  # the raw-cursor path
        with pytest.raises(StorageError, match="stayed locked"):
            study.tell(trial, 1.0)  # SQLAlchemy's path
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    study.tell(trial, 1.0)
    assert study.trials[0].state == TrialState.COMPLETE
