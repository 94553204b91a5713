"""The executor protocol: `submit(job) -> Future[Outcome]` and `close()`.

The driver (`executors/driver.py`) asks for each trial in its own process and hands it
to an executor as a `TrialJob`; the executor runs it somewhere and the future resolves
to an `Outcome` once the trial is recorded in the storage. Two implementations cover
every place trials run:
- `LocalThreads`: threads of this process, on the driver's own study object;
- `RemotePool`: any `concurrent.futures.Executor` whose workers open the study by its
  storage URL (`hd.open_study`) and take the trial up with `study.start_trial`: a spawned
  process pool (`executor="process"`), a Dask client's executor, Ray tasks, or a pool
  of your own.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hyperdial.executors.remote import Outcome, RemoteTask, run_remote_trial, storage_url_of
from hyperdial.trial import TrialState

if TYPE_CHECKING:
    from hyperdial.study import Study
    from hyperdial.trial import Trial


@dataclass
class TrialJob:
    """One asked trial and how to run it: what the driver hands an executor."""

    study: Study
    trial: Trial
    func: Callable[..., Any]
    catch: tuple[type[BaseException], ...] = ()
    config: bool = False  # func(params) rather than func(trial)
    with_trial: bool = False  # func(params, trial)
    devices: str | None = None  # CUDA_VISIBLE_DEVICES for this trial

    def remote(self) -> RemoteTask:
        """The picklable form, for a worker that opens the study by URL."""
        proposal = self.trial.proposal
        return RemoteTask(
            storage_url=storage_url_of(self.study), study_name=self.study.study_name,
            trial_id=self.trial.trial_id, func=self.func, sampler=self.study.sampler_for(self.trial),
            pruner=self.study.pruner,
            relative=dict(proposal.params), relative_space=dict(proposal.space),
            visible_through=proposal.visible_through, declarative=self.config,
            with_trial=self.with_trial, catch=self.catch, cuda_visible_devices=self.devices,
        )


class TrialExecutor(Protocol):
    def submit(self, job: TrialJob) -> Future[Outcome]:
        """Start running `job`; the future resolves once its trial is recorded."""

    def close(self, *, cancel: bool = False) -> None:
        """Release what the executor holds; `cancel=True` (Ctrl-C) does not wait for running trials."""


def _run_here(job: TrialJob) -> Outcome:
    try:
        done = job.study.run_trial(job.trial, job.func, catch=job.catch, config=job.config,
                                   with_trial=job.with_trial)
    except Exception as exc:  # noqa: BLE001 - recorded as FAIL already; the driver decides
        return Outcome(job.trial.number, TrialState.FAIL, exc)
    return Outcome(done.number, done.state, frozen=done)


class LocalThreads:
    """Trials in threads of this process, on the driver's study object (no storage round trip)."""

    def __init__(self, n_jobs: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="hyperdial")

    def submit(self, job: TrialJob) -> Future[Outcome]:
        return self._pool.submit(_run_here, job)

    def close(self, *, cancel: bool = False) -> None:
        # Threads cannot be interrupted: on Ctrl-C their trials are recorded by the driver and
        # whatever they return later is dropped (their next write finds the trial taken).
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


class RemotePool:
    """Trials on any `concurrent.futures.Executor` whose workers open the study by URL."""

    def __init__(self, pool: Executor, *, owned: bool, on_close: Callable[[], None] | None = None) -> None:
        self._pool = pool
        self._owned = owned  # shut down here (a process pool started for the call), or the caller's
        self._on_close = on_close

    def submit(self, job: TrialJob) -> Future[Outcome]:
        return self._pool.submit(run_remote_trial, job.remote())

    def close(self, *, cancel: bool = False) -> None:
        if cancel or self._owned:  # on Ctrl-C, queued tasks are cancelled (Ray's running ones too)
            self._pool.shutdown(wait=not cancel, cancel_futures=True)
        if self._on_close is not None:
            self._on_close()
