"""Timeline: when each trial ran, one row (lane) per worker, coloured by state."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from hyperdial import _validation as rules
from hyperdial import system_attrs
from hyperdial.history import StudyDirection
from hyperdial.trial import FrozenTrial, TrialState
from hyperdial.visualization._common import iso, pick

Worker = Callable[[FrozenTrial], Any]


def _recorded_worker(t: FrozenTrial) -> Any:
    # Stored when the trial starts ("host:pid[/thread]"); trials saved before it was recorded have none.
    return t.system_attrs.get(system_attrs.WORKER)


def timeline(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection], *, max_points: int,
             worker: Worker | None = None) -> dict[str, Any]:
    """Trials that started, as bars from start to completion (RUNNING ones open until the latest
    time seen), one lane per worker.

    The lane is `worker(trial)` when given, else the worker the trial recorded, else it is
    inferred: trials are packed into the fewest lanes in which none overlap (interval
    partitioning), which is the number of workers when each runs one trial at a time.
    Subsampling keeps every RUNNING trial, then evenly spaced others.
    """
    rules.check("worker", worker, rules.IsCallable(), None)
    started = [t for t in trials if t.datetime_start is not None]
    started.sort(key=lambda t: (t.datetime_start, t.number))
    times = [x for t in started for x in (t.datetime_start, t.datetime_complete) if x is not None]
    now = max(times) if times else None
    get = worker or _recorded_worker
    named = [get(t) for t in started]
    source = "option" if worker else "recorded"
    if not started or any(w is None for w in named):
        source = "inferred"
        lanes, lane_of = _pack(started, now)
    else:
        labels: dict[str, int] = {}
        lane_of = [labels.setdefault(str(w), len(labels)) for w in named]
        lanes = list(labels)
    running = [i for i, t in enumerate(started) if t.state == TrialState.RUNNING]
    keep = pick(len(started), max_points, must=running)
    counts: dict[str, int] = {}
    for t in started:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return {
        "kind": "timeline",
        "lanes": lanes,
        "lane_source": source,
        "number": [started[i].number for i in keep],
        "lane": [lane_of[i] for i in keep],
        "start": [iso(started[i].datetime_start) for i in keep],
        "end": [iso(started[i].datetime_complete) for i in keep],
        "state": [started[i].state.name for i in keep],
        "now": iso(now),
        "n_trials": len(started),
        "n_by_state": counts,
    }


def _pack(started: Sequence[FrozenTrial], now: datetime | None) -> tuple[list[str], list[int]]:
    """Greedy interval partitioning (sorted by start): each trial takes the lane freed earliest."""
    free: list[tuple[datetime, int]] = []  # (when the lane frees up, lane)
    lane_of: list[int] = []
    n = 0
    for t in started:
        start = t.datetime_start
        assert start is not None
        end = t.datetime_complete or now or start
        if free and free[0][0] <= start:
            _, lane = heapq.heappop(free)
        else:
            lane, n = n, n + 1
        heapq.heappush(free, (end, lane))
        lane_of.append(lane)
    return [f"lane {i + 1}" for i in range(n)], lane_of
