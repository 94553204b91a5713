"""The pruner that never prunes."""

from __future__ import annotations

from hyperdial.history import History
from hyperdial.trial import FrozenTrial


class Nop:
    """Turn pruning off: `hd.create_study(pruner=hd.pruners.Nop())`.

    >>> import hyperdial as hd
    >>> hd.pruners.Nop().should_prune(hd.History(["minimize"], []), hd.FrozenTrial(0, hd.TrialState.RUNNING))
    False
    """

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        return False

    def __repr__(self) -> str:
        return "Nop()"
