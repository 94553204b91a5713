"""Asynchronous successive halving with promotion (ASHA as the paper runs it).

Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt, Recht and Talwalkar, "A System for
Massively Parallel Hyperparameter Tuning", MLSys 2020 (arXiv:1810.05934), Algorithm 2.
Every configuration trains to the bottom rung and pauses. Whenever a worker asks for a
job, `get_job` looks for a promotable configuration, from the top rung down: one in the
top floor(|rung k| / eta) of rung k that was not promoted yet; it continues (from its
checkpoint) to rung k + 1; otherwise a new configuration starts in the bottom rung. Rung
k sits at min_resource * eta^(k + s) (the rung math of `hd.pruners.ASHA`); a trial past
the last rung below `max_resource` trains to the end and completes.

The pruner-only `hd.pruners.ASHA` decides once, when the trial reaches the rung (continue
now or stop for good); here a trial that was not good enough when it paused may be
promoted later, when the rung has grown and it ranks in the top 1/eta, as in the paper.

In hyperdial, the rungs change only when a trial pauses, so promotions are computed then
(`on_trial_finished`, in the process that recorded it) rather than in `get_job`: every
promotable configuration is queued at once, top rung first (`Study.enqueue_successor`),
and `ask` hands queued trials out before sampling a new configuration: the same order
as Algorithm 2 for the jobs started after the pause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hyperdial._plugins import NextTrial
from hyperdial._validation import Int, check
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.pruners.asha import ASHA as _RungMath
from hyperdial.schedulers._lineage import Lineage, next_trial_within, paused_value, top, within_budget
from hyperdial.schedulers._pause import PauseAtRungs
from hyperdial.system_attrs import DUPLICATE_OF, SKIPPED
from hyperdial.trial import FrozenTrial

if TYPE_CHECKING:
    from hyperdial.study import Study


class ASHA:
    """ASHA with promotion: configurations pause at each rung and the top 1/eta of a rung are
    promoted (from their checkpoints) as soon as they rank there.

    `n_configs`: how many configurations in all (None: until `optimize`'s budget ends);
    with it, `optimize` ends once they are all started and no trial runs.

    >>> import hyperdial as hd
    >>> hd.schedulers.ASHA(min_resource=1, max_resource=27, reduction_factor=3).rungs()
    [1, 3, 9]
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int,
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
        n_configs: int | None = None,
        sampler: Any = None,
    ) -> None:
        self._math = _RungMath(min_resource=min_resource, max_resource=max_resource, reduction_factor=reduction_factor,
                               min_early_stopping_rate=min_early_stopping_rate)
        self.min_resource = self._math.min_resource
        self.max_resource = check("max_resource", max_resource, Int(low=self.min_resource),
                                  rule=f"must be an int >= `min_resource` ({self.min_resource})")
        self.reduction_factor = self._math.reduction_factor
        self.min_early_stopping_rate = self._math.min_early_stopping_rate
        self.n_configs = check("n_configs", n_configs, Int(low=1), None)
        self.sampler = sampler
        self.pruner = PauseAtRungs(self)

    def rungs(self) -> list[int]:
        """The steps where configurations pause (below `max_resource`)."""
        return self._math.rungs(self.max_resource)

    def rungs_of(self, lineage: Lineage, root: int) -> list[int]:
        return self.rungs()

    def promotable(self, history: History) -> list[FrozenTrial]:
        """The paused trials to promote now, top rung first (Algorithm 2's get_job, all at once)."""
        lineage = Lineage(history.trials)
        slots = lineage.slots(lineage.roots)
        out: list[FrozenTrial] = []
        for k in reversed(range(len(self.rungs()))):
            # Rung k: every configuration that trained to it (paused there), promoted or not.
            rung = [(v, s[k]) for s in slots.values() if k in s and (v := paused_value(s[k], history)) is not None]
            best = top(rung, len(rung) // self.reduction_factor)
            out.extend(t for t in best if not lineage.has_successor(t))
        return out

    def on_trial_finished(self, study: Study, trial: FrozenTrial) -> None:
        if DUPLICATE_OF in trial.system_attrs or SKIPPED in trial.system_attrs:
            return
        if len(study.directions) != 1:
            raise invalid("scheduler", "ranks one objective; this study has several", type(self).__name__)
        for paused in self.promotable(study.history()):
            study.enqueue_successor(paused)

    def admit(self, history: History, trial: FrozenTrial) -> bool:
        """Whether a trial may run: not a configuration past `n_configs` (processes that asked at once)."""
        return within_budget(history, trial, self.n_configs)

    def next_trial(self, history: History) -> NextTrial:
        """START while configurations may start or promotions are queued; with `n_configs` all
        started, WAIT while trials run (a pause may promote), then DONE."""
        return next_trial_within(history, self.n_configs)

    def __repr__(self) -> str:
        return (f"ASHA(min_resource={self.min_resource}, max_resource={self.max_resource}, "
                f"reduction_factor={self.reduction_factor}, min_early_stopping_rate={self.min_early_stopping_rate}, "
                f"n_configs={self.n_configs})")
