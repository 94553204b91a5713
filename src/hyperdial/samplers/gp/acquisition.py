"""LogEI and the log probability of feasibility, with analytic gradients.

Expected improvement of f ~ N(mu, sigma^2) over the incumbent f* is
EI = sigma h(z), z = (mu - f*) / sigma, h(z) = phi(z) + z Phi(z). Far from the
incumbent, EI underflows to 0 and its gradient vanishes, so we optimise
log EI = log h(z) + log sigma with log h computed stably (Ament et al. 2023,
"Unexpected Improvements to Expected Improvement for Bayesian Optimization", eq. 9).
Constraints (one GP each, on g_k = -c_k so that feasible means g_k >= tau_k)
multiply EI by P(g_k >= tau_k), i.e. add log Phi((mu_k - tau_k) / sigma_k) in log
space (Gardner et al. 2014, "Bayesian Optimization with Inequality Constraints");
with no feasible point yet, the acquisition is the log probability of feasibility alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

from hyperdial.samplers.gp.model import Posterior

_C1 = 0.5 * math.log(2.0 * math.pi)
_C2 = 0.5 * math.log(0.5 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_Z_TAIL = -100.0  # below this, asymptotic series (Abramowitz & Stegun 26.2.12) beat the cancellation in 1 - t R


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x < 0, accurate on both sides of -log 2 (Maechler 2012)."""
    out = np.empty_like(x)
    near = x > -math.log(2.0)
    out[near] = np.log(-np.expm1(x[near]))
    out[~near] = np.log1p(-np.exp(x[~near]))
    return out


def log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z Phi(z)), finite for every finite z (Ament et al. 2023, eq. 9)."""
    z = np.maximum(np.asarray(z, dtype=float), -1e150)  # z^2 stays finite
    out = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu * zu) / math.sqrt(2.0 * math.pi) + zu * ndtr(zu))
    mid = ~upper & (z > _Z_TAIL)
    zm = z[mid]
    out[mid] = -0.5 * zm * zm - _C1 + _log1mexp(np.log(erfcx(-_INV_SQRT2 * zm) * np.abs(zm)) + _C2)
    tail = z <= _Z_TAIL
    t = -z[tail]
    u = 1.0 / (t * t)
    # h = phi(t) (1 - t R(t)) = phi(t) / t^2 (1 - 3/t^2 + 15/t^4 - 105/t^6 + ...)
    out[tail] = -0.5 * t * t - _C1 - 2.0 * np.log(t) + np.log1p(u * (-3.0 + u * (15.0 - 105.0 * u)))
    return out


def log_h_grad(z: np.ndarray, lh: np.ndarray) -> np.ndarray:
    """d log h / dz = Phi(z) / h(z) (h' = Phi), finite for every finite z.

    For z <= -1, with t = -z and the Mills ratio R = Phi(-t) / phi(t) = sqrt(pi/2) erfcx(t / sqrt 2),
    Phi / h = R / (1 - t R), the difference taken in log space as in `log_h`; far in the tail the
    series t + 2/t - 6/t^3.
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1.0
    out[upper] = np.exp(log_ndtr(z[upper]) - lh[upper])
    mid = ~upper & (z > _Z_TAIL)
    t = -z[mid]
    log_r = np.log(erfcx(_INV_SQRT2 * t)) + _C2
    out[mid] = np.exp(log_r - _log1mexp(log_r + np.log(t)))
    tail = z <= _Z_TAIL
    t = -z[tail]
    out[tail] = t + 2.0 / t - 6.0 / t**3
    return out


def log_ei(mean: np.ndarray, var: np.ndarray, best: float) -> np.ndarray:
    """log E[max(f - best, 0)] for f ~ N(mean, var)."""
    sigma = np.sqrt(var)
    return log_h((mean - best) / sigma) + np.log(sigma)


@dataclass
class Acquisition:
    """Constrained LogEI for maximisation (see the module docstring).

    `objective` is None when no trial is feasible yet: then only the constraint terms count.
    `constraints` holds (posterior, threshold) pairs: feasible when g >= threshold.
    """

    objective: Posterior | None
    best: float
    constraints: list[tuple[Posterior, float]] = field(default_factory=list)

    def __call__(self, x: np.ndarray, grad: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        value = np.zeros(len(x))
        g = np.zeros_like(x) if grad else None
        if self.objective is not None:
            if grad:
                mean, var, dmean, dvar = self.objective.predict(x, grad=True)
            else:
                mean, var = self.objective.predict(x)
            sigma = np.sqrt(var)
            z = (mean - self.best) / sigma
            lh = log_h(z)
            value += lh + np.log(sigma)
            if g is not None:
                dsigma = dvar / (2.0 * sigma[:, None])
                dz = (dmean - z[:, None] * dsigma) / sigma[:, None]
                g += log_h_grad(z, lh)[:, None] * dz + dsigma / sigma[:, None]
        for post, threshold in self.constraints:
            if grad:
                mean, var, dmean, dvar = post.predict(x, grad=True)
            else:
                mean, var = post.predict(x)
            sigma = np.sqrt(var)
            u = (mean - threshold) / sigma
            lp = log_ndtr(u)
            value += lp
            if g is not None:
                dsigma = dvar / (2.0 * sigma[:, None])
                du = (dmean - u[:, None] * dsigma) / sigma[:, None]
                ratio = np.exp(-0.5 * u * u - _C1 - lp)  # phi(u) / Phi(u)
                g += ratio[:, None] * du
        return value, g
