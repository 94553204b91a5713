"""Synchronous successive halving with pause and promote (and the bracket machinery Hyperband adds).

Jamieson and Talwalkar, "Non-stochastic Best Arm Identification and Hyperparameter
Optimization", AISTATS 2016; as the inner loop of Hyperband (Li et al., JMLR 18(185), 2018,
Algorithm 1, lines 3-9), run the way Ray Tune's HyperBandScheduler runs it: n
configurations train to the first rung r_0 and pause there; when all n have paused (the
rung is complete), the best floor(n / eta) are promoted and continue from their checkpoints
to r_1 = eta * r_0, and so on; the last ones train to R and complete. Nothing is ever
trained twice: a promoted trial resumes at the step its configuration paused at.

In hyperdial a promotion is a new trial (finished trials never change): `enqueue_successor`
queues it with the same parameters, resuming from the paused trial's checkpoint, and `ask`
hands it out before any new configuration. Rung k of a bracket with early-stopping rate b
sits at min_resource * eta^(k + b) (the rung math of `hd.pruners.ASHA`): rungs at or past
R are not paused at, so a trial that passed the last rung below R trains to R. Rung k holds
n_k = floor(n * eta^-k) configurations (the paper's n_i; at least 1), fewer when some died
(a failure without retries left, a trial that ended before its rung).

Every process computes the same decisions from the study: which configuration belongs to
which bracket (the order in which configurations started), whether a rung is complete,
and which trials are its best. Two processes that promote at once queue the same successor
twice; `ask` runs only the first (see `Study.enqueue_successor`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hyperdial._plugins import NextTrial
from hyperdial._validation import Int, check
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.pruners.asha import ASHA as _RungMath
from hyperdial.pruners.hyperband import Hyperband as _BracketMath
from hyperdial.schedulers._lineage import Lineage, ended, next_trial_within, paused_value, top, within_budget
from hyperdial.schedulers._pause import PauseAtRungs
from hyperdial.system_attrs import DUPLICATE_OF, SKIPPED
from hyperdial.trial import FrozenTrial

if TYPE_CHECKING:
    from hyperdial.study import Study


class SuccessiveHalving:
    """Synchronous successive halving: pause every configuration at each rung, promote the best
    1/`reduction_factor` when the rung is complete.

    `bracket_size` configurations (default eta^s_max, with s_max = floor(log_eta(R / r)), the
    paper's most aggressive bracket) train to `min_resource` steps and pause; the best
    floor(n / eta) continue, from their checkpoints, to eta times that, and so on up to
    `max_resource`, where the survivors complete. The next configurations form the next
    bracket. `n_configs`: how many configurations in all (None: until `optimize`'s own
    budget ends); with it, `optimize` waits for the last rungs and ends when all is done.

    The objective reports the steps (epochs) done so far, saves a checkpoint before asking
    `should_prune`, and resumes from `trial.load_checkpoint()` (docs/schedulers.md).

    >>> import hyperdial as hd
    >>> sh = hd.schedulers.SuccessiveHalving(min_resource=1, max_resource=9, reduction_factor=3)
    >>> sh.brackets(), sh.rungs(0)
    ([(0, 9)], [1, 3])
    >>> sh.trials_per_bracket()   # 9 configurations, 3 promotions to rung 1, 1 to the top
    [13]
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int,
        reduction_factor: int = 3,
        bracket_size: int | None = None,
        n_configs: int | None = None,
        sampler: Any = None,
    ) -> None:
        self.min_resource = check("min_resource", min_resource, Int(low=1))
        self.max_resource = check("max_resource", max_resource, Int(low=self.min_resource),
                                  rule=f"must be an int >= `min_resource` ({self.min_resource})")
        self.reduction_factor = check("reduction_factor", reduction_factor, Int(low=2))
        self.bracket_size = check("bracket_size", bracket_size, Int(low=1), None)
        self.n_configs = check("n_configs", n_configs, Int(low=1), None)
        self.sampler = sampler
        self.pruner = PauseAtRungs(self)

    # -- the schedule --------------------------------------------------------------------
    def _bracket_math(self) -> _BracketMath:
        return _BracketMath(min_resource=self.min_resource, max_resource=self.max_resource,
                            reduction_factor=self.reduction_factor)

    def brackets(self) -> list[tuple[int, int]]:
        """(early-stopping rate b, configurations n) of each bracket of one cycle, in the order filled."""
        s_max = self._bracket_math().n_brackets() - 1
        return [(0, self.bracket_size or self.reduction_factor ** s_max)]

    def rungs(self, b: int) -> list[int]:
        """The steps where a bracket with early-stopping rate `b` pauses (below `max_resource`)."""
        return _RungMath(min_resource=self.min_resource, reduction_factor=self.reduction_factor,
                         min_early_stopping_rate=b).rungs(self.max_resource)

    def trials_per_bracket(self) -> list[int]:
        """Trials (first runs plus promotions) of each bracket when none dies: what `n_trials` should count."""
        out = []
        for b, n in self.brackets():
            sizes = [n]
            for _ in self.rungs(b):
                sizes.append(max(1, sizes[-1] // self.reduction_factor))
            out.append(sum(sizes))
        return out

    def _bracket_of(self, index: int) -> tuple[int, int, int]:
        """(b, first index, size) of the bracket that the `index`-th configuration belongs to."""
        brackets = self.brackets()
        cycle = sum(n for _, n in brackets)
        start, offset = divmod(index, cycle)
        start *= cycle
        for b, n in brackets:
            if offset < n:
                size = n if self.n_configs is None else max(0, min(n, self.n_configs - start))
                return b, start, size
            offset -= n
            start += n
        raise AssertionError("unreachable: the offset lies in the cycle")

    def rungs_of(self, lineage: Lineage, root: int) -> list[int]:
        index = lineage.index.get(root)
        return self.rungs(0 if index is None else self._bracket_of(index)[0])

    # -- the scheduler protocol ---------------------------------------------------------------
    def on_trial_finished(self, study: Study, trial: FrozenTrial) -> None:
        """Promote the best of every complete rung (every bracket is checked: a process that died
        before promoting leaves the work to the next one)."""
        if DUPLICATE_OF in trial.system_attrs or SKIPPED in trial.system_attrs:
            return
        if len(study.directions) != 1:
            raise invalid("scheduler", "ranks one objective; this study has several", type(self).__name__)
        history = study.history()
        lineage = Lineage(history.trials)
        members: dict[int, list[int]] = {}
        for root in lineage.roots:
            b, start, _ = self._bracket_of(lineage.index[root])
            members.setdefault(start, []).append(root)
        for start, roots in sorted(members.items()):
            b, _, size = self._bracket_of(lineage.index[roots[0]])
            for paused in self._due(history, lineage, roots, b, size, study.max_retries):
                study.enqueue_successor(paused)

    def _due(
        self, history: History, lineage: Lineage, roots: list[int], b: int, size: int, max_retries: int
    ) -> list[FrozenTrial]:
        """The paused trials of one bracket to promote now (the lowest rung that is complete and
        whose best are not all promoted yet)."""
        if len(roots) < size:
            return []  # configurations of this bracket have yet to start
        slots = lineage.slots(roots)
        expected = size
        for k in range(len(self.rungs(b))):
            attempts = [s[k] for s in slots.values() if k in s]
            if len(attempts) < expected or not all(ended(a, max_retries) for a in attempts):
                return []  # rung k is not complete
            candidates = [(v, a) for a in attempts if (v := paused_value(a, history)) is not None]
            keep = min(max(1, expected // self.reduction_factor), len(candidates))  # n_{k+1} = floor(n_k / eta)
            due = [t for t in top(candidates, keep) if not lineage.has_successor(t)]
            if due:
                return due
            expected = keep
        return []

    def admit(self, history: History, trial: FrozenTrial) -> bool:
        """Whether a trial may run: not a configuration past `n_configs` (processes that asked at once)."""
        return within_budget(history, trial, self.n_configs)

    def next_trial(self, history: History) -> NextTrial:
        """START while configurations may start or promotions are queued; with `n_configs` all
        started, WAIT while trials run (a pause may promote), then DONE."""
        return next_trial_within(history, self.n_configs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(min_resource={self.min_resource}, max_resource={self.max_resource}, "
                f"reduction_factor={self.reduction_factor}, n_configs={self.n_configs})")
