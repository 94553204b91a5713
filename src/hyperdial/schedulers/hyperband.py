"""Synchronous Hyperband with pause and promote: successive halving over several brackets.

Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar, "Hyperband: A Novel Bandit-Based
Approach to Hyperparameter Optimization", JMLR 18(185), 2018, Algorithm 1, as Ray Tune's
HyperBandScheduler runs it: configurations fill brackets s = s_max, s_max - 1, ..., 0 in
turn (n = ceil((s_max + 1) / (s + 1) * eta^s) each, the bracket math of
`hd.pruners.Hyperband`, whose bracket b = s_max - s starts at min_resource * eta^b), then
the cycle starts over. Within a bracket: synchronous successive halving, pausing at every
rung and promoting the best 1/eta from their checkpoints (`SuccessiveHalving`).
"""

from __future__ import annotations

from hyperdial.schedulers.successive_halving import SuccessiveHalving


class Hyperband(SuccessiveHalving):
    """Synchronous Hyperband: brackets of successive halving that pause and promote trials.

    Same arguments as `SuccessiveHalving` (without `bracket_size`: bracket b gets Hyperband's
    budget); `n_configs`, when given, ends the run once that many configurations have been
    through their brackets (`sum(hb.configs_per_bracket())` is one full cycle).

    >>> import hyperdial as hd
    >>> hb = hd.schedulers.Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
    >>> hb.brackets()
    [(0, 27), (1, 12), (2, 6), (3, 4)]
    >>> [hb.rungs(b) for b in range(4)]
    [[1, 3, 9], [3, 9], [9], []]
    >>> hb.trials_per_bracket()   # 27 + 9 + 3 + 1, 12 + 4 + 1, 6 + 2, 4
    [40, 17, 8, 4]
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int,
        reduction_factor: int = 3,
        n_configs: int | None = None,
        sampler: object = None,
    ) -> None:
        super().__init__(min_resource=min_resource, max_resource=max_resource, reduction_factor=reduction_factor,
                         n_configs=n_configs, sampler=sampler)

    def brackets(self) -> list[tuple[int, int]]:
        return list(enumerate(self._bracket_math().budgets()))

    def configs_per_bracket(self) -> list[int]:
        """Configurations in each bracket of one cycle."""
        return [n for _, n in self.brackets()]
