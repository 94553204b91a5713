"""Independent uniform sampling (log-uniform on log scales)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperdial.history import History
from hyperdial.samplers.base import check_seed, trial_uniform
from hyperdial.space import Distribution
from hyperdial.transform import decode
from hyperdial.trial import FrozenTrial


class Random:
    """Uniform random search: the baseline, and the start-up phase of model-based samplers.

    >>> import hyperdial as hd
    >>> study = hd.create_study(sampler=hd.samplers.Random(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=5, show_progress_bar=False)
    >>> len(study.trials)
    5
    """

    joint_sampling = False  # every parameter is independent: no need to look at the history

    def __init__(self, *, seed: int | None = None) -> None:
        self.seed = check_seed(seed)

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        return {name: decode(dist, trial_uniform(self.seed, trial.number, name)) for name, dist in space.items()}

    def __repr__(self) -> str:
        return f"Random(seed={self.seed})"
