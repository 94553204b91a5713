"""`hyperdial.storage.query` in SQL, for `SQLStorage` (SQLite and PostgreSQL, SQLAlchemy Core).

Counting, filtering, sorting and paging happen in the database; only the trials of the page are
loaded. The Python functions in `hyperdial.storage.query` define the results; these match them
(the tests compare the two on every storage).

Objective values live in a JSON text column (`values_json`); sorting by one extracts it in SQL.
Python's JSON writes NaN and infinities as bare words, which neither SQLite's nor PostgreSQL's JSON
reader accepts, so a row whose text is not plain JSON numbers counts as missing, as the Python
rules say (values that include a non-finite number count as missing).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hyperdial.exceptions import StudyNotFound
from hyperdial.space import Categorical, Distribution, choice_key
from hyperdial.storage import query as q
from hyperdial.storage.sql import schema
from hyperdial.storage.sql.storage import SQLStorage, _dt
from hyperdial.trial import FrozenTrial, TrialState

T, P = schema.trials, schema.trial_params
_CATEGORICAL = '{"type": "categorical"%'  # how json.dumps(Categorical.to_dict()) begins
_STATES = {int(s): s for s in TrialState}
_CHUNK = 500  # ids per IN list (SQLite's variable limit is 999 on old builds)


def directions(storage: SQLStorage, study_id: int) -> tuple[str, ...]:
    row = storage.db.read(lambda conn: conn.execute(
        sa.select(schema.studies.c.directions).where(schema.studies.c.study_id == study_id)).first())
    if row is None:
        raise StudyNotFound(f"no study with id {study_id}")
    return tuple(json.loads(row[0]))


def objective(dialect: str, index: int) -> sa.ColumnElement[Any]:
    """Objective `index` of `values_json` as a number, NULL when missing or not plain JSON numbers
    (the same SQL as the expression index on objective 0, so the database uses that index)."""
    return sa.literal_column(schema.objective_sql(dialect, index), sa.Float(precision=53))


def _where(study_id: int, states: Sequence[TrialState] | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [T.c.study_id == study_id]
    if states is not None:
        conds.append(T.c.state.in_([int(s) for s in states]))
    return conds


def _distributions(conn: sa.Connection, study_id: int, name: str) -> list[tuple[str, Distribution]]:
    """The distinct distributions (as stored, and parsed) of parameter `name` in the study."""
    from hyperdial.space import distribution_from_dict

    rows = conn.execute(_DISTINCT_DISTRIBUTIONS, {"sid": study_id, "name": name}).all()
    return [(r[0], distribution_from_dict(json.loads(r[0]))) for r in rows if r[0] is not None]


# Skip through the (study, name, distribution) index, one probe per distinct distribution, instead
# of reading every trial's row (SQLite plans no such skip scan for DISTINCT by itself).
_DISTINCT_DISTRIBUTIONS = sa.text(
    "WITH RECURSIVE d(x) AS ("
    "SELECT MIN(distribution) FROM hd_trial_params WHERE study_id = :sid AND name = :name "
    "UNION ALL SELECT (SELECT MIN(distribution) FROM hd_trial_params "
    "WHERE study_id = :sid AND name = :name AND distribution > d.x) FROM d WHERE d.x IS NOT NULL"
    ") SELECT x FROM d"
)


def _param_rows(conn: sa.Connection, study_id: int, name: str, spec: q.Filter) -> sa.ColumnElement[bool]:
    """The condition on hd_trial_params rows (of `name` in the study) for one filter."""
    dists = _distributions(conn, study_id, name)
    categorical = [(text, d) for text, d in dists if isinstance(d, Categorical)]
    # Read the distribution (outside the value index) only where the name has several spaces.
    numeric: sa.ColumnElement[bool] = sa.not_(P.c.distribution.like(_CATEGORICAL))
    if not categorical:
        numeric = sa.true()
    elif len(categorical) == len(dists):
        numeric = sa.false()
    if spec[0] == "range":
        if not categorical:
            cond: list[sa.ColumnElement[bool]] = []
        elif len(categorical) == len(dists):
            return sa.false()
        else:
            cond = [numeric]
        low, high = spec[1], spec[2]
        if low is not None:
            cond.append(P.c.value >= float(low))
        if high is not None:
            cond.append(P.c.value <= float(high))
        return sa.and_(sa.true(), *cond)
    keys = {choice_key(v) for v in spec[1]}
    alternatives = []
    for text, dist in categorical:
        idx = [float(i) for i, c in enumerate(dist.choices) if choice_key(c) in keys]
        if idx:
            in_space = P.c.value.in_(idx)
            alternatives.append(in_space if len(dists) == 1 else sa.and_(P.c.distribution == text, in_space))
    numbers = sorted({float(v) for v in spec[1] if q._is_number(v)})
    if numbers and len(categorical) < len(dists):
        alternatives.append(sa.and_(numeric, P.c.value.in_(numbers)))
    return sa.or_(*alternatives) if alternatives else sa.false()


def _filtered_ids(conn: sa.Connection, study_id: int, name: str, spec: q.Filter) -> sa.Select[Any]:
    """The ids of the study's trials passing one parameter filter, from the (study, name, value) index."""
    return sa.select(P.c.trial_id).where(P.c.study_id == study_id, P.c.name == name,
                                         _param_rows(conn, study_id, name, spec))


def _count(conn: sa.Connection, conds: list[Any], filtered: list[sa.Select[Any]]) -> int:
    """How many trials match: driven from the first filter's ids when there is one (an index range,
    usually far fewer rows than the study), else from the study's index."""
    if filtered:
        first = filtered[0].subquery()
        stmt = (sa.select(sa.func.count()).select_from(first.join(T, T.c.trial_id == first.c.trial_id))
                .where(*conds, *(T.c.trial_id.in_(f) for f in filtered[1:])))
    else:
        stmt = sa.select(sa.func.count()).select_from(T).where(*conds)
    return int(conn.execute(stmt).scalar_one())


def _param_segments(
    conn: sa.Connection, study_id: int, name: str, conds: list[Any], descending: bool
) -> list[sa.Select[Any]]:
    """A page sorted by "param:NAME" as consecutive segments, each one index walk in order, matching
    `q.param_sort_key`: numeric values by value, then each categorical choice by its rank among every
    choice seen (ties by trial id), all reversed when descending; trials without the parameter follow."""
    dists = _distributions(conn, study_id, name)
    categorical = [(text, d) for text, d in dists if isinstance(d, Categorical)]
    rows = (sa.select(P.c.trial_id).select_from(P.join(T, T.c.trial_id == P.c.trial_id))
            .where(P.c.study_id == study_id, P.c.name == name, *conds))
    # Ties by trial_id, not number: within a study they grow together (a trial's number and id are
    # both handed out under the study's write lock), and (study, name, value, trial_id) is the
    # index's order, so the database stops after the page.
    segments: list[sa.Select[Any]] = []
    if len(categorical) < len(dists):
        numeric = rows if not categorical else rows.where(sa.not_(P.c.distribution.like(_CATEGORICAL)))
        segments.append(numeric.order_by(P.c.value.desc() if descending else P.c.value.asc(), P.c.trial_id))
    by_rank: dict[tuple[int, Any], list[tuple[str, int]]] = {}
    for text, d in categorical:
        for i, c in enumerate(d.choices):
            by_rank.setdefault(q._type_rank(c), []).append((text, i))
    ranks = sorted(by_rank, reverse=descending)
    choice_segments = []
    for rank in ranks:
        if len(dists) == 1:
            (_, i), = by_rank[rank]
            cond: sa.ColumnElement[bool] = P.c.value == float(i)
        else:
            cond = sa.or_(*(sa.and_(P.c.distribution == text, P.c.value == float(i)) for text, i in by_rank[rank]))
        choice_segments.append(rows.where(cond).order_by(P.c.trial_id))
    segments = choice_segments + segments if descending else segments + choice_segments
    has_param = sa.exists().where(P.c.trial_id == T.c.trial_id, P.c.name == name)
    segments.append(sa.select(T.c.trial_id).where(*conds, sa.not_(has_param)).order_by(T.c.number))
    return segments


def _ids(conn: sa.Connection, select: sa.Select[Any], offset: int, limit: int) -> list[int]:
    return [r[0] for r in conn.execute(select.offset(offset).limit(limit))]


def _chain_page(conn: sa.Connection, segments: list[sa.Select[Any]], offset: int, limit: int) -> list[int]:
    """The page [offset, offset + limit) of the segments' rows, one after the other. Each segment is
    its own query so that each can walk an index in order (one ORDER BY "key IS NULL, key" or a CASE
    over choices cannot); a segment is counted only when the page starts past its end."""
    ids: list[int] = []
    for select in segments:
        need = limit - len(ids)
        if need == 0:
            break
        got = _ids(conn, select, offset, need)
        ids += got
        if got:
            offset = 0  # the page continues at the start of the next segment
        elif offset:
            offset -= int(conn.execute(sa.select(sa.func.count()).select_from(select.subquery())).scalar_one())
    return ids


def page_trials(
    storage: SQLStorage, study_id: int, states: Sequence[TrialState] | None, order: tuple[str, Any],
    descending: bool, offset: int, limit: int, filters: Mapping[str, q.Filter],
) -> q.TrialPage:
    def fn(conn: sa.Connection) -> q.TrialPage:
        filtered = [_filtered_ids(conn, study_id, name, spec) for name, spec in filters.items()]
        conds = _where(study_id, states) + [T.c.trial_id.in_(f) for f in filtered]
        total = _count(conn, _where(study_id, states), filtered)
        if total <= offset:
            return q.TrialPage(total=total, trials=[])
        kind, arg = order
        if kind in ("number", "state"):  # never NULL
            column = T.c[kind]
            terms = [column.desc() if descending else column.asc()] + ([T.c.number.asc()] if kind != "number" else [])
            ids = _ids(conn, sa.select(T.c.trial_id).where(*conds).order_by(*terms), offset, limit)
        elif kind == "param":
            ids = _chain_page(conn, _param_segments(conn, study_id, arg, conds, descending), offset, limit)
        else:
            key: Any = {"datetime_start": T.c.datetime_start,
                        "duration": sa.literal_column(schema.DURATION_SQL, sa.Float(precision=53))}.get(kind)
            if key is None:
                key = objective(storage.db.dialect, arg)
            present = sa.select(T.c.trial_id).where(*conds, key.is_not(None)).order_by(
                key.desc() if descending else key.asc(), T.c.number.asc())
            missing = sa.select(T.c.trial_id).where(*conds, key.is_(None)).order_by(T.c.number)
            ids = _chain_page(conn, [present, missing], offset, limit)
        loaded = {t.trial_id: t for t in load(storage, conn, ids, intermediate=True, attrs=True)}
        return q.TrialPage(total=total, trials=[loaded[i] for i in ids])

    return storage.db.read(fn)


def load(
    storage: SQLStorage, conn: sa.Connection, where: list[int] | list[sa.ColumnElement[bool]], *,
    intermediate: bool, attrs: bool,
) -> list[FrozenTrial]:
    """Trials by id (a list of ints) or by conditions on hd_trials, in number order; params, values
    and times always, intermediate values and attributes when asked."""
    out: list[FrozenTrial] = []
    if where and isinstance(where[0], int):
        for i in range(0, len(where), _CHUNK):
            chunk = where[i:i + _CHUNK]
            out += _load_chunk(storage, conn, [T.c.trial_id.in_(chunk)], chunk, intermediate, attrs)
    elif where:
        out = _load_chunk(storage, conn, list(where), None, intermediate, attrs)
    out.sort(key=lambda t: t.number)
    return out


def _load_chunk(
    storage: SQLStorage, conn: sa.Connection, conds: list[Any], id_list: list[int] | None, intermediate: bool,
    attrs: bool,
) -> list[FrozenTrial]:
    rows = conn.execute(
        sa.select(T.c.trial_id, T.c.number, T.c.state, T.c.values_json, T.c.datetime_start,
                  T.c.datetime_complete).where(*conds)
    ).all()
    if not rows:
        return []
    # A list of ids goes to each table as it is (a subquery over it made SQLite scan the tables).
    ids: Any = id_list if id_list is not None else sa.select(T.c.trial_id).where(*conds).scalar_subquery()
    params: dict[int, dict[str, Any]] = {}
    dists: dict[int, dict[str, Distribution]] = {}
    for tid, name, value, dtext in conn.execute(
        sa.select(P.c.trial_id, P.c.name, P.c.value, P.c.distribution).where(P.c.trial_id.in_(ids))
    ).all():  # fetchall: row by row iteration costs a third of a 100,000-trial load
        dist = storage._dist(dtext)
        params.setdefault(tid, {})[name] = dist.to_external(value)
        dists.setdefault(tid, {})[name] = dist
    inter: dict[int, dict[int, Any]] = {}
    if intermediate:
        im = schema.trial_intermediate
        for tid, step, vtext in conn.execute(
            sa.select(im.c.trial_id, im.c.step, im.c.value).where(im.c.trial_id.in_(ids))
        ).all():
            v = json.loads(vtext)
            inter.setdefault(tid, {})[step] = tuple(v) if isinstance(v, list) else v
    user: dict[int, dict[str, Any]] = {}
    system: dict[int, dict[str, Any]] = {}
    if attrs:
        ta = schema.trial_attrs
        for tid, is_system, key, vtext in conn.execute(
            sa.select(ta.c.trial_id, ta.c.system, ta.c.key, ta.c.value).where(ta.c.trial_id.in_(ids))
        ).all():
            (system if is_system else user).setdefault(tid, {})[key] = json.loads(vtext)
    return [
        FrozenTrial(
            number=number, state=_STATES[state], values=None if vjson is None else tuple(json.loads(vjson)),
            params=params.get(tid, {}), distributions=dists.get(tid, {}), user_attrs=user.get(tid, {}),
            system_attrs=system.get(tid, {}), intermediate_values=dict(sorted(inter.get(tid, {}).items())),
            datetime_start=_dt(start), datetime_complete=_dt(complete), trial_id=tid,
        )
        for tid, number, state, vjson, start, complete in rows
    ]


def plot_trials(
    storage: SQLStorage, study_id: int, states: Sequence[TrialState] | None, max_trials: int | None,
    intermediate: bool, attrs: bool,
) -> list[FrozenTrial]:
    def fn(conn: sa.Connection) -> list[FrozenTrial]:
        _check_study(conn, study_id)
        conds = _where(study_id, states)
        if max_trials is None:
            return load(storage, conn, conds, intermediate=intermediate, attrs=attrs)
        ids = [r[0] for r in conn.execute(sa.select(T.c.trial_id).where(*conds).order_by(T.c.number))]
        keep = [ids[i] for i in q.subsample_positions(len(ids), max_trials)]
        return load(storage, conn, keep, intermediate=intermediate, attrs=attrs) if keep else []

    return storage.db.read(fn)


def _check_study(conn: sa.Connection, study_id: int) -> tuple[str, tuple[str, ...]]:
    row = conn.execute(
        sa.select(schema.studies.c.name, schema.studies.c.directions).where(schema.studies.c.study_id == study_id)
    ).first()
    if row is None:
        raise StudyNotFound(f"no study with id {study_id}")
    return row[0], tuple(json.loads(row[1]))


def study_overview(storage: SQLStorage, study_id: int) -> q.StudyOverview:
    def fn(conn: sa.Connection) -> q.StudyOverview:
        name, dirs = _check_study(conn, study_id)
        counts = {s.name: 0 for s in TrialState}
        last = None
        for state, count, start, complete in conn.execute(
            sa.select(T.c.state, sa.func.count(), sa.func.max(T.c.datetime_start), sa.func.max(T.c.datetime_complete))
            .where(T.c.study_id == study_id).group_by(T.c.state)
        ):
            counts[TrialState(state).name] = int(count)
            for stamp in (start, complete):
                if stamp is not None and (last is None or stamp > last):
                    last = stamp
        complete_conds = [T.c.study_id == study_id, T.c.state == int(TrialState.COMPLETE)]
        best_number = n_pareto = None
        if len(dirs) == 1:
            key = objective(storage.db.dialect, 0)
            row = conn.execute(
                sa.select(T.c.number, key).where(*complete_conds, key.is_not(None))
                .order_by(key.desc() if dirs[0] == "maximize" else key.asc(), T.c.number.asc()).limit(1)
            ).first()
            best: tuple[float | None, ...] = (None,) if row is None else (float(row[1]),)
            best_number = None if row is None else int(row[0])
        else:
            values = []
            for (vjson,) in conn.execute(sa.select(T.c.values_json).where(*complete_conds)):
                v = None if vjson is None else json.loads(vjson)
                if v is not None and len(v) == len(dirs) and all(math.isfinite(x) for x in v):
                    values.append(v)
            best = tuple(
                ((max if d == "maximize" else min)(v[i] for v in values) if values else None)
                for i, d in enumerate(dirs)
            )
            n_pareto = q.pareto_count(values, dirs)
        # First seen by trial id: within a study ids grow with numbers (see page_trials).
        seen = conn.execute(
            sa.select(P.c.name, P.c.distribution, sa.func.min(P.c.trial_id))
            .where(P.c.study_id == study_id).group_by(P.c.name, P.c.distribution)
        ).all()
        dists = q.group_distributions((n, storage._dist(text), int(first)) for n, text, first in seen)
        return q.StudyOverview(
            study_id=study_id, name=name, directions=dirs, n_trials=sum(counts.values()), state_counts=counts,
            best_values=best, best_trial_number=best_number, n_pareto=n_pareto, last_activity=_dt(last),
            distributions=dists,
        )

    return storage.db.read(fn)
