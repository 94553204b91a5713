"""Checkpoints with real processes: a writer killed mid-write, and workers killed (SIGKILL) or pre-empted
(SIGTERM) in the middle of a real training run, whose retry resumes from the last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperdial as hd
from hyperdial.system_attrs import CHECKPOINTS, FAIL_REASON, RESUME_FROM

pytestmark = pytest.mark.slow

EPOCHS = 8

# A worker training an SGDClassifier on digits with partial_fit, one checkpoint per epoch.
WORKER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import hyperdial as hd
    from hyperdial.checkpoints import load_state, save_state
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier

    url, log, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    classes = np.unique(y)
    study = hd.load_study(study_name="s", storage=url, sampler=hd.samplers.Random(seed=0), pruner=hd.pruners.Nop())

    def objective(trial):
        alpha = trial.suggest_float("alpha", 1e-5, 1e-3, log=True)
        model = SGDClassifier(alpha=alpha, random_state=0)
        start = 0
        loaded = load_state(trial)
        if loaded is not None:
            state, step = loaded
            model.partial_fit(x[:1], y[:1], classes=classes)  # allocates, then the state overwrites
            model.coef_, model.intercept_, model.t_ = state["coef"], state["intercept"], state["t"]
            start = step + 1
        trial.set_user_attr("started_at", start)
        for epoch in range(start, epochs):
            model.partial_fit(x[:1200], y[:1200], classes=classes)
            trial.report(1 - model.score(x[1200:], y[1200:]), epoch)
            save_state(trial, {"coef": model.coef_, "intercept": model.intercept_, "t": model.t_})
            with open(log, "a") as f:
                f.write(f"{trial.number} {epoch}\\n")
            time.sleep(0.4)
        return 1 - model.score(x[1200:], y[1200:])

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    """
)

# A writer that saves one quick checkpoint, then a slow one (every fsync sleeps) until it is killed.
WRITER = textwrap.dedent(
    """
    import os, sys, time, pathlib
    import hyperdial as hd
    url, name, src = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    study = hd.load_study(study_name=name, storage=url)
    trial = study.ask()
    trial.save_checkpoint(src / "first", step=0)
    print("first", flush=True)
    real_fsync = os.fsync
    def slow_fsync(fd):
        time.sleep(0.02)
        real_fsync(fd)
    os.fsync = slow_fsync
    trial.save_checkpoint(src / "second", step=1)
    print("second", flush=True)
    time.sleep(60)
    """
)


def _wait_for(predicate: Any, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def _epochs(log: Path, number: int) -> list[int]:
    if not log.exists():
        return []
    return [int(e) for n, e in (line.split() for line in log.read_text().splitlines()) if int(n) == number]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_writer_killed_mid_write_never_leaves_a_checkpoint_that_loads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    first = {"model.bin": os.urandom(1000)}
    second = {f"shard-{i:02d}.bin": os.urandom(20_000) for i in range(60)}  # ~1.2 s to write with slow fsyncs
    for name, content in (("first", first), ("second", second)):
        (tmp_path / name).mkdir()
        for rel, data in content.items():
            (tmp_path / name / rel).write_bytes(data)
    killed_mid_write = 0
    for run, delay in enumerate([0.05, 0.2, 0.4, 0.6, 0.8, 1.0, None]):  # None: after the second save
        name = f"w{run}"
        hd.create_study(study_name=name, storage=url)
        with subprocess.Popen([sys.executable, "-c", WRITER, url, name, str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as writer:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "first"
            if delay is None:
                assert writer.stdout.readline().strip() == "second"
            else:
                time.sleep(delay)
            writer.send_signal(signal.SIGKILL)
        store = tmp_path / "s.db.artifacts" / name / "trial-0"
        killed_mid_write += bool(list(store.glob(".tmp-*")))
        study = hd.load_study(study_name=name, storage=url)
        trial = hd.Trial(study, study.trials[0])
        path = trial.load_checkpoint()
        assert path is not None
        # whatever the moment of the kill: the first checkpoint, or the complete second one
        assert (trial.checkpoint_step, _files(path)) in ((0, first), (1, second))
        if delay is None:
            assert trial.checkpoint_step == 1
        recorded = [r["path"] for r in trial.system_attrs.get(CHECKPOINTS, [])]
        assert all(not p.split("/")[-1].startswith(".tmp") for p in recorded)
    assert killed_mid_write >= 3  # the kills did land in the middle of the slow write


def _reference_curve(alpha: float) -> list[float]:
    """The learning curve of the same model trained without interruption."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    model = SGDClassifier(alpha=alpha, random_state=0)
    curve = []
    for _ in range(EPOCHS):
        model.partial_fit(x[:1200], y[:1200], classes=np.unique(y))
        curve.append(1 - model.score(x[1200:], y[1200:]))
    return curve


def _start_worker(url: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WORKER, url, str(log), str(EPOCHS)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _check_resumed(url: str, log: Path) -> None:
    study = hd.load_study(study_name="s", storage=url)
    lost, retry = study.trials
    assert lost.state == hd.TrialState.FAIL and retry.state == hd.TrialState.COMPLETE
    assert retry.system_attrs[RESUME_FROM] == lost.number and retry.params == lost.params
    saved = max(r["step"] for r in lost.system_attrs[CHECKPOINTS])
    assert saved >= 2
    # the retry trained only the epochs after the checkpoint...
    assert retry.user_attrs["started_at"] == saved + 1
    assert _epochs(log, retry.number) == list(range(saved + 1, EPOCHS))
    # ...and its curve is continuous: the lost trial's values up to the checkpoint, then its own, and
    # the same curve as an uninterrupted run of the same model
    assert sorted(retry.intermediate_values) == list(range(EPOCHS))
    assert all(retry.intermediate_values[s] == lost.intermediate_values[s] for s in range(saved + 1))
    reference = _reference_curve(retry.params["alpha"])
    assert [retry.intermediate_values[s] for s in range(EPOCHS)] == pytest.approx(reference, abs=1e-12)
    assert retry.value is not None and retry.value < 0.2


def test_a_retry_after_sigkill_resumes_from_the_last_checkpoint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    hd.create_study(study_name="s", storage=url, heartbeat_interval=1, grace_period=3, max_retries=1)
    log = tmp_path / "epochs.log"
    worker = _start_worker(url, log)
    _wait_for(lambda: len(_epochs(log, 0)) >= 3)
    worker.send_signal(signal.SIGKILL)  # a lost machine: nothing is recorded
    worker.communicate()
    assert [t.state for t in hd.load_study(study_name="s", storage=url).trials] == [hd.TrialState.RUNNING]
    time.sleep(4)  # past the grace period: the next worker's reaper fails trial 0 and queues its retry
    second = _start_worker(url, log)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "no heartbeat for more than 3 s" in hd.load_study(study_name="s", storage=url).trials[0].system_attrs[
        FAIL_REASON]
    _check_resumed(url, log)


def test_a_retry_after_sigterm_resumes_from_the_last_checkpoint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    hd.create_study(study_name="s", storage=url, heartbeat_interval=1, grace_period=3, max_retries=1)
    log = tmp_path / "epochs.log"
    worker = _start_worker(url, log)
    _wait_for(lambda: len(_epochs(log, 0)) >= 3)
    worker.send_signal(signal.SIGTERM)  # pre-emption: the trial is recorded FAIL and its retry queued at once
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 143, err
    study = hd.load_study(study_name="s", storage=url)
    lost, queued = study.trials
    assert lost.system_attrs[FAIL_REASON] == "Terminated: SIGTERM"
    assert queued.state == hd.TrialState.WAITING and queued.system_attrs[RESUME_FROM] == 0
    second = _start_worker(url, log)  # no wait for a reaper
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    _check_resumed(url, log)


def test_resume_example(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "checkpoint_resume.py"
    out = subprocess.run([sys.executable, str(example), "--workdir", str(tmp_path), "--epochs", "6"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "worker 1 pre-empted (SIGTERM), exit status 143" in out.stdout
    assert "trial 1: resuming from trial 0's checkpoint at step " in out.stdout
    study = hd.load_study(study_name="resume", storage=f"sqlite:///{tmp_path}/resume.db")
    lost, retry = study.trials
    assert (lost.state, retry.state) == (hd.TrialState.FAIL, hd.TrialState.COMPLETE)
    assert sorted(retry.intermediate_values) == list(range(6))
    assert len(study.artifacts.checkpoints(lost.number)) == 2  # keep_checkpoints=2
