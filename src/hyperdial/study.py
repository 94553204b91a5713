"""`Study`: ask / tell over a storage; `optimize` is a short loop over them (see `_optimize.py`)."""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hyperdial import _clock, _plugins
from hyperdial._cache import TrialCache
from hyperdial._checkpointing import StudyArtifacts, check_location
from hyperdial._enqueue import check_enqueued
from hyperdial._execution import ExecutionInterface, worker_name
from hyperdial._heartbeat import Heartbeat
from hyperdial._validation import Int, as_number, check
from hyperdial.checkpoints import KeepCheckpoints
from hyperdial.exceptions import HyperdialError, InvalidParameterError, invalid
from hyperdial.history import History, StudyDirection
from hyperdial.pruners.base import Decision
from hyperdial.space import Distribution, parse_space
from hyperdial.storage.base import Storage
from hyperdial.system_attrs import (
    DUPLICATE_OF,
    FAIL_REASON,
    FIXED_PARAMS,
    PAUSED,
    SAMPLER_CHOICE,
    STOP_REQUEST,
    SUCCESSOR_OF,
    WORKER,
)
from hyperdial.transform import decode
from hyperdial.trial import PROPOSAL_KEY, FrozenTrial, Trial, TrialState, json_attr

if TYPE_CHECKING:
    from hyperdial.pruners.base import Pruner
    from hyperdial.samplers.base import Sampler

_logger = logging.getLogger("hyperdial")


class NoCompletedTrials(HyperdialError, ValueError):
    """`best_*` was asked before any trial completed."""


def check_plugins(sampler: object, pruner: object, scheduler: object = None) -> None:
    """Fail early on objects that do not follow the sampler / pruner / scheduler protocols.

    A class (`sampler=hd.samplers.TPE`) has the methods too, unbound: refused with a hint.
    """
    if scheduler is not None and not isinstance(scheduler, type) and not callable(
            getattr(scheduler, "on_trial_finished", None)):
        raise invalid("scheduler", "must have an on_trial_finished(study, trial) method", scheduler)
    for param, plugin in (("sampler", sampler), ("pruner", pruner), ("scheduler", scheduler)):
        if isinstance(plugin, type):
            raise invalid(param, f"must be an instance, not a class; pass an instance: {plugin.__name__}()", plugin)
    if sampler is not None and not callable(getattr(sampler, "sample", None)):
        raise invalid("sampler", "must have a sample(history, trial, space) method", sampler)
    if pruner is not None and not callable(getattr(pruner, "should_prune", None)):
        raise invalid("pruner", "must have a should_prune(history, trial) method", pruner)


class Study(ExecutionInterface):
    """A named set of trials in a storage, with the sampler and pruner that drive it.

    Create one with `hd.create_study` or `hd.load_study`.

    >>> import hyperdial as hd
    >>> study = hd.create_study(direction="maximize", seed=1)
    >>> study.optimize(lambda t: -(t.suggest_float("x", -2, 2) - 1) ** 2, n_trials=20, show_progress_bar=False)
    >>> study.best_value <= 0
    True
    """

    def __init__(
        self,
        *,
        study_name: str,
        storage: Storage,
        study_id: int,
        directions: Sequence[StudyDirection],
        sampler: Sampler,
        pruner: Pruner | None,
        heartbeat_interval: float | None = None,
        grace_period: float | None = None,
        max_retries: int = 0,
        scheduler: Any = None,
        artifacts: str | None = None,
        keep_checkpoints: Any = None,
    ) -> None:
        self.study_name = study_name
        self._storage = storage
        self._study_id = study_id
        self.directions = tuple(directions)
        self.sampler = sampler
        self.pruner = pruner
        # Acts when a trial ends, in the process that records it (`tell`): promotes paused trials,
        # PBT's exploit/explore (schedulers/base.py). Not stored: every process is given its own.
        self.scheduler = scheduler
        self._cache = TrialCache(storage, study_id)
        self._stop = threading.Event()
        self._best_lock = threading.Lock()
        self._best_seen: FrozenTrial | None = None
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period if grace_period is not None else (
            None if heartbeat_interval is None else 2 * heartbeat_interval
        )
        self.max_retries = max_retries
        self._heartbeat = None if heartbeat_interval is None else Heartbeat(storage, heartbeat_interval)
        self._last_reap = 0.0
        self._artifacts_location = check_location(artifacts)
        self.keep_checkpoints = KeepCheckpoints.parse(keep_checkpoints)

    def __repr__(self) -> str:
        return f"Study(study_name={self.study_name!r}, directions={[d.value for d in self.directions]})"

    # -- views ---------------------------------------------------------------
    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def artifacts(self) -> StudyArtifacts:
        """The study's checkpoints and artifacts: `.location`, `.list()`, `.checkpoints()`, `.fetch()`
        (docs/checkpoints.md)."""
        return StudyArtifacts(self, self._artifacts_location)

    @property
    def direction(self) -> StudyDirection:
        if len(self.directions) != 1:
            raise invalid("direction", "is ambiguous in a multi-objective study; use `directions`", self.directions)
        return self.directions[0]

    def history(self) -> History:
        """A fresh read-only view of all trials (fetches only what changed)."""
        trials, joint = self._cache.refresh()
        return History(self.directions, trials, joint_space=joint)

    def _lazy_history(self) -> History:
        return History.lazy(self.directions, self._cache.refresh)

    @property
    def trials(self) -> list[FrozenTrial]:
        """Every trial, ordered by number."""
        return sorted(self.history().trials, key=lambda t: t.number)

    def get_trials(self, *, states: Iterable[TrialState] | None = None) -> list[FrozenTrial]:
        wanted = None if states is None else set(states)
        return [t for t in self.trials if wanted is None or t.state in wanted]

    @property
    def best_trial(self) -> FrozenTrial:
        """The best COMPLETE trial (single objective)."""
        if len(self.directions) > 1:
            raise invalid("best_trial", "is undefined with several objectives; use `best_trials`", self.directions)
        best = self.history().best_trial()
        if best is None:
            raise NoCompletedTrials(f"study {self.study_name!r} has no COMPLETE trial yet")
        return best

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params)

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The Pareto front: COMPLETE trials no other trial dominates."""
        return self.history().pareto_front()

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self._storage.get_study(self.study_name).user_attrs)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON value to the study (checked the same way whatever the storage)."""
        self._storage.set_study_attr(self._study_id, key, json_attr(key, value))

    def trials_dataframe(self) -> Any:
        """All trials as a pandas DataFrame (`pip install 'hyperdial[pandas]'`)."""
        from hyperdial._dataframe import trials_dataframe

        return trials_dataframe(self.trials, len(self.directions))

    def importance(self, *, method: str = "ped-anova", params: Sequence[str] | None = None,
                   target: Callable[[FrozenTrial], float] | None = None) -> dict[str, float]:
        """Parameter importances summing to 1, most important first (see `hyperdial.importance`)."""
        from hyperdial.importance import evaluate

        return evaluate(self, method=method, params=params, target=target)

    # -- ask / tell ------------------------------------------------------------
    def ask(self, space: Mapping[str, Any] | None = None, *, lag: int | None = None) -> Trial:
        """Start a trial (an enqueued one first); with `space`, its parameters are set at once.

        `lag=k` makes the trial reproducible whatever the order in which other trials finish
        (what `optimize(deterministic=True)` uses, with k = n_jobs): trial number n sees only
        the trials numbered up to n - k, waiting until they are all finished, and its
        parameters come from the sampler as it stood after trial n - 1's proposal.

        >>> import hyperdial as hd
        >>> study = hd.create_study(seed=0)
        >>> trial = study.ask({"x": hd.Float(0, 1)})
        >>> 0 <= trial.params["x"] <= 1
        True
        """
        dists = parse_space(space) if space is not None else None
        self.reap_stale_trials()
        # The worker is stored in the same write that claims the trial (no extra round trip).
        frozen = self._storage.create_trial(self._study_id, system_attrs={WORKER: worker_name()})
        while (winner := self._twin_of(frozen)) is not None:
            # A successor queued twice (two processes promoted the same paused trial at once): the
            # lowest-numbered one runs, and this one ends before its objective starts.
            self._storage.set_trial_attr(frozen.trial_id, DUPLICATE_OF, winner, system=True)
            self._storage.finish_trial(frozen.trial_id, TrialState.PRUNED, None)
            _logger.debug("Trial %d is a duplicate of trial %d (both continue trial %d); not run",
                          frozen.number, winner, frozen.system_attrs[SUCCESSOR_OF])
            frozen = self._storage.create_trial(self._study_id, system_attrs={WORKER: worker_name()})
        trial = Trial(self, frozen)
        if self._heartbeat is not None:
            self._heartbeat.add(trial.trial_id)
        if lag is not None:
            lag = check("lag", lag, Int(low=1))
            trial._visible_through = trial.number - lag
            history = self._settled_view(trial._visible_through)
        else:
            history = self._lazy_history()
        trial._history = history
        if _plugins.joint_sampling(self.sampler):
            joint = history.joint_space()
            if joint:
                trial._relative = dict(self.sampler.sample(history, trial.freeze(), joint))
                trial._relative_space = joint
                if trial._relative:
                    # Stored at once, so other processes' samplers see where this trial is headed
                    # (constant liar) before its objective asks for the values.
                    trial.set_system_attr(PROPOSAL_KEY, {
                        "params": {k: v.item() if hasattr(v, "item") else v for k, v in trial._relative.items()},
                        "space": {k: joint[k].to_dict() for k in trial._relative if k in joint},
                    })
                said = _plugins.explain(self.sampler, trial.freeze())
                if said is not None:  # only when the choice changed: a write per change, not per trial
                    trial.set_system_attr(SAMPLER_CHOICE, said)
        if lag is not None:  # its own fork: new parameters asked during the objective never touch the chain
            trial._sampler = copy.deepcopy(self.sampler)
        if dists:
            values = {name: self.propose(trial, name, dist) for name, dist in dists.items() if name not in trial._params}
            if values:
                self._storage.set_params(
                    trial.trial_id, {n: (dists[n].to_internal(v), dists[n]) for n, v in values.items()}
                )
                for n, v in values.items():
                    trial._params[n] = v
                    trial._distributions[n] = dists[n]
        return trial

    def _twin_of(self, frozen: FrozenTrial) -> int | None:
        """For a claimed successor: the lowest-numbered other trial continuing the same paused trial,
        if it comes before this one (numbers are handed out atomically, so every process agrees)."""
        of = frozen.system_attrs.get(SUCCESSOR_OF)
        if of is None:
            return None
        twins = [t.number for t in self.history().trials
                 if t.system_attrs.get(SUCCESSOR_OF) == of and t.number < frozen.number]
        return min(twins) if twins else None

    def propose(self, trial: Trial, name: str, dist: Distribution) -> Any:
        """The value of a parameter new to `trial`: enqueued, from the joint sample, or freshly
        sampled (what `trial.suggest_*` calls)."""
        if name in trial._fixed:
            value = trial._fixed[name]
            check_enqueued(name, dist, value)
            return dist.to_external(dist.to_internal(value))
        if name in trial._relative and trial._relative_space.get(name) == dist:
            return trial._relative[name]
        if dist.is_single():
            return decode(dist, 0.5)
        history = trial._history or self._lazy_history()
        sampler = self.sampler_for(trial)
        value = sampler.sample(history, trial.freeze(), {name: dist})[name]
        if not dist.contains(value):
            raise InvalidParameterError(f"{sampler!r} proposed {value!r} for {name!r}, outside {dist!r}")
        return value

    def sampler_for(self, trial: Trial) -> Sampler:
        """The sampler that serves `trial`'s new parameters: the study's, or in a deterministic run
        the trial's own fork of it (also what a remote worker is sent)."""
        return trial._sampler if trial._sampler is not None else self.sampler

    def _settled_view(self, through: int, *, wait: bool = True) -> History:
        """The finished trials numbered up to `through`, once none of those is still running."""
        delay = 0.002
        while True:
            trials = self.history().trials
            if not wait or not any(t.number <= through and t.state == TrialState.RUNNING for t in trials):
                return History(self.directions, [t for t in trials if t.number <= through and t.state.is_finished()])
            self.reap_stale_trials()  # a dead worker's trial must not block the run
            time.sleep(delay)
            delay = min(2 * delay, 0.05)

    def should_prune(self, trial: Trial) -> bool:
        """The pruner's decision for a running trial (what `trial.should_prune()` calls)."""
        if self.pruner is None:
            return False
        if trial._visible_through is not None:  # deterministic: the same settled trials as its proposal
            history = self._settled_view(trial._visible_through, wait=False)
        else:
            history = self.history()
        frozen = trial.freeze()
        decision = _plugins.decision(self.pruner, history, frozen)
        # Remembered until the trial ends: PRUNED then means paused, recorded in system_attrs[PAUSED].
        trial._paused_at = frozen.last_step if decision == Decision.PAUSE else None
        return decision != Decision.CONTINUE

    def _trial_for(self, trial: Trial | int) -> Trial:
        if isinstance(trial, Trial):
            if trial.study is not self:
                raise invalid("trial", "belongs to another study", trial)
            return trial
        trial = check("trial", trial, Int(), rule="must be a Trial or a trial number")
        for t in self.history().trials:
            if t.number == trial:
                return Trial(self, t)
        raise invalid("trial", "is not a trial number of this study", trial)

    def tell(
        self,
        trial: Trial | int,
        values: float | Sequence[float] | None = None,
        *,
        state: TrialState | None = None,
        fail_reason: str | None = None,
    ) -> FrozenTrial:
        """Finish a trial from `ask`: COMPLETE with `values`, or `state=PRUNED`/`FAIL`.

        NaN, infinity, a non-number or the wrong number of values records the trial
        as FAIL, with the reason in `system_attrs[FAIL_REASON]`.

        `values` with `state=PRUNED` or `FAIL` is refused (as in Optuna), not dropped:
        a pruned trial's value is its last reported intermediate value.
        """
        live = self._trial_for(trial)
        if state is not None and state not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
            raise invalid("state", "must be COMPLETE, PRUNED or FAIL", state)
        if values is not None and state in (TrialState.PRUNED, TrialState.FAIL):
            raise invalid("values", f"must be None with state={state.name}", f"values={values!r}, state={state.name}")
        final: tuple[float, ...] | None = None
        reason = fail_reason
        if state in (None, TrialState.COMPLETE):
            final, reason = self._check_values(values)
            state = TrialState.COMPLETE if final is not None else TrialState.FAIL
        elif state == TrialState.PRUNED:
            last = live.freeze().last_step
            if len(self.directions) == 1 and last is not None:
                v = live._intermediate[last]
                if isinstance(v, float) and math.isfinite(v):
                    final = (v,)
        if state == TrialState.FAIL and reason:
            live.set_system_attr(FAIL_REASON, reason)
        if state == TrialState.PRUNED and live._paused_at is not None:
            live.set_system_attr(PAUSED, live._paused_at)
        if self._heartbeat is not None:
            self._heartbeat.remove(live.trial_id)
        completed = self._storage.finish_trial(live.trial_id, state, final)
        live._state = state
        frozen = FrozenTrial(
            number=live.number,
            state=state,
            values=final,
            params=live.params,
            distributions=live.distributions,
            user_attrs=live.user_attrs,
            system_attrs=live.system_attrs,
            intermediate_values=live.intermediate_values,
            datetime_start=live.datetime_start,
            datetime_complete=completed,
            trial_id=live.trial_id,
        )
        self._log_finished(frozen, reason)
        _plugins.after_trial(self.sampler_for(live), self._lazy_history(), frozen)
        _plugins.on_trial_finished(self.scheduler, self, frozen)
        return frozen

    def _check_values(self, values: Any) -> tuple[tuple[float, ...] | None, str | None]:
        n = len(self.directions)
        if values is None:
            return None, "the objective returned no value (None)"
        seq = list(values) if isinstance(values, (list, tuple)) else [values]
        if len(seq) != n:
            return None, f"expected {n} value(s), one per objective, got {len(seq)}: {values!r}"
        out = []
        for v in seq:
            try:
                f = as_number("value", v)
            except InvalidParameterError:
                return None, f"the objective returned a non-number: {v!r}"
            if not math.isfinite(f):
                return None, f"the objective returned {f!r}, which is not a finite number"
            out.append(f)
        return tuple(out), None

    # The level of the per-trial log lines; the progress bar lowers it to DEBUG while it stands for them.
    trial_log_level = logging.INFO

    def _log_finished(self, t: FrozenTrial, reason: str | None) -> None:
        if t.state == TrialState.COMPLETE and len(self.directions) == 1:
            assert t.values is not None
            with self._best_lock:
                sign = 1.0 if self.directions[0] == StudyDirection.MINIMIZE else -1.0
                if self._best_seen is None or sign * t.values[0] < sign * self._best_seen.values[0]:  # type: ignore[index]
                    self._best_seen = t
        level = self.trial_log_level
        if not _logger.isEnabledFor(level) and t.state != TrialState.FAIL:
            return
        if t.state == TrialState.FAIL:
            _logger.warning("Trial %d failed with params %s: %s", t.number, t.params, reason or "error")
            return
        what = "values" if len(self.directions) > 1 else "value"
        shown = t.values if len(self.directions) > 1 else (t.values[0] if t.values else None)
        best = self._best_seen
        tail = f" Best is trial {best.number} with value {best.values[0]}." if best is not None and best.values else ""
        _logger.log(level, "Trial %d %s with %s %s and params %s.%s", t.number, t.state.name.lower(), what, shown,
                    t.params, tail)

    # -- queueing and importing -------------------------------------------------
    def enqueue_trial(
        self,
        params: Mapping[str, Any],
        *,
        user_attrs: Mapping[str, Any] | None = None,
        skip_if_exists: bool = False,
        resume_from: Trial | FrozenTrial | int | None = None,
    ) -> None:
        """Run these parameters before any sampled trial (also picked up by other processes).

        A value is checked now against the distribution the latest trial used for its name
        (out of range, wrong type, an Int a float cannot hold exactly: InvalidParameterError),
        and again when a trial claims it. A name no trial used is only a logged warning: a
        conditional parameter may not have come up yet.

        `resume_from` (a trial or a trial number): the new trial's `load_checkpoint()` falls back
        to that trial's latest checkpoint (and continues its learning curve).

        >>> import hyperdial as hd
        >>> study = hd.create_study()
        >>> study.enqueue_trial({"lr": 1e-4})
        >>> study.ask().suggest_float("lr", 1e-5, 1e-1, log=True)
        0.0001
        """
        self.add_waiting_trial(params, user_attrs=user_attrs, skip_if_exists=skip_if_exists,
                               resume_from=resume_from)

    def enqueue_successor(
        self,
        trial: FrozenTrial | int,
        *,
        params: Mapping[str, Any] | None = None,
        resume_from: FrozenTrial | int | None = None,
        user_attrs: Mapping[str, Any] | None = None,
    ) -> FrozenTrial | None:
        """Queue the trial that continues a finished (typically paused) one: what schedulers call to
        promote a paused trial, or to start a PBT member's next interval.

        The new WAITING trial takes `trial`'s parameters (or `params`) and resumes from `trial`'s
        checkpoint (or `resume_from`'s: `system_attrs[RESUME_FROM]`, read by `load_checkpoint`); it
        is linked to `trial` by `system_attrs[SUCCESSOR_OF]`. A finished trial never changes: the
        paused one stays PRUNED. Returns the queued trial, or None when `trial` already has a
        successor. Processes that race to queue one both may; `ask` then runs the lowest-numbered
        and ends the others before their objective starts (`system_attrs[DUPLICATE_OF]`).

        >>> import hyperdial as hd
        >>> study = hd.create_study()
        >>> t = study.ask(); x = t.suggest_float("x", 0, 1); t.report(x, step=3)
        >>> paused = study.tell(t, state=hd.TrialState.PRUNED)
        >>> study.enqueue_successor(paused).system_attrs["successor_of"]
        0
        >>> study.enqueue_successor(paused) is None
        True
        """
        trials = self.history().trials
        number = trial.number if isinstance(trial, FrozenTrial) else check(
            "trial", trial, Int(low=0), rule="must be a FrozenTrial or a trial number")
        previous = next((t for t in trials if t.number == number), None)
        if previous is None:
            raise invalid("trial", "is not a trial number of this study", number)
        if not previous.state.is_finished():
            raise invalid("trial", "must be finished (a paused trial is PRUNED)",
                          f"trial {number} is {previous.state.name}")
        if any(t.system_attrs.get(SUCCESSOR_OF) == number for t in trials):
            return None
        if params is None:
            params = {**previous.system_attrs.get(FIXED_PARAMS, {}), **previous.params}
        return self.add_waiting_trial(params, user_attrs=user_attrs, system_attrs={SUCCESSOR_OF: number},
                                      resume_from=number if resume_from is None else resume_from)

    def add_trial(self, trial: FrozenTrial) -> None:
        """Import a finished trial (for example from an earlier run or another tool)."""
        if not isinstance(trial, FrozenTrial):
            raise invalid("trial", "must be a FrozenTrial", trial)
        if not trial.state.is_finished():
            raise invalid("trial.state", "must be COMPLETE, PRUNED or FAIL", trial.state)
        trial.validate()
        if trial.values is not None and len(trial.values) != len(self.directions):
            raise invalid("trial.values", f"must have {len(self.directions)} entries", trial.values)
        self._storage.create_trial(self._study_id, template=trial)

    def add_trials(self, trials: Iterable[FrozenTrial]) -> None:
        for t in trials:
            self.add_trial(t)

    def stop(self, *, everywhere: bool = False) -> None:
        """Ask `optimize` to start no new trial; running ones finish normally.

        `everywhere=True` also records the request in the storage (`system_attrs.STOP_REQUEST`),
        so every `optimize` of this study that began before it, in any process or on any
        machine (workers, other scripts), starts no new trial either; each looks about once a
        second. Runs started afterwards are not affected.

        >>> import hyperdial as hd
        >>> study = hd.create_study()
        >>> study.stop(everywhere=True)
        >>> "stop_request" in study.storage.get_study(study.study_name).system_attrs
        True
        """
        self._stop.set()
        if everywhere:
            self._storage.set_study_attr(self._study_id, STOP_REQUEST, _clock.now(), system=True)

    def optimize(
        self,
        func: Callable[..., Any],
        n_trials: int | None = None,
        timeout: float | None = None,
        n_jobs: int | None = None,
        catch: Iterable[type[BaseException]] | type[BaseException] = (),
        callbacks: Iterable[Callable[[Study, FrozenTrial], None]] = (),
        show_progress_bar: bool = True,
        space: Mapping[str, Any] | None = None,
        n_trials_scope: str = "call",
        executor: Any = None,
        gpus_per_trial: int = 0,
        deterministic: bool = False,
    ) -> None:
        """Run trials until `n_trials`, `timeout` seconds, `stop()` or an exhausted grid.

        `n_trials` counts this call's trials (`n_trials_scope="call"`), or the study's
        total (`"study"`: rerunning a script with `load_if_exists=True` continues toward
        the same total; failed trials that were retried do not count).
        With `space={...}`, `func(config)` receives a dict of values (or
        `func(config, trial)` if it takes two arguments, to report and prune).
        SIGTERM records the running trial (retried later if `max_retries` allows) and
        exits with status 143.

        `executor`: "thread" (default), "process", any `concurrent.futures.Executor`,
        `hd.executors.Dask(...)` or `hd.executors.Ray(...)`; all but threads run trials
        in other processes sharing the study's storage URL, with up to `n_jobs` in
        flight. `gpus_per_trial=k` gives each trial its own k devices
        (CUDA_VISIBLE_DEVICES) and runs at most (visible GPUs // k) at once.

        `n_jobs`: trials at once; -1 is one per CPU. Not given (None), it is what the
        executor offers: 1 with threads (the GIL and your objective's own threads
        decide, so ask for more explicitly), 1 with "process" or the number of GPU
        groups (visible GPUs // k) with `gpus_per_trial=k`, the pool's size for a
        `concurrent.futures` pool, every worker thread of a Dask cluster (GPU resources
        // k with `gpus_per_trial`), every CPU of a Ray cluster (GPUs // k), counted
        when the call starts.

        `deterministic=True`: with a seeded sampler, the same study whatever order the
        trials finish in, with any `n_jobs` and executor (the same `n_jobs` gives the
        same study). Trial n is proposed from the trials numbered up to n - n_jobs only,
        once they have all finished (the driver waits for a straggler), and pruning
        decisions look at the same trials. It costs the waits: measure with
        `python benchmarks/deterministic_cost.py`. The objective must be deterministic too.
        """
        from hyperdial._optimize import run_optimize

        self._stop.clear()
        run_optimize(
            self, func, n_trials, timeout, n_jobs, catch, callbacks, show_progress_bar, space, n_trials_scope,
            executor, gpus_per_trial, deterministic)
