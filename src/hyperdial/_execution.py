"""The study's execution interface: what runs a trial anywhere but inside `optimize`'s own loop.

Executors (threads, processes, Dask, Ray), `hyperdial worker`, sweep agents and
schedulers all run trials through these public methods of `Study`, and nothing else:

- `hd.open_study(study_name=..., storage=url)` opens the study in another process
  (without touching that process's logging); `study.storage_url` is the URL to ship.
- The driver creates a trial with `study.ask()`: the storage numbers it and the sampler
  proposes the joint space; `trial.proposal` is that proposal, to ship with the trial.
- Where it runs, `study.start_trial(trial_id, proposal=...)` takes the trial up:
  `suggest_*` return the driver's proposal (or ask this process's sampler for new,
  conditional parameters), reports and pruning decisions go to the storage, and this
  process beats for the trial. `study.run_trial(trial, func, ...)` runs the objective
  and records the outcome exactly as `optimize` does; when it runs in another thread or
  process than the `ask`, it first stores that as the trial's worker (`system_attrs.WORKER`).
- Back in the driver, `study.record_finished(trial)` reads the outcome (logs it, updates
  `best_seen`); `study.fail_trial(trial, reason)` records a trial whose run was lost
  (and queues its rerun while `max_retries` allows); `study.keep_alive(trial)` beats for
  a trial whose task waits in a queue.
- Schedulers (pause/promote, PBT) queue a trial with `study.add_waiting_trial(params,
  resume_from=..., system_attrs=...)`: the next `ask` anywhere claims it, and its
  `trial.load_checkpoint()` starts from `resume_from`'s latest checkpoint (docs/checkpoints.md).
- `study.stop()` / `study.stop_requested` end a run cooperatively; `study.reap_stale_trials()` fails (and
  reruns) trials whose worker died (liveness, docs/reliability.md).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from hyperdial import _clock
from hyperdial._enqueue import check_against_history
from hyperdial._heartbeat import cutoff, retry_template, stale_reason
from hyperdial._validation import Int, Real, check
from hyperdial.exceptions import TrialFinishedError, invalid
from hyperdial.system_attrs import FAIL_REASON, FIXED_PARAMS, RESUME_FROM, RETRY_COUNT, WORKER
from hyperdial.trial import FrozenTrial, Proposal, Trial, TrialState, json_attr

_logger = logging.getLogger("hyperdial")
_host: str | None = None


def worker_name() -> str:
    """Where the calling code runs, as stored in `system_attrs.WORKER`: "host:pid", with
    "/thread name" outside the main thread (threads of one process are separate lanes).

    >>> import os
    >>> worker_name().endswith(f":{os.getpid()}")
    True
    """
    global _host
    if _host is None:
        _host = socket.gethostname()
    thread = threading.current_thread()
    here = f"{_host}:{os.getpid()}"
    return here if thread is threading.main_thread() else f"{here}/{thread.name}"


class ExecutionInterface:
    """Mixed into `Study` (see the module docstring); every method is public and documented."""

    # Provided by Study.
    _storage: Any
    _study_id: int
    _heartbeat: Any
    _stop: Any
    _best_seen: FrozenTrial | None
    max_retries: int
    heartbeat_interval: float | None
    grace_period: float | None
    _last_reap: float

    @property
    def storage_url(self) -> str | None:
        """The URL other processes open this study's storage with; None for in-memory storages.

        >>> import hyperdial as hd
        >>> hd.create_study().storage_url is None
        True
        """
        from hyperdial.storage.memory import InMemoryStorage

        if isinstance(self._storage, InMemoryStorage):
            return None
        url = getattr(self._storage, "url", None)
        if not isinstance(url, str):
            return None
        db = getattr(self._storage, "db", None)
        if db is not None and db.is_sqlite and db.sqlite_path() is None:  # sqlite://, sqlite:///:memory:
            return None
        return url

    @property
    def best_seen(self) -> FrozenTrial | None:
        """The best COMPLETE trial this study object has recorded or read back (single objective)."""
        return self._best_seen

    @property
    def stop_requested(self) -> bool:
        """Whether `stop()` was called since the current `optimize` began."""
        return bool(self._stop.is_set())

    def start_trial(self, trial_id: int, *, proposal: Proposal | None = None) -> Trial | None:
        """Take up, in this process, a RUNNING trial that `ask` created elsewhere.

        Its `suggest_*` return `proposal`'s values (the driver's joint sample) or ask this
        study's sampler; this process beats for it until it is recorded. None when the trial
        was finished meanwhile (a reaper or another process recorded it).
        """
        frozen = self._storage.get_trial(trial_id)
        if frozen.state.is_finished():
            return None
        if frozen.state != TrialState.RUNNING:
            raise invalid("trial_id", "must name a RUNNING trial (claim WAITING ones with ask)", trial_id)
        trial = Trial(self, frozen)  # type: ignore[arg-type]
        trial._history = self._lazy_history()  # type: ignore[attr-defined]
        if proposal is not None:
            trial._relative = dict(proposal.params)
            trial._relative_space = dict(proposal.space)
            if proposal.visible_through is not None:  # deterministic run: see what the driver saw
                trial._visible_through = proposal.visible_through
                trial._history = self._settled_view(proposal.visible_through, wait=False)  # type: ignore[attr-defined]
        self.keep_alive(trial)
        return trial

    def run_trial(
        self,
        trial: Trial,
        func: Callable[..., Any],
        *,
        catch: tuple[type[BaseException], ...] = (),
        config: bool = False,
        with_trial: bool = False,
    ) -> FrozenTrial:
        """Run the objective on a started trial and record the outcome, as `optimize` does.

        `func(trial)`, or with `config=True` `func(dict_of_params)` (`func(params, trial)`
        with `with_trial=True`). An exception in `catch` is recorded and the trial returned;
        any other is recorded, then raised. A trial taken from this process meanwhile
        (reaped, or told elsewhere) is logged and its result dropped.
        """
        from hyperdial._optimize import execute_trial

        here = worker_name()
        if trial.system_attrs.get(WORKER) != here:  # `ask` stored the driver's thread or process
            try:
                trial.set_system_attr(WORKER, here)
            except TrialFinishedError:
                _logger.warning("Trial %d was finished elsewhere before it started here", trial.number)
                return self._storage.get_trial(trial.trial_id)
        return execute_trial(self, trial, func, catch, config, with_trial)  # type: ignore[arg-type]

    def fail_trial(self, trial: Trial, reason: str, *, rerun: bool = True) -> FrozenTrial | None:
        """Record FAIL with `reason` for a trial whose run was lost or interrupted, and queue its
        rerun while `max_retries` allows; None when it was finished meanwhile by someone else."""
        try:
            frozen = self.tell(trial, state=TrialState.FAIL, fail_reason=reason)  # type: ignore[attr-defined]
        except TrialFinishedError:
            return None
        if rerun:
            self.requeue(frozen)
        return frozen

    def requeue(self, trial: FrozenTrial) -> FrozenTrial | None:
        """Queue a failed trial's parameters as a new WAITING trial (linked by `retry_of`) while
        `max_retries` allows; returns the new trial, or None when its retries are used up."""
        template = retry_template(trial, self.max_retries)
        if template is None:
            return None
        created: FrozenTrial = self._storage.create_trial(self._study_id, template=template)
        _logger.warning("Trial %d will rerun the parameters of trial %d (retry %d of %d)",
                        created.number, trial.number, template.system_attrs[RETRY_COUNT], self.max_retries)
        return created

    def add_waiting_trial(
        self,
        params: Mapping[str, Any],
        *,
        user_attrs: Mapping[str, Any] | None = None,
        system_attrs: Mapping[str, Any] | None = None,
        skip_if_exists: bool = False,
        resume_from: Trial | FrozenTrial | int | None = None,
    ) -> FrozenTrial | None:
        """`enqueue_trial` returning the WAITING trial it created (None when skipped), for schedulers:
        the next `ask` in any process claims it, and `system_attrs` (JSON, keys of the scheduler's
        own) travel with it. See the execution interface (docs/design-notes.md).

        >>> import hyperdial as hd
        >>> study = hd.create_study()
        >>> first = study.ask(); study.tell(first, 1.0).number
        0
        >>> study.add_waiting_trial({"x": 1}, resume_from=first).system_attrs["resume_from"]
        0
        """
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise invalid("params", "must be a dict with string keys", params)
        try:
            json.dumps(dict(params), allow_nan=False)
        except (TypeError, ValueError):
            raise invalid("params", "must hold JSON numbers, strings, booleans or None", dict(params)) from None
        trials = self.history().trials  # type: ignore[attr-defined]
        check_against_history(params, trials)
        if skip_if_exists:
            for t in trials:
                if {**t.system_attrs.get(FIXED_PARAMS, {}), **t.params} == dict(params):
                    return None
        system = {k: json_attr(k, v) for k, v in (system_attrs or {}).items()}
        system[FIXED_PARAMS] = dict(params)
        if resume_from is not None:
            number = resume_from.number if isinstance(resume_from, (Trial, FrozenTrial)) else resume_from
            number = check("resume_from", number, Int(low=0), rule="must be a trial of this study or its number")
            if isinstance(resume_from, Trial) and resume_from.study is not self or not any(
                    t.number == number for t in trials):
                raise invalid("resume_from", "must be a trial of this study or its number", resume_from)
            system[RESUME_FROM] = number
        template = FrozenTrial(
            number=-1,
            state=TrialState.WAITING,
            user_attrs={k: json_attr(k, v) for k, v in (user_attrs or {}).items()},
            system_attrs=system,
        )
        created: FrozenTrial = self._storage.create_trial(self._study_id, template=template)
        return created

    def keep_alive(self, trial: Trial | int, alive: bool = True) -> None:
        """Beat for a trial from this process (with liveness on), or stop beating with
        `alive=False`. A driver beats while it holds a trial's task, which may wait in a queue."""
        if self._heartbeat is None:
            return
        trial_id = trial.trial_id if isinstance(trial, Trial) else trial
        if alive:
            self._heartbeat.add(trial_id)
        else:
            self._heartbeat.remove(trial_id)

    def record_finished(self, trial: Trial | int, *, frozen: FrozenTrial | None = None) -> FrozenTrial:
        """A trial that finished elsewhere, logged and counted in `best_seen`: `frozen` when the
        worker sent it back, else read from the storage."""
        trial_id = trial.trial_id if isinstance(trial, Trial) else trial
        self.keep_alive(trial_id, alive=False)
        if frozen is None:
            frozen = self._storage.get_trial(trial_id)
        self._log_finished(frozen, frozen.system_attrs.get(FAIL_REASON))  # type: ignore[attr-defined]
        return frozen

    def reap_stale_trials(self, *, force: bool = False, older_than: float | None = None) -> list[FrozenTrial]:
        """Fail RUNNING trials whose heartbeat (their start, if they never beat) is older than
        `older_than` seconds (default: the study's `grace_period`), and rerun them where
        `max_retries` allows. Returns the trials this call failed.

        `ask` calls it (at most every half heartbeat interval); `hyperdial fail-stale` calls it
        with `older_than` for studies whose workers died without liveness on.
        """
        if older_than is None:
            if self.heartbeat_interval is None or self.grace_period is None:
                return []
            now = _clock.now()
            if not force and abs(now - self._last_reap) < self.heartbeat_interval / 2:
                return []
            self._last_reap = now
            older_than = self.grace_period
        else:
            check("older_than", older_than, Real(low=0, what="a number of seconds"))
        stale = self._storage.fail_stale_trials(self._study_id, cutoff(older_than), stale_reason(older_than))
        for t in stale:
            _logger.warning("Trial %d failed: %s", t.number, t.system_attrs.get(FAIL_REASON))
            self.requeue(t)
        return stale
