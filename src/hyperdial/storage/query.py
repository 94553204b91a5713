"""Queries a dashboard asks of a storage: a page of trials, a study's overview, a light load for plots.

Each works on any `Storage`. `SQLStorage` answers in SQL (`hyperdial.storage.sql.query`: counts,
sorting, filtering and paging in the database, each page an index walk that stops after the page,
then only the page's trials are loaded; the indexes came with schema version 3), so a 100,000-trial
study serves a page in tens of milliseconds (docs/benchmarks.md, "Dashboard at scale"); any other
storage loads its trials and answers in Python, with the same results.

>>> import hyperdial as hd
>>> from hyperdial.storage.query import page_trials, study_overview
>>> study = hd.create_study(study_name="q", storage="sqlite://")
>>> study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2, n_trials=20, show_progress_bar=False)
>>> sid = study.storage.get_study(study.study_name).study_id
>>> page = page_trials(study.storage, sid, order_by="value", limit=3)
>>> page.total, len(page.trials), page.trials[0].number == study.best_trial.number
(20, 3, True)
>>> study_overview(study.storage, sid).state_counts["COMPLETE"]
20

Ordering rules, the same in every storage: a trial without the key (no value yet, a parameter
its branch did not use, no start time) sorts last in both directions, and ties keep ascending
trial numbers. Values that include a non-finite number count as missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hyperdial import _validation as rules
from hyperdial.exceptions import StudyNotFound, invalid
from hyperdial.space import Categorical, Distribution, choice_key
from hyperdial.storage.base import Storage
from hyperdial.trial import FrozenTrial, TrialState

__all__ = ["MAX_LIMIT", "ORDER_KEYS", "StudyOverview", "TrialPage", "page_trials", "plot_trials", "study_overview"]

ORDER_KEYS = ("number", "value", "value:I", "duration", "datetime_start", "state", "param:NAME")
MAX_LIMIT = 10_000

# A parsed filter: ("range", low, high) with None for an open side, or ("values", allowed values).
Filter = tuple[Any, ...]


@dataclass(frozen=True)
class TrialPage:
    """One page of a study's trials: `total` is how many match the filters (all pages together).

    >>> TrialPage(total=0, trials=[])
    TrialPage(total=0, trials=[])
    """

    total: int
    trials: list[FrozenTrial]


@dataclass(frozen=True)
class StudyOverview:
    """What a study's header shows: counts, best values, last activity, the parameters seen.

    - `state_counts`: every state's name, zeros included.
    - `best_values`: per objective, the best COMPLETE value in that objective's direction (None if none).
    - `best_trial_number`: single objective, the trial holding it (the lowest number on a tie).
    - `n_pareto`: several objectives, how many COMPLETE trials are Pareto-optimal (None for one).
    - `last_activity`: the latest start or completion of any trial.
    - `distributions`: each parameter name with every distinct distribution it was sampled
      from, in the order first seen (a space that grew shows its old and new ranges).

    >>> import hyperdial as hd
    >>> study = hd.create_study(directions=["minimize", "maximize"])
    >>> study.optimize(lambda t: (t.suggest_int("a", 0, 3), t.suggest_int("b", 0, 3)), n_trials=8,
    ...                show_progress_bar=False)
    >>> sid = study.storage.get_study(study.study_name).study_id
    >>> o = study_overview(study.storage, sid)
    >>> o.n_trials, o.best_value, o.n_pareto >= 1, list(o.distributions)
    (8, None, True, ['a', 'b'])
    """

    study_id: int
    name: str
    directions: tuple[str, ...]
    n_trials: int
    state_counts: dict[str, int]
    best_values: tuple[float | None, ...]
    best_trial_number: int | None
    n_pareto: int | None
    last_activity: datetime | None
    distributions: dict[str, tuple[Distribution, ...]]

    @property
    def best_value(self) -> float | None:
        """The best value of a single-objective study (None for several objectives or none yet)."""
        return self.best_values[0] if len(self.directions) == 1 else None


# -- argument checks -------------------------------------------------------------------
def _check_storage(storage: Any) -> Storage:
    return rules.check("storage", storage, rules.InstanceOf(Storage, what="a Storage (study.storage)"))


def _check_study_id(study_id: Any) -> int:
    return rules.check("study_id", study_id, rules.Int())


def parse_states(states: Iterable[TrialState | str] | None) -> tuple[TrialState, ...] | None:
    """States as given (TrialState members or their names, any case), checked; None means all.

    >>> parse_states(["complete", TrialState.PRUNED])
    (<TrialState.COMPLETE: 1>, <TrialState.PRUNED: 2>)
    """
    if states is None:
        return None
    if isinstance(states, (str, TrialState)) or not isinstance(states, Iterable):
        raise invalid("states", "must be a list of TrialState members or state names, or None", states)
    out = []
    for s in states:
        if isinstance(s, TrialState):
            out.append(s)
        elif isinstance(s, str) and s.upper() in TrialState.__members__:
            out.append(TrialState[s.upper()])
        else:
            names = ", ".join(TrialState.__members__)
            raise invalid("states", f"must hold TrialState members or the names {names}", s)
    return tuple(dict.fromkeys(out))


def parse_order(order_by: Any, n_objectives: int) -> tuple[str, Any]:
    """("number"|"duration"|"datetime_start"|"state", None), ("value", i) or ("param", name).

    >>> parse_order("value:1", 2), parse_order("param:lr", 1)
    (('value', 1), ('param', 'lr'))
    """
    rule = "must be 'number', 'value', 'value:I', 'duration', 'datetime_start', 'state' or 'param:NAME'"
    if not isinstance(order_by, str):
        raise invalid("order_by", rule, order_by)
    if order_by in ("number", "duration", "datetime_start", "state"):
        return order_by, None
    if order_by == "value":
        return "value", 0
    if order_by.startswith("value:"):
        index = order_by[len("value:"):]
        if not index.isdigit() or int(index) >= n_objectives:
            raise invalid("order_by", f"must name an objective 0..{n_objectives - 1} as 'value:I'", order_by)
        return "value", int(index)
    if order_by.startswith("param:") and len(order_by) > len("param:"):
        return "param", order_by[len("param:"):]
    raise invalid("order_by", rule, order_by)


def parse_filters(param_filters: Mapping[str, Any] | None) -> dict[str, Filter]:
    """Check `param_filters`: name -> (low, high) (a tuple; None leaves a side open) or name -> a
    list (or set) of allowed values.

    >>> parse_filters({"lr": (None, 0.1), "opt": ["adam"]})
    {'lr': ('range', None, 0.1), 'opt': ('values', ('adam',))}
    """
    if param_filters is None:
        return {}
    if not isinstance(param_filters, Mapping):
        raise invalid("param_filters", "must be a mapping of parameter name to (low, high) or a list of values",
                      param_filters)
    out: dict[str, Filter] = {}
    for name, spec in param_filters.items():
        if not isinstance(name, str) or not name:
            raise invalid("param_filters", "must have parameter names (non-empty strings) as keys", name)
        if isinstance(spec, tuple):
            if len(spec) != 2:
                raise invalid("param_filters", "must give a range as a (low, high) tuple", spec, name=name)
            low, high = (rules.check("param_filters", b, rules.Real(), None, name=name,
                                     rule="must bound a range with numbers or None") for b in spec)
            if low is not None and high is not None and low > high:
                raise invalid("param_filters", "must have low <= high", spec, name=name)
            out[name] = ("range", low, high)
        elif isinstance(spec, (list, set, frozenset)):
            out[name] = ("values", tuple(spec))
        else:
            raise invalid("param_filters", "must give a (low, high) tuple or a list of allowed values", spec,
                          name=name)
    return out


def _check_page(offset: Any, limit: Any, descending: Any) -> tuple[int, int, bool]:
    return (
        rules.check("offset", offset, rules.Int(low=0)),
        rules.check("limit", limit, rules.Int(low=1, high=MAX_LIMIT)),
        rules.check("descending", descending, rules.Bool()),
    )


# -- the semantics, in Python (the fallback; the SQL implementation matches it) ---------------
def _type_rank(value: Any) -> tuple[int, Any]:
    """A total order over categorical choices: None, then bools, then numbers, then strings."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (2, value)
    return (3, str(value))


def param_sort_key(value: Any, distribution: Distribution) -> tuple[int, Any]:
    """How a parameter's value sorts: numeric parameters by value; categorical ones after every
    numeric one, ordered by `_type_rank` of the choice."""
    if isinstance(distribution, Categorical):
        return (1, _type_rank(value))
    return (0, float(value))


def _finite_values(t: FrozenTrial) -> tuple[float, ...] | None:
    if t.values is None or not all(math.isfinite(v) for v in t.values):
        return None
    return t.values


def sort_key(t: FrozenTrial, order: tuple[str, Any]) -> Any:
    """The key `order` sorts `t` by, or None when the trial has none (it then sorts last)."""
    kind, arg = order
    if kind == "number":
        return t.number
    if kind == "state":
        return int(t.state)
    if kind == "datetime_start":
        return None if t.datetime_start is None else t.datetime_start.timestamp()
    if kind == "duration":
        return t.duration
    if kind == "value":
        values = _finite_values(t)
        return None if values is None or arg >= len(values) else values[arg]
    if arg not in t.params:
        return None
    return param_sort_key(t.params[arg], t.distributions[arg])


def matches(t: FrozenTrial, filters: Mapping[str, Filter]) -> bool:
    """Whether `t` passes every parameter filter; a trial without the parameter never does."""
    for name, spec in filters.items():
        if name not in t.params:
            return False
        value, dist = t.params[name], t.distributions[name]
        if spec[0] == "range":
            if isinstance(dist, Categorical):
                return False
            low, high = spec[1], spec[2]
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        elif isinstance(dist, Categorical):
            if choice_key(value) not in {choice_key(v) for v in spec[1]}:
                return False
        elif float(value) not in {float(v) for v in spec[1] if _is_number(v)}:
            return False
    return True


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def order_trials(trials: Sequence[FrozenTrial], order: tuple[str, Any], descending: bool) -> list[FrozenTrial]:
    """Sort by `order` (missing keys last, ties by ascending number)."""
    by_number = sorted(trials, key=lambda t: t.number)
    keyed = [(sort_key(t, order), t) for t in by_number]
    present = [kt for kt in keyed if kt[0] is not None]
    present.sort(key=lambda kt: kt[0], reverse=descending)  # stable: ties stay in number order
    return [t for _, t in present] + [t for k, t in keyed if k is None]


def _directions(storage: Storage, study_id: int) -> tuple[str, tuple[str, ...]]:
    for s in storage.list_studies():
        if s.study_id == study_id:
            return s.name, s.directions
    raise StudyNotFound(f"no study with id {study_id}")


def _sql(storage: Storage) -> Any:
    """The SQL implementation for a SQLStorage, else None (without importing SQLAlchemy for others)."""
    if type(storage).__name__ != "SQLStorage":
        return None
    from hyperdial.storage.sql import query as sql_query
    from hyperdial.storage.sql.storage import SQLStorage

    return sql_query if isinstance(storage, SQLStorage) else None


# -- the public functions ----------------------------------------------------------------------
def page_trials(
    storage: Storage,
    study_id: int,
    *,
    states: Iterable[TrialState | str] | None = None,
    order_by: str = "number",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
    param_filters: Mapping[str, Any] | None = None,
) -> TrialPage:
    """One page of a study's trials, sorted and filtered on the server side.

    - `states`: only trials in these states (TrialState members or names); None for all.
    - `order_by`: "number", "value" (objective 0), "value:I" (objective I), "duration",
      "datetime_start", "state" (by TrialState's value) or "param:NAME"; `descending` reverses
      it. Missing keys sort last either way; ties keep ascending trial numbers.
    - `param_filters`: NAME -> (low, high) keeps numeric values in [low, high] (None leaves a side
      open); NAME -> [v1, v2, ...] keeps those values (categorical or numeric). A trial without the
      parameter (another branch of a conditional space) never matches.
    - `offset`, `limit` (1..10,000): the slice of the ordered, filtered trials to return.

    >>> import hyperdial as hd
    >>> study = hd.create_study()
    >>> study.optimize(lambda t: t.suggest_int("n", 0, 9), n_trials=10, show_progress_bar=False)
    >>> sid = study.storage.get_study(study.study_name).study_id
    >>> page = page_trials(study.storage, sid, order_by="param:n", descending=True,
    ...                    param_filters={"n": (2, 7)}, limit=2)
    >>> page.total >= len(page.trials), [t.params["n"] for t in page.trials] == sorted(
    ...     (t.params["n"] for t in page.trials), reverse=True)
    (True, True)
    """
    storage = _check_storage(storage)
    study_id = _check_study_id(study_id)
    parsed_states = parse_states(states)
    offset, limit, descending = _check_page(offset, limit, descending)
    filters = parse_filters(param_filters)
    sql = _sql(storage)
    if sql is not None:
        directions = sql.directions(storage, study_id)
        order = parse_order(order_by, len(directions))
        return sql.page_trials(storage, study_id, parsed_states, order, descending, offset, limit,
                               filters)
    _, directions = _directions(storage, study_id)
    order = parse_order(order_by, len(directions))
    trials = [t for t in storage.get_trials(study_id, states=parsed_states) if matches(t, filters)]
    ordered = order_trials(trials, order, descending)
    return TrialPage(total=len(ordered), trials=ordered[offset:offset + limit])


def study_overview(storage: Storage, study_id: int) -> StudyOverview:
    """Counts per state, best values, last activity and parameters seen, without loading every trial
    (in SQL storage).

    >>> import hyperdial as hd
    >>> study = hd.create_study(direction="maximize")
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5, show_progress_bar=False)
    >>> sid = study.storage.get_study(study.study_name).study_id
    >>> o = study_overview(study.storage, sid)
    >>> o.n_trials, o.best_value == study.best_value, o.best_trial_number == study.best_trial.number
    (5, True, True)
    """
    storage = _check_storage(storage)
    study_id = _check_study_id(study_id)
    sql = _sql(storage)
    if sql is not None:
        return sql.study_overview(storage, study_id)
    name, directions = _directions(storage, study_id)
    return overview_from_trials(study_id, name, directions, storage.get_trials(study_id))


def overview_from_trials(
    study_id: int, name: str, directions: tuple[str, ...], trials: Sequence[FrozenTrial]
) -> StudyOverview:
    """`StudyOverview` computed from trials in memory (the fallback, and a reference for the SQL one)."""
    counts = {s.name: 0 for s in TrialState}
    last: datetime | None = None
    first_seen: dict[tuple[str, Distribution], int] = {}
    for t in sorted(trials, key=lambda t: t.number):
        counts[t.state.name] += 1
        for stamp in (t.datetime_start, t.datetime_complete):
            if stamp is not None and (last is None or stamp > last):
                last = stamp
        for pname, dist in t.distributions.items():
            first_seen.setdefault((pname, dist), t.number)
    dists = group_distributions((name, dist, number) for (name, dist), number in first_seen.items())
    complete = [v for t in trials if t.state == TrialState.COMPLETE
                and (v := _finite_values(t)) is not None and len(v) == len(directions)]
    numbers = [t.number for t in trials if t.state == TrialState.COMPLETE
               and (v := _finite_values(t)) is not None and len(v) == len(directions)]
    best_values: list[float | None] = []
    for i, d in enumerate(directions):
        column = [v[i] for v in complete]
        best_values.append((max if d == "maximize" else min)(column) if column else None)
    best_number = None
    if len(directions) == 1 and complete:
        best_number = min(n for n, v in zip(numbers, complete) if v[0] == best_values[0])
    n_pareto = None if len(directions) == 1 else pareto_count(complete, directions)
    return StudyOverview(
        study_id=study_id, name=name, directions=tuple(directions), n_trials=len(trials), state_counts=counts,
        best_values=tuple(best_values), best_trial_number=best_number, n_pareto=n_pareto, last_activity=last,
        distributions=dists,
    )


def group_distributions(seen: Iterable[tuple[str, Distribution, int]]) -> dict[str, tuple[Distribution, ...]]:
    """(name, distribution, first trial number) -> each name's distributions, names and distributions
    in the order first seen (ties between names by name)."""
    first_of_name: dict[str, int] = {}
    rows = sorted(seen, key=lambda r: r[2])
    for name, _, number in rows:
        first_of_name.setdefault(name, number)
    out: dict[str, tuple[Distribution, ...]] = {}
    for name in sorted(first_of_name, key=lambda n: (first_of_name[n], n)):
        out[name] = tuple(dist for n, dist, _ in rows if n == name)
    return out


def pareto_count(values: Sequence[Sequence[float]], directions: Sequence[str]) -> int:
    """How many points no other point dominates, in O(n log n + n * front) (the O(n^2) domination
    matrix of `hyperdial.pareto` does not fit 100,000 points). Equal points are all counted.

    >>> pareto_count([(1, 3), (2, 2), (3, 1), (3, 3), (1, 3)], ["minimize", "minimize"])
    4
    """
    import numpy as np

    if not values:
        return 0
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    y = np.asarray(values, dtype=float) * sign
    y = y[np.lexsort(y.T[::-1])]  # lexicographic: a point can only be dominated by one before it
    front = np.empty((0, y.shape[1]))
    count = 0
    for row in y:
        if len(front) and np.any(np.all(front <= row, axis=1) & np.any(front < row, axis=1)):
            continue
        count += 1
        front = np.vstack([front, row])
    return count


def plot_trials(
    storage: Storage,
    study_id: int,
    *,
    states: Iterable[TrialState | str] | None = None,
    max_trials: int | None = None,
    intermediate_values: bool = False,
    attrs: bool = False,
) -> list[FrozenTrial]:
    """A light load of a study's trials for plots, in number order: params, values, state and times;
    intermediate values and user/system attributes only when asked (they are most of the rows of a
    study with learning curves).

    `max_trials` keeps at most that many, evenly spaced over the trial numbers (the first and the
    last included), so a plot of 100,000 trials stays drawable.

    >>> import hyperdial as hd
    >>> study = hd.create_study()
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=10, show_progress_bar=False)
    >>> sid = study.storage.get_study(study.study_name).study_id
    >>> [t.number for t in plot_trials(study.storage, sid, max_trials=4)]
    [0, 3, 6, 9]
    """
    storage = _check_storage(storage)
    study_id = _check_study_id(study_id)
    parsed_states = parse_states(states)
    max_trials = rules.check("max_trials", max_trials, rules.Int(low=1), None)
    intermediate_values = rules.check("intermediate_values", intermediate_values, rules.Bool())
    attrs = rules.check("attrs", attrs, rules.Bool())
    sql = _sql(storage)
    if sql is not None:
        return sql.plot_trials(storage, study_id, parsed_states, max_trials, intermediate_values,
                               attrs)
    _directions(storage, study_id)  # StudyNotFound for a missing study, as in SQL
    trials = sorted(storage.get_trials(study_id, states=parsed_states), key=lambda t: t.number)
    trials = subsample(trials, max_trials)
    from dataclasses import replace

    return [
        replace(t, intermediate_values=t.intermediate_values if intermediate_values else {},
                user_attrs=t.user_attrs if attrs else {}, system_attrs=t.system_attrs if attrs else {})
        for t in trials
    ]


def subsample_positions(n: int, max_trials: int | None) -> list[int]:
    """Evenly spaced positions in range(n), at most `max_trials`, first and last included.

    >>> subsample_positions(10, 4), subsample_positions(3, 5)
    ([0, 3, 6, 9], [0, 1, 2])
    """
    if max_trials is None or n <= max_trials:
        return list(range(n))
    if max_trials == 1:
        return [n - 1]
    return sorted({round(i * (n - 1) / (max_trials - 1)) for i in range(max_trials)})


def subsample(trials: list[FrozenTrial], max_trials: int | None) -> list[FrozenTrial]:
    return [trials[i] for i in subsample_positions(len(trials), max_trials)]
