"""Storage objects -> the plain JSON the dashboard's pages read (no web framework here).

Every number is JSON-safe: NaN and infinities become the strings "nan", "inf" and "-inf"
(JSON has no such numbers, and the pages show them as text). Datetimes are ISO 8601 in UTC.
Names and values from the storage pass through untouched: the page inserts them as text.

>>> import hyperdial as hd
>>> t = hd.FrozenTrial(number=3, state=hd.TrialState.COMPLETE, values=(float("nan"),), params={"x": 1.5},
...                    distributions={"x": hd.Float(0, 2)})
>>> row = trial_row(t)
>>> row["number"], row["state"], row["values"], row["params"]
(3, 'COMPLETE', ['nan'], {'x': 1.5})
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hyperdial import system_attrs
from hyperdial.trial import FrozenTrial

# Study user attributes written by other parts of hyperdial, shown in their own sections.
SWEEP_ATTR = "sweep"  # hyperdial.sweeps.agent.SWEEP_ATTR: {"file": text, "source": path, "format": ...}
LOG_ATTR = "log"  # hyperdial.sweeps.agent.LOG_ATTR: a sweep trial's log file
NOTES_ATTR = "dashboard_notes"  # study user attr: notes added from the dashboard (finished trials never change)
# Trial system attribute holding the sampler's recorded choice, where it changed (see docs/dashboard.md).
CHOICE_ATTR = system_attrs.SAMPLER_CHOICE


def jsonable(value: Any) -> Any:
    """`value` with non-finite floats as strings and datetimes as ISO text, recursively.

    >>> jsonable({"a": [1.0, float("inf")], "b": (None, True)})
    {'a': [1.0, 'inf'], 'b': [None, True]}
    """
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # NumPy scalars
        return jsonable(value.item())
    return str(value)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def trial_row(t: FrozenTrial) -> dict[str, Any]:
    """One line of the trials table."""
    return {
        "number": t.number,
        "state": t.state.name,
        "values": jsonable(t.values),
        "params": jsonable(t.params),
        "datetime_start": iso(t.datetime_start),
        "datetime_complete": iso(t.datetime_complete),
        "duration": t.duration,
    }


def trial_detail(t: FrozenTrial, *, retry_chain: list[int], notes: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the trial page shows."""
    sys_attrs = t.system_attrs
    shown_system = {k: v for k, v in sys_attrs.items() if k not in (system_attrs.PROPOSAL,)}
    return {
        **trial_row(t),
        "distributions": {name: d.to_dict() for name, d in t.distributions.items()},
        "intermediate_values": [[step, jsonable(v)] for step, v in sorted(t.intermediate_values.items())],
        "user_attrs": jsonable(t.user_attrs),
        "system_attrs": jsonable(shown_system),
        "fail_reason": sys_attrs.get(system_attrs.FAIL_REASON),
        "retry_of": sys_attrs.get(system_attrs.RETRY_OF),
        "retry_count": sys_attrs.get(system_attrs.RETRY_COUNT),
        "retry_chain": retry_chain,
        "worker": jsonable(sys_attrs.get(system_attrs.WORKER)),
        "has_log": isinstance(t.user_attrs.get(LOG_ATTR), str),
        "sampler_choice": jsonable(sys_attrs.get(CHOICE_ATTR)),
        "notes": notes,
    }


def overview(ov: Any, *, study_user_attrs: Mapping[str, Any], study_system_attrs: Mapping[str, Any],
             cursor: int, error: str | None = None) -> dict[str, Any]:
    """The study header (from `hyperdial.storage.query.StudyOverview`) plus what the study records."""
    sweep = study_user_attrs.get(SWEEP_ATTR)
    user = {k: v for k, v in study_user_attrs.items() if k not in (SWEEP_ATTR, NOTES_ATTR)}
    stop_at = study_system_attrs.get(system_attrs.STOP_REQUEST) if hasattr(system_attrs, "STOP_REQUEST") else None
    return {
        "study_id": ov.study_id,
        "name": ov.name,
        "directions": list(ov.directions),
        "n_trials": ov.n_trials,
        "state_counts": dict(ov.state_counts),
        "best_values": jsonable(ov.best_values),
        "best_trial_number": ov.best_trial_number,
        "n_pareto": ov.n_pareto,
        "last_activity": iso(ov.last_activity),
        "params": {name: [d.to_dict() for d in dists] for name, dists in ov.distributions.items()},
        "user_attrs": jsonable(user),
        "sweep": jsonable(sweep) if isinstance(sweep, Mapping) else None,
        "notes": notes_of(study_user_attrs),
        "stop_requested_at": jsonable(stop_at),
        "cursor": cursor,
        "error": error,
    }


def study_line(ov: Any, error: str | None = None) -> dict[str, Any]:
    """One line of the all-studies page."""
    running = ov.state_counts.get("RUNNING", 0) + ov.state_counts.get("WAITING", 0)
    return {
        "study_id": ov.study_id,
        "name": ov.name,
        "directions": list(ov.directions),
        "n_trials": ov.n_trials,
        "state_counts": {k: v for k, v in ov.state_counts.items() if v},
        "state": "running" if running else ("empty" if ov.n_trials == 0 else "idle"),
        "best_values": jsonable(ov.best_values),
        "best_trial_number": ov.best_trial_number,
        "n_pareto": ov.n_pareto,
        "last_activity": iso(ov.last_activity),
        "error": error,
    }


def notes_of(study_user_attrs: Mapping[str, Any], trial: int | None = None) -> list[dict[str, Any]]:
    """The dashboard's notes on the study (trial=None: all of them) or on one trial."""
    notes = study_user_attrs.get(NOTES_ATTR)
    if not isinstance(notes, list):
        return []
    out = [jsonable(n) for n in notes if isinstance(n, Mapping)]
    return out if trial is None else [n for n in out if n.get("trial") == trial]


def sampler_choices(trials: list[FrozenTrial]) -> list[dict[str, Any]]:
    """Where the sampler's recorded choice changed, in trial order: [{trial, to, algorithm, reason}],
    `to` the last trial before the next change (None: still in effect)."""
    out: list[dict[str, Any]] = []
    for t in sorted(trials, key=lambda t: t.number):
        choice = t.system_attrs.get(CHOICE_ATTR)
        if isinstance(choice, Mapping):
            entry = {"trial": t.number, "to": None, "algorithm": jsonable(choice.get("algorithm")),
                     "reason": jsonable(choice.get("reason"))}
            if not out or (out[-1]["algorithm"], out[-1]["reason"]) != (entry["algorithm"], entry["reason"]):
                if out:
                    out[-1]["to"] = t.number - 1
                out.append(entry)
    return out


def choice_in_effect(choices: list[dict[str, Any]], number: int) -> dict[str, Any] | None:
    """The entry of `sampler_choices` that covers trial `number` (None before the first).

    >>> choice_in_effect([{"trial": 1, "to": 4, "algorithm": "GP", "reason": "small"},
    ...                   {"trial": 5, "to": None, "algorithm": "TPE", "reason": "long"}], 3)["algorithm"]
    'GP'
    """
    covering = [c for c in choices if c["trial"] <= number]
    return covering[-1] if covering else None
