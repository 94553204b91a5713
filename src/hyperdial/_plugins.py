"""The optional parts of the sampler protocol, with their defaults, in one place.

A sampler needs only `sample(history, trial, space)`. It may also define, and the
study then honours:
- `joint_sampling: bool` (default True): whether `sample` is called once at trial
  start with the joint space of the history, before the objective runs;
- `after_trial(history, trial) -> None` (default: nothing), after each trial this
  process finished;
- `is_exhausted(history) -> bool` (default False): a finite sampler (a grid) ends
  `optimize` when it has nothing left;
- `warm_up() -> None` (default: nothing), called when `optimize` starts, for slow
  one-time work (imports) that should not land inside the first trial;
- `explain(trial) -> dict | None` (default None), called once the trial's joint proposal is
  made: a small JSON dict saying which algorithm proposed it and why (Auto: {"algorithm",
  "reason"}), or None when nothing changed since the last trial it explained. The study stores
  it as `system_attrs.SAMPLER_CHOICE` (one write per change, not per trial); the dashboard shows it.
Wrappers (MultiFidelity, PerBracket, Auto) forward them to the sampler they wrap
through these same functions.

A pruner needs only `should_prune(history, trial)`; it may also define
`decision(history, trial) -> Decision` (CONTINUE, STOP or PAUSE; default derived from
`should_prune`), see pruners/base.py.

A scheduler (`create_study(scheduler=...)`, schedulers/base.py) needs only
`on_trial_finished(study, trial)`; it may also define `next_trial(history) -> NextTrial`
(default START): whether `optimize` may start a trial now, should wait for running
ones to finish (a synchronous rung not yet complete), or is done; and
`admit(history, trial) -> bool` (default True): whether a trial just handed out may
run its objective (processes that asked at the same moment may overshoot a budget;
the scheduler tells which of them run, from trial numbers every process agrees on).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperdial.history import History
    from hyperdial.pruners.base import Decision, Pruner
    from hyperdial.samplers.base import Sampler
    from hyperdial.study import Study
    from hyperdial.trial import FrozenTrial


def joint_sampling(sampler: Sampler) -> bool:
    return bool(getattr(sampler, "joint_sampling", True))


def after_trial(sampler: Sampler, history: History, trial: FrozenTrial) -> None:
    hook = getattr(sampler, "after_trial", None)
    if hook is not None:
        hook(history, trial)


def is_exhausted(sampler: Sampler, history: Callable[[], History]) -> bool:
    """`history` is called only for a sampler that can be exhausted: reading the study before
    every trial would cost a storage round trip for nothing."""
    hook = getattr(sampler, "is_exhausted", None)
    return bool(hook(history())) if hook is not None else False


def warm_up(sampler: Sampler) -> None:
    hook = getattr(sampler, "warm_up", None)
    if callable(hook):
        hook()


def decision(pruner: Pruner, history: History, trial: FrozenTrial) -> Decision:
    """The pruner's CONTINUE / STOP / PAUSE for a running trial (STOP or CONTINUE from
    `should_prune` when the pruner has no `decision`)."""
    from hyperdial.pruners.base import Decision

    hook = getattr(pruner, "decision", None)
    if callable(hook):
        return Decision(hook(history, trial))
    return Decision.STOP if pruner.should_prune(history, trial) else Decision.CONTINUE


class NextTrial(str, enum.Enum):
    """A scheduler's answer to "may `optimize` start a trial now?" (`hd.schedulers.NextTrial`)."""

    START = "start"  # ask for a trial: a queued one (a promotion) first, else a new configuration
    WAIT = "wait"  # nothing to start until a running trial (here or in another process) finishes
    DONE = "done"  # the schedule is complete: start nothing more


def next_trial(scheduler: Any, history: Callable[[], History]) -> NextTrial:
    """`history` is called only for a scheduler that answers (a storage read otherwise saved)."""
    hook = getattr(scheduler, "next_trial", None) if scheduler is not None else None
    return NextTrial(hook(history())) if callable(hook) else NextTrial.START


def admits(scheduler: Any, history: Callable[[], History], trial: FrozenTrial) -> bool:
    hook = getattr(scheduler, "admit", None) if scheduler is not None else None
    return bool(hook(history(), trial)) if callable(hook) else True


def on_trial_finished(scheduler: Any, study: Study, trial: FrozenTrial) -> None:
    if scheduler is not None:
        scheduler.on_trial_finished(study, trial)


def explain(sampler: Sampler, trial: FrozenTrial) -> dict[str, Any] | None:
    hook = getattr(sampler, "explain", None)
    if not callable(hook):
        return None
    said = hook(trial)
    return dict(said) if said else None
