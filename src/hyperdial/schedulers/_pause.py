"""The pruner of a rung scheduler: PAUSE a trial when it reaches the rung of its depth.

A configuration's first trial pauses at the first rung; its successor (resumed from that
checkpoint, reporting the steps after it) pauses at the next one, and so on; past the last
rung a trial runs to the end of its loop. Which rungs apply (a Hyperband bracket) is the
scheduler's `rungs_of(lineage, root)`. Pure: recomputed from the history on every call.
"""

from __future__ import annotations

from typing import Any

from hyperdial.history import History
from hyperdial.pruners.base import Decision
from hyperdial.schedulers._lineage import Lineage
from hyperdial.trial import FrozenTrial


class PauseAtRungs:
    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler  # settings only, so this pickles with it

    def decision(self, history: History, trial: FrozenTrial) -> Decision:
        last = trial.last_step
        if last is None:
            return Decision.CONTINUE
        lineage = Lineage(history.trials, trial)
        root, depth = lineage.place(trial)
        rungs = self.scheduler.rungs_of(lineage, root)
        if depth < len(rungs) and last >= rungs[depth]:
            return Decision.PAUSE
        return Decision.CONTINUE

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        return self.decision(history, trial) != Decision.CONTINUE

    def __repr__(self) -> str:
        return f"PauseAtRungs({self.scheduler!r})"
