"""A per-study cache of trials that fetches only what changed (`storage.poll`).

Finished trials never change, so they are fetched once; each refresh asks the
storage for trials finished since the last cursor plus the unfinished ones. The
joint space is folded in as COMPLETE trials arrive. The cost of a refresh
therefore depends on what changed, not on the size of the study.
"""

from __future__ import annotations

import bisect
import threading

from hyperdial.history import intersect_space
from hyperdial.space import Distribution
from hyperdial.storage.base import Storage
from hyperdial.trial import FrozenTrial, TrialState


class TrialCache:
    def __init__(self, storage: Storage, study_id: int) -> None:
        self._storage = storage
        self._study_id = study_id
        self._lock = threading.Lock()
        self._cursor = 0
        self._finished: list[FrozenTrial] = []  # sorted by number
        self._finished_numbers: set[int] = set()
        self._unfinished: list[FrozenTrial] = []
        self._joint: dict[str, Distribution] | None = None

    def refresh(self) -> tuple[tuple[FrozenTrial, ...], dict[str, Distribution]]:
        """All trials (finished by number, then unfinished) and the joint space."""
        with self._lock:
            changes = self._storage.poll(self._study_id, self._cursor)
            unfinished = []
            for t in changes.trials:
                if not t.state.is_finished():
                    unfinished.append(t)
                elif t.number not in self._finished_numbers:
                    self._finished_numbers.add(t.number)
                    bisect.insort(self._finished, t, key=lambda x: x.number)
                    if t.state == TrialState.COMPLETE:
                        self._joint = intersect_space(self._joint, t)
            unfinished.sort(key=lambda t: t.number)
            self._unfinished = unfinished
            self._cursor = max(self._cursor, changes.cursor)
            return tuple(self._finished) + tuple(unfinished), dict(self._joint or {})
