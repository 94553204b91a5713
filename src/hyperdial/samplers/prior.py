"""`Prior`: a belief about where the optimum lies, for the model-based samplers (piBO).

Hvarfner et al. 2022, "piBO: Augmenting Acquisition Functions with User Beliefs for Bayesian
Optimization" (ICLR): the next point maximises the acquisition a(x) weighted by the prior density
raised to a power that decays with the number of observations n,

    x_n = argmax a(x) pi(x)^(beta / n),   i.e.  log a(x) + (beta / n) log pi(x),

so early proposals follow the belief and later ones the data; the paper proves that with EI the
decay keeps the plain acquisition's convergence rate whatever the prior, which is what protects
a search from a wrong belief. The GP sampler adds (beta / n) log pi(x) to its log EI (and its
gradient). TPE adds it to its score log l(x) - log g(x), the log of its EI up to a monotone map
(Bergstra et al. 2011, section 4.1): piBO's weighting applied to TPE's acquisition, the way
BOPrO (Souza et al. 2021, "Bayesian Optimization with a Prior for the Optimum") weights its
good/bad densities by a prior whose influence decays with the iterations. As TPE maximises by
scoring draws from l(x), a share beta / n of its `n_ei_candidates` (at most all of them) is
drawn from pi as well, so that the weighting has candidates near the belief to prefer.
Start-up trials are not drawn from the prior (a preset's first trial is its defaults).

pi is a product over parameters, in the unit box the samplers model (log scales linear,
integers on equal cells: `hyperdial.transform`):

- numbers: a Gaussian centred on the belief's position, standard deviation `width` (a share of
  the range; 0.2 by default), truncated to the box (the truncation is a constant and drops out);
- categoricals: `choice_mass` on the believed choice (2/3 by default), the rest shared evenly;
- parameters the belief does not name: flat.

beta = 10, width = 0.2 and choice_mass = 2/3 were set before any benchmark and not tuned
(docs/benchmarks.md, "Priors from preset defaults").

>>> import hyperdial as hd
>>> prior = Prior(center={"lr": 1e-3}, width=0.1)
>>> sampler = hd.samplers.GP(prior=prior, seed=0)
>>> round(prior.weight(20), 3)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.space import Categorical, Distribution
from hyperdial.transform import UnitTransform

__all__ = ["Prior", "PriorTerm"]


class Prior:
    """A belief about the optimum: `center` (name -> value), how sure (`width`, `choice_mass`), how long (`beta`).

    Args (keyword-only):
        center: the believed best value of each parameter it names (a preset's defaults, say).
        width: standard deviation of each number's Gaussian, as a share of its range in the unit
            box (on the log scale for log parameters).
        choice_mass: prior probability of the believed choice of a categorical.
        beta: the strength: the prior's exponent is beta / n after n COMPLETE trials.
    """

    def __init__(self, *, center: Mapping[str, Any], width: float = 0.2, choice_mass: float = 2 / 3,
                 beta: float = 10.0) -> None:
        if not isinstance(center, Mapping) or not all(isinstance(k, str) for k in center):
            raise invalid("center", "must be a mapping of parameter names to values", center)
        if not center:
            raise invalid("center", "must name at least one parameter", dict(center))
        self.center = dict(center)
        self.width = float(rules.check("width", width, rules.Real(low=0, closed="neither", finite=True)))
        self.choice_mass = float(rules.check("choice_mass", choice_mass, rules.Real(low=0, high=1, closed="neither")))
        self.beta = float(rules.check("beta", beta, rules.Real(low=0, finite=True)))

    def __repr__(self) -> str:
        return f"Prior(center={self.center!r}, width={self.width}, choice_mass={self.choice_mass:.3g}, beta={self.beta})"

    def weight(self, n_observations: int) -> float:
        """The exponent beta / n of pi after n observations (n counted from 1)."""
        return self.beta / max(int(n_observations), 1)

    def term(self, space: Mapping[str, Distribution]) -> PriorTerm | None:
        """log pi over the columns of `space` (in its order), or None if it names none of them.

        Raises if a named parameter's believed value lies outside its distribution.
        """
        numeric: list[tuple[int, float]] = []
        categorical: list[tuple[int, int, int]] = []
        for j, (name, dist) in enumerate(space.items()):
            if name not in self.center or dist.is_single():
                continue
            value = self.center[name]
            if not dist.contains(value):
                raise invalid(f"prior.center[{name!r}]", f"must lie inside the parameter's distribution {dist!r}",
                              value)
            if isinstance(dist, Categorical):
                categorical.append((j, dist.index(value), len(dist.choices)))
            else:
                numeric.append((j, float(UnitTransform({name: dist}).to_unit({name: value})[0])))
        if not numeric and not categorical:
            return None
        return PriorTerm(
            dim=len(space),
            numeric=np.array([j for j, _ in numeric], dtype=np.int64),
            centre=np.array([c for _, c in numeric]),
            categorical=[(j, idx, k) for j, idx, k in categorical],
            width=self.width,
            choice_mass=self.choice_mass,
        )


@dataclass(frozen=True)
class PriorTerm:
    """log pi(x) at points of the unit box of one space (columns in the space's order)."""

    dim: int
    numeric: np.ndarray  # column indices
    centre: np.ndarray  # their believed positions in [0, 1]
    categorical: Sequence[tuple[int, int, int]]  # (column, believed choice, number of choices)
    width: float
    choice_mass: float

    def log_pdf(self, x: np.ndarray, cells: np.ndarray | None = None, grad: bool = False
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """log pi at points x (b, d), up to a constant, and d log pi / dx if `grad` (zero on categoricals).

        A categorical's choice is `cells[:, j]` when given (TPE), else read from x[:, j] = (index + 0.5) / K (GP).
        """
        z = (x[:, self.numeric] - self.centre) / self.width
        value = -0.5 * np.sum(z * z, axis=1)
        for j, believed, k in self.categorical:
            idx = cells[:, j] if cells is not None else np.minimum(np.floor(x[:, j] * k), k - 1)
            other = math.log((1.0 - self.choice_mass) / (k - 1))
            value = value + np.where(idx == believed, math.log(self.choice_mass), other)
        if not grad:
            return value, None
        g = np.zeros_like(x)
        g[:, self.numeric] = -z / self.width
        return value, g

    def sample(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """`size` draws from pi: numbers in the box (flat where unnamed), choices as cells (-1: not named)."""
        from scipy.special import ndtr, ndtri

        u = rng.random((size, self.dim))
        cells = np.full((size, self.dim), -1, dtype=np.int64)
        if len(self.numeric):
            lo, hi = ndtr(-self.centre / self.width), ndtr((1.0 - self.centre) / self.width)
            q = lo + rng.random((size, len(self.numeric))) * (hi - lo)
            u[:, self.numeric] = np.clip(self.centre + self.width * ndtri(q), 0.0, 1.0)
        for j, believed, k in self.categorical:
            other = rng.integers(0, k - 1, size)
            other += other >= believed
            pick = np.where(rng.random(size) < self.choice_mass, believed, other)
            cells[:, j] = pick
            u[:, j] = (pick + 0.5) / k
        return u, cells


def check_prior(prior: Any) -> Prior | None:
    """The samplers' `prior=` argument: a `Prior` or None."""
    out: Prior | None = rules.check("prior", prior, rules.InstanceOf(Prior), None)
    return out


def weighted(acq: Any, term: PriorTerm, weight: float) -> Any:
    """A log-space acquisition `acq(x, grad) -> (value, grad)` plus weight * log pi(x): piBO in log space."""

    def call(x: np.ndarray, grad: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        value, g = acq(x, grad=grad)
        lp, lg = term.log_pdf(x, grad=grad)
        return value + weight * lp, (None if g is None or lg is None else g + weight * lg)

    return call


def at_centre(term: PriorTerm, x: np.ndarray) -> np.ndarray:
    """Copies of points x (b, d) with the believed columns moved to the belief (a start for the acquisition search)."""
    out = np.array(x, dtype=float, copy=True)
    out[:, term.numeric] = term.centre
    for j, believed, k in term.categorical:
        out[:, j] = (believed + 0.5) / k
    return out
