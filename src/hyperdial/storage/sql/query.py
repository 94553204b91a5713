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
_CHUNK = 500  # ids per IN list (SQLite's variable limit is 999 on old builds)


def directions(storage: SQLStorage, study_id: int) -> tuple[str, ...]:
    row = storage.db.read(lambda conn: conn.execute(
        sa.select(schema.studies.c.directions).where(schema.studies.c.study_id == study_id)).first())
    if row is None:
        raise StudyNotFound(f"no study with id {study_id}")
    return tuple(json.loads(row[0]))


def objective(dialect: str, index: int) -> sa.ColumnElement[Any]:
    """Objective `index` of `values_json` as a number, NULL when missing or not plain JSON numbers."""
    if dialect == "sqlite":
        return sa.case(
            (sa.func.json_valid(T.c.values_json) == 1, sa.func.json_extract(T.c.values_json, f"$[{index}]")),
            else_=sa.null(),
        )
    plain = T.c.values_json.regexp_match(r"^\[[-+0-9.eE, ]*\]$")
    item = sa.cast(T.c.values_json, sa.JSON)[index].as_string()  # ->> index
    return sa.case((plain, sa.cast(item, sa.Float(precision=53))), else_=sa.null())


def _where(study_id: int, states: Sequence[TrialState] | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [T.c.study_id == study_id]
    if states is not None:
        conds.append(T.c.state.in_([int(s) for s in states]))
    return conds


def _distributions(conn: sa.Connection, study_id: int, name: str) -> list[tuple[str, Distribution]]:
    """The distinct distributions (as stored, and parsed) of parameter `name` in the study."""
    rows = conn.execute(
        sa.select(P.c.distribution).distinct()
        .where(P.c.name == name, P.c.trial_id.in_(sa.select(T.c.trial_id).where(T.c.study_id == study_id)))
    ).all()
    from hyperdial.space import distribution_from_dict

    return [(r[0], distribution_from_dict(json.loads(r[0]))) for r in rows]


def _filter(conn: sa.Connection, study_id: int, name: str, spec: q.Filter) -> sa.ColumnElement[bool]:
    p = P.alias()
    numeric = sa.not_(p.c.distribution.like(_CATEGORICAL))
    if spec[0] == "range":
        cond: list[sa.ColumnElement[bool]] = [numeric]
        low, high = spec[1], spec[2]
        if low is not None:
            cond.append(p.c.value >= float(low))
        if high is not None:
            cond.append(p.c.value <= float(high))
    else:
        allowed = spec[1]
        keys = {choice_key(v) for v in allowed}
        alternatives = []
        for text, dist in _distributions(conn, study_id, name):
            if isinstance(dist, Categorical):
                idx = [float(i) for i, c in enumerate(dist.choices) if choice_key(c) in keys]
                if idx:
                    alternatives.append(sa.and_(p.c.distribution == text, p.c.value.in_(idx)))
        numbers = sorted({float(v) for v in allowed if q._is_number(v)})
        if numbers:
            alternatives.append(sa.and_(numeric, p.c.value.in_(numbers)))
        if not alternatives:
            return sa.false()
        cond = [sa.or_(*alternatives)]
    return sa.exists().where(p.c.trial_id == T.c.trial_id, p.c.name == name, *cond)


def _param_keys(conn: sa.Connection, study_id: int, name: str, p: Any) -> list[sa.ColumnElement[Any]]:
    """ORDER BY terms for "param:NAME" over the outer-joined alias `p`, matching `q.param_sort_key`:
    numeric values first by value, then categorical choices by their rank among every choice seen."""
    dists = _distributions(conn, study_id, name)
    categorical = [(text, d) for text, d in dists if isinstance(d, Categorical)]
    if not categorical:
        return [p.c.value]
    ranked = sorted({q._type_rank(c) for _, d in categorical for c in d.choices})
    rank = {k: i for i, k in enumerate(ranked)}
    whens = [
        (sa.and_(p.c.distribution == text, p.c.value == float(i)), rank[q._type_rank(c)])
        for text, d in categorical for i, c in enumerate(d.choices)
    ]
    by_rank = sa.case(*whens, else_=p.c.value)
    if len(categorical) == len(dists):
        return [by_rank]
    return [sa.case((p.c.distribution.like(_CATEGORICAL), 1), else_=0), by_rank]


def page_trials(
    storage: SQLStorage, study_id: int, states: Sequence[TrialState] | None, order: tuple[str, Any],
    descending: bool, offset: int, limit: int, filters: Mapping[str, q.Filter],
) -> q.TrialPage:
    def fn(conn: sa.Connection) -> q.TrialPage:
        conds = _where(study_id, states)
        conds += [_filter(conn, study_id, name, spec) for name, spec in filters.items()]
        total = int(conn.execute(sa.select(sa.func.count()).select_from(T).where(*conds)).scalar_one())
        if total <= offset:
            return q.TrialPage(total=total, trials=[])
        kind, arg = order
        source: Any = T
        nullable = True
        if kind in ("number", "state"):
            keys: list[sa.ColumnElement[Any]] = [T.c[kind]]
            nullable = False
        elif kind == "datetime_start":
            keys = [T.c.datetime_start]
        elif kind == "duration":
            keys = [T.c.datetime_complete - T.c.datetime_start]
        elif kind == "value":
            keys = [objective(storage.db.dialect, arg)]
        else:
            p = P.alias("sort_param")
            source = T.outerjoin(p, sa.and_(p.c.trial_id == T.c.trial_id, p.c.name == arg))
            keys = _param_keys(conn, study_id, arg, p)
        terms: list[Any] = [keys[-1].is_(None)] if nullable else []
        terms += [k.desc() if descending else k.asc() for k in keys]
        if kind != "number":
            terms.append(T.c.number.asc())
        ids = [r[0] for r in conn.execute(
            sa.select(T.c.trial_id).select_from(source).where(*conds).order_by(*terms).offset(offset).limit(limit)
        )]
        loaded = {t.trial_id: t for t in load(storage, conn, ids, intermediate=True, attrs=True)}
        return q.TrialPage(total=total, trials=[loaded[i] for i in ids])

    return storage.db.read(fn)


def load(
    storage: SQLStorage, conn: sa.Connection, where: list[int] | list[sa.ColumnElement[bool]], *,
    intermediate: bool, attrs: bool,
) -> list[FrozenTrial]:
    """Trials by id (a list of ints) or by conditions on hd_trials, in number order; params, values
    and times always, intermediate values and attributes when asked."""
    chunks: list[list[Any]]
    if where and isinstance(where[0], int):
        chunks = [[T.c.trial_id.in_(where[i:i + _CHUNK])] for i in range(0, len(where), _CHUNK)]
    else:
        chunks = [list(where)] if where else []
    out: list[FrozenTrial] = []
    for conds in chunks:
        out += _load_chunk(storage, conn, conds, intermediate, attrs)
    out.sort(key=lambda t: t.number)
    return out


def _load_chunk(
    storage: SQLStorage, conn: sa.Connection, conds: list[Any], intermediate: bool, attrs: bool
) -> list[FrozenTrial]:
    rows = conn.execute(
        sa.select(T.c.trial_id, T.c.number, T.c.state, T.c.values_json, T.c.datetime_start,
                  T.c.datetime_complete).where(*conds)
    ).all()
    if not rows:
        return []
    ids = sa.select(T.c.trial_id).where(*conds).scalar_subquery()
    params: dict[int, dict[str, Any]] = {}
    dists: dict[int, dict[str, Distribution]] = {}
    for tid, name, value, dtext in conn.execute(
        sa.select(P.c.trial_id, P.c.name, P.c.value, P.c.distribution).where(P.c.trial_id.in_(ids))
    ):
        dist = storage._dist(dtext)
        params.setdefault(tid, {})[name] = dist.to_external(value)
        dists.setdefault(tid, {})[name] = dist
    inter: dict[int, dict[int, Any]] = {}
    if intermediate:
        im = schema.trial_intermediate
        for tid, step, vtext in conn.execute(
            sa.select(im.c.trial_id, im.c.step, im.c.value).where(im.c.trial_id.in_(ids))
        ):
            v = json.loads(vtext)
            inter.setdefault(tid, {})[step] = tuple(v) if isinstance(v, list) else v
    user: dict[int, dict[str, Any]] = {}
    system: dict[int, dict[str, Any]] = {}
    if attrs:
        ta = schema.trial_attrs
        for tid, is_system, key, vtext in conn.execute(
            sa.select(ta.c.trial_id, ta.c.system, ta.c.key, ta.c.value).where(ta.c.trial_id.in_(ids))
        ):
            (system if is_system else user).setdefault(tid, {})[key] = json.loads(vtext)
    return [
        FrozenTrial(
            number=number, state=TrialState(state), values=None if vjson is None else tuple(json.loads(vjson)),
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
        seen = conn.execute(
            sa.select(P.c.name, P.c.distribution, sa.func.min(T.c.number))
            .select_from(P.join(T, P.c.trial_id == T.c.trial_id))
            .where(T.c.study_id == study_id).group_by(P.c.name, P.c.distribution)
        ).all()
        dists = q.group_distributions((n, storage._dist(text), int(first)) for n, text, first in seen)
        return q.StudyOverview(
            study_id=study_id, name=name, directions=dirs, n_trials=sum(counts.values()), state_counts=counts,
            best_values=best, best_trial_number=best_number, n_pareto=n_pareto, last_activity=_dt(last),
            distributions=dists,
        )

    return storage.db.read(fn)
