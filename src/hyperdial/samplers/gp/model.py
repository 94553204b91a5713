"""The Gaussian process: hyperparameters by maximum a posteriori, the posterior and its gradient.

With K = k(X, X) + noise * I and alpha = K^-1 y, the log marginal likelihood is
(Rasmussen & Williams 2006, eq. 5.8)

    log p(y | X, theta) = -1/2 y^T alpha - sum(log diag(L)) - n/2 log(2 pi),   K = L L^T,

and its gradient (eq. 5.9) is 1/2 tr((alpha alpha^T - K^-1) dK/dtheta). For the
lengthscales and warping parameters, tr(M dK/dtheta) reduces to products of M
with the (n, d) matrix of warped inputs, so a gradient costs one Cholesky, one
inverse and O(n^2 d), never an (n, n, d) array. Hyperparameters are optimised in
log space by L-BFGS-B with the log priors of `log_prior` added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack, solve_triangular

from hyperdial.samplers.gp.kernel import (
    SQRT5,
    Embedding,
    kumaraswamy,
    kumaraswamy_dparams,
    kumaraswamy_dx,
    matern52,
    matern52_and_grad,
    sqdist,
    squeeze,
)

MIN_NOISE = 1e-6  # noise variance floor, in units of the standardised outputs
VAR_FLOOR = 1e-12
_LOG_2PI = math.log(2.0 * math.pi)
# Bounds of the raw (log) hyperparameters: they keep L-BFGS-B out of degenerate corners.
_LOG_LS_BOUNDS = (math.log(1e-3), math.log(1e3))
_LOG_SCALE_BOUNDS = (math.log(1e-3), math.log(1e2))
_LOG_NOISE_BOUNDS = (math.log(1e-9), math.log(2.0))
_LOG_WARP_BOUNDS = (math.log(0.1), math.log(10.0))
WARP_PRIOR_VAR = 0.1  # log a, log b ~ N(0, 0.1): gentle warps unless the data insist


@dataclass(frozen=True)
class Layout:
    """Where each hyperparameter sits in the raw vector theta (all in log space).

    theta = [log lengthscales (dim), log scale, log(noise - MIN_NOISE) unless deterministic,
             log a, log b (one each per numeric column) if warping].
    """

    dim: int
    n_numeric: int
    learn_noise: bool
    warping: bool

    @property
    def size(self) -> int:
        return self.dim + 1 + int(self.learn_noise) + (2 * self.n_numeric if self.warping else 0)

    def default(self) -> np.ndarray:
        theta = np.zeros(self.size)  # lengthscales 1, scale 1, no warping
        if self.learn_noise:
            theta[self.dim + 1] = math.log(1e-2)
        return theta

    def bounds(self) -> list[tuple[float, float]]:
        out = [_LOG_LS_BOUNDS] * self.dim + [_LOG_SCALE_BOUNDS]
        if self.learn_noise:
            out.append(_LOG_NOISE_BOUNDS)
        if self.warping:
            out += [_LOG_WARP_BOUNDS] * (2 * self.n_numeric)
        return out


@dataclass(frozen=True)
class Hyper:
    """Natural-scale hyperparameters."""

    lengthscales: np.ndarray
    scale: float
    noise: float
    warp_a: np.ndarray
    warp_b: np.ndarray

    @classmethod
    def from_theta(cls, theta: np.ndarray, layout: Layout) -> Hyper:
        d, p = layout.dim, layout.n_numeric
        i = d + 1
        noise = MIN_NOISE
        if layout.learn_noise:
            noise += math.exp(theta[i])
            i += 1
        if layout.warping:
            a, b = np.exp(theta[i : i + p]), np.exp(theta[i + p : i + 2 * p])
        else:
            a = b = np.ones(p)
        return cls(np.exp(theta[:d]), math.exp(theta[d]), noise, a, b)


def log_prior(theta: np.ndarray, layout: Layout) -> tuple[float, np.ndarray]:
    """Log prior density over the raw parameters (up to a constant) and its gradient.

    - lengthscale l: -(0.1 l^2 + 0.1 / l^2), mode at l = 1 (the prior of Optuna's GP on 1 / l^2);
    - kernel scale s: Gamma(2, 1), (2 - 1) log s - s;
    - noise variance v: Gamma(1.1, 30), 0.1 log v - 30 v, which favours small noise;
    - warping: log a, log b ~ N(0, 0.1), centred on no warping (a gentle prior: with a wide one,
      warps overfit small data; BoTorch uses N(0, 0.75)).
    """
    d = layout.dim
    grad = np.zeros_like(theta)
    ls2 = np.exp(2.0 * theta[:d])
    value = float(-np.sum(0.1 * ls2 + 0.1 / ls2))
    grad[:d] = -0.2 * ls2 + 0.2 / ls2
    s = math.exp(theta[d])
    value += theta[d] - s
    grad[d] = 1.0 - s
    i = d + 1
    if layout.learn_noise:
        e = math.exp(theta[i])
        v = MIN_NOISE + e
        value += 0.1 * math.log(v) - 30.0 * v
        grad[i] = (0.1 / v - 30.0) * e
        i += 1
    if layout.warping:
        w = theta[i:]
        value += float(-0.5 * np.sum(w * w) / WARP_PRIOR_VAR)
        grad[i:] = -w / WARP_PRIOR_VAR
    return value, grad


def _cholesky(k: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, adding jitter if rounding made K indefinite."""
    jitter = 0.0
    scale = float(np.mean(np.diag(k)))
    for _ in range(6):
        c, info = lapack.dpotrf(k + jitter * np.eye(len(k)) if jitter else k, lower=1, clean=1)
        if info == 0:
            return np.asarray(c)
        jitter = max(jitter * 10.0, 1e-9 * scale)
    raise np.linalg.LinAlgError("the kernel matrix is not positive definite")


def _inverse(chol: np.ndarray) -> np.ndarray:
    inv, info = lapack.dpotri(chol, lower=1)  # fills the lower triangle; the upper one stays 0 (clean factor)
    if info != 0:
        raise np.linalg.LinAlgError("cannot invert the kernel matrix")
    out = inv + inv.T
    out[np.diag_indices(len(out))] *= 0.5
    return np.asarray(out)


def _solve(chol: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, info = lapack.dpotrs(chol, y, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("cannot solve with the kernel matrix")
    return np.asarray(x)


def neg_log_posterior(
    theta: np.ndarray, emb: Embedding, x: np.ndarray, y: np.ndarray, layout: Layout
) -> tuple[float, np.ndarray]:
    """-(log marginal likelihood + log prior) and its gradient with respect to theta.

    With W = alpha alpha^T - K^-1 and A = s dm/dt (elementwise), d lml / d theta =
    1/2 sum(W o A o dt/dtheta); the products are arranged so that no (n, n) array
    beyond K, K^-1, A and K^-1 o A is formed.
    """
    hp = Hyper.from_theta(theta, layout)
    ls, s = hp.lengthscales, hp.scale
    n = len(y)
    u = emb.warp(x, hp.warp_a, hp.warp_b)  # (n, p) warped numeric inputs
    onehots = emb.one_hot(x)
    z = np.hstack([u / ls[emb.numeric]] + [o / (math.sqrt(2.0) * ls[j]) for j, o in zip(emb.categorical, onehots)])
    t = sqdist(z, z)
    r = np.sqrt(t, out=np.empty_like(t))
    r *= SQRT5
    e = np.exp(np.negative(r, out=r), out=r)  # exp(-sqrt(5t)); r is reused
    one_plus = np.sqrt(t) * SQRT5
    one_plus += 1.0
    one_plus *= e  # (1 + sqrt(5t)) exp(-sqrt(5t))
    k = t * e
    k *= 5.0 / 3.0
    k += one_plus
    k *= s  # s m(t)
    k[np.diag_indices(n)] += hp.noise
    chol = _cholesky(k)
    del k, t, e
    alpha = _solve(chol, y)
    kinv = _inverse(chol)
    lml = -0.5 * float(y @ alpha) - float(np.sum(np.log(np.diag(chol)))) - 0.5 * n * _LOG_2PI
    a = one_plus
    a *= -5.0 / 6.0 * s  # A = s dm/dt
    p = kinv * a  # K^-1 o A;  M = W o A = (alpha alpha^T) o A - P
    ones = np.ones((n, 1))
    au = np.hstack([alpha[:, None] * u, alpha[:, None], ones]) if u.size else np.hstack([alpha[:, None], ones])
    a_au = a @ au
    p_u = p @ np.hstack([u, ones]) if u.size else p @ ones
    mu = alpha[:, None] * a_au[:, : u.shape[1]] - p_u[:, : u.shape[1]]  # M u
    rs = alpha * a_au[:, u.shape[1]] - p_u[:, -1]  # M 1
    grad = np.zeros_like(theta)
    d = layout.dim
    num = emb.numeric
    # Lengthscales: sum_ik M_ik (u_i - u_k)^2 = 2 colsum(U o (rs U - M U)).
    resid = rs[:, None] * u - mu
    grad[num] = -(2.0 * np.sum(u * resid, axis=0)) / ls[num] ** 2
    total = float(np.sum(rs))
    for j, o in zip(emb.categorical, onehots):
        ao = alpha[:, None] * o
        same = float(np.sum(ao * (a @ ao)) - np.sum(o * (p @ o)))  # sum_c o_c^T M o_c
        grad[j] = -(total - same) / ls[j] ** 2
    # Scale: 1/2 tr(W K_f), K_f = K - noise I: alpha^T K_f alpha = y^T alpha - noise |alpha|^2, tr(K^-1 K_f) = n - noise tr(K^-1).
    trace_inv = float(np.trace(kinv))
    grad[d] = 0.5 * (float(y @ alpha) - hp.noise * float(alpha @ alpha) - n + hp.noise * trace_inv)
    i = d + 1
    if layout.learn_noise:
        grad[i] = 0.5 * (float(alpha @ alpha) - trace_inv) * (hp.noise - MIN_NOISE)
        i += 1
    if layout.warping and len(num):
        xs = squeeze(x[:, num])
        ga, gb = kumaraswamy_dparams(xs, hp.warp_a, hp.warp_b)
        inv_ls2 = 1.0 / ls[num] ** 2
        q = len(num)
        grad[i : i + q] = 2.0 * np.sum(ga * resid, axis=0) * inv_ls2
        grad[i + q : i + 2 * q] = 2.0 * np.sum(gb * resid, axis=0) * inv_ls2
    lp, lp_grad = log_prior(theta, layout)
    return -(lml + lp), -(grad + lp_grad)


def fit(
    emb: Embedding,
    x: np.ndarray,
    y: np.ndarray,
    layout: Layout,
    theta0: np.ndarray | None,
    *,
    maxiter: int,
) -> np.ndarray:
    """MAP hyperparameters by L-BFGS-B, from `theta0` (a previous fit) or the default, whichever is better."""
    from scipy.optimize import minimize

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            value, grad = neg_log_posterior(theta, emb, x, y, layout)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        if not (math.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e10, np.zeros_like(theta)
        return value, grad

    start = layout.default()
    if theta0 is not None and len(theta0) == layout.size and objective(theta0)[0] <= objective(start)[0]:
        start = np.clip(theta0, *np.array(layout.bounds()).T)
    res = minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=layout.bounds(),
        options={"maxiter": maxiter, "gtol": 1e-2},
    )
    theta = np.asarray(res.x, dtype=float)
    return theta if objective(theta)[0] <= objective(start)[0] else start


class Posterior:
    """A GP conditioned on (x, y) with fixed hyperparameters: mean, variance and their gradients at query points."""

    def __init__(self, emb: Embedding, x: np.ndarray, y: np.ndarray, hp: Hyper) -> None:
        self.emb, self.x, self.y, self.hp = emb, x, y, hp
        ls = hp.lengthscales
        self._u = emb.warp(x, hp.warp_a, hp.warp_b)
        self._z = emb.embed(x, ls, hp.warp_a, hp.warp_b)
        k = hp.scale * matern52_and_grad(sqdist(self._z, self._z))[0]
        k[np.diag_indices_from(k)] += hp.noise
        self._chol = _cholesky(k)
        self._alpha = _solve(self._chol, y)

    def condition(self, x_new: np.ndarray, y_new: np.ndarray) -> Posterior:
        """The same GP with extra observations (fantasies for running trials)."""
        return Posterior(self.emb, np.vstack([self.x, x_new]), np.concatenate([self.y, y_new]), self.hp)

    def predict(self, xq: np.ndarray, grad: bool = False) -> tuple[np.ndarray, ...]:
        """Mean and variance of f at xq (b, d); with grad, also d mean/dx and d var/dx (b, d).

        Gradients are zero in categorical columns (they are searched, not differentiated).
        """
        hp, emb = self.hp, self.emb
        num = emb.numeric
        xs = squeeze(xq[:, num])
        uq = kumaraswamy(xs, hp.warp_a, hp.warp_b)
        zq = emb.embed_warped(xq, uq, hp.lengthscales)
        t = sqdist(zq, self._z)
        if grad:
            m, dm = matern52_and_grad(t)
        else:
            m = matern52(t)
        kq = hp.scale * m
        mean = kq @ self._alpha
        # var = s - k^T K^-1 k = s - |L^-1 k|^2: one triangular solve, half the flops of a product with K^-1.
        lk = solve_triangular(self._chol, kq.T, lower=True, check_finite=False)
        raw_var = hp.scale - np.einsum("ij,ij->j", lk, lk)
        var = np.maximum(raw_var, VAR_FLOOR)
        if not grad:
            return mean, var
        v = solve_triangular(self._chol, lk, lower=True, trans="T", check_finite=False).T  # (K^-1 k)^T
        # dt_i/dx_j = 2 (w(x_j) - w(X_ij)) w'(x_j) / l_j^2
        factor = 2.0 * kumaraswamy_dx(xs, hp.warp_a, hp.warp_b) / hp.lengthscales[num] ** 2
        a = hp.scale * dm * self._alpha[None, :]
        b = hp.scale * dm * v
        dmean = np.zeros_like(xq)
        dvar = np.zeros_like(xq)
        dmean[:, num] = factor * (uq * a.sum(axis=1)[:, None] - a @ self._u)
        dvar[:, num] = -2.0 * factor * (uq * b.sum(axis=1)[:, None] - b @ self._u)
        dvar[raw_var < VAR_FLOOR] = 0.0
        return mean, var, dmean, dvar
