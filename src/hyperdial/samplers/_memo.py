"""Per-trial decisions a sampler must keep while the trial runs, bounded without forgetting
any trial still in flight.

Auto's algorithm per trial, Grid's point per trial and MultiFidelity's budget per trial
must stay the same for all the suggestions of one trial. Entries normally go at
`after_trial`, but a trial told elsewhere (a remote worker, another process) never calls
the driver's hook, so the memo is bounded: past `MAX_REMEMBERED_TRIALS` entries, those of
trials the history shows finished are dropped, never those of running ones.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from hyperdial.history import History

V = TypeVar("V")

MAX_REMEMBERED_TRIALS = 10_000


class TrialMemo(Generic[V]):
    """trial number -> value; callers hold their own lock.

    >>> from hyperdial.trial import FrozenTrial, TrialState
    >>> memo = TrialMemo[str](limit=1)
    >>> history = History(["minimize"], [FrozenTrial(number=0, state=TrialState.COMPLETE, values=(1.0,)),
    ...                                  FrozenTrial(number=1, state=TrialState.RUNNING)])
    >>> memo.put(0, "TPE", history); memo.put(1, "GP", history)
    >>> memo.get(0), memo.get(1)
    (None, 'GP')
    """

    def __init__(self, *, limit: int | None = None) -> None:
        self.limit = MAX_REMEMBERED_TRIALS if limit is None else limit
        self._threshold = self.limit
        self._values: dict[int, V] = {}

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, number: object) -> bool:
        return number in self._values

    def __getitem__(self, number: int) -> V:
        return self._values[number]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrialMemo) and other._values == self._values

    def values(self) -> list[V]:
        return list(self._values.values())

    def get(self, number: int) -> V | None:
        return self._values.get(number)

    def pop(self, number: int) -> V | None:
        return self._values.pop(number, None)

    def put(self, number: int, value: V, history: History) -> None:
        self._values[number] = value
        if len(self._values) > self._threshold:
            finished = {t.number for t in history.trials if t.state.is_finished()}
            for n in finished & self._values.keys():
                del self._values[n]
            # What is left is in flight; look again only once as many new entries have come.
            self._threshold = max(self.limit, 2 * len(self._values))
