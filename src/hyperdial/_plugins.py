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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperdial.history import History
    from hyperdial.samplers.base import Sampler
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


def explain(sampler: Sampler, trial: FrozenTrial) -> dict[str, Any] | None:
    hook = getattr(sampler, "explain", None)
    if not callable(hook):
        return None
    said = hook(trial)
    return dict(said) if said else None
