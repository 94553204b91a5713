"""The driver side of `optimize` with an executor: ask here, run there, stream results back.

Up to `n_jobs` trials are in flight; as each finishes (no batch barrier) the
driver records it, runs callbacks, and asks for the next one, so the sampler
always sees the running trials (constant liar and friends work unchanged). A task
lost with its worker (killed process, lost node) is recorded FAIL and, if the
study allows retries, rerun.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from hyperdial.exceptions import Terminated, TrialFinishedError, invalid
from hyperdial.executors.gpus import GpuSlots
from hyperdial.executors.remote import Outcome, RemoteTask, run_remote_trial, storage_url_of
from hyperdial.trial import FrozenTrial, Trial, TrialState

if TYPE_CHECKING:
    from hyperdial.study import Study

_logger = logging.getLogger("hyperdial")


def start_executor(
    executor: Any, n_jobs: int | None, gpus_per_trial: int
) -> tuple[Executor, Callable[[], None], int]:
    """An Executor for `executor`, how to shut it down afterwards, and how many trials to keep in flight
    (`n_jobs`, or when None what the executor offers: see `Study.optimize`)."""
    if executor == "process":
        n_jobs = n_jobs or 1  # isolation, not parallelism, unless asked: each trial may use every core
        # spawn: forking a process that runs threads (heartbeats, SQLAlchemy pools) is unsafe.
        # One task per child when GPUs are assigned: CUDA reads CUDA_VISIBLE_DEVICES once per process.
        extra: dict[str, Any] = {}
        if gpus_per_trial:
            if sys.version_info < (3, 11):
                raise invalid("gpus_per_trial", "with executor='process' needs Python >= 3.11", gpus_per_trial)
            extra["max_tasks_per_child"] = 1
        pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"), **extra)
        return pool, lambda: pool.shutdown(wait=True, cancel_futures=True), n_jobs
    if hasattr(executor, "start") and hasattr(executor, "close"):  # hd.executors.Dask / Ray
        started: Executor = executor.start(n_jobs, gpus_per_trial)
        if n_jobs is None:
            try:
                n_jobs = max(1, int(executor.capacity(gpus_per_trial)))
            except BaseException:
                executor.close()
                raise
            _logger.info("%d trials at once: what %s offers now (pass n_jobs to choose)", n_jobs, type(executor).__name__)
        return started, executor.close, n_jobs
    if isinstance(executor, Executor):
        size = getattr(executor, "_max_workers", None)  # the stdlib pools' size: fill them by default
        return executor, lambda: None, n_jobs or (size if isinstance(size, int) and size > 0 else 1)  # caller owns it
    raise invalid("executor", "must be 'thread', 'process', a concurrent.futures.Executor, "
                  "hd.executors.Dask(...) or hd.executors.Ray(...)", executor)


def run_on_executor(
    study: Study,
    executor: Any,
    n_jobs: int | None,
    gpus_per_trial: int,
    func: Callable[..., Any],
    catch: tuple[type[BaseException], ...],
    space: Mapping[str, Any] | None,
    with_trial: bool,
    claim: Callable[[], bool],
    on_finished: Callable[[FrozenTrial], None],
) -> None:
    url = storage_url_of(study)
    slots = GpuSlots(gpus_per_trial) if gpus_per_trial and executor == "process" else None
    if slots is not None:
        n_jobs = min(n_jobs or slots.capacity, slots.capacity)
    pool, close, n_jobs = start_executor(executor, n_jobs, gpus_per_trial)
    in_flight: dict[Future[Outcome], tuple[Trial, str | None]] = {}
    failure: BaseException | None = None
    try:
        while True:
            while failure is None and len(in_flight) < n_jobs and claim():
                devices = slots.acquire() if slots is not None else None
                # The driver keeps beating for the trial while it holds its future (the task may
                # wait in a queue, or be rescheduled by the cluster); a lost task fails the future.
                trial = study.ask(space)
                task = RemoteTask(
                    storage_url=url, study_name=study.study_name, trial_id=trial.trial_id, func=func,
                    sampler=study.sampler, pruner=study.pruner, relative=trial._relative,
                    relative_space=trial._relative_space, declarative=space is not None,
                    with_trial=with_trial, catch=catch, cuda_visible_devices=devices,
                )
                in_flight[pool.submit(run_remote_trial, task)] = (trial, devices)
            if not in_flight:
                break
            done, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                trial, devices = in_flight.pop(future)
                if study._heartbeat is not None:
                    study._heartbeat.remove(trial.trial_id)
                if devices is not None and slots is not None:
                    slots.release(devices)
                frozen = _collect(study, trial, future)
                if isinstance(frozen, BaseException):
                    failure = failure or frozen
                    study._stop.set()
                elif frozen is not None:
                    on_finished(frozen)
    except (KeyboardInterrupt, Terminated) as exc:
        study._stop.set()
        for trial, _ in in_flight.values():
            _fail(study, trial, f"{type(exc).__name__}: interrupted")
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        close()
    if failure is not None:
        raise failure


def _fail(study: Study, trial: Trial, reason: str) -> FrozenTrial | None:
    try:
        frozen = study.tell(trial, state=TrialState.FAIL, fail_reason=reason)
    except TrialFinishedError:
        return None  # its worker or a reaper recorded it first
    study._retry(frozen)
    return frozen


def _collect(study: Study, trial: Trial, future: Future[Outcome]) -> FrozenTrial | BaseException | None:
    try:
        outcome = future.result()
    except BaseException as exc:  # noqa: BLE001 - the worker died or the task was lost
        _logger.warning("Trial %d was lost with its worker: %s: %s", trial.number, type(exc).__name__, exc)
        return _fail(study, trial, f"worker lost: {type(exc).__name__}: {exc}")
    if outcome.state is None:
        return None
    frozen = study._storage.get_trial(trial.trial_id)
    study._log_finished(frozen, frozen.system_attrs.get("fail_reason"))
    if outcome.error is not None:
        return outcome.error
    return frozen


