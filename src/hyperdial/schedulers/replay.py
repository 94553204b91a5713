"""Replay a PBT member's parameter schedule from scratch (Ray Tune: `PopulationBasedTrainingReplay`).

PBT's result is not one configuration but a schedule: the parameters the best model was
trained with, segment by segment, across the members it copied (`lineage.schedule`).
`Replay(schedule)` is a scheduler that trains one model with that schedule: a chain of
trials, each pausing where the original segment ended and continuing from its own
checkpoint with the next parameters. With deterministic training it reproduces the
original curve; otherwise it shows how much of PBT's result is the schedule itself.

>>> import hyperdial as hd
>>> replay = Replay([(None, {"lr": 0.1}), (4, {"lr": 0.02})])   # or Replay.best(pbt_study)
>>> study = hd.create_study(direction="maximize", scheduler=replay)
>>> def objective(trial):             # a real one resumes from trial.load_checkpoint()
...     for step in range(1, 9):
...         trial.report(trial.suggest_float("lr", 1e-3, 1.0, log=True), step)
...         if trial.should_prune():
...             raise hd.TrialPruned()
...     return 1.0
>>> study.optimize(objective, show_progress_bar=False)
>>> [(t.params["lr"], sorted(t.intermediate_values)) for t in study.trials]
[(0.1, [1, 2, 3, 4]), (0.02, [1, 2, 3, 4, 5, 6, 7, 8])]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hyperdial._plugins import NextTrial
from hyperdial.exceptions import InvalidParameterError, invalid
from hyperdial.history import History
from hyperdial.pruners.base import Decision
from hyperdial.schedulers.lineage import best_member_segment, resolve, schedule
from hyperdial.space import Distribution
from hyperdial.system_attrs import PAUSED, SUCCESSOR_OF
from hyperdial.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from hyperdial.study import Study


class _ScheduledParams:
    """The replay's sampler: a new chain starts with the schedule's first parameters."""

    joint_sampling = False

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        missing = [k for k in space if k not in self.params]
        if missing:
            raise InvalidParameterError(f"the replayed schedule has no value for {missing[0]!r}; "
                                        f"it holds {sorted(self.params)}")
        return {k: self.params[k] for k in space}


class _PauseAt:
    """The replay's pruner: segment g pauses at the step after which segment g + 1 began."""

    def __init__(self, boundaries: Sequence[int]) -> None:
        self.boundaries = list(boundaries)

    def decision(self, history: History, trial: FrozenTrial) -> Decision:
        seg = resolve(history).get(trial.number)
        last = trial.last_step
        if seg is None or last is None or seg.generation >= len(self.boundaries):
            return Decision.CONTINUE
        return Decision.PAUSE if last >= self.boundaries[seg.generation] else Decision.CONTINUE

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        return self.decision(history, trial) != Decision.CONTINUE


class Replay:
    """A scheduler that trains one model with a parameter schedule: [(after_step, params), ...],
    the first with after_step None (see `lineage.schedule`; `Replay.best(study)` takes the best
    member's from a PBT study). The objective is the PBT study's own."""

    def __init__(self, schedule: Sequence[tuple[int | None, Mapping[str, Any]]]) -> None:
        items = list(schedule) if not isinstance(schedule, (str, bytes)) else []
        if not items or items[0][0] is not None:
            raise invalid("schedule", "must be a non-empty list of (after_step, params), the first after None",
                          schedule)
        raw = [a for a, _ in items[1:]]
        afters = [a for a in raw if isinstance(a, int) and not isinstance(a, bool)]
        if len(afters) != len(raw) or afters != sorted(set(afters)):
            raise invalid("schedule", "must have increasing integer steps after the first entry", raw)
        self.schedule: list[tuple[int | None, dict[str, Any]]] = [(a, dict(p)) for a, p in items]
        self.sampler = _ScheduledParams(self.schedule[0][1])
        self.pruner = _PauseAt(afters)

    @classmethod
    def best(cls, study: Study) -> Replay:
        """The schedule of the best finished member of a PBT study."""
        history = study.history()
        best = best_member_segment(history)
        if best is None:
            raise invalid("study", "has no finished PBT segment with a score to replay", study.study_name)
        return cls(schedule(history, best.number))

    @classmethod
    def of(cls, study: Study, trial: FrozenTrial | int) -> Replay:
        """The schedule that led to `trial` (a segment of a PBT study)."""
        number = trial.number if isinstance(trial, FrozenTrial) else int(trial)
        return cls(schedule(study.history(), number))

    def __repr__(self) -> str:
        return f"Replay({len(self.schedule)} segments)"

    def next_trial(self, history: History) -> NextTrial:
        chain = sorted(resolve(history).values(), key=lambda s: s.number)
        if not chain or any(t.state == TrialState.WAITING for t in history.trials):
            return NextTrial.START
        last = chain[-1].trial
        if last.state == TrialState.RUNNING or (last.state == TrialState.PRUNED and PAUSED in last.system_attrs):
            return NextTrial.WAIT
        return NextTrial.DONE

    def on_trial_finished(self, study: Study, trial: FrozenTrial) -> None:
        if trial.state != TrialState.PRUNED or PAUSED not in trial.system_attrs:
            return
        history = study.history()
        seg = resolve(history).get(trial.number)
        if seg is None or seg.generation + 1 >= len(self.schedule):
            return
        if any(t.system_attrs.get(SUCCESSOR_OF) == trial.number for t in history.trials):
            return
        study.enqueue_successor(trial, params=self.schedule[seg.generation + 1][1])
