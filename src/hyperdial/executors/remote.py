"""What runs on a worker process or cluster node: one trial, against the shared storage.

The driver asks for the trial (the storage numbers it, the sampler proposes the
joint space) and ships a `RemoteTask`; the worker opens the same storage, rebuilds
the `Trial`, runs the objective (reports, pruning decisions and any conditional
parameters go straight to the storage, during the trial) and records the outcome.
The driver only learns that the trial ended, and reads it back.
"""

from __future__ import annotations

import copy
import os
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyperdial.exceptions import TrialFinishedError
from hyperdial.space import Distribution
from hyperdial.trial import TrialState


@dataclass
class RemoteTask:
    storage_url: str = field(repr=False)  # clusters log task reprs; the URL may hold a password
    study_name: str
    trial_id: int
    func: Callable[..., Any]
    sampler: Any
    pruner: Any
    relative: dict[str, Any] = field(default_factory=dict)
    relative_space: dict[str, Distribution] = field(default_factory=dict)
    declarative: bool = False
    with_trial: bool = False
    catch: tuple[type[BaseException], ...] = ()
    cuda_visible_devices: str | None = None


@dataclass
class Outcome:
    number: int
    state: TrialState | None  # None: the trial was already finished elsewhere (reaped), nothing ran
    error: BaseException | None = None  # an exception `catch` did not cover, to re-raise in the driver


# (pid, thread, url, name): a forked child opens its own, and so does each thread of a worker
# that runs several tasks at once (Dask with nthreads > 1): the sampler and pruner are set per
# task, so a study object shared by threads would let one task suggest with another's sampler.
_studies: dict[tuple[int, int, str, str], Any] = {}
_lock = threading.Lock()


def _study(task: RemoteTask) -> Any:
    from hyperdial._api import open_study

    key = (os.getpid(), threading.get_ident(), task.storage_url, task.study_name)
    with _lock:
        study = _studies.get(key)
        if study is None:
            study = open_study(study_name=task.study_name, storage=task.storage_url)
            _studies[key] = study
    # A private, writable copy: Ray hands out numpy arrays of task arguments read-only
    # (zero-copy), and samplers grow their caches in place.
    study.sampler = copy.deepcopy(task.sampler)
    study.pruner = task.pruner
    return study


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def run_remote_trial(task: RemoteTask) -> Outcome:
    """Entry point on the worker (must stay importable by name for spawn/Dask/Ray)."""
    from hyperdial._optimize import execute_trial
    from hyperdial.trial import Trial

    if task.cuda_visible_devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = task.cuda_visible_devices
    study = _study(task)
    frozen = study._storage.get_trial(task.trial_id)
    if frozen.state.is_finished():  # a rescheduled task whose trial was already reaped
        return Outcome(frozen.number, None)
    trial = Trial(study, frozen)
    trial._relative = dict(task.relative)
    trial._relative_space = dict(task.relative_space)
    trial._history = study._lazy_history()
    if study._heartbeat is not None:
        study._heartbeat.add(trial.trial_id)  # beats from where it runs, as well as from the driver
    try:
        done = execute_trial(study, trial, task.func, task.catch, task.declarative, task.with_trial)
    except TrialFinishedError:
        return Outcome(frozen.number, None)  # failed meanwhile by a reaper, which also handled the retry
    except Exception as exc:  # noqa: BLE001 - recorded as FAIL already; the driver decides
        return Outcome(frozen.number, TrialState.FAIL, _portable(exc))
    return Outcome(done.number, done.state)


def _in_memory_sqlite(url: str) -> bool:
    """sqlite://, sqlite:///:memory: and SQLite's URI forms of an in-memory database."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return False
    db = str(u.database or "")
    return db in ("", ":memory:") or db.startswith("file::memory:") or "mode=memory" in db \
        or u.query.get("mode") == "memory"


def storage_url_of(study: Any) -> str:
    url = getattr(study._storage, "url", None)
    if not isinstance(url, str) or _in_memory_sqlite(url):
        from hyperdial.exceptions import invalid

        raise invalid(
            "executor",
            "runs trials in other processes, which cannot see an in-memory study; "
            "use a storage URL such as sqlite:///study.db (one machine) or postgresql+psycopg://... (many)",
            "in-memory storage",
        )
    return url


