"""The pruner protocol: `should_prune(history, trial) -> bool`, a pure predicate.

`trial` is a snapshot of the running trial (its intermediate values included);
`history` holds the other trials. A pruner writes nothing: the same history and
trial always give the same answer, whichever worker asks.

Optional: `decision(history, trial) -> Decision`, for pruners that may PAUSE a trial
rather than stop it (schedulers' pruners: successive halving with promotion, PBT).
Without it the decision is STOP when `should_prune` says so, else CONTINUE. The
objective does not change: `trial.should_prune()` is True for STOP and PAUSE alike,
the objective raises `hd.TrialPruned`, and a paused trial is recorded PRUNED with
`system_attrs[PAUSED]` = the step it paused at (a scheduler may later queue its
successor, resuming from its checkpoint: `Study.enqueue_successor`).
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable

from hyperdial.history import History
from hyperdial.trial import FrozenTrial


class Decision(str, enum.Enum):
    """What a pruner's optional `decision(history, trial)` says about a running trial.

    >>> Decision.PAUSE.value
    'pause'
    """

    CONTINUE = "continue"
    STOP = "stop"  # ended for good
    PAUSE = "pause"  # ended for now: its checkpoint may be promoted (continued) later


@runtime_checkable
class Pruner(Protocol):
    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        """True to stop `trial` now."""
