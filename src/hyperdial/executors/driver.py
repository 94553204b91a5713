"""The driver side of `optimize` with several trials at once: ask here, run there, stream results back.

Up to `n_jobs` trials are in flight; as each finishes (no batch barrier) the driver
records it, runs callbacks, and asks for the next one, so the sampler always sees
the running trials (constant liar and friends work unchanged). A task lost with its
worker (killed process, lost node) is recorded FAIL and, if the study allows
retries, rerun. Everything goes through the study's public execution interface
(hyperdial/_execution.py) and the executor protocol (executors/base.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from hyperdial._plugins import NextTrial
from hyperdial.exceptions import Terminated, invalid
from hyperdial.executors.base import LocalThreads, RemotePool, TrialExecutor, TrialJob
from hyperdial.executors.gpus import GpuSlots
from hyperdial.executors.remote import Outcome, storage_url_of
from hyperdial.trial import FrozenTrial, Trial

if TYPE_CHECKING:
    from hyperdial.study import Study

_logger = logging.getLogger("hyperdial")


_EXECUTOR_RULE = ("must be 'thread', 'process', a concurrent.futures.Executor, "
                  "hd.executors.Dask(...) or hd.executors.Ray(...)")


def check_executor(executor: Any) -> None:
    """Refuse what `open_executor` could not start (a typo such as "proces"), before anything else."""
    if executor is None:
        return
    if isinstance(executor, str) and executor not in ("thread", "process"):
        raise invalid("executor", _EXECUTOR_RULE, executor)
    if not isinstance(executor, (str, Executor)) and not (hasattr(executor, "start") and hasattr(executor, "close")):
        raise invalid("executor", _EXECUTOR_RULE, executor)


def open_executor(study: Study, executor: Any, n_jobs: int | None, gpus_per_trial: int) -> tuple[TrialExecutor, int]:
    """The executor for `executor`, and how many trials to keep in flight (`n_jobs`, or when
    None what the executor offers: see `Study.optimize`)."""
    if executor is None or executor == "thread":
        n = n_jobs or 1
        return LocalThreads(n), n
    storage_url_of(study)  # other processes must be able to open the study: refuse memory up front
    if executor == "process":
        n = n_jobs or 1  # isolation, not parallelism, unless asked: each trial may use every core
        # spawn: forking a process that runs threads (heartbeats, SQLAlchemy pools) is unsafe.
        # One task per child when GPUs are assigned: CUDA reads CUDA_VISIBLE_DEVICES once per process.
        pool: Executor
        if gpus_per_trial and sys.version_info < (3, 11):  # no max_tasks_per_child before 3.11
            pool = _ProcessPerTask()
        else:
            extra: dict[str, Any] = {"max_tasks_per_child": 1} if gpus_per_trial else {}
            pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"), **extra)
        return RemotePool(pool, owned=True), n
    if hasattr(executor, "start") and hasattr(executor, "close"):  # hd.executors.Dask / Ray
        started: Executor = executor.start(n_jobs, gpus_per_trial)
        if n_jobs is None:
            try:
                n_jobs = max(1, int(executor.capacity(gpus_per_trial)))
            except BaseException:
                executor.close()
                raise
            _logger.info("%d trials at once: what %s offers now (pass n_jobs to choose)", n_jobs, type(executor).__name__)
        return RemotePool(started, owned=False, on_close=executor.close), n_jobs
    if isinstance(executor, Executor):
        size = getattr(executor, "_max_workers", None)  # the stdlib pools' size: fill them by default
        n = n_jobs or (size if isinstance(size, int) and size > 0 else 1)
        return RemotePool(executor, owned=False), n  # the caller owns it
    raise invalid("executor", _EXECUTOR_RULE, executor)


class _ProcessPerTask(Executor):
    """A fresh spawned process for every task (what `max_tasks_per_child=1` does from Python 3.11);
    the driver bounds how many run at once."""

    def __init__(self) -> None:
        self._pools: set[ProcessPoolExecutor] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._pools.add(pool)
        future = pool.submit(fn, *args, **kwargs)

        def done(_: Future[Any]) -> None:
            self._pools.discard(pool)
            pool.shutdown(wait=False)

        future.add_done_callback(done)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in list(self._pools):
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


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
    *,
    deterministic: bool = False,
    next_trial: Callable[[], NextTrial] | None = None,
    idle: Callable[[], bool] | None = None,
) -> None:
    """`next_trial`: the scheduler's START / WAIT / DONE before each claim (see _optimize._Budget);
    on WAIT with nothing in flight here, `idle()` lets a moment pass (False: end the run)."""
    slots = GpuSlots(gpus_per_trial) if gpus_per_trial and executor == "process" else None
    if slots is not None:
        n_jobs = min(n_jobs or slots.capacity, slots.capacity)
    pool, n_jobs = open_executor(study, executor, n_jobs, gpus_per_trial)
    in_flight: dict[Future[Outcome], tuple[Trial, str | None]] = {}
    failure: BaseException | None = None
    cancelled = False
    try:
        while True:
            waiting = False
            while failure is None and len(in_flight) < n_jobs and _may_ask(in_flight, deterministic, n_jobs):
                answer = NextTrial.START if next_trial is None else next_trial()
                if answer == NextTrial.WAIT:
                    waiting = True
                    break
                if answer == NextTrial.DONE or not claim():
                    break
                devices = slots.acquire() if slots is not None else None
                # `ask` starts the driver's heartbeat for the trial, kept while it holds the future
                # (the task may wait in a queue, or be rescheduled by the cluster).
                trial = study.ask(space, lag=n_jobs if deterministic else None)
                job = TrialJob(study, trial, func, catch, space is not None, with_trial, devices)
                in_flight[pool.submit(job)] = (trial, devices)
            if not in_flight:
                if waiting and failure is None and idle is not None and idle():
                    continue
                break
            done, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                trial, devices = in_flight.pop(future)
                if devices is not None and slots is not None:
                    slots.release(devices)
                frozen = _collect(study, trial, future)
                if isinstance(frozen, BaseException):
                    failure = failure or frozen
                    study.stop()  # one trial failed: the others finish and nothing new starts
                elif frozen is not None:
                    on_finished(frozen)
    except (KeyboardInterrupt, Terminated) as exc:
        study.stop()
        cancelled = True
        for trial, _ in in_flight.values():
            study.fail_trial(trial, f"{type(exc).__name__}: interrupted")
        raise
    finally:
        pool.close(cancel=cancelled)
    if failure is not None:
        raise failure


def _may_ask(in_flight: Mapping[Future[Outcome], tuple[Trial, str | None]], deterministic: bool, lag: int) -> bool:
    """Deterministic runs: the next trial (numbered after the newest in flight) sees the trials up to
    its number - lag, so those must be done first. Waited for here, on their futures, where a lost
    task is noticed at once (waiting inside `ask` would wait for the reaper)."""
    if not deterministic or not in_flight:
        return True
    numbers = [trial.number for trial, _ in in_flight.values()]
    return min(numbers) > max(numbers) + 1 - lag


def _collect(study: Study, trial: Trial, future: Future[Outcome]) -> FrozenTrial | BaseException | None:
    try:
        outcome = future.result()
    except BaseException as exc:  # noqa: BLE001 - the worker died or the task was lost
        _logger.warning("Trial %d was lost with its worker: %s: %s", trial.number, type(exc).__name__, exc)
        return study.fail_trial(trial, f"worker lost: {type(exc).__name__}: {exc}")
    study.keep_alive(trial, alive=False)
    if outcome.state is None:
        return None  # nothing ran: the trial was finished elsewhere before its task started
    if outcome.frozen is not None and outcome.logged:
        frozen: FrozenTrial = outcome.frozen  # run in this process: recorded and logged by its tell
    else:
        frozen = study.record_finished(trial, frozen=outcome.frozen)
    if outcome.error is not None:
        return outcome.error
    return frozen
