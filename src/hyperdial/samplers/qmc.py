"""Quasi-random search: a scrambled Sobol (or Halton) sequence over the joint space."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from hyperdial._validation import Bool, OneOf, check
from hyperdial.history import History
from hyperdial.samplers.base import PicklableLock, check_seed
from hyperdial.samplers.random import Random
from hyperdial.space import Distribution
from hyperdial.transform import UnitTransform
from hyperdial.trial import FrozenTrial

_logger = logging.getLogger("hyperdial")


class QMC(PicklableLock):
    """Low-discrepancy points cover the space more evenly than random ones (scipy.stats.qmc).

    Trial number k takes point k of the sequence, so parallel workers and processes
    never draw the same point and a seeded study is reproducible. Parameters outside
    the joint space (the first trial, conditional parameters) are sampled at random.

    >>> import hyperdial as hd
    >>> study = hd.create_study(sampler=hd.samplers.QMC(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4, show_progress_bar=False)
    >>> len(study.trials)
    4
    """

    joint_sampling = True

    def __init__(self, *, seed: int | None = None, qmc_type: str = "sobol", scramble: bool = True) -> None:
        check("qmc_type", qmc_type, OneOf("sobol", "halton"))
        check("scramble", scramble, Bool())
        self.seed = check_seed(seed)
        self.qmc_type = qmc_type
        self.scramble = scramble
        self._fallback = Random(seed=self.seed)
        self._lock = threading.Lock()
        self._engine: Any = None
        self._engine_key: Any = None
        self._next = 0

    def _point(self, dim: int, key: Any, index: int) -> Any:
        from scipy.stats import qmc  # a core dependency, but heavy: imported on first use

        with self._lock:
            if self._engine is None or self._engine_key != key or index < self._next:
                cls = qmc.Sobol if self.qmc_type == "sobol" else qmc.Halton
                self._engine = cls(d=dim, scramble=self.scramble, seed=self.seed)
                self._engine_key = key
                self._next = 0
            if index > self._next:
                self._engine.fast_forward(index - self._next)
            self._next = index + 1
            return self._engine.random(1)[0]

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        if not space or dict(space) != history.joint_space():
            # Parameters outside the joint space (conditional ones, the first trial) are random.
            return self._fallback.sample(history, trial, space)
        transform = UnitTransform(space)
        key = tuple((k, repr(d)) for k, d in space.items())
        return transform.from_unit(self._point(transform.dim, key, trial.number))

    def __repr__(self) -> str:
        return f"QMC(seed={self.seed}, qmc_type={self.qmc_type!r})"
