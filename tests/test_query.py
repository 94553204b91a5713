"""hyperdial.storage.query over memory, SQLite and PostgreSQL: the same pages, counts and loads everywhere.

The study below has ties in every sort key, a conditional parameter, a categorical one with mixed
choice types, a parameter whose space grew (two distributions), every trial state and a second study
with the same parameter names, so SQL that leaks across studies or mis-sorts a categorical shows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from hyperdial.exceptions import InvalidParameterError, StudyNotFound
from hyperdial.space import Categorical, Float, Int, choice_key
from hyperdial.storage import Storage
from hyperdial.storage.query import (
    StudyOverview,
    TrialPage,
    matches,
    order_trials,
    page_trials,
    parse_filters,
    parse_order,
    plot_trials,
    study_overview,
)
from hyperdial.trial import FrozenTrial, TrialState

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
STATES = [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED, TrialState.COMPLETE, TrialState.FAIL,
          TrialState.COMPLETE, TrialState.RUNNING, TrialState.COMPLETE, TrialState.WAITING]
OPT = Categorical(["sgd", "adam", None, True, 1, 2.5])
N = Int(1, 4)
N_WIDE = Int(1, 8)  # the space grew: later trials sample n from a wider range


def _trial(i: int) -> FrozenTrial:
    state = STATES[i % len(STATES)]
    opt = OPT.choices[i % len(OPT.choices)]
    n_dist = N if i < 20 else N_WIDE
    params: dict[str, Any] = {"x": float((i * 7) % 11), "n": 1 + (i * 5) % (4 if i < 20 else 8), "opt": opt}
    dists: dict[str, Any] = {"x": Float(0, 10), "n": n_dist, "opt": OPT}
    if opt == "sgd":  # conditional: only the sgd branch has a momentum
        params["momentum"] = round(0.1 * (i % 7), 1)
        dists["momentum"] = Float(0, 1)
    if state == TrialState.WAITING:
        params, dists = {}, {}
    values = None
    if state == TrialState.COMPLETE:
        values = (float(i % 5),)  # ties
    elif state == TrialState.PRUNED and i % 2:
        values = (2.0,)
    start = None if state == TrialState.WAITING else T0 + timedelta(seconds=10 * (i // 3))  # ties
    complete = None if not state.is_finished() else start + timedelta(seconds=1 + i % 4)  # type: ignore[operator]
    return FrozenTrial(number=-1, state=state, values=values, params=params, distributions=dists,
                       intermediate_values={0: float(i), 1: float(i) / 2} if state != TrialState.WAITING else {},
                       user_attrs={"i": i}, system_attrs={"worker": f"w{i % 3}"},
                       datetime_start=start, datetime_complete=complete)


def _build(storage: Storage, n: int = 45) -> int:
    other = storage.create_study("other", ["maximize"])
    for i in range(6):  # same names, other distributions and values: must never leak into "main"
        storage.create_trial(other, template=FrozenTrial(
            number=-1, state=TrialState.COMPLETE, values=(100.0 + i,),
            params={"x": 99.0, "opt": "zzz", "n": 50}, distributions={
                "x": Float(0, 100), "opt": Categorical(["zzz", "adam"]), "n": Int(0, 60)},
            datetime_start=T0, datetime_complete=T0 + timedelta(seconds=1000)))
    sid = storage.create_study("main", ["minimize"])
    for i in range(n):
        storage.create_trial(sid, template=_trial(i))
    return sid


@pytest.fixture(scope="module", params=["memory", "sqlite", "postgres"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The study, built once per storage kind for the read-only tests of this module."""
    from hyperdial.storage import get_storage

    if request.param == "memory":
        storage = get_storage(None)
    elif request.param == "sqlite":
        storage = get_storage(f"sqlite:///{tmp_path_factory.mktemp('query')}/q.db")
    else:
        storage = get_storage(_new_pg_database(request.getfixturevalue("pg_server")))
    sid = _build(storage)
    yield storage, sid, storage.get_trials(sid)
    getattr(storage, "close", lambda: None)()


def _new_pg_database(server: str) -> str:
    import uuid

    import sqlalchemy as sa

    name = f"hd_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


ORDERS = ["number", "value", "value:0", "duration", "datetime_start", "state", "param:x", "param:n",
          "param:opt", "param:momentum", "param:absent"]
FILTERS: list[dict[str, Any] | None] = [
    None, {"x": (2.0, 6.0)}, {"x": (None, 3.0)}, {"n": [2, 3, 7]}, {"opt": ["adam", None, True]},
    {"opt": [1]}, {"momentum": (0.0, 1.0)}, {"opt": ["sgd"], "momentum": (0.2, None)}, {"opt": (0, 10)},
    {"x": [99.0]}, {"opt": []}, {"absent": (0, 1)},
]


def _numbers(page: TrialPage) -> list[int]:
    return [t.number for t in page.trials]


def _reference(trials: list[FrozenTrial], order_by: str, descending: bool, filters: Any,
               states: Any = None) -> list[int]:
    kept = [t for t in trials if matches(t, parse_filters(filters)) and (states is None or t.state in states)]
    return [t.number for t in order_trials(kept, parse_order(order_by, 1), descending)]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("order_by", ORDERS)
def test_every_order_matches_the_reference(built: Any, order_by: str, descending: bool) -> None:
    storage, sid, trials = built
    want = _reference(trials, order_by, descending, None)
    got: list[int] = []
    for offset in range(0, 45, 20):  # pages tile the whole order
        page = page_trials(storage, sid, order_by=order_by, descending=descending, offset=offset, limit=20)
        assert page.total == 45
        got += _numbers(page)
    assert got == want


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_every_filter_matches_the_reference(built: Any, filters: Any) -> None:
    storage, sid, trials = built
    for order_by in ("number", "param:opt", "value"):
        page = page_trials(storage, sid, order_by=order_by, param_filters=filters, limit=100)
        want = _reference(trials, order_by, False, filters)
        assert _numbers(page) == want and page.total == len(want)


def test_orders_by_hand(built: Any) -> None:
    storage, sid, trials = built
    by_number = {t.number: t for t in trials}
    # value: ties in ascending number, unvalued (RUNNING, WAITING, FAIL, valueless PRUNED) last in both directions
    up = _numbers(page_trials(storage, sid, order_by="value", limit=100))
    down = _numbers(page_trials(storage, sid, order_by="value", descending=True, limit=100))
    valued = [n for n in up if by_number[n].values is not None]
    assert [by_number[n].values[0] for n in valued] == sorted(by_number[n].values[0] for n in valued)  # type: ignore[index]
    for a, b in itertools.pairwise(valued):
        if by_number[a].values == by_number[b].values:
            assert a < b
    assert up[len(valued):] == sorted(up[len(valued):]) and down[len(valued):] == up[len(valued):]
    assert [by_number[n].values[0] for n in down[:len(valued)]] == sorted(  # type: ignore[index]
        (by_number[n].values[0] for n in valued), reverse=True)  # type: ignore[index]
    # the conditional parameter: only the sgd trials have a momentum, the rest follow in number order
    mom = _numbers(page_trials(storage, sid, order_by="param:momentum", limit=100))
    sgd = [t.number for t in trials if "momentum" in t.params]
    assert sorted(mom[:len(sgd)]) == sgd and mom[len(sgd):] == sorted(set(by_number) - set(sgd))
    # categorical: None < bools < numbers < strings, whatever the order of the choices in the space
    opts = [by_number[n].params.get("opt", "-") for n in _numbers(page_trials(storage, sid, order_by="param:opt",
                                                                               limit=100))]
    shown = [o for i, o in enumerate(opts) if i == 0 or choice_key(o) != choice_key(opts[i - 1])]
    assert shown == [None, True, 1, 2.5, "adam", "sgd", "-"]
    # state: by TrialState's value
    states = [by_number[n].state for n in _numbers(page_trials(storage, sid, order_by="state", limit=100))]
    assert states == sorted(states)


def test_filters_by_hand(built: Any) -> None:
    storage, sid, trials = built
    page = page_trials(storage, sid, param_filters={"x": (2.0, 6.0)}, limit=100)
    assert page.total > 0 and all(2.0 <= t.params["x"] <= 6.0 for t in page.trials)
    # a range never matches a trial without the parameter, nor a categorical one
    page = page_trials(storage, sid, param_filters={"momentum": (None, None)}, limit=100)
    assert {t.number for t in page.trials} == {t.number for t in trials if "momentum" in t.params}
    assert page_trials(storage, sid, param_filters={"opt": (None, None)}).total == 0
    # categorical values are told apart by type: 1 is not True
    ones = page_trials(storage, sid, param_filters={"opt": [1]}, limit=100).trials
    assert ones and all(t.params["opt"] == 1 and t.params["opt"] is not True for t in ones)
    # the widened int: a value only the wider range holds
    sevens = page_trials(storage, sid, param_filters={"n": [7]}, limit=100).trials
    assert sevens and all(t.params["n"] == 7 and t.distributions["n"] == N_WIDE for t in sevens)
    # the other study's values never show
    assert page_trials(storage, sid, param_filters={"x": [99.0]}).total == 0
    assert page_trials(storage, sid, param_filters={"opt": ["zzz"]}).total == 0


def test_states_and_paging(built: Any) -> None:
    storage, sid, trials = built
    done = [TrialState.COMPLETE, TrialState.PRUNED]
    page = page_trials(storage, sid, states=done, order_by="duration", descending=True, limit=7, offset=3)
    want = _reference(trials, "duration", True, None, done)
    assert page.total == len(want) and _numbers(page) == want[3:10]
    assert page_trials(storage, sid, states=["running", "WAITING"]).total == sum(
        t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)
    assert page_trials(storage, sid, states=[]).total == 0
    past = page_trials(storage, sid, offset=1000)
    assert past.total == 45 and past.trials == []
    # the page holds whole trials, as get_trials gives them
    full = {t.number: t for t in trials}
    for t in page_trials(storage, sid, order_by="param:x", limit=45).trials:
        assert t == full[t.number]


def test_overview(built: Any) -> None:
    storage, sid, trials = built
    o = study_overview(storage, sid)
    assert isinstance(o, StudyOverview) and o.name == "main" and o.directions == ("minimize",)
    assert o.n_trials == 45 and sum(o.state_counts.values()) == 45
    assert o.state_counts == {s.name: sum(t.state == s for t in trials) for s in TrialState}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = min(t.values[0] for t in complete)  # type: ignore[index]
    assert o.best_value == best == o.best_values[0]
    assert o.best_trial_number == min(t.number for t in complete if t.values[0] == best)  # type: ignore[index]
    assert o.n_pareto is None
    stamps = [s for t in trials for s in (t.datetime_start, t.datetime_complete) if s is not None]
    assert o.last_activity == max(stamps)
    assert list(o.distributions) == ["momentum", "n", "opt", "x"]  # all first seen in trial 0: by name
    assert o.distributions["n"] == (N, N_WIDE) and o.distributions["opt"] == (OPT,)


def test_overview_multi_objective(make_storage: Callable[[], Storage]) -> None:
    storage = make_storage()
    sid = storage.create_study("mo", ["minimize", "maximize"])
    points = [(1.0, 1.0), (2.0, 3.0), (3.0, 3.0), (2.0, 2.0), (0.5, 0.5), (2.0, 3.0)]
    for v in points:
        storage.create_trial(sid, template=FrozenTrial(number=-1, state=TrialState.COMPLETE, values=v,
                                                       datetime_start=T0, datetime_complete=T0))
    storage.create_trial(sid, template=FrozenTrial(number=-1, state=TrialState.FAIL))
    o = study_overview(storage, sid)
    # front (minimise 0, maximise 1): (0.5, 0.5), (1, 1), (2, 3) twice -- (3, 3) and (2, 2) are dominated
    assert o.n_pareto == 4 and o.best_values == (0.5, 3.0) and o.best_value is None
    assert o.best_trial_number is None and o.distributions == {}
    assert _numbers(page_trials(storage, sid, order_by="value:1", descending=True, limit=3)) == [1, 2, 5]
    with pytest.raises(InvalidParameterError, match="value:2"):
        page_trials(storage, sid, order_by="value:2")


def test_empty_study(make_storage: Callable[[], Storage]) -> None:
    storage = make_storage()
    sid = storage.create_study("empty", ["minimize"])
    o = study_overview(storage, sid)
    assert o.n_trials == 0 and o.best_values == (None,) and o.last_activity is None and o.distributions == {}
    assert page_trials(storage, sid, order_by="param:x") == TrialPage(total=0, trials=[])
    assert plot_trials(storage, sid) == []


def test_plot_trials_is_light(built: Any) -> None:
    storage, sid, trials = built
    light = plot_trials(storage, sid)
    assert [t.number for t in light] == [t.number for t in trials]
    for t, full in zip(light, trials):
        assert (t.params, t.values, t.state, t.datetime_start, t.datetime_complete) == (
            full.params, full.values, full.state, full.datetime_start, full.datetime_complete)
        assert t.intermediate_values == {} and t.user_attrs == {} and t.system_attrs == {}
    heavy = plot_trials(storage, sid, states=["complete"], intermediate_values=True, attrs=True)
    assert heavy == [t for t in trials if t.state == TrialState.COMPLETE]
    few = plot_trials(storage, sid, max_trials=5)
    assert [t.number for t in few] == [0, 11, 22, 33, 44]


def test_missing_study(make_storage: Callable[[], Storage]) -> None:
    storage = make_storage()
    for call in (lambda: page_trials(storage, 12345), lambda: study_overview(storage, 12345),
                 lambda: plot_trials(storage, 12345)):
        with pytest.raises(StudyNotFound):
            call()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"order_by": "loss"}, "`order_by` must be 'number'"),
    ({"order_by": "value:x"}, "`order_by` must name an objective"),
    ({"order_by": "param:"}, "`order_by` must be"),
    ({"order_by": 3}, "`order_by` must be"),
    ({"offset": -1}, "`offset` must be an int >= 0"),
    ({"limit": 0}, "`limit` must be an int in \\[1, 10000\\]"),
    ({"limit": 1.5}, "`limit` must be an int"),
    ({"descending": "yes"}, "`descending` must be a bool"),
    ({"states": "COMPLETE"}, "`states` must be a list"),
    ({"states": ["DONE"]}, "`states` must hold TrialState members"),
    ({"param_filters": {"x": (3, 1)}}, "`param_filters` must have low <= high for 'x'"),
    ({"param_filters": {"x": (0, 1, 2)}}, "`param_filters` must give a range as a \\(low, high\\) tuple for 'x'"),
    ({"param_filters": {"x": ("a", 1)}}, "`param_filters` must bound a range with numbers or None for 'x'"),
    ({"param_filters": {"x": (math.nan, 1)}}, "`param_filters` must bound a range"),
    ({"param_filters": {"x": 0.5}}, "`param_filters` must give a \\(low, high\\) tuple or a list"),
    ({"param_filters": {"": [1]}}, "`param_filters` must have parameter names"),
    ({"param_filters": [("x", [1])]}, "`param_filters` must be a mapping"),
])
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    from hyperdial.storage import InMemoryStorage

    storage = InMemoryStorage()
    sid = storage.create_study("s", ["minimize"])
    with pytest.raises(InvalidParameterError, match=message):
        page_trials(storage, sid, **kwargs)


def test_bad_storage_and_ids() -> None:
    from hyperdial.storage import InMemoryStorage

    with pytest.raises(InvalidParameterError, match="`storage` must be a Storage"):
        page_trials("sqlite:///x.db", 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`study_id` must be an int"):
        study_overview(InMemoryStorage(), "1")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`max_trials` must be an int >= 1"):
        plot_trials(InMemoryStorage(), 1, max_trials=0)


def _plans(storage: Any, call: Callable[[], Any]) -> list[tuple[str, str]]:
    """(statement, its SQLite query plan) for each SELECT `call` runs."""
    import sqlalchemy as sa

    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    engine = storage.db.read_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as conn:
        return [(stmt, " | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + stmt, params)))
                for stmt, params in seen]


@pytest.mark.parametrize("order_by", ["value", "duration", "datetime_start", "param:x", "param:opt", "number"])
@pytest.mark.parametrize("descending", [False, True])
def test_sqlite_pages_walk_indexes(tmp_path: Any, order_by: str, descending: bool) -> None:
    """No page query sorts or scans a whole study: each walks an index in order and stops after the page
    (what keeps a 100,000-trial page in milliseconds; benchmarks/dashboard_scale.py has the numbers)."""
    from hyperdial.storage import get_storage

    storage = get_storage(f"sqlite:///{tmp_path}/plan.db")
    sid = _build(storage)
    plans = _plans(storage, lambda: page_trials(storage, sid, order_by=order_by, descending=descending,
                                                param_filters={"x": (1.0, 9.0)}))
    ordered = [(s, p) for s, p in plans if "ORDER BY" in s and "LIMIT" in s]
    assert ordered
    for stmt, plan in ordered:
        assert "TEMP B-TREE FOR ORDER BY" not in plan, (stmt, plan)
        assert "SCAN hd_trials" not in plan and "SCAN hd_trial_params" not in plan, (stmt, plan)
    for stmt, plan in plans:
        assert "SCAN hd_trial_params" not in plan and "SCAN hd_trial_intermediate" not in plan, (stmt, plan)


def _bulk_study(storage: Any, n: int) -> int:
    """n trials (3 parameters, 5 intermediate values each) written with one executemany per table:
    the storage's per-trial API would take minutes at this size."""
    import json

    import sqlalchemy as sa

    from hyperdial.storage.sql import schema

    sid = storage.create_study("big", ["minimize"])
    dists = {"x": Float(-5, 5), "lr": Float(1e-5, 1e-1, log=True), "opt": Categorical(["adam", "sgd", "rmsprop"])}
    texts = {k: json.dumps(d.to_dict()) for k, d in dists.items()}
    trials, params, inter = [], [], []
    for i in range(n):
        tid = 10 + i
        value = ((i * 7919) % 1000) / 100.0
        state = int(TrialState.COMPLETE if i % 10 else TrialState.PRUNED)
        trials.append({"trial_id": tid, "study_id": sid, "number": i, "state": state,
                       "values_json": json.dumps([value]) if i % 10 else None,
                       "datetime_start": 1e9 + i, "datetime_complete": 1e9 + i + (i % 13), "finish_seq": i + 1})
        for name, internal in (("x", (i % 101) / 10 - 5), ("lr", 1e-5 * (1 + i % 97)), ("opt", float(i % 3))):
            params.append({"trial_id": tid, "study_id": sid, "name": name, "value": internal, "distribution": texts[name]})
        inter += [{"trial_id": tid, "step": s, "value": json.dumps(value + s)} for s in range(5)]

    def write(conn: Any) -> None:
        for table, rows in ((schema.trials, trials), (schema.trial_params, params), (schema.trial_intermediate, inter)):
            conn.execute(sa.insert(table), rows)

    storage.db.write(write)
    return int(sid)


@pytest.mark.slow
def test_20000_trial_pages_stay_fast(tmp_path: Any) -> None:
    """A generous bound (the benchmark has the real numbers): every sort and filter of a 20,000-trial
    SQLite study pages in under 2 s, and its overview in under 5 s, on a loaded CI machine."""
    import time

    from hyperdial.storage import get_storage

    storage = get_storage(f"sqlite:///{tmp_path}/big.db")
    sid = _bulk_study(storage, 20_000)
    start = time.perf_counter()
    overview = study_overview(storage, sid)
    assert time.perf_counter() - start < 5.0
    assert overview.n_trials == 20_000 and overview.state_counts["PRUNED"] == 2_000
    for order_by in ("number", "value", "duration", "datetime_start", "state", "param:x", "param:opt"):
        for kwargs in ({}, {"param_filters": {"x": (0, 1), "opt": ["sgd"]}, "states": ["COMPLETE"]},
                       {"offset": 15_000}):
            start = time.perf_counter()
            page = page_trials(storage, sid, order_by=order_by, descending=True, **kwargs)  # type: ignore[arg-type]
            assert time.perf_counter() - start < 2.0, (order_by, kwargs)
            assert len(page.trials) == 50 and page.total >= 50
