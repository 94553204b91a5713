"""Engines for SQLite and PostgreSQL, and transactions that retry on lock contention.

SQLite (INFRA.md, measured with 4-8 writers): WAL journal, synchronous=NORMAL, a long
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
RETRY_SECONDS = 120.0


def _is_transient(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40001", "40P01")  # serialization failure, deadlock detected


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

    def _run(self, engine: Any, fn: Callable[[Any], T]) -> T:
        from sqlalchemy.exc import DBAPIError

        self._check_fork()
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                if self._mem_lock is not None:
                    with self._mem_lock, engine.begin() as conn:
                        return fn(conn)
                with engine.begin() as conn:
                    return fn(conn)
            except DBAPIError as exc:
                if not _is_transient(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StorageError(f"the database stayed locked for {RETRY_SECONDS:.0f} s: {exc.orig}") from exc
                _logger.debug("transient database error, retrying: %s", exc.orig)
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)

    def write_sqlite_raw(self, fn: Callable[[Any], T]) -> T:
        """SQLite only: run fn(cursor) in a BEGIN IMMEDIATE transaction on the driver's own
        connection. For one-statement writes on the hot path (a parameter, a report), where
        SQLAlchemy's per-statement machinery costs more than SQLite itself."""
        import sqlite3

        self._check_fork()
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.005
        while True:
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
            except sqlite3.OperationalError as exc:
                if not _is_transient(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)
            finally:
                if self._mem_lock is not None:
                    self._mem_lock.release()
                raw.close()  # back to the pool

    def write(self, fn: Callable[[Any], T]) -> T:
        return self._run(self.write_engine, fn)

    def read(self, fn: Callable[[Any], T]) -> T:
        return self._run(self.read_engine, fn)

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
