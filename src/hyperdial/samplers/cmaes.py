"""CMA-ES over the numeric joint space, rebuilt from the history (no state in storage).

The evolution strategy itself is the `cmaes` package: `CMA` (Hansen 2016, "The CMA
Evolution Strategy: A Tutorial") for continuous spaces, `CMAwM` (CMA-ES with margin,
Hamano et al. 2022) as soon as one dimension is discrete (an `Int`, or a `Float` with
`step`), so that integer dimensions keep a floor on their variance and do not get stuck
on one value. The search runs in the unit box of `UnitTransform`: log scales are
linear there, and a discrete parameter with n values has its grid at the centres of n
equal cells. Log-scaled integers are searched as continuous dimensions (their cells
are not equal in the box) and rounded.

How the distribution is recomputed without storing it:
- Replay. The sampler keeps one optimizer in memory and feeds it COMPLETE trials of
  the numeric joint space; every `popsize` of them form a generation that is told
  (ranked by value) to the optimizer. A cache remembers which trial numbers were fed,
  so each call only feeds what completed since; a new joint space, start-up cut or
  study rebuilds the replay from the first trial. New trials are fed in number order, so a
  sequential study replays exactly the generations it sampled; in parallel a trial
  that completes late joins the generation being filled when this process sees it.
- Sampling. A trial's point is drawn from the current distribution with a generator
  reseeded from (seed, trial number): seeded sequential runs repeat, and parallel
  workers sampling from the same distribution draw different points.
- Raw points. CMA-ES must be told the raw Gaussian sample, not the rounded value the
  objective saw (for discrete dimensions they differ). Because the draw depends only on
  the distribution and (seed, number), the replay redraws it when the trial reaches the
  optimizer and keeps the redrawn point if it decodes to the trial's parameters; this
  holds for every trial of a sequential study. Otherwise (an enqueued trial, one
  sampled by another process or from an older distribution) the trial's own
  parameters, encoded in the box, are told instead.
- Restarts. When the distribution has converged (`should_stop()`), IPOP (Auger &
  Hansen 2005) restarts from a uniformly random mean with twice the population; BIPOP
  (Hansen 2009) interleaves those large runs with small-population, small-step runs,
  choosing the regime that has used fewer evaluations so far (the first restart is
  a large one). Restart randomness comes
  from (seed, restart index), so the replay is deterministic too.

Single-objective only: multi-objective studies, categorical parameters and parameters
outside the joint space (conditional ones) are sampled by `independent_sampler`
(Random by default), with one INFO line per parameter in the "hyperdial" log.
"""

from __future__ import annotations

import logging
import math
import threading
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.history import History, counts_for
from hyperdial.samplers.base import PicklableLock, check_seed, study_fingerprint, trial_rng
from hyperdial.samplers.random import Random
from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.transform import UnitTransform, decode
from hyperdial.trial import FrozenTrial

_logger = logging.getLogger("hyperdial")

_RESTART_TAG = zlib.crc32(b"cmaes-restart")
_STRATEGIES = ("ipop", "bipop", None)


def _is_discrete(dist: Float | Int) -> bool:
    """Equal-width cells in the unit box: CMA-ES with margin handles these dimensions."""
    return (isinstance(dist, Int) and not dist.log) or (isinstance(dist, Float) and dist.step is not None)


def _n_values(dist: Float | Int) -> int:
    step = float(dist.step)  # type: ignore[arg-type]
    return int(round((float(dist.high) - float(dist.low)) / step)) + 1


def _cmaes() -> Any:
    # A core dependency, imported where used (import hyperdial stays light) and not kept on
    # objects: samplers must stay picklable.
    import cmaes

    return cmaes


class _Replay:
    """One CMA-ES (with its restarts) replayed over the trials of one numeric space."""

    def __init__(self, sampler: CMAES, space: dict[str, Float | Int], cutoff: int) -> None:
        self.sampler = sampler
        self.space = space
        self.cutoff = cutoff  # trials numbered <= cutoff are the random start-up trials
        self.transform = UnitTransform(space)
        dim = self.transform.dim
        self.bounds = np.tile([0.0, 1.0], (dim, 1))
        self.steps = np.zeros(dim)
        for i, dist in enumerate(space.values()):
            if _is_discrete(dist):
                n = _n_values(dist)  # grid at the centres of n equal cells
                self.bounds[i] = (0.5 / n, 1.0 - 0.5 / n)
                self.steps[i] = 1.0 / n
        self.fed: set[int] = set()
        self.pending: list[tuple[np.ndarray, float]] = []
        self.restarts = 0
        self.large_restarts = 0
        self.budget = {"large": 0, "small": 0}  # BIPOP: evaluations used per regime
        self.regime = "first"
        mean = np.full(dim, 0.5)
        if sampler.x0 is not None:
            for i, (name, dist) in enumerate(space.items()):
                if name in sampler.x0:
                    value = sampler.x0[name]
                    if not dist.contains(value):
                        raise invalid("x0", f"value is outside {dist!r}", value, name=name)
                    mean[i] = UnitTransform({name: dist}).to_unit({name: value})[0]
        self.base_popsize = sampler.popsize or 4 + math.floor(3 * math.log(dim))  # Hansen's default
        self.optimizer = self._new(mean, sampler.sigma0, self.base_popsize)

    def _new(self, mean: np.ndarray, sigma: float, popsize: int) -> Any:
        mean = np.clip(mean, self.bounds[:, 0], self.bounds[:, 1])
        if self.steps.any():
            return _cmaes().CMAwM(mean=mean, sigma=sigma, bounds=self.bounds, steps=self.steps,
                                  population_size=popsize, seed=0)
        return _cmaes().CMA(mean=mean, sigma=sigma, bounds=self.bounds, population_size=popsize, seed=0)

    def draw(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        """(point in the box, raw sample to tell) for trial `number` from the current distribution."""
        self.optimizer.reseed_rng(int(trial_rng(self.sampler.seed, number).integers(2**32)))
        if self.steps.any():
            encoded, raw = self.optimizer.ask()
            return encoded, raw
        x = self.optimizer.ask()
        return x, x

    def feed(self, history: History) -> None:
        sign = history.sign(0)
        for t in history.complete:
            if t.number in self.fed:
                continue
            self.fed.add(t.number)
            if t.number <= self.cutoff or not all(counts_for(t, k, d) for k, d in self.space.items()):
                continue
            assert t.values is not None
            own = {k: t.params[k] for k in self.space}
            encoded, raw = self.draw(t.number)
            if self.transform.from_unit(encoded) != own:  # not drawn from this distribution
                raw = np.clip(self.transform.to_unit(own), self.bounds[:, 0], self.bounds[:, 1])
            self.pending.append((raw, sign * float(t.values[0])))
            if len(self.pending) == self.optimizer.population_size:
                self.optimizer.tell(self.pending)
                self.pending = []
                if self.sampler.restart_strategy is not None and self.optimizer.should_stop():
                    self._restart()

    def _restart(self) -> None:
        """IPOP: double the population. BIPOP: the regime with the smaller budget so far (Hansen 2009)."""
        used = self.optimizer.population_size * self.optimizer.generation
        if self.regime != "first":
            self.budget[self.regime] += used
        self.restarts += 1
        rng = np.random.default_rng([self.sampler.seed, _RESTART_TAG, self.restarts])
        sigma = self.sampler.sigma0
        if self.sampler.restart_strategy == "bipop" and self.large_restarts and self.budget["small"] < self.budget["large"]:
            self.regime = "small"
            u = rng.random(2)
            large = self.base_popsize * 2**self.large_restarts
            popsize = max(2, math.floor(self.base_popsize * (0.5 * large / self.base_popsize) ** (u[0] ** 2)))
            sigma = sigma * 10 ** (-2 * u[1])
        else:
            self.regime = "large"
            self.large_restarts += 1
            popsize = self.base_popsize * 2**self.large_restarts
        self.optimizer = self._new(rng.random(self.transform.dim), sigma, popsize)
        self.pending = []


class CMAES(PicklableLock):
    """CMA-ES with restarts, for single-objective studies over numeric (float and int) parameters.

    `x0` (a dict of initial values, else the centre of the space) and `sigma0` (the
    initial step size in the unit box, default 1/6) set the first distribution;
    `popsize` its population (default 4 + 3 ln d); `restart_strategy` is "ipop"
    (default), "bipop" or None. The first `n_startup_trials` complete trials are
    sampled by `independent_sampler` (Random by default), which also samples
    categorical and conditional parameters. See the module docstring for how the
    distribution is rebuilt from the history.

    >>> import hyperdial as hd
    >>> from hyperdial.samplers.cmaes import CMAES
    >>> study = hd.create_study(sampler=CMAES(seed=0))
    >>> study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2 + t.suggest_int("n", 0, 9) ** 2,
    ...                n_trials=120, show_progress_bar=False)
    >>> study.best_params["n"], round(study.best_params["x"], 1)
    (0, 1.0)
    """

    joint_sampling = True

    def __init__(
        self,
        *,
        x0: Mapping[str, Any] | None = None,
        sigma0: float | None = None,
        popsize: int | None = None,
        n_startup_trials: int = 1,
        restart_strategy: str | None = "ipop",
        independent_sampler: Any = None,
        seed: int | None = None,
    ) -> None:
        if x0 is not None and (not isinstance(x0, Mapping) or not all(isinstance(k, str) for k in x0)):
            raise invalid("x0", "must be a dict of parameter values or None", x0)
        rules.check("sigma0", sigma0, rules.Real(low=0, closed="neither", finite=True), None,
                    rule="must be a positive number (a step size in the unit box)")
        popsize = rules.check("popsize", popsize, rules.Int(low=2), None)
        n_startup_trials = rules.check("n_startup_trials", n_startup_trials, rules.Int(low=0))
        rules.check("restart_strategy", restart_strategy, rules.OneOf(*_STRATEGIES))
        rules.check("independent_sampler", independent_sampler, rules.HasMethod("sample"), None,
                    rule="must have a sample(history, trial, space) method")
        self.seed = check_seed(seed)
        self.x0 = dict(x0) if x0 is not None else None
        self.sigma0 = float(sigma0) if sigma0 is not None else 1.0 / 6.0
        self.popsize = popsize
        self.n_startup_trials = n_startup_trials
        self.restart_strategy = restart_strategy
        self.independent_sampler = independent_sampler if independent_sampler is not None else Random(seed=self.seed)
        self._lock = threading.Lock()
        self._replay: _Replay | None = None
        self._replay_key: Any = None
        self._logged: set[str] = set()

    @property
    def population_size(self) -> int | None:
        """Population of the current run (it grows with IPOP restarts); None before CMA-ES starts."""
        return None if self._replay is None else int(self._replay.optimizer.population_size)

    @property
    def n_restarts(self) -> int:
        """Restarts so far in the replay of the current search space."""
        return 0 if self._replay is None else self._replay.restarts

    def _fallback(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution],
                  why: str) -> dict[str, Any]:
        for name in space:
            if name not in self._logged:
                self._logged.add(name)
                _logger.info("CMAES: %r is sampled by %r: %s", name, self.independent_sampler, why)
        return dict(self.independent_sampler.sample(history, trial, space))

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        complete = history.complete
        if len(complete) < max(self.n_startup_trials, 1):  # start-up: random, nothing to report
            return dict(self.independent_sampler.sample(history, trial, space))
        if history.is_multi_objective:
            return self._fallback(history, trial, space, "CMA-ES optimises a single objective")
        if dict(space) != history.joint_space():
            return self._fallback(
                history, trial, space, "it is outside the joint space (conditional, new or with a changed range)"
            )
        numeric = {k: d for k, d in space.items() if isinstance(d, (Float, Int)) and not d.is_single()}
        out = {k: decode(d, 0.5) for k, d in space.items() if d.is_single()}
        others = {k: d for k, d in space.items() if isinstance(d, Categorical) and not d.is_single()}
        if others:
            out.update(self._fallback(history, trial, others, "it is categorical; CMA-ES searches numbers"))
        if not numeric:
            return out
        cutoff = complete[self.n_startup_trials - 1].number if self.n_startup_trials else -1
        key = (tuple((k, repr(d)) for k, d in numeric.items()), cutoff, study_fingerprint(history))
        with self._lock:
            if self._replay is None or self._replay_key != key:
                self._replay, self._replay_key = _Replay(self, numeric, cutoff), key
            self._replay.feed(history)
            encoded, _ = self._replay.draw(trial.number)
            out.update(self._replay.transform.from_unit(encoded))
        return out

    def __repr__(self) -> str:
        return f"CMAES(seed={self.seed}, restart_strategy={self.restart_strategy!r})"
