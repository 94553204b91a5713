"""Engines for SQLite and PostgreSQL, and transactions that retry what is transient.

Every transaction goes through one retry loop (`Database._retrying`): lock contention is
retried for RETRY_SECONDS; a lost connection to a server that was reached before (a
PostgreSQL restart, a failover) for $HYPERDIAL_CONNECTION_RETRY_SECONDS (60 s by default);
a full disk at once. What does not recover becomes a `StorageError` that names the database
and the cause. After each write the SQLite file's identity is checked: a file deleted or
replaced under a running study stops it, where SQLite would go on writing into the
unlinked file and lose every trial.

SQLite (measured with 4-8 writers, docs/design-notes.md): WAL journal, synchronous=NORMAL, a long
busy timeout, and BEGIN IMMEDIATE for every write transaction, so the write lock is
taken up front; SQLAlchemy's default deferred BEGIN gave duplicate trial numbers.
Reads use a plain deferred BEGIN on a second engine and never block writers in WAL.

PostgreSQL: writes that number or finish trials lock the study row first
(`SELECT ... FOR UPDATE` or an UPDATE of it), which serialises them per study.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from hyperdial._imports import optional_import
from hyperdial.exceptions import MissingDependency, StorageError, invalid

T = TypeVar("T")
_logger = logging.getLogger("hyperdial")

BUSY_TIMEOUT_MS = 30_000
RETRY_SECONDS = 120.0  # how long lock contention is retried before it becomes a StorageError
CONNECTION_RETRY_ENV = "HYPERDIAL_CONNECTION_RETRY_SECONDS"
DEFAULT_CONNECTION_RETRY_SECONDS = 60.0  # a lost server connection, retried with backoff (restarts, failovers)

_LOCKED = ("database is locked", "database is busy", "database table is locked")
_CONNECTION_LOST = (
    "connection refused", "could not connect", "connection failed", "server closed the connection",
    "terminating connection", "connection is closed", "the connection is lost", "connection timed out",
    "the database system is starting up", "the database system is shutting down",
    "the database system is in recovery mode", "ssl syscall error", "no route to host",
)
_FULL = ("database or disk is full", "no space left on device", "could not extend file")


def classify_error(exc: BaseException) -> str | None:
    """'locked' (retry), 'connection' (retry for longer), 'full' (give up at once) or None (not ours to handle)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).lower()
    code = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")  # psycopg 3, psycopg2
    if any(s in text for s in _FULL) or code == "53100":  # 53100: PostgreSQL's disk_full
        return "full"
    if any(s in text for s in _LOCKED) or code in ("40001", "40P01"):  # serialization failure, deadlock
        return "locked"
    if getattr(exc, "connection_invalidated", False) or code.startswith("08") or code in ("57P01", "57P02", "57P03"):
        return "connection"
    if any(s in text for s in _CONNECTION_LOST) and "authentication" not in text:
        return "connection"
    return None


def _is_transient(exc: BaseException) -> bool:
    return classify_error(exc) in ("locked", "connection")


def connection_retry_seconds() -> float:
    """The retry budget for lost connections: $HYPERDIAL_CONNECTION_RETRY_SECONDS or 60 s."""
    raw = os.environ.get(CONNECTION_RETRY_ENV)
    if raw is None:
        return DEFAULT_CONNECTION_RETRY_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        from hyperdial.exceptions import invalid

        raise invalid(CONNECTION_RETRY_ENV, "must be a number of seconds >= 0", raw)
    return value


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


SUPPORTED = "sqlite:///path.db and postgresql+psycopg://user@host/db"


def check_backend(u: Any) -> None:
    """Refuse backends and drivers hyperdial does not support, before SQLAlchemy tries to import them."""
    shown = f"storage={u.render_as_string(hide_password=True)!r}"
    backend, driver = u.get_backend_name(), u.get_driver_name()
    if backend not in ("sqlite", "postgresql"):
        raise invalid("storage", f"uses the unsupported backend {backend!r}; hyperdial supports {SUPPORTED}", shown)
    if driver not in ("pysqlite", "psycopg", "psycopg2"):
        raise invalid("storage", f"uses the unsupported driver {driver!r}; hyperdial supports {SUPPORTED}", shown)
    if driver == "psycopg2" and importlib.util.find_spec("psycopg2") is None:
        raise MissingDependency(
            f"{u.drivername}:// needs psycopg2, which hyperdial does not install: use postgresql+psycopg://... "
            "(psycopg 3, pip install 'hyperdial[postgres]') or pip install psycopg2"
        )
    if driver == "psycopg":
        optional_import("psycopg", extra="postgres", purpose="PostgreSQL storage")


def check_sqlite_dir(path: str) -> None:
    """SQLite creates its file, not the directory: a mistyped directory is named, never created."""
    path = os.path.abspath(path)
    parent = probe = os.path.dirname(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise StorageError(f"{probe!r} is a file, not a directory (SQLite file {path!r})")
    if probe != parent:
        raise StorageError(f"no directory {parent!r} for the SQLite file {path!r}; create it first")


class Database:
    """Holds the engines; `write(fn)` / `read(fn)` run fn(connection) in one transaction."""

    _connection_retry: float | None = None  # None: $HYPERDIAL_CONNECTION_RETRY_SECONDS or the default
    _file_identity: tuple[int, int] | None = None  # (device, inode) of the SQLite file, from the first write
    _reached = False  # whether any transaction succeeded: only then is a lost connection transient

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa  # a core dependency, imported only when SQL storage is used

        self.url = url
        u = sa.engine.make_url(url)
        check_backend(u)
        self.dialect = u.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self._pid = os.getpid()
        self._mem_lock: threading.RLock | None = None
        if self.is_sqlite:
            in_memory = u.database in (None, "", ":memory:")
            if in_memory:
                # One shared connection; a lock stands in for SQLite's file locking.
                self._mem_lock = threading.RLock()
                self.write_engine = sa.create_engine(
                    url, poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False}
                )
                self._setup_sqlite(self.write_engine, "BEGIN IMMEDIATE", wal=False)
                self.read_engine = self.write_engine
            else:
                check_sqlite_dir(str(u.database))
                args = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
                self.write_engine = sa.create_engine(url, connect_args=args)
                self._setup_sqlite(self.write_engine, "BEGIN IMMEDIATE", wal=True)
                self.read_engine = sa.create_engine(url, connect_args=args)
                self._setup_sqlite(self.read_engine, "BEGIN", wal=True)
        else:  # PostgreSQL
            self.write_engine = sa.create_engine(url, pool_pre_ping=True)
            self.read_engine = self.write_engine

    @staticmethod
    def _setup_sqlite(engine: Any, begin: str, *, wal: bool) -> None:
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # the driver must not emit its own BEGIN
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if wal:
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

    def _check_fork(self) -> None:
        # A forked child must not reuse the parent's connections (SQLAlchemy's recipe).
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self.write_engine.dispose(close=False)
            if self.read_engine is not self.write_engine:
                self.read_engine.dispose(close=False)

    # -- one retry loop for every transaction ---------------------------------------
    def _retrying(self, attempt: Callable[[], T], *, writes: bool, patient: bool = True) -> T:
        """Run `attempt` (one whole transaction) until it succeeds, retrying lock contention for
        RETRY_SECONDS and lost connections for `connection_retry` seconds with jittered backoff;
        anything else, and a full disk, ends as it is or as a StorageError that says what happened."""
        self._check_fork()
        first_failure: dict[str, float] = {}
        delay = 0.005
        while True:
            try:
                result = attempt()
            except Exception as exc:
                kind = classify_error(exc)
                if kind is None or (kind == "connection" and not (self._reached and patient)):
                    raise  # a server never reached is a wrong URL or a server down: say so at once
                if kind == "full":
                    raise StorageError(f"cannot write to {self.describe()}: {self._reason(exc)} (is the disk full?)") from exc
                now = time.monotonic()
                since = first_failure.setdefault(kind, now)
                limit = RETRY_SECONDS if kind == "locked" else self.connection_retry
                if now - since >= limit:
                    what = "stayed locked" if kind == "locked" else "stayed unreachable"
                    raise StorageError(
                        f"{self.describe()} {what} for {limit:g} s: {self._reason(exc)}"
                        + ("" if kind == "locked" else f" (retry budget: ${CONNECTION_RETRY_ENV})")
                    ) from exc
                if kind == "connection" and since == now:
                    _logger.warning("lost the connection to %s (%s); retrying for up to %g s",
                                    self.describe(), self._reason(exc), limit)
                else:
                    _logger.debug("transient database error, retrying: %s", self._reason(exc))
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5 if kind == "locked" else 2.0)
                continue
            self._reached = True
            if "connection" in first_failure:
                _logger.warning("reconnected to %s", self.describe())
            if writes:
                self._check_file()
            return result

    def _run(self, engine: Any, fn: Callable[[Any], T], *, writes: bool, patient: bool = True) -> T:
        def attempt() -> T:
            if self._mem_lock is not None:
                with self._mem_lock, engine.begin() as conn:
                    return fn(conn)
            with engine.begin() as conn:
                return fn(conn)

        return self._retrying(attempt, writes=writes, patient=patient)

    def write_sqlite_raw(self, fn: Callable[[Any], T]) -> T:
        """SQLite only: run fn(cursor) in a BEGIN IMMEDIATE transaction on the driver's own
        connection. For one-statement writes on the hot path (a parameter, a report), where
        SQLAlchemy's per-statement machinery costs more than SQLite itself."""

        def attempt() -> T:
            raw = self.write_engine.raw_connection()
            try:
                if self._mem_lock is not None:
                    self._mem_lock.acquire()
                cur = raw.cursor()
                try:
                    cur.execute("BEGIN IMMEDIATE")
                    try:
                        result = fn(cur)
                    except BaseException:
                        cur.execute("ROLLBACK")
                        raise
                    cur.execute("COMMIT")
                    return result
                finally:
                    cur.close()
            finally:
                if self._mem_lock is not None:
                    self._mem_lock.release()
                raw.close()  # back to the pool

        return self._retrying(attempt, writes=True)

    # -- where the data lives ----------------------------------------------------------
    @property
    def connection_retry(self) -> float:
        return self._connection_retry if self._connection_retry is not None else connection_retry_seconds()

    @connection_retry.setter
    def connection_retry(self, seconds: float | None) -> None:
        self._connection_retry = seconds

    def _reason(self, exc: BaseException) -> str:
        """The driver's first line, with no piece of the URL's password in it."""
        from hyperdial.storage._url import redact_text

        return redact_text(_reason(exc), self.url)

    def sqlite_path(self) -> str | None:
        """The absolute path of a file-based SQLite database, else None."""
        if not self.is_sqlite:
            return None
        from sqlalchemy.engine import make_url

        u = make_url(self.url)
        db = str(u.database or "")
        if db in ("", ":memory:") or db.startswith("file::memory:") or "mode=memory" in db \
                or u.query.get("mode") == "memory":  # SQLite's URI forms of an in-memory database
            return None
        return os.path.abspath(db)

    def describe(self) -> str:
        path = self.sqlite_path()
        if path is not None:
            return f"the SQLite database {path}"
        from hyperdial.storage._url import redact_url

        return f"the database {redact_url(self.url)}"

    def _check_file(self) -> None:
        """After each write: the SQLite file must still be the one opened. A deleted or replaced
        file does not stop SQLite, which goes on writing into the unlinked inode, losing every trial."""
        path = self.sqlite_path()
        if path is None:
            return
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise StorageError(
                f"{self.describe()} was deleted while in use: what was written since is lost; stopping"
            ) from None
        identity = (st.st_dev, st.st_ino)
        if self._file_identity is None:
            self._file_identity = identity
        elif identity != self._file_identity:
            raise StorageError(
                f"{self.describe()} was replaced by another file while in use: what was written since is "
                "lost; stopping"
            )

    def write(self, fn: Callable[[Any], T], *, patient: bool = True) -> T:
        """fn(connection) in one write transaction; `patient=False`: a lost connection is not
        waited for (a heartbeat that misses is simply sent again next interval)."""
        return self._run(self.write_engine, fn, writes=True, patient=patient)

    def read(self, fn: Callable[[Any], T]) -> T:
        return self._run(self.read_engine, fn, writes=False)

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
