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

import pickle
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

    def remote(self, sampler_blob: bytes | None = None) -> RemoteTask:
        """The picklable form, for a worker that opens the study by URL (`sampler_blob`: the
        pickled sampler for its new parameters, when the caller already has it)."""
        proposal = self.trial.proposal
        if sampler_blob is None:
            sampler_blob = pickle.dumps(self.study.sampler_for(self.trial))
        return RemoteTask(
            storage_url=storage_url_of(self.study), study_name=self.study.study_name,
            trial_id=self.trial.trial_id, func=self.func, sampler=sampler_blob,
            pruner=self.study.pruner, scheduler=self.study.scheduler,
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
        self._shared: tuple[Any, bytes] | None = None  # (the study's sampler, its pickle)

    def submit(self, job: TrialJob) -> Future[Outcome]:
        sampler = job.study.sampler_for(job.trial)
        if sampler is job.study.sampler:
            # The study's shared sampler, pickled once per run: a worker uses it only for parameters
            # the driver's joint proposal did not cover (recomputing its state from the history), so a
            # snapshot serves every task, and its caches (tens of KB after a few hundred trials) are
            # not pickled and shipped with each one.
            if self._shared is None or self._shared[0] is not sampler:
                self._shared = (sampler, pickle.dumps(sampler))
            blob = self._shared[1]
        else:  # a deterministic run's per-trial fork
            blob = pickle.dumps(sampler)
        return self._pool.submit(run_remote_trial, job.remote(blob))

    def close(self, *, cancel: bool = False) -> None:
        if cancel or self._owned:  # on Ctrl-C, queued tasks are cancelled (Ray's running ones too)
            self._pool.shutdown(wait=not cancel, cancel_futures=True)
        if self._on_close is not None:
            self._on_close()
