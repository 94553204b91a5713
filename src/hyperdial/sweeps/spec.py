"""What a sweep file says, once read: one representation for both formats (W&B and native)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import hyperdial as hd
from hyperdial.samplers.base import trial_uniform
from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.sweeps.priors import Prior
from hyperdial.transform import decode


@dataclass(frozen=True)
class Parameter:
    """One parameter: `dist` is what hyperdial samples (None for a constant `value`);
    `path` its place in the nested config (W&B nested `parameters:`); `when` the
    conditions under which it is active, as (other parameter, allowed values) pairs."""

    name: str
    path: tuple[str, ...]
    dist: Distribution | None = None
    value: Any = None
    prior: Prior | None = None
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def program_value(self, stored: Any) -> Any:
        return self.prior.decode(stored) if self.prior is not None else stored


@dataclass(frozen=True)
class Metric:
    name: str
    goal: str = "minimize"
    target: float | None = None
    impute: str | None = None


@dataclass
class SweepSpec:
    """A validated sweep file. `command` is the argv template (with macros) of each trial."""

    format: str  # "wandb" or "native"
    source: str
    text: str
    study: str
    command: list[str]
    program: str | None
    parameters: list[Parameter]
    metrics: list[Metric]
    method: str  # a hyperdial sampler name, or "WandbRandom" for W&B's random search
    method_args: dict[str, Any] = field(default_factory=dict)
    pruner: str | None = None  # a hyperdial pruner name; None: no pruning
    pruner_args: dict[str, Any] = field(default_factory=dict)
    trials: int | None = None
    timeout: float | None = None
    parallel: int = 1
    storage: str | None = None
    defaults: dict[str, Any] | None = None
    seed: int | None = None
    trial_timeout: float | None = None
    executor: str | None = None  # None: agents in threads here; "dask" or "ray": agents as cluster tasks
    executor_address: str | None = None  # the cluster's address; None: a local cluster
    gpus_per_trial: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def directions(self) -> list[str]:
        return [m.goal for m in self.metrics]

    def space(self) -> dict[str, Distribution]:
        return {p.name: p.dist for p in self.parameters if p.dist is not None}

    def make_sampler(self) -> Any:
        """The sampler the file's `method` names, seeded with `seed`."""
        if self.method == "WandbRandom":
            return WandbRandom(self.parameters, seed=self.seed)
        cls = getattr(hd.samplers, self.method)
        if self.method == "Grid":
            return cls(grid_of(self.parameters), seed=self.seed if self.seed is not None else 0,
                       **self.method_args)
        return cls(seed=self.seed, **self.method_args)

    def make_pruner(self) -> Any:
        if self.pruner is None:
            return hd.pruners.Nop()
        return getattr(hd.pruners, self.pruner)(**self.pruner_args)


def grid_of(parameters: list[Parameter]) -> dict[str, list[Any]]:
    """Every value of each searched parameter, for grid search (categorical and integer ones)."""
    grid: dict[str, list[Any]] = {}
    for p in parameters:
        if isinstance(p.dist, Categorical):
            grid[p.name] = list(p.dist.choices)
        elif isinstance(p.dist, Int):
            grid[p.name] = list(range(p.dist.low, p.dist.high + 1, p.dist.step))
        elif isinstance(p.dist, Float) and p.dist.step is not None:
            n = int(round((p.dist.high - p.dist.low) / p.dist.step))
            grid[p.name] = [p.dist.low + k * p.dist.step for k in range(n + 1)]
    return grid


class WandbRandom:
    """W&B's random search: each parameter drawn from its W&B distribution (`Prior.ppf` at a
    uniform number), independently; parameters without a prior are drawn uniformly."""

    joint_sampling = False

    def __init__(self, parameters: list[Parameter], *, seed: int | None = None) -> None:
        from hyperdial.samplers.base import check_seed

        self.seed = check_seed(seed)
        self.priors = {p.name: p.prior for p in parameters if p.prior is not None}

    def sample(self, history: Any, trial: Any, space: Mapping[str, Distribution]) -> dict[str, Any]:
        out = {}
        for name, dist in space.items():
            u = trial_uniform(self.seed, trial.number, name)
            prior = self.priors.get(name)
            out[name] = prior.ppf(u) if prior is not None else decode(dist, u)
            if isinstance(out[name], float) and not math.isfinite(out[name]):  # pragma: no cover - guarded by EPS
                out[name] = decode(dist, u)
        return out

    def __repr__(self) -> str:
        return f"WandbRandom(seed={self.seed})"
