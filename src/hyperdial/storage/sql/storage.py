"""`SQLStorage`: the storage protocol over SQLite or PostgreSQL.

Hot paths use short hand-written statements (portable between the two
dialects); the tables themselves are defined in `schema.py`.
"""

from __future__ import annotations

import functools
import json
import os
import time
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hyperdial import _clock
from hyperdial.exceptions import (
    DuplicatedStudyError,
    StorageError,
    StudyNotFound,
    TrialFinishedError,
    TrialNotFound,
    invalid,
    storage_error,
)
from hyperdial.space import Distribution, distribution_from_dict
from hyperdial.storage._url import misread_host, redact_url
from hyperdial.storage.base import Changes, StudyInfo, StudySummary
from hyperdial.storage.sql import migrations
from hyperdial.storage.sql.engine import Database
from hyperdial.system_attrs import FAIL_REASON
from hyperdial.trial import FrozenTrial, TrialState

_RUNNING, _WAITING = int(TrialState.RUNNING), int(TrialState.WAITING)
_TRIAL_COLS = "trial_id, number, state, values_json, datetime_start, datetime_complete"


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


def _ts(dt: datetime | None) -> float | None:
    return None if dt is None else dt.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


@functools.lru_cache(maxsize=512)
def _text(sql: str, *expanding: str) -> sa.TextClause:
    """A compiled-once statement (parsing bind parameters is a measurable part of a trial's cost)."""
    clause = sa.text(sql)
    if expanding:
        clause = clause.bindparams(*(sa.bindparam(name, expanding=True) for name in expanding))
    return clause


class SQLStorage:
    """Studies in a SQL database: `sqlite:///path.db` or `postgresql+psycopg://user@host/db`.

    Safe for many processes at once: trial numbers never collide, and a killed
    process loses at most its unfinished trial.

    >>> s = SQLStorage("sqlite://")
    >>> sid = s.create_study("demo", ["minimize"])
    >>> s.create_trial(sid).number
    0
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError:
            raise invalid(
                "storage", "must be a SQLAlchemy URL such as sqlite:///hyperdial.db", redact_url(url)
            ) from None
        shown = redact_url(url)  # not SQLAlchemy's rendering: it shows what follows a raw '@' in a password
        if misread_host(parsed.host):  # the driver would quote that piece of the password as a host name
            raise invalid("storage", "must percent-encode '@' in its password as %40 "
                          "(urllib.parse.quote(password, safe=''))", shown)
        file_db = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        if not create and file_db and not os.path.exists(str(parsed.database)):
            raise StorageError(f"no SQLite database at {parsed.database!r} (storage {shown})")
        try:
            self.db = Database(url)
            # Close pooled connections when the storage goes away (or at exit), not at
            # the mercy of the drivers' own finalizers.
            self._finalizer = weakref.finalize(self, self.db.dispose)
            self.db.write(self._init_schema)
        except (sa.exc.DatabaseError, sa.exc.NoSuchModuleError, sa.exc.InterfaceError) as exc:
            # Reading the schema at open also finds a damaged SQLite file (not a database, malformed).
            raise storage_error(shown, exc, url=url) from exc
        self._dist_cache: dict[str, Distribution] = {}

    def close(self) -> None:
        """Close every pooled connection (the storage reconnects if used again)."""
        self.db.dispose()

    def _init_schema(self, conn: sa.Connection) -> None:
        if self.db.dialect == "postgresql":  # two processes creating tables at once
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(812734)"))
        migrations.upgrade(conn)

    def __repr__(self) -> str:
        return f"SQLStorage({redact_url(self.url)!r})"

    # -- helpers -----------------------------------------------------------------
    def _dist(self, text: str) -> Distribution:
        dist = self._dist_cache.get(text)
        if dist is None:
            dist = distribution_from_dict(json.loads(text))
            self._dist_cache[text] = dist
        return dist

    def _lock_study(self, conn: sa.Connection, study_id: int) -> None:
        """Check the study exists and serialise numbering per study (SQLite already holds the write lock)."""
        lock = "" if self.db.dialect == "sqlite" else " FOR UPDATE"
        row = conn.execute(
            _text(f"SELECT study_id FROM hd_studies WHERE study_id = :sid{lock}"), {"sid": study_id}
        ).first()
        if row is None:
            raise StudyNotFound(f"no study with id {study_id}")

    def _writable_trial(self, conn: sa.Connection, trial_id: int) -> tuple[int, int]:
        row = conn.execute(
            _text("SELECT study_id, state, number FROM hd_trials WHERE trial_id = :tid"), {"tid": trial_id}
        ).first()
        if row is None:
            raise TrialNotFound(f"no trial with id {trial_id}")
        if TrialState(row[1]).is_finished():
            raise TrialFinishedError(f"trial {row[2]} is already {TrialState(row[1]).name}")
        return int(row[0]), int(row[2])

    def _load_trials(self, conn: sa.Connection, where: str, args: dict[str, Any]) -> list[FrozenTrial]:
        """Load trials matching `where` (SQL over hd_trials) with params, reports and attrs."""
        rows = conn.execute(_text(f"SELECT {_TRIAL_COLS} FROM hd_trials WHERE {where}"), args).all()
        if not rows:
            return []
        sub = f"SELECT trial_id FROM hd_trials WHERE {where}"
        params: dict[int, dict[str, Any]] = {}
        dists: dict[int, dict[str, Distribution]] = {}
        for tid, name, value, dtext in conn.execute(
            _text(f"SELECT trial_id, name, value, distribution FROM hd_trial_params WHERE trial_id IN ({sub})"),
            args,
        ):
            dist = self._dist(dtext)
            params.setdefault(tid, {})[name] = dist.to_external(value)
            dists.setdefault(tid, {})[name] = dist
        inter: dict[int, dict[int, Any]] = {}
        for tid, step, vtext in conn.execute(
            _text(f"SELECT trial_id, step, value FROM hd_trial_intermediate WHERE trial_id IN ({sub})"), args
        ):
            v = json.loads(vtext)
            inter.setdefault(tid, {})[step] = tuple(v) if isinstance(v, list) else v
        user: dict[int, dict[str, Any]] = {}
        system: dict[int, dict[str, Any]] = {}
        for tid, is_system, key, vtext in conn.execute(
            _text(f"SELECT trial_id, system, key, value FROM hd_trial_attrs WHERE trial_id IN ({sub})"), args
        ):
            (system if is_system else user).setdefault(tid, {})[key] = json.loads(vtext)
        out = []
        for tid, number, state, vjson, start, complete in rows:
            out.append(
                FrozenTrial(
                    number=number,
                    state=TrialState(state),
                    values=None if vjson is None else tuple(json.loads(vjson)),
                    params=params.get(tid, {}),
                    distributions=dists.get(tid, {}),
                    user_attrs=user.get(tid, {}),
                    system_attrs=system.get(tid, {}),
                    intermediate_values=dict(sorted(inter.get(tid, {}).items())),
                    datetime_start=_dt(start),
                    datetime_complete=_dt(complete),
                    trial_id=tid,
                )
            )
        out.sort(key=lambda t: t.number)
        return out

    # -- studies -----------------------------------------------------------------
    def create_study(self, name: str, directions: Sequence[str]) -> int:
        def fn(conn: sa.Connection) -> int:
            res = conn.execute(
                _text(
                    "INSERT INTO hd_studies (name, directions, seq, created_at) "
                    "VALUES (:name, :dirs, 0, :now) RETURNING study_id"
                ),
                {"name": name, "dirs": json.dumps(list(directions)), "now": time.time()},
            )
            return int(res.scalar_one())

        try:
            return self.db.write(fn)
        except IntegrityError:
            raise DuplicatedStudyError(f"a study named {name!r} already exists") from None

    def get_study(self, name: str) -> StudyInfo:
        def fn(conn: sa.Connection) -> StudyInfo:
            row = conn.execute(
                _text("SELECT study_id, directions FROM hd_studies WHERE name = :name"), {"name": name}
            ).first()
            if row is None:
                raise StudyNotFound(f"no study named {name!r}")
            user: dict[str, Any] = {}
            system: dict[str, Any] = {}
            for is_system, key, value in conn.execute(
                _text("SELECT system, key, value FROM hd_study_attrs WHERE study_id = :sid"), {"sid": row[0]}
            ):
                (system if is_system else user)[key] = json.loads(value)
            return StudyInfo(int(row[0]), name, tuple(json.loads(row[1])), user, system)

        return self.db.read(fn)

    def list_studies(self) -> list[StudySummary]:
        def fn(conn: sa.Connection) -> list[StudySummary]:
            rows = conn.execute(
                _text(
                    "SELECT s.study_id, s.name, s.directions, t.state, COUNT(t.trial_id), MIN(t.datetime_start) "
                    "FROM hd_studies s LEFT JOIN hd_trials t ON t.study_id = s.study_id "
                    "GROUP BY s.study_id, s.name, s.directions, t.state ORDER BY s.study_id"
                )
            ).all()
            by_id: dict[int, dict[str, Any]] = {}
            for sid, name, dirs, state, count, start in rows:
                entry = by_id.setdefault(sid, {"name": name, "dirs": dirs, "counts": {}, "start": None})
                if state is not None:
                    entry["counts"][TrialState(state).name] = int(count)
                    if start is not None and (entry["start"] is None or start < entry["start"]):
                        entry["start"] = start
            return [
                StudySummary(
                    sid, e["name"], tuple(json.loads(e["dirs"])), sum(e["counts"].values()), e["counts"], _dt(e["start"])
                )
                for sid, e in by_id.items()
            ]

        return self.db.read(fn)

    def delete_study(self, study_id: int) -> None:
        def fn(conn: sa.Connection) -> None:
            args = {"sid": study_id}
            sub = "SELECT trial_id FROM hd_trials WHERE study_id = :sid"
            for table in ("hd_trial_params", "hd_trial_intermediate", "hd_trial_attrs"):
                conn.execute(_text(f"DELETE FROM {table} WHERE trial_id IN ({sub})"), args)
            conn.execute(_text("DELETE FROM hd_trials WHERE study_id = :sid"), args)
            conn.execute(_text("DELETE FROM hd_study_attrs WHERE study_id = :sid"), args)
            if conn.execute(_text("DELETE FROM hd_studies WHERE study_id = :sid"), args).rowcount == 0:
                raise StudyNotFound(f"no study with id {study_id}")

        self.db.write(fn)

    def set_study_attr(self, study_id: int, key: str, value: Any, *, system: bool = False) -> None:
        self.db.write(
            lambda conn: conn.execute(
                _text(
                    "INSERT INTO hd_study_attrs (study_id, system, key, value) VALUES (:sid, :sys, :key, :value) "
                    "ON CONFLICT (study_id, system, key) DO UPDATE SET value = excluded.value"
                ),
                {"sid": study_id, "sys": system, "key": key, "value": _dumps(value)},
            )
        )

    # -- trials ------------------------------------------------------------------
    def create_trial(self, study_id: int, *, template: FrozenTrial | None = None,
                     system_attrs: Mapping[str, Any] | None = None) -> FrozenTrial:
        extra = dict(system_attrs or {}) if template is None else {}

        def fn(conn: sa.Connection) -> FrozenTrial:
            self._lock_study(conn, study_id)
            now = _clock.now()
            if template is None:
                row = conn.execute(
                    _text(
                        "SELECT trial_id FROM hd_trials WHERE study_id = :sid AND state = :waiting "
                        "ORDER BY number LIMIT 1"
                    ),
                    {"sid": study_id, "waiting": _WAITING},
                ).first()
                if row is not None:  # an enqueued trial runs before any sampled one
                    conn.execute(
                        _text(
                            "UPDATE hd_trials SET state = :running, datetime_start = :now, heartbeat = :now "
                            "WHERE trial_id = :tid"
                        ),
                        {"running": _RUNNING, "now": now, "tid": row[0]},
                    )
                    for key, value in extra.items():
                        self._upsert_attr(conn, row[0], key, value, True)
                    return self._load_trials(conn, "trial_id = :tid", {"tid": row[0]})[0]
            number = conn.execute(
                _text("SELECT COALESCE(MAX(number), -1) + 1 FROM hd_trials WHERE study_id = :sid"), {"sid": study_id}
            ).scalar_one()
            state = TrialState.RUNNING if template is None else template.state
            finished = state.is_finished()
            seq = None
            if finished:
                seq = conn.execute(
                    _text("UPDATE hd_studies SET seq = seq + 1 WHERE study_id = :sid RETURNING seq"), {"sid": study_id}
                ).scalar_one()
            start = now if template is None else _ts(template.datetime_start)
            tid = conn.execute(
                _text(
                    "INSERT INTO hd_trials (study_id, number, state, values_json, datetime_start, "
                    "datetime_complete, heartbeat, finish_seq) "
                    "VALUES (:sid, :number, :state, :values, :start, :complete, :hb, :seq) RETURNING trial_id"
                ),
                {
                    "sid": study_id,
                    "number": number,
                    "state": int(state),
                    "values": None if template is None or template.values is None else _dumps(list(template.values)),
                    "start": start,
                    "complete": None if template is None else _ts(template.datetime_complete),
                    "hb": now if state == TrialState.RUNNING else None,
                    "seq": seq,
                },
            ).scalar_one()
            if template is None:
                for key, value in extra.items():
                    self._upsert_attr(conn, tid, key, value, True)
                return FrozenTrial(number=number, state=state, datetime_start=_dt(start), trial_id=tid,
                                   system_attrs=extra)
            self._insert_params(
                conn,
                study_id,
                tid,
                {k: (d.to_internal(template.params[k]), d) for k, d in template.distributions.items()},
            )
            for step, value in template.intermediate_values.items():
                self._insert_report(conn, tid, step, value)
            for attrs, system in ((template.user_attrs, False), (template.system_attrs, True)):
                for key, value in attrs.items():
                    self._upsert_attr(conn, tid, key, value, system)
            return self._load_trials(conn, "trial_id = :tid", {"tid": tid})[0]

        try:
            return self.db.write(fn)
        except IntegrityError as exc:
            if "hd_studies" in str(exc.orig) or "foreign key" in str(exc.orig).lower():
                raise StudyNotFound(f"no study with id {study_id}") from None
            raise

    def _insert_params(
        self, conn: sa.Connection, sid: int, tid: int, params: Mapping[str, tuple[float, Distribution]]
    ) -> None:
        if params:
            conn.execute(
                _text(
                    "INSERT INTO hd_trial_params (trial_id, name, value, distribution, study_id) "
                    "VALUES (:tid, :name, :value, :dist, :sid)"
                ),
                [
                    {"tid": tid, "name": k, "value": float(v), "dist": json.dumps(d.to_dict()), "sid": sid}
                    for k, (v, d) in params.items()
                ],
            )

    def _insert_report(self, conn: sa.Connection, tid: int, step: int, value: Any) -> None:
        conn.execute(
            _text("INSERT INTO hd_trial_intermediate (trial_id, step, value) VALUES (:tid, :step, :value)"),
            {"tid": tid, "step": int(step), "value": _dumps(list(value) if isinstance(value, tuple) else value)},
        )

    def _upsert_attr(self, conn: sa.Connection, tid: int, key: str, value: Any, system: bool) -> None:
        conn.execute(
            _text(
                "INSERT INTO hd_trial_attrs (trial_id, system, key, value) VALUES (:tid, :sys, :key, :value) "
                "ON CONFLICT (trial_id, system, key) DO UPDATE SET value = excluded.value"
            ),
            {"tid": tid, "sys": system, "key": key, "value": _dumps(value)},
        )

    def _guarded_write(
        self, trial_id: int, insert: str, select: str, args: dict[str, Any],
        more: tuple[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        """INSERT one row only while the trial is RUNNING: one statement, the check included
        (then `more` rows, if any, in the same transaction)."""
        sql = (
            f"{insert} SELECT {select} WHERE EXISTS "
            "(SELECT 1 FROM hd_trials WHERE trial_id = :tid AND state = :running)"
            + (" ON CONFLICT (trial_id, system, key) DO UPDATE SET value = excluded.value"
               if insert.startswith("INSERT INTO hd_trial_attrs") else "")
        )
        args = {**args, "tid": trial_id, "running": _RUNNING}
        if self.db.is_sqlite:  # the hot path: the driver's own cursor, same SQL and named parameters
            def raw(cur: Any) -> int:
                cur.execute(sql, args)
                done = int(cur.rowcount)
                if done and more:
                    cur.executemany(more[0], more[1])
                return done

            done = self.db.write_sqlite_raw(raw)
        else:
            def fn(conn: sa.Connection) -> int:
                n = conn.execute(_text(sql), args).rowcount
                if n and more:
                    conn.execute(_text(more[0]), more[1])
                return int(n)

            done = self.db.write(fn)
        if done == 0:
            self.db.read(lambda conn: self._writable_trial(conn, trial_id))  # TrialNotFound / TrialFinishedError
            raise TrialFinishedError(f"trial id {trial_id} is not running")

    def set_params(self, trial_id: int, params: Mapping[str, tuple[float, Distribution]]) -> None:
        items = [(k, float(v), json.dumps(d.to_dict())) for k, (v, d) in params.items()]
        if not items:
            return

        (name, value, dist), rest = items[0], items[1:]
        study = "(SELECT study_id FROM hd_trials WHERE trial_id = :tid)"  # copied for storage.query's index
        more = None
        if rest:  # the first, guarded insert already holds the write lock on a running trial
            more = (
                ("INSERT INTO hd_trial_params (trial_id, name, value, distribution, study_id) "
                 f"VALUES (:tid, :name, :value, :dist, {study})"),
                [{"tid": trial_id, "name": n, "value": v, "dist": d} for n, v, d in rest],
            )
        self._guarded_write(trial_id, "INSERT INTO hd_trial_params (trial_id, name, value, distribution, study_id)",
                            f":tid, :name, :value, :dist, {study}", {"name": name, "value": value, "dist": dist},
                            more)

    def report(self, trial_id: int, step: int, value: Any) -> None:
        text = _dumps(list(value) if isinstance(value, tuple) else value)
        self._guarded_write(trial_id, "INSERT INTO hd_trial_intermediate (trial_id, step, value)",
                            ":tid, :step, :value", {"step": int(step), "value": text})

    def set_trial_attr(self, trial_id: int, key: str, value: Any, *, system: bool = False) -> None:
        text = _dumps(value)  # fail on unserialisable values before touching the database

        self._guarded_write(trial_id, "INSERT INTO hd_trial_attrs (trial_id, system, key, value)",
                            ":tid, :sys, :key, :value", {"sys": system, "key": key, "value": text})

    def finish_trial(self, trial_id: int, state: TrialState, values: Sequence[float] | None) -> datetime:
        now = time.time()
        vjson = None if values is None else _dumps([float(v) for v in values])

        def fn(conn: sa.Connection) -> None:
            # Bumping the study's cursor locks its row first (PostgreSQL), so cursors
            # are handed out in commit order and `poll` never skips a finished trial.
            seq = conn.execute(
                _text(
                    "UPDATE hd_studies SET seq = seq + 1 "
                    "WHERE study_id = (SELECT study_id FROM hd_trials WHERE trial_id = :tid) RETURNING seq"
                ),
                {"tid": trial_id},
            ).scalar()
            if seq is None:
                raise TrialNotFound(f"no trial with id {trial_id}")
            done = conn.execute(
                _text(
                    "UPDATE hd_trials SET state = :state, values_json = :values, datetime_complete = :now, "
                    "finish_seq = :seq WHERE trial_id = :tid AND state IN (:running, :waiting)"
                ),
                {"state": int(state), "values": vjson, "now": now, "seq": seq, "tid": trial_id,
                 "running": _RUNNING, "waiting": _WAITING},
            )
            if done.rowcount == 0:
                self._writable_trial(conn, trial_id)  # raises TrialFinishedError with the details
                raise TrialFinishedError(f"trial id {trial_id} is already finished")

        self.db.write(fn)
        return datetime.fromtimestamp(now, tz=timezone.utc)

    def heartbeat(self, trial_id: int) -> None:
        self.db.write(
            lambda conn: conn.execute(
                _text("UPDATE hd_trials SET heartbeat = :now WHERE trial_id = :tid AND state = :running"),
                {"now": _clock.now(), "tid": trial_id, "running": _RUNNING},
            ),
            patient=False,
        )

    def fail_stale_trials(self, study_id: int, cutoff: float, reason: str) -> list[FrozenTrial]:
        def fn(conn: sa.Connection) -> list[FrozenTrial]:
            self._lock_study(conn, study_id)  # one reaper at a time per study
            ids = [
                r[0]
                for r in conn.execute(
                    _text(
                        "SELECT trial_id FROM hd_trials WHERE study_id = :sid AND state = :running "
                        "AND heartbeat < :cutoff ORDER BY number"
                    ),
                    {"sid": study_id, "running": _RUNNING, "cutoff": cutoff},
                )
            ]
            now = time.time()
            for tid in ids:
                seq = conn.execute(
                    _text("UPDATE hd_studies SET seq = seq + 1 WHERE study_id = :sid RETURNING seq"), {"sid": study_id}
                ).scalar_one()
                conn.execute(
                    _text(
                        "UPDATE hd_trials SET state = :fail, datetime_complete = :now, finish_seq = :seq "
                        "WHERE trial_id = :tid"
                    ),
                    {"fail": int(TrialState.FAIL), "now": now, "seq": seq, "tid": tid},
                )
                self._upsert_attr(conn, tid, FAIL_REASON, reason, True)
            if not ids:
                return []
            names = {f"t{i}": tid for i, tid in enumerate(ids)}
            return self._load_trials(conn, f"trial_id IN ({', '.join(':' + n for n in names)})", names)

        return self.db.write(fn)

    def get_trial(self, trial_id: int) -> FrozenTrial:
        found = self.db.read(lambda conn: self._load_trials(conn, "trial_id = :tid", {"tid": trial_id}))
        if not found:
            raise TrialNotFound(f"no trial with id {trial_id}")
        return found[0]

    def get_trials(self, study_id: int, *, states: Sequence[TrialState] | None = None) -> list[FrozenTrial]:
        if states is None:
            where, args = "study_id = :sid", {"sid": study_id}
        else:
            names = {f"s{i}": int(s) for i, s in enumerate(states)}
            where = f"study_id = :sid AND state IN ({', '.join(':' + n for n in names) or 'NULL'})"
            args = {"sid": study_id, **names}
        return self.db.read(lambda conn: self._load_trials(conn, where, args))

    def poll(self, study_id: int, since: int) -> Changes:
        def fn(conn: sa.Connection) -> Changes:
            # Cursor first: anything finished after this read is fetched now or next time.
            cursor = conn.execute(
                _text("SELECT seq FROM hd_studies WHERE study_id = :sid"), {"sid": study_id}
            ).scalar()
            if cursor is None:
                raise StudyNotFound(f"no study with id {study_id}")
            where = (
                "study_id = :sid AND (finish_seq > :since OR state IN (:running, :waiting))"
            )
            trials = self._load_trials(
                conn, where, {"sid": study_id, "since": since, "running": _RUNNING, "waiting": _WAITING}
            )
            return Changes(trials, int(cursor))

        return self.db.read(fn)


