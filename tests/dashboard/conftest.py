"""Fixtures for the dashboard tests: real SQLite files holding studies with hostile names and values."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd

pytest.importorskip("starlette", reason="the dashboard extra is not installed: pip install 'hyperdial[dashboard]'")

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
EVIL_STUDY = f"study {SCRIPT} {IMG}"
EVIL_PARAM = f"p{IMG}"
EVIL_CHOICES = ("adam", SCRIPT, IMG)
EVIL_ATTR_KEY = f"note{SCRIPT}"


ROOT = Path(__file__).resolve().parents[2]


def screenshot_dir(default: Path) -> Path:
    """Where the browser tests save screenshots: `default` (pytest's tmp dir), or $HYPERDIAL_SCREENSHOTS
    (relative to the repository root) to refresh the docs: `HYPERDIAL_SCREENSHOTS=docs/img pytest ...`."""
    chosen = os.environ.get("HYPERDIAL_SCREENSHOTS")
    where = ROOT / chosen if chosen else default
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


@dataclass
class Populated:
    url: str
    path: Path
    study: hd.Study  # the hostile study: 24 trials (COMPLETE, PRUNED, FAIL with a rerun, one RUNNING)
    running: hd.Trial
    sweep: hd.Study  # a sweep-like study: its file in the `sweep` attr, a trial with a log file
    log_path: Path

    @property
    def sid(self) -> int:
        return self.study.storage.get_study(self.study.study_name).study_id

    @property
    def sweep_sid(self) -> int:
        return self.sweep.storage.get_study(self.sweep.study_name).study_id


def objective(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    opt = trial.suggest_categorical("opt", list(EVIL_CHOICES))
    trial.suggest_int(EVIL_PARAM, 0, 5)
    trial.set_user_attr(EVIL_ATTR_KEY, f"value {SCRIPT} {IMG}")
    value = (x - 1.0) ** 2 + 10 * lr + EVIL_CHOICES.index(opt)
    for step in range(4):
        trial.report(value + (3 - step), step)
    if trial.number % 7 == 6:
        raise hd.TrialPruned()
    return value


def populate(tmp_path: Path) -> Populated:
    hd.set_verbosity(logging.ERROR)
    path = tmp_path / "dash.db"
    url = f"sqlite:///{path}"
    study = hd.create_study(study_name=EVIL_STUDY, storage=url, sampler=hd.samplers.Random(seed=0),
                            pruner=hd.pruners.Nop(), max_retries=1)
    study.set_user_attr("owner", SCRIPT)
    study.optimize(objective, n_trials=20, show_progress_bar=False)
    failing = study.ask()
    failing.suggest_float("x", -3.0, 3.0)
    study.fail_trial(failing, f"ValueError: boom {SCRIPT}")  # FAIL, and a WAITING rerun (retry_of)
    rerun = study.ask()  # claims the rerun
    study.tell(rerun, 0.5)
    running = study.ask()
    running.suggest_float("x", -3.0, 3.0)
    running.report(1.5, 0)

    sweep = hd.create_study(study_name="sweep-study", storage=url, sampler=hd.samplers.Random(seed=1))
    sweep.set_user_attr("sweep", {"file": f"program: train.py\nmetric: {{name: loss}}\n# {SCRIPT}\n",
                                  "source": "sweep.yaml", "format": "native"})
    log_path = tmp_path / "logs" / "trial-0.log"
    log_path.parent.mkdir()
    log_path.write_text(f"epoch 1 loss 0.5\n{SCRIPT}\ndone\n", encoding="utf-8")
    t = sweep.ask()
    t.suggest_float("x", 0.0, 1.0)
    t.set_user_attr("log", str(log_path))
    sweep.tell(t, 0.25)
    return Populated(url=url, path=path, study=study, running=running, sweep=sweep, log_path=log_path)


@pytest.fixture
def populated(tmp_path: Path) -> Populated:
    return populate(tmp_path)


@pytest.fixture
def client(populated: Populated) -> Iterator[Any]:
    from starlette.testclient import TestClient

    with TestClient(hd.dashboard.create_app(populated.url)) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real uvicorn server on a free loopback port, in its own process (its plot computations
    do not compete for this process's GIL with the browser driver)."""

    def __init__(self, storage: str, *, poll_ms: int = 2000, allow_write: bool = False) -> None:
        self.port = free_port()
        code = (
            "import sys, uvicorn, hyperdial as hd\n"
            "app = hd.dashboard.create_app(sys.argv[1], allowed_hosts=['127.0.0.1', 'localhost'],"
            " poll_ms=int(sys.argv[3]), allow_write=sys.argv[4] == '1')\n"
            "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[2]), log_level='warning', lifespan='off')\n"
        )
        self.argv = [sys.executable, "-c", code, storage, str(self.port), str(poll_ms), "1" if allow_write else "0"]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:  # noqa: PYI034 - a final class
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.proc = subprocess.Popen(self.argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    self.__exit__()
                    raise RuntimeError(f"the dashboard server did not start: {err}") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()


def no_raw(text: str) -> None:
    """The hostile strings never appear unescaped."""
    for raw in (SCRIPT, IMG, "<script>alert", "<img src=x"):
        assert raw not in text, f"unescaped {raw!r} in the response"

