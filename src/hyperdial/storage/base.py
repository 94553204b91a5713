"""The storage protocol: data in, data out, no escape hatch for algorithms.

Every method is atomic. Trial numbers are unique per study and dense in creation
order, whatever the number of processes writing. Finished trials never change.
`poll` lets a cache fetch only what changed since its last call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from hyperdial.space import Distribution
from hyperdial.trial import FrozenTrial, TrialState


@dataclass(frozen=True)
class StudyInfo:
    study_id: int
    name: str
    directions: tuple[str, ...]
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudySummary:
    """One line of `hd.get_all_studies`: counts per state and the first start time."""

    study_id: int
    name: str
    directions: tuple[str, ...]
    n_trials: int
    state_counts: dict[str, int]
    datetime_start: datetime | None


@dataclass(frozen=True)
class Changes:
    """What `poll` returns: finished trials newer than the cursor, every unfinished trial, the new cursor."""

    trials: list[FrozenTrial]
    cursor: int


@runtime_checkable
class Storage(Protocol):
    def create_study(self, name: str, directions: Sequence[str]) -> int:
        """New study; raises DuplicatedStudyError if the name is taken."""

    def get_study(self, name: str) -> StudyInfo:
        """Raises StudyNotFound."""

    def list_studies(self) -> list[StudySummary]: ...

    def delete_study(self, study_id: int) -> None: ...

    def set_study_attr(self, study_id: int, key: str, value: Any, *, system: bool = False) -> None: ...

    def create_trial(self, study_id: int, *, template: FrozenTrial | None = None,
                     system_attrs: Mapping[str, Any] | None = None) -> FrozenTrial:
        """Without a template: claim the oldest WAITING trial or create a RUNNING one, with
        `system_attrs` (JSON) set on it in the same write (`ask` records the trial's worker so).

        With a template: store a copy of it (WAITING for enqueue, finished for add_trial)
        under the next number.
        """

    def set_params(self, trial_id: int, params: Mapping[str, tuple[float, Distribution]]) -> None:
        """Store internal values; raises TrialFinishedError if the trial is finished."""

    def report(self, trial_id: int, step: int, value: Any) -> None: ...

    def set_trial_attr(self, trial_id: int, key: str, value: Any, *, system: bool = False) -> None: ...

    def finish_trial(self, trial_id: int, state: TrialState, values: Sequence[float] | None) -> datetime:
        """RUNNING -> finished, atomically; returns the completion time.

        Raises TrialFinishedError if the trial already was finished.
        """

    def heartbeat(self, trial_id: int) -> None:
        """Record that the RUNNING trial's worker is alive (a no-op for finished trials)."""

    def fail_stale_trials(self, study_id: int, cutoff: float, reason: str) -> list[FrozenTrial]:
        """Atomically mark FAIL every RUNNING trial whose heartbeat is older than `cutoff`
        (UNIX seconds), with `reason` as `fail_reason`; returns the trials this call failed,
        so exactly one caller handles (and retries) each of them."""

    def get_trial(self, trial_id: int) -> FrozenTrial: ...

    def get_trials(self, study_id: int, *, states: Sequence[TrialState] | None = None) -> list[FrozenTrial]: ...

    def poll(self, study_id: int, since: int) -> Changes: ...


def get_storage(storage: str | Storage | None, *, create: bool = True) -> Storage:
    """Turn a URL (or None for memory) into a storage object.

    With `create=False` a SQLite file must already exist (loading a study from a
    mistyped path should fail, not make a new empty database).

    >>> get_storage(None).__class__.__name__
    'InMemoryStorage'
    """
    if storage is None:
        from hyperdial.storage.memory import InMemoryStorage

        return InMemoryStorage()
    if isinstance(storage, str):
        from hyperdial.storage.sql.storage import SQLStorage

        return SQLStorage(storage, create=create)
    if isinstance(storage, Storage):
        return storage
    from hyperdial.exceptions import invalid

    raise invalid("storage", "must be a SQLAlchemy URL, None, or a Storage object", storage)
