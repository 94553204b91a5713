"""Liveness of running trials: a heartbeat thread, and the reaper that fails dead ones.

A worker that is killed (SIGKILL, preemption, a lost machine) cannot record its
trial. Each process refreshes the heartbeat of its running trials (every 30 s, by
default, in storages that several processes can share: SQLite files and PostgreSQL;
one UPDATE per running trial per interval); any live worker that sees a RUNNING trial whose heartbeat is older
than `grace_period` marks it FAIL (atomically, so only one worker does) and, if
retries remain, enqueues its parameters again as a new trial linked to the old one
(`system_attrs[RETRY_OF]` = the old number, `[RETRY_COUNT]` = how many reruns, `[RESUME_FROM]` = the
old number, so the rerun starts from the old trial's last checkpoint: docs/checkpoints.md).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from hyperdial import _clock
from hyperdial.system_attrs import FIXED_PARAMS, RESUME_FROM, RETRY_COUNT, RETRY_OF
from hyperdial.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from hyperdial.storage.base import Storage

_logger = logging.getLogger("hyperdial")



DEFAULT_HEARTBEAT_INTERVAL = 30.0
DEFAULT_GRACE_PERIOD = 120.0  # four missed beats: a busy or briefly paused worker is not taken for dead


class Heartbeat:
    """One daemon thread per study object, beating for this process's running trials.

    The thread ends after an interval with nothing to beat for (a study object left
    behind keeps no thread alive) and starts again with the next trial.
    """

    def __init__(self, storage: Storage, interval: float) -> None:
        self.storage = storage
        self.interval = interval
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._running = False
        self._pid = -1

    def add(self, trial_id: int) -> None:
        with self._lock:
            self._ids.add(trial_id)
            if not self._running or self._pid != os.getpid():  # idle, or a forked child without the thread
                self._running = True
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="hyperdial-heartbeat", daemon=True).start()

    def remove(self, trial_id: int) -> None:
        with self._lock:
            self._ids.discard(trial_id)

    def _run(self) -> None:
        idle = False
        while True:
            time.sleep(self.interval)
            with self._lock:
                ids = list(self._ids)
                if not ids and idle:
                    self._running = False
                    return
                idle = not ids
            for tid in ids:
                try:
                    self.storage.heartbeat(tid)
                except Exception as exc:  # noqa: BLE001 - a missed beat is retried next time
                    _logger.debug("heartbeat for trial id %d failed: %s", tid, exc)


def retry_template(trial: FrozenTrial, max_retries: int) -> FrozenTrial | None:
    """A WAITING copy of a failed trial's parameters, or None when its retries are used up.

    The copy resumes from the failed trial (`RESUME_FROM`): its `load_checkpoint()` returns the
    failed trial's latest checkpoint (or, if it saved none, the checkpoint it resumed from).
    """
    count = int(trial.system_attrs.get(RETRY_COUNT, 0))
    if count >= max_retries:
        return None
    params = {**trial.system_attrs.get(FIXED_PARAMS, {}), **trial.params}
    return FrozenTrial(
        number=-1,
        state=TrialState.WAITING,
        user_attrs=dict(trial.user_attrs),
        system_attrs={FIXED_PARAMS: params, RETRY_OF: trial.number, RETRY_COUNT: count + 1,
                      RESUME_FROM: trial.number},
    )


def stale_reason(grace_period: float) -> str:
    return f"no heartbeat for more than {grace_period:g} s: the worker is presumed dead"


def cutoff(grace_period: float) -> float:
    return _clock.now() - grace_period
