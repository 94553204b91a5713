"""W&B's parameter distributions: how W&B samples each one, and the hyperdial distribution it maps onto.

W&B's random search draws u ~ U(0, 1) and returns the distribution's quantile function at u
(`sweeps/params.py`, `HyperParameter.ppf`). `Prior.ppf` is that function, written here from
the same formulas, so `method: random` draws exactly what W&B draws. `Prior.dist` is the
hyperdial distribution the model-based samplers (`bayes`, any native `method`) search over:
the same support, flat on the scale the distribution lives on (log scale for the log-uniform
family). For the unbounded ones (normal, log-normal) the support is cut at the quantiles
`EPS` and `1 - EPS` (mu +- 4.75 sigma): random search draws u from [EPS, 1 - EPS], so values
beyond that, which W&B would draw with probability 2e-6, never appear; the model-based
samplers see a flat range there, not the bell (docs/sweeps.md, "How W&B distributions map").

>>> p = prior("lr", "log_uniform_values", {"min": 1e-4, "max": 1e-1})
>>> p.dist
Float(low=0.0001, high=0.1, log=True, step=None)
>>> round(p.ppf(0.5), 6)
0.003162
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hyperdial.space import Distribution, Float, Int

EPS = 1e-6  # quantiles cut from each tail of the unbounded distributions
_Z = 4.753424308822899  # Phi^-1(1 - EPS)


@dataclass(frozen=True)
class Prior:
    """One W&B distribution: `ppf(u)` is W&B's quantile function, `dist` what hyperdial searches."""

    kind: str
    dist: Distribution
    ppf: Callable[[float], Any]
    choices: tuple[Any, ...] | None = None  # categorical values that are not scalars: `dist` holds indices

    def decode(self, stored: Any) -> Any:
        """The value the program gets for a stored (sampled) value."""
        return stored if self.choices is None else self.choices[stored]


def _ndtri(u: float) -> float:
    from scipy.special import ndtri  # scipy is a core dependency; imported only by sweeps

    return float(ndtri(min(max(u, EPS), 1 - EPS)))


def _quantise(x: float, q: float) -> float | int:
    # W&B: np.round(r / q) * q, an int when q is a Python int (round half to even, as numpy).
    r = round(x / q) * q
    return int(r) if isinstance(q, int) else float(r)


def _step_dist(low: float, high: float, q: float, *, log: bool = False) -> Distribution:
    """The grid {round(x / q) * q} between two quantised bounds; log scale only where hyperdial has it."""
    lo, hi = _quantise(low, q), _quantise(high, q)
    if isinstance(q, int):
        if q == 1 and log and lo >= 1:
            return Int(int(lo), int(hi), log=True)
        return Int(int(lo), int(hi), step=q)
    return Float(float(lo), float(hi), step=float(q))


def _uniform_index(u: float, n: int) -> int:
    """scipy's `randint.ppf(u, 0, n)`, which W&B uses: the smallest k with (k + 1) / n >= u."""
    k = math.ceil(u * n) - 1
    if k >= 1 and k / n >= u:  # ceil overshot by a rounding error
        k -= 1
    return min(max(k, 0), n - 1)


def _categorical_ppf(values: list[Any], probabilities: list[float] | None) -> Callable[[float], Any]:
    if probabilities is None:
        n = len(values)
        return lambda u: values[_uniform_index(u, n)]
    cdf = []
    total = 0.0
    for p in probabilities:
        total += p
        cdf.append(total)
    # W&B: values[argmin(u >= cdf)], the first value whose cumulative probability exceeds u.
    return lambda u: values[min(bisect.bisect_right(cdf, u), len(values) - 1)]


def prior(name: str, kind: str, c: dict[str, Any]) -> Prior:
    """The prior of parameter `name` of W&B distribution `kind` with filled-in settings `c`."""
    from hyperdial.space import Categorical, choice_key

    q = c.get("q", 1.0)
    if kind in ("categorical", "categorical_w_probabilities"):
        values = list(c["values"])
        scalar = all(v is None or isinstance(v, (bool, int, float, str)) for v in values)
        if scalar and len({choice_key(v) for v in values}) == len(values):
            return Prior(kind, Categorical(values), _categorical_ppf(values, c.get("probabilities")))
        # Lists, dicts or repeated values: hyperdial searches over their positions.
        index = list(range(len(values)))
        return Prior(kind, Categorical(index), _categorical_ppf(index, c.get("probabilities")), tuple(values))
    if kind == "int_uniform":
        lo_i, hi_i = c["min"], c["max"]
        return Prior(kind, Int(lo_i, hi_i), lambda u: lo_i + _uniform_index(u, hi_i - lo_i + 1))
    lo: Any = c.get("min")
    hi: Any = c.get("max")
    if kind == "uniform":
        return Prior(kind, Float(lo, hi), lambda u: lo + u * (hi - lo))
    if kind == "q_uniform":
        return Prior(kind, _step_dist(lo, hi, q), lambda u: _quantise(lo + u * (hi - lo), q))
    if kind == "log_uniform":  # bounds are natural logs
        return Prior(kind, Float(math.exp(lo), math.exp(hi), log=True), lambda u: math.exp(lo + u * (hi - lo)))
    if kind == "log_uniform_values":
        a, b = math.log(lo), math.log(hi)
        return Prior(kind, Float(lo, hi, log=True), lambda u: math.exp(a + u * (b - a)))
    if kind == "inv_log_uniform":  # exp(-U(min, max)): log-uniform on [exp(-max), exp(-min)]
        return Prior(kind, Float(math.exp(-hi), math.exp(-lo), log=True),
                     lambda u: math.exp(-(lo + (1 - u) * (hi - lo))))
    if kind == "inv_log_uniform_values":  # 1/x log-uniform on [1/max, 1/min]: x log-uniform on [min, max]
        a, b = -math.log(hi), -math.log(lo)
        return Prior(kind, Float(lo, hi, log=True), lambda u: math.exp(-(a + (1 - u) * (b - a))))
    if kind in ("q_log_uniform", "q_log_uniform_values"):
        a, b = (lo, hi) if kind == "q_log_uniform" else (math.log(lo), math.log(hi))
        return Prior(kind, _step_dist(math.exp(a), math.exp(b), q, log=True),
                     lambda u: _quantise(math.exp(a + u * (b - a)), q))
    mu, sigma = c.get("mu", 0.0), c.get("sigma", 1.0)
    if kind == "normal":
        return Prior(kind, Float(mu - _Z * sigma, mu + _Z * sigma), lambda u: mu + sigma * _ndtri(u))
    if kind == "q_normal":
        return Prior(kind, _step_dist(mu - _Z * sigma, mu + _Z * sigma, q),
                     lambda u: _quantise(mu + sigma * _ndtri(u), q))
    if kind == "log_normal":
        return Prior(kind, Float(math.exp(mu - _Z * sigma), math.exp(mu + _Z * sigma), log=True),
                     lambda u: math.exp(mu + sigma * _ndtri(u)))
    if kind == "q_log_normal":
        return Prior(kind, _step_dist(math.exp(mu - _Z * sigma), math.exp(mu + _Z * sigma), q, log=True),
                     lambda u: _quantise(math.exp(mu + sigma * _ndtri(u)), q))
    if kind in ("beta", "q_beta"):
        a_, b_ = c.get("a", 1.0), c.get("b", 1.0)

        def beta_ppf(u: float) -> float:
            from scipy.stats import beta

            return float(beta.ppf(u, a_, b_))

        if kind == "beta":
            return Prior(kind, Float(0.0, 1.0), beta_ppf)
        return Prior(kind, _step_dist(0.0, 1.0, q), lambda u: _quantise(beta_ppf(u), q))
    raise ValueError(f"unknown W&B distribution {kind!r} for {name!r}")  # the reader checked the names


KINDS = (
    "constant", "categorical", "categorical_w_probabilities", "int_uniform", "uniform", "q_uniform",
    "log_uniform", "log_uniform_values", "q_log_uniform", "q_log_uniform_values", "inv_log_uniform",
    "inv_log_uniform_values", "normal", "q_normal", "log_normal", "q_log_normal", "beta", "q_beta",
)
