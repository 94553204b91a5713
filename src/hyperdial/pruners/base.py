"""The pruner protocol: `should_prune(history, trial) -> bool`, a pure predicate.

`trial` is a snapshot of the running trial (its intermediate values included);
`history` holds the other trials. A pruner writes nothing: the same history and
trial always give the same answer, whichever worker asks.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hyperdial.history import History
from hyperdial.trial import FrozenTrial


@runtime_checkable
class Pruner(Protocol):
    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        """True to stop `trial` now."""
