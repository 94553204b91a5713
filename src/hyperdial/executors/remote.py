"""What runs on a worker process or cluster node: one trial, against the shared storage.

The driver asks for the trial (the storage numbers it, the sampler proposes the
joint space) and ships a `RemoteTask`; the worker opens the same storage, rebuilds
the `Trial`, runs the objective (reports, pruning decisions and any conditional
parameters go straight to the storage, during the trial) and records the outcome.
The driver only learns that the trial ended, and reads it back.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyperdial.space import Distribution
from hyperdial.trial import Proposal, TrialState


@dataclass
class RemoteTask:
    storage_url: str = field(repr=False)  # clusters log task reprs; the URL may hold a password
    study_name: str
    trial_id: int
    func: Callable[..., Any]
    sampler: bytes  # pickled: a private copy for each task, unpickled on the worker
    pruner: Any
    scheduler: Any = None  # acts when the trial is recorded here (Study.tell); picklable, like the pruner
    relative: dict[str, Any] = field(default_factory=dict)
    relative_space: dict[str, Distribution] = field(default_factory=dict)
    visible_through: int | None = None  # deterministic runs (see Study.ask's `lag`)
    declarative: bool = False
    with_trial: bool = False
    catch: tuple[type[BaseException], ...] = ()
    cuda_visible_devices: str | None = None


@dataclass
class Outcome:
    number: int
    state: TrialState | None  # None: the trial was already finished elsewhere (reaped), nothing ran
    error: BaseException | None = None  # an exception `catch` did not cover, to re-raise in the driver
    frozen: Any = None  # the recorded FrozenTrial, when the executor has it (no read-back)
    logged: bool = True  # whether this process already logged it (a trial run in the driver's own process)


# (pid, thread, url, name): a forked child opens its own, and so does each thread of a worker
# that runs several tasks at once (Dask with nthreads > 1): the sampler and pruner are set per
# task, so a study object shared by threads would let one task suggest with another's sampler.
_studies: dict[tuple[int, int, str, str], Any] = {}
_lock = threading.Lock()


def _study(task: RemoteTask) -> Any:
    from hyperdial import open_study

    key = (os.getpid(), threading.get_ident(), task.storage_url, task.study_name)
    with _lock:
        study = _studies.get(key)
        if study is None:
            study = open_study(study_name=task.study_name, storage=task.storage_url)
            _studies[key] = study
    # A private, writable copy per task (unpickled here: Ray hands out numpy arrays of task
    # arguments read-only, zero-copy, and samplers grow their caches in place).
    study.sampler = pickle.loads(task.sampler)
    study.pruner = task.pruner
    study.scheduler = task.scheduler
    return study


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def run_remote_trial(task: RemoteTask) -> Outcome:
    """Entry point on the worker (must stay importable by name for spawn/Dask/Ray); it uses only
    the study's public execution interface (see hyperdial/_execution.py)."""
    if task.cuda_visible_devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = task.cuda_visible_devices
    study = _study(task)
    trial = study.start_trial(task.trial_id, proposal=Proposal(task.relative, task.relative_space,
                                                                   task.visible_through))
    if trial is None:  # a rescheduled task whose trial was already reaped
        return Outcome(study.storage.get_trial(task.trial_id).number, None)
    try:
        done = study.run_trial(trial, task.func, catch=task.catch, config=task.declarative,
                               with_trial=task.with_trial)
    except Exception as exc:  # noqa: BLE001 - recorded as FAIL already; the driver decides
        return Outcome(trial.number, TrialState.FAIL, _portable(exc))
    # The recorded trial travels back (a few KB), so the driver need not read it from the storage.
    return Outcome(done.number, done.state, frozen=done, logged=False)  # a trial taken meanwhile: as stored


def storage_url_of(study: Any) -> str:
    """The study's storage URL for other processes, or a clear error for an in-memory study."""
    url: str | None = study.storage_url
    if url is None:
        from hyperdial.exceptions import invalid

        raise invalid(
            "executor",
            "runs trials in other processes, which cannot see an in-memory study; "
            "use a storage URL such as sqlite:///study.db (one machine) or postgresql+psycopg://... (many)",
            "in-memory storage",
        )
    return url
