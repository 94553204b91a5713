"""The `optimize` loop: ask, run the objective, tell; in threads when n_jobs > 1."""

from __future__ import annotations

import inspect
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hyperdial import _clock, _plugins
from hyperdial._progress import Progress as _Progress
from hyperdial._validation import Bool, Int, IsCallable, OneOf, Real, check
from hyperdial.exceptions import Terminated, TrialFinishedError, TrialPruned, invalid
from hyperdial.space import parse_space
from hyperdial.system_attrs import FAIL_REASON, RETRY_OF, SKIPPED, STOP_REQUEST
from hyperdial.trial import FrozenTrial, Trial, TrialState

if TYPE_CHECKING:
    from hyperdial.study import Study

_logger = logging.getLogger("hyperdial")


def _check_args(
    n_trials: Any, timeout: Any, n_jobs: Any, catch: Any
) -> tuple[int | None, float | None, int | None, tuple[type[BaseException], ...]]:
    n_trials = check("n_trials", n_trials, Int(low=0), None)
    timeout = check("timeout", timeout, Real(low=0, closed="neither", what="a number of seconds"), None)
    n_jobs = check("n_jobs", n_jobs, Int(low=1), OneOf(-1), None, rule="must be an int >= 1, or -1 for one per CPU")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    rule = "must be an exception class or a tuple of them (ValueError, not ValueError())"
    if isinstance(catch, type):
        catch = (catch,)
    if isinstance(catch, (BaseException, str)) or not hasattr(catch, "__iter__"):
        raise invalid("catch", rule, catch)
    catch = tuple(catch)
    for c in catch:
        if not (isinstance(c, type) and issubclass(c, BaseException)):
            raise invalid("catch", rule, c)
    return n_trials, timeout, n_jobs, catch


def _wants_trial(func: Callable[..., Any]) -> bool:
    try:
        params = [
            p
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        return False
    return len(params) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def study_total(study: Study) -> int:
    """Trials that count toward a study-wide budget: all but failed ones that were rerun."""
    trials = study.history().trials
    rerun = {t.system_attrs[RETRY_OF] for t in trials if RETRY_OF in t.system_attrs}
    return sum(1 for t in trials if not (t.state == TrialState.FAIL and t.number in rerun))


def _handle_sigterm() -> Callable[[], None]:
    """Turn SIGTERM into `Terminated` in the main thread while optimize runs."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main interpreter thread
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def run_trial(
    study: Study,
    func: Callable[..., Any],
    catch: tuple[type[BaseException], ...],
    space: Mapping[str, Any] | None = None,
    with_trial: bool = False,
    lag: int | None = None,
) -> FrozenTrial:
    """Ask for a trial, run it to its end and record it; re-raise what `catch` does not cover."""
    trial = study.ask(space, lag=lag)
    return execute_trial(study, trial, func, catch, space is not None, with_trial)


def execute_trial(
    study: Study,
    trial: Trial,
    func: Callable[..., Any],
    catch: tuple[type[BaseException], ...],
    declarative: bool,
    with_trial: bool,
) -> FrozenTrial:
    """Run the objective on a started trial and record the outcome (here or on a remote worker).

    A trial can be taken from its worker: failed as stale by another process (this one was
    paused, or its heartbeats could not get through) or finished by someone's `tell`. The
    worker learns it at its next write (a suggest, a report, the final tell), logs it, drops
    its own result and goes on with the study. Dropped rather than attached to the rerun:
    the rerun may already be running elsewhere with the same parameters, and a study whose
    trials change after they finish could not be trusted by samplers or by other readers.
    """
    if not _plugins.admits(study.scheduler, study.history, trial.freeze()):
        # Past the scheduler's budget (another process started the last configuration at the same
        # moment): ended before the objective runs, and never counted as a configuration.
        trial.set_system_attr(SKIPPED, "not admitted by the scheduler (its budget was reached)")
        return study.tell(trial, state=TrialState.PRUNED)
    try:
        return _run_objective(study, trial, lambda: _call(func, trial, declarative, with_trial), catch)
    except TrialFinishedError:
        stored = _finished_elsewhere(study, trial)
        if stored is None:
            raise
        _logger.warning(
            "Trial %d was taken from this worker (it is %s in the storage: %s); its result here is dropped",
            trial.number, stored.state.name, stored.system_attrs.get(FAIL_REASON, "finished elsewhere"),
        )
        return stored


def _finished_elsewhere(study: Study, trial: Trial) -> FrozenTrial | None:
    """The stored trial, when the storage holds it finished while this worker still runs it."""
    try:
        stored = study.storage.get_trial(trial.trial_id)
    except Exception:  # noqa: BLE001 - cannot tell: let the original error speak
        return None
    return stored if stored.state.is_finished() else None


def _call(func: Callable[..., Any], trial: Trial, declarative: bool, with_trial: bool) -> Any:
    """The objective's own call: `func(trial)`, or with a declarative space `func(config[, trial])`."""
    if not declarative:
        return func(trial)
    config = dict(trial.params)
    return func(config, trial) if with_trial else func(config)


def _run_objective(study: Study, trial: Trial, call: Callable[[], Any], catch: tuple[type[BaseException], ...]) -> FrozenTrial:
    """Run `call` and record its outcome: COMPLETE, PRUNED, or FAIL with the reason."""
    try:
        result = call()
    except TrialPruned:
        return study.tell(trial, state=TrialState.PRUNED)
    except TrialFinishedError:
        raise  # the trial was taken from this worker (see execute_trial)
    except BaseException as exc:  # every failure is recorded before it propagates
        reason = "Terminated: SIGTERM" if isinstance(exc, Terminated) else f"{type(exc).__name__}: {exc}"
        try:
            frozen = study.tell(trial, state=TrialState.FAIL, fail_reason=reason)
        except TrialFinishedError:  # Ctrl-C in another thread, or another process, recorded it first
            if isinstance(exc, Exception) and not isinstance(exc, Terminated):
                raise
            raise exc from None
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            study.requeue(frozen)  # interrupted, not wrong: rerun later if the study allows
        if isinstance(exc, catch) and isinstance(exc, Exception):
            _logger.debug("trial %d raised a caught %s", trial.number, type(exc).__name__)
            return frozen
        raise
    return study.tell(trial, result)


# Seconds between a run's looks at the study's stored stop request (one small read each).
STOP_LOOK_EVERY = 1.0


class _Budget:
    """When to start no new trial: `stop()` (here, or `stop(everywhere=True)` anywhere after this
    run began), `n_trials` (this call's or the study's), `timeout`, or a sampler with nothing left
    to propose. `claim()` is thread-safe.

    A scheduler may also say, before a claim, to wait (`next_trial()` is WAIT: a synchronous
    rung waits for its last trials, here or in other processes) or that it is done; `idle()`
    waits a moment while nothing runs here."""

    def __init__(self, study: Study, n_trials: int | None, scope: str, timeout: float | None) -> None:
        self.study = study
        self.n_trials = n_trials
        self.scope = scope
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.started = 0
        self._lock = threading.Lock()
        self._began = _clock.now()
        self._last_look = -math.inf
        self._stopped = False  # sticky: a stop request seen once holds for the rest of the run
        self._idle_delay = 0.02

    def claim(self) -> bool:
        with self._lock:
            if self.study.stop_requested or self._spent() or self._stopped_elsewhere():
                return False
            if _plugins.is_exhausted(self.study.sampler, self.study.history):
                _logger.info("the sampler's search space is exhausted; stopping")
                return False
            self.started += 1
            return True

    def _stopped_elsewhere(self) -> bool:
        now = time.monotonic()
        if self._stopped or now - self._last_look < STOP_LOOK_EVERY:
            return self._stopped
        self._last_look = now
        at = self.study.storage.get_study(self.study.study_name).system_attrs.get(STOP_REQUEST)
        if isinstance(at, (int, float)) and at >= self._began:
            _logger.info("stop requested through the storage; starting no new trial")
            self._stopped = True
        return self._stopped

    def next_trial(self) -> _plugins.NextTrial:
        """The scheduler's word (START without one). DONE also when the budget is spent: waiting
        for a rung would be pointless then."""
        if self.study.scheduler is None:
            return _plugins.NextTrial.START
        answer = _plugins.next_trial(self.study.scheduler, self.study.history)
        if answer == _plugins.NextTrial.WAIT and (self.study.stop_requested or self._spent() or self._stopped_elsewhere()):
            return _plugins.NextTrial.DONE
        if answer != _plugins.NextTrial.WAIT:
            self._idle_delay = 0.02
        return answer

    def idle(self) -> bool:
        """Nothing runs here and the scheduler says WAIT: let a moment pass (reaping dead workers'
        trials, which would block the wait forever). False when the run should end instead."""
        if self.study.stop_requested or self._stopped_elsewhere() or (
                self.deadline is not None and time.monotonic() >= self.deadline):
            return False
        self.study.reap_stale_trials()
        time.sleep(self._idle_delay)
        self._idle_delay = min(2 * self._idle_delay, 0.5)
        return True

    def _spent(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        if self.n_trials is None:
            return False
        done = study_total(self.study) if self.scope == "study" else self.started
        return done >= self.n_trials


def _check_run(
    func: Any, n_trials: Any, timeout: Any, n_jobs: Any, catch: Any, n_trials_scope: Any, executor: Any,
    gpus_per_trial: Any, deterministic: Any,
) -> tuple[int | None, float | None, int | None, tuple[type[BaseException], ...], Any, int]:
    """Every argument of `optimize`, checked before anything runs; the executor is None for threads."""
    gpus_per_trial = check("gpus_per_trial", gpus_per_trial, Int(low=0))
    if executor is None or executor == "thread":
        executor = None
        if gpus_per_trial:
            raise invalid("gpus_per_trial", "needs executor='process', Dask or Ray "
                          "(CUDA_VISIBLE_DEVICES is per process, not per thread)", gpus_per_trial)
    else:
        from hyperdial.executors.driver import check_executor

        check_executor(executor)  # a typo is named before the storage is looked at
    check("deterministic", deterministic, Bool())
    check("n_trials_scope", n_trials_scope, OneOf("call", "study"))
    if n_trials_scope == "study" and n_trials is None:
        raise invalid("n_trials", "is needed with n_trials_scope='study'", n_trials)
    check("func", func, IsCallable())
    n_trials, timeout, n_jobs, catch = _check_args(n_trials, timeout, n_jobs, catch)
    return n_trials, timeout, n_jobs, catch, executor, gpus_per_trial


def run_optimize(
    study: Study,
    func: Callable[..., Any],
    n_trials: int | None,
    timeout: float | None,
    n_jobs: int | None,
    catch: Any,
    callbacks: Iterable[Callable[[Study, FrozenTrial], None]],
    show_progress_bar: bool,
    space: Mapping[str, Any] | None,
    n_trials_scope: str = "call",
    executor: Any = None,
    gpus_per_trial: int = 0,
    deterministic: bool = False,
) -> None:
    """`Study.optimize`: one trial at a time in this thread, or through the driver (executors/driver.py)."""
    n_trials, timeout, n_jobs, catch, executor, gpus_per_trial = _check_run(
        func, n_trials, timeout, n_jobs, catch, n_trials_scope, executor, gpus_per_trial, deterministic)
    callbacks = list(callbacks)
    if space is not None:
        space = parse_space(space)
    with_trial = space is not None and _wants_trial(func)
    budget = _Budget(study, n_trials, n_trials_scope, timeout)
    _plugins.warm_up(study.sampler)  # e.g. Auto imports its models here, not inside the first GP trial
    progress = _Progress(study, n_trials, timeout, show_progress_bar)

    def finished(frozen: FrozenTrial) -> None:
        progress.update(frozen)
        for cb in callbacks:
            cb(study, frozen)

    restore = _handle_sigterm()
    try:
        if executor is None and (n_jobs is None or n_jobs == 1):  # one trial at a time, in this thread
            while True:
                answer = budget.next_trial()
                if answer == _plugins.NextTrial.WAIT:
                    if budget.idle():
                        continue
                    break
                if answer == _plugins.NextTrial.DONE or not budget.claim():
                    break
                finished(run_trial(study, func, catch, space, with_trial, 1 if deterministic else None))
        else:
            from hyperdial.executors.driver import run_on_executor

            run_on_executor(study, executor, n_jobs, gpus_per_trial, func, catch, space, with_trial, budget.claim,
                            finished, deterministic=deterministic, next_trial=budget.next_trial, idle=budget.idle)
    finally:
        restore()
        progress.close()
