"""In-memory storage: the default when `storage=None`. Thread-safe, not shared across processes."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from hyperdial import _clock
from hyperdial.exceptions import DuplicatedStudyError, StudyNotFound, TrialFinishedError, TrialNotFound
from hyperdial.space import Distribution
from hyperdial.storage.base import Changes, StudyInfo, StudySummary
from hyperdial.system_attrs import FAIL_REASON
from hyperdial.trial import FrozenTrial, TrialState


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _TrialRecord:
    trial_id: int
    study_id: int
    number: int
    state: TrialState
    values: tuple[float, ...] | None = None
    params: dict[str, tuple[float, Distribution]] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    intermediate: dict[int, Any] = field(default_factory=dict)
    datetime_start: datetime | None = None
    datetime_complete: datetime | None = None
    heartbeat: float | None = None
    finish_seq: int = 0

    def freeze(self) -> FrozenTrial:
        return FrozenTrial(
            number=self.number,
            state=self.state,
            values=self.values,
            params={k: d.to_external(v) for k, (v, d) in self.params.items()},
            distributions={k: d for k, (_, d) in self.params.items()},
            user_attrs=copy.deepcopy(self.user_attrs),
            system_attrs=copy.deepcopy(self.system_attrs),
            intermediate_values=dict(self.intermediate),
            datetime_start=self.datetime_start,
            datetime_complete=self.datetime_complete,
            trial_id=self.trial_id,
        )


@dataclass
class _StudyRecord:
    info: StudyInfo
    trials: list[_TrialRecord] = field(default_factory=list)
    finished: list[_TrialRecord] = field(default_factory=list)  # in finishing order: cursor = len
    unfinished: dict[int, _TrialRecord] = field(default_factory=dict)

    def mark_finished(self, rec: _TrialRecord) -> None:
        self.unfinished.pop(rec.trial_id, None)
        self.finished.append(rec)
        rec.finish_seq = len(self.finished)


class InMemoryStorage:
    """Keeps everything in this process; fast, and gone when the process ends.

    >>> s = InMemoryStorage()
    >>> sid = s.create_study("demo", ["minimize"])
    >>> s.create_trial(sid).number
    0
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[int, _StudyRecord] = {}
        self._trials: dict[int, _TrialRecord] = {}
        self._next_study = 1
        self._next_trial = 1

    # -- studies -------------------------------------------------------------
    def create_study(self, name: str, directions: Sequence[str]) -> int:
        with self._lock:
            if any(s.info.name == name for s in self._studies.values()):
                raise DuplicatedStudyError(f"a study named {name!r} already exists")
            sid = self._next_study
            self._next_study += 1
            self._studies[sid] = _StudyRecord(StudyInfo(sid, name, tuple(directions)))
            return sid

    def _study(self, study_id: int) -> _StudyRecord:
        try:
            return self._studies[study_id]
        except KeyError:
            raise StudyNotFound(f"no study with id {study_id}") from None

    def get_study(self, name: str) -> StudyInfo:
        with self._lock:
            for s in self._studies.values():
                if s.info.name == name:
                    return copy.deepcopy(s.info)
            raise StudyNotFound(f"no study named {name!r}")

    def list_studies(self) -> list[StudySummary]:
        with self._lock:
            out = []
            for sid, s in self._studies.items():
                counts: dict[str, int] = {}
                for t in s.trials:
                    counts[t.state.name] = counts.get(t.state.name, 0) + 1
                starts = [t.datetime_start for t in s.trials if t.datetime_start]
                out.append(
                    StudySummary(sid, s.info.name, s.info.directions, len(s.trials), counts, min(starts, default=None))
                )
            return out

    def delete_study(self, study_id: int) -> None:
        with self._lock:
            s = self._study(study_id)
            for t in s.trials:
                del self._trials[t.trial_id]
            del self._studies[study_id]

    def set_study_attr(self, study_id: int, key: str, value: Any, *, system: bool = False) -> None:
        with self._lock:
            info = self._study(study_id).info
            (info.system_attrs if system else info.user_attrs)[key] = copy.deepcopy(value)

    # -- trials --------------------------------------------------------------
    def create_trial(self, study_id: int, *, template: FrozenTrial | None = None,
                     system_attrs: Mapping[str, Any] | None = None) -> FrozenTrial:
        extra = copy.deepcopy(dict(system_attrs or {})) if template is None else {}
        with self._lock:
            s = self._study(study_id)
            if template is None:
                for t in s.unfinished.values():  # insertion order = number order
                    if t.state == TrialState.WAITING:
                        t.state = TrialState.RUNNING
                        t.datetime_start = _now()
                        t.heartbeat = _clock.now()
                        t.system_attrs.update(extra)
                        return t.freeze()
            rec = _TrialRecord(
                trial_id=self._next_trial,
                study_id=study_id,
                number=len(s.trials),
                state=TrialState.RUNNING if template is None else template.state,
                datetime_start=_now() if template is None else template.datetime_start,
                heartbeat=_clock.now() if template is None else None,
            )
            self._next_trial += 1
            rec.system_attrs.update(extra)
            if template is not None:
                rec.values = tuple(template.values) if template.values is not None else None
                rec.params = {
                    k: (template.distributions[k].to_internal(v), template.distributions[k])
                    for k, v in template.params.items()
                }
                rec.user_attrs = copy.deepcopy(template.user_attrs)
                rec.system_attrs = copy.deepcopy(template.system_attrs)
                rec.intermediate = dict(template.intermediate_values)
                rec.datetime_complete = template.datetime_complete
            s.trials.append(rec)
            if rec.state.is_finished():
                s.mark_finished(rec)
            else:
                s.unfinished[rec.trial_id] = rec
            self._trials[rec.trial_id] = rec
            return rec.freeze()

    def _trial(self, trial_id: int, *, writable: bool = False) -> _TrialRecord:
        try:
            rec = self._trials[trial_id]
        except KeyError:
            raise TrialNotFound(f"no trial with id {trial_id}") from None
        if writable and rec.state.is_finished():
            raise TrialFinishedError(f"trial {rec.number} is already {rec.state.name}")
        return rec

    def set_params(self, trial_id: int, params: Mapping[str, tuple[float, Distribution]]) -> None:
        with self._lock:
            self._trial(trial_id, writable=True).params.update(params)

    def report(self, trial_id: int, step: int, value: Any) -> None:
        with self._lock:
            self._trial(trial_id, writable=True).intermediate[step] = value

    def set_trial_attr(self, trial_id: int, key: str, value: Any, *, system: bool = False) -> None:
        with self._lock:
            rec = self._trial(trial_id, writable=True)
            (rec.system_attrs if system else rec.user_attrs)[key] = copy.deepcopy(value)

    def finish_trial(self, trial_id: int, state: TrialState, values: Sequence[float] | None) -> datetime:
        with self._lock:
            rec = self._trial(trial_id, writable=True)
            rec.state = state
            rec.values = tuple(values) if values is not None else None
            rec.datetime_complete = _now()
            self._studies[rec.study_id].mark_finished(rec)
            return rec.datetime_complete

    def heartbeat(self, trial_id: int) -> None:
        with self._lock:
            rec = self._trial(trial_id)
            if rec.state == TrialState.RUNNING:  # a finished trial's beat is a no-op, as the protocol says
                rec.heartbeat = _clock.now()

    def fail_stale_trials(self, study_id: int, cutoff: float, reason: str) -> list[FrozenTrial]:
        with self._lock:
            s = self._study(study_id)
            stale = [
                t for t in s.unfinished.values()
                if t.state == TrialState.RUNNING and t.heartbeat is not None and t.heartbeat < cutoff
            ]
            for t in stale:
                t.system_attrs[FAIL_REASON] = reason
                t.state = TrialState.FAIL
                t.datetime_complete = _now()
                s.mark_finished(t)
            return [t.freeze() for t in stale]

    def get_trial(self, trial_id: int) -> FrozenTrial:
        with self._lock:
            return self._trial(trial_id).freeze()

    def get_trials(self, study_id: int, *, states: Sequence[TrialState] | None = None) -> list[FrozenTrial]:
        with self._lock:
            return [t.freeze() for t in self._study(study_id).trials if states is None or t.state in states]

    def poll(self, study_id: int, since: int) -> Changes:
        with self._lock:
            s = self._study(study_id)
            changed = [t.freeze() for t in s.finished[since:]]
            changed += [t.freeze() for t in s.unfinished.values()]
            return Changes(changed, len(s.finished))
