"""Shared fixtures: storages over memory, SQLite and a real PostgreSQL.

PostgreSQL: `HYPERDIAL_TEST_POSTGRES_URL` (set by .ci/run) names a server whose
user may create databases; without it, a throwaway cluster is started from the
local PostgreSQL binaries. If neither works the PostgreSQL tests FAIL, unless
`HYPERDIAL_SKIP_POSTGRES=1` says to skip them on purpose.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hyperdial.storage import Storage

PG_ENV = "HYPERDIAL_TEST_POSTGRES_URL"
collect_ignore = ["data", "sweep_programs"]  # scripts that write fixtures, and child programs the sweep tests run: not tests


# The markers declared in pyproject.toml, applied here so that `-m "not slow and not postgres"`
# (the fast subset in the README) selects by what a test needs, without a decorator on each:
# `postgres` for every test that reaches the PostgreSQL server, `slow` for these modules, whose
# tests start processes or clusters (a few seconds to a minute each).
SLOW_MODULES = {
    "test_cli_worker.py", "test_default_jobs.py", "test_executors.py", "test_liveness.py", "test_multiprocess.py",
    "test_readme.py", "test_sweeps_processes.py", "test_sweeps_run.py",
}
# `torch` for the tests (and doctests) that need torch and the frameworks on it (Transformers, PEFT,
# Lightning): CI runs them in their own venv, on the one Python with torch's CPU wheel on the machine, and
# deselects them elsewhere (-m "not torch"). Where torch is not installed, ../conftest.py leaves these files
# uncollected (they cannot be imported), unless the run asks for them (-m torch).
TORCH_FILES = {
    "tests/integrations/test_transformers.py", "tests/integrations/test_lightning.py", "tests/test_lora_example.py", "tests/test_checkpoints_torch.py",
    "src/hyperdial/integrations/transformers.py", "src/hyperdial/integrations/lightning.py",
}
_ROOT = Path(__file__).resolve().parents[1]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # `timeout`, a cancelled CI job or `kill` send SIGTERM, which skips fixture teardown and left
    # the throwaway PostgreSQL server running with its data in /tmp; an interrupt tears down.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "pg_server" in getattr(item, "fixturenames", ()) or any(v == "postgres" for v in params.values() if isinstance(v, str)):
            item.add_marker(pytest.mark.postgres)
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if item.path.is_relative_to(_ROOT) and item.path.relative_to(_ROOT).as_posix() in TORCH_FILES:
            item.add_marker(pytest.mark.torch)


@pytest.fixture(autouse=True)
def _quiet_logs() -> Iterator[None]:
    logger = logging.getLogger("hyperdial")
    old = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(old)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """A throwaway PostgreSQL cluster on a free loopback port, from the local binaries;
    `stop()` and `start()` take it down and up again on the same port (outage tests)."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        initdb = bins[-1] if bins else shutil.which("initdb")
        if not initdb:
            raise RuntimeError("no PostgreSQL binaries (initdb) found")
        self.bindir = os.path.dirname(initdb)
        self.data = tempfile.mkdtemp(prefix="hd-pg-")
        self.port = _free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(self.data, "postgres", "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        try:
            subprocess.run([*self.as_postgres, initdb, "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"],
                           check=True, capture_output=True)
            self.start()
        except BaseException:  # a cluster that did not start must not leave its files in /tmp either
            shutil.rmtree(self.data, ignore_errors=True)
            raise

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run([*self.as_postgres, os.path.join(self.bindir, "pg_ctl"), "-D", self.data, *args],
                       check=check, capture_output=True)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", os.path.join(self.data, "log"), "-w", "-o", opts, "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data, ignore_errors=True)


def _start_throwaway_cluster() -> tuple[str, Callable[[], None]]:
    cluster = PgCluster()
    return cluster.url, cluster.remove


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server of the test's own, which the test may stop and start."""
    try:
        cluster = PgCluster()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL binaries are needed for outage tests ({exc})")
    yield cluster
    cluster.remove()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a PostgreSQL server (its maintenance database)."""
    url = os.environ.get(PG_ENV)
    stop = None
    if not url:
        if os.environ.get("HYPERDIAL_SKIP_POSTGRES") == "1":
            pytest.skip("HYPERDIAL_SKIP_POSTGRES=1: PostgreSQL tests skipped on purpose")
        try:
            url, stop = _start_throwaway_cluster()
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"PostgreSQL is needed: set {PG_ENV} or install PostgreSQL ({exc})")
    yield url
    if stop is not None:
        stop()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return _new_database(pg_server)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_storage(storage_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Storage]:
    """A factory of new, empty storages of the parametrized kind."""
    from hyperdial.storage import get_storage

    counter = iter(range(1000))  # several storages in one test get separate files

    def make() -> Storage:
        if storage_kind == "memory":
            return get_storage(None)
        if storage_kind == "sqlite":
            return get_storage(f"sqlite:///{tmp_path}/s{next(counter)}.db")
        return get_storage(_new_database(request.getfixturevalue("pg_server")))

    return make


def _new_database(server: str) -> str:
    import sqlalchemy as sa

    name = f"hd_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def storage_url(storage_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str | None:
    """A storage URL (None for memory) of the parametrized kind."""
    if storage_kind == "memory":
        return None
    if storage_kind == "sqlite":
        return f"sqlite:///{tmp_path}/study.db"
    return str(request.getfixturevalue("pg_url"))
