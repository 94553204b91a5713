"""The scheduler protocol: training-aware scheduling on top of a study.

A scheduler is given to `hd.create_study(..., scheduler=S)` (and to `hd.load_study`
in every other process that runs trials: it is not stored). It supplies

- `pruner` (optional attribute): the pruner the study uses; a scheduler's pruner
  usually PAUSES trials (`decision(history, trial) -> Decision.PAUSE`, see
  pruners/base.py) at the points where the scheduler acts: a rung, a PBT interval.
  The objective stays the usual `if trial.should_prune(): raise hd.TrialPruned()`; a
  paused trial is recorded PRUNED with `system_attrs[PAUSED]` = its step.
- `sampler` (optional attribute): the sampler the study uses unless one is given.
- `on_trial_finished(study, trial)` (required): called with every trial the process
  records (`Study.tell`: the `optimize` driver or its worker, whatever the executor;
  `hyperdial worker`; your own ask/tell loop), after the storage holds it. This is
  where a scheduler continues paused trials: `study.enqueue_successor(paused,
  params=..., resume_from=...)` queues a new trial (finished trials never change)
  that resumes from a checkpoint (`trial.load_checkpoint()` in the objective) and
  that `ask` hands out before any new configuration. Several processes may act on
  the same event: `enqueue_successor` queues nothing when a successor exists, and
  when two race, `ask` runs only the lowest-numbered one.
- `next_trial(history) -> NextTrial` (optional, default START): asked by `optimize`
  before each new trial. WAIT keeps workers idle until a running trial finishes (a
  synchronous rung is not complete, and no new configuration should start); DONE
  ends `optimize` (the schedule is complete).
- `admit(history, trial) -> bool` (optional, default True): asked where the trial runs,
  before its objective. False ends it at once (PRUNED, `system_attrs[SKIPPED]`), as when
  processes that asked at the same moment started more configurations than the budget.
  Decide from trial numbers (handed out atomically), so every process agrees.

A scheduler is pickled and shipped with each trial to process, Dask and Ray workers,
so it holds its settings only: every decision is recomputed from the study.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hyperdial._plugins import NextTrial

if TYPE_CHECKING:
    from hyperdial.study import Study
    from hyperdial.trial import FrozenTrial

__all__ = ["NextTrial", "Scheduler"]


@runtime_checkable
class Scheduler(Protocol):
    def on_trial_finished(self, study: Study, trial: FrozenTrial) -> None:
        """Act on a trial this process just recorded (COMPLETE, PRUNED, paused or FAIL)."""
