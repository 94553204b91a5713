"""Parzen estimators (kernel density estimators) of TPE, in the unit box.

A `Parzen` is a weighted mixture of product kernels, one per observation plus a
broad prior kernel (Bergstra et al. 2011, section 4; Watanabe 2023, section 3,
"prior"). Per parameter (see `encoding.py`):

- numbers: a Gaussian truncated to [0, 1], centred on the observation. The
  bandwidth, one per dimension, is Scott's rule (4 / (d + 2))^(1/(d+4)) std n^(-1/(d+4))
  (the multivariate rule of Falkner et al. 2018, BOHB; d = 1 gives the familiar
  1.06 std n^(-1/5)), clipped to [max(min_bandwidth, 1 / (n + 1)), 1]: the lower
  bound is Hyperopt's "magic clip" (Watanabe 2023, section 3, bandwidth).
  `bandwidth="hyperopt"` gives each kernel of a continuous parameter the larger
  gap to its neighbours instead (Hyperopt/Optuna). On a coarse grid (integers,
  steps) the kernel gives each cell its exact mass;
- categoricals: the Aitchison-Aitken kernel, 1 - b on the observed choice and
  b / (K - 1) on each other one, with b = (K - 1) c / (1 + K c), c = prior_weight / (n + 1)
  (Optuna's prior smoothing, written as a kernel bandwidth).

The prior kernel is N(0.5, 1) truncated to the box, uniform for categoricals.

Evaluation is vectorised over candidates x and kernels k: the Gaussian exponent
  -(x - m)^2 / 2s^2 = [-x^2 / 2] (1 / s^2) + [x] (m / s^2) - m^2 / 2s^2
splits into candidate features [-x^2 / 2, x], kernel features [1 / s^2, m / s^2]
and a kernel constant. With one width per dimension (Scott's rule) the 1 / s^2
factors move to the candidate side, [x / s^2] against [m], and -x^2 / 2s^2 is
the same for every kernel. A cell table adds
T[cell(m_k), cell(x)] = sum_c T[c, cell(x)] onehot_c(m_k). The kernel features
[m, onehot(m)] then do not depend on the bandwidths, and the sampler caches them
per observation (`Layout.features`). So the (candidates x kernels) matrix of log
densities is one matrix product, and a log-sum-exp over kernels finishes the mixture.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hyperdial.samplers.tpe.encoding import LOG_SQRT_2PI as _LOG_SQRT_2PI
from hyperdial.samplers.tpe.encoding import Layout, special


def _neighbour_bandwidths(m: np.ndarray) -> np.ndarray:
    """Hyperopt's rule, per column: each kernel as wide as the larger gap to its neighbours.

    The box edges count as neighbours, except that the outermost observations use their
    one inner gap (Optuna's consider_endpoints=False).
    """
    n = len(m)
    order = np.argsort(m, axis=0, kind="stable")
    padded = np.concatenate([np.zeros((1, m.shape[1])), np.take_along_axis(m, order, 0), np.ones((1, m.shape[1]))])
    gaps = np.diff(padded, axis=0)
    sig = np.maximum(gaps[:-1], gaps[1:])
    if n >= 2:
        sig[0], sig[-1] = gaps[1], gaps[-2]
    out = np.empty_like(sig)
    np.put_along_axis(out, order, sig, axis=0)
    return out


# OpenBLAS runs a matrix product on several threads above m * n * k = 4 * 65536; for products
# this small the thread hand-off costs more than it saves (and spins on a busy machine).
_SINGLE_THREAD_GEMM = 4 * 65536


def _product(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """a @ k.T, in slices of k small enough for BLAS to stay on this thread."""
    rows = max(1, _SINGLE_THREAD_GEMM // max(1, a.shape[0] * a.shape[1]))
    if len(k) <= rows:
        return a @ k.T
    out = np.empty((len(a), len(k)))
    for start in range(0, len(k), rows):
        out[:, start : start + rows] = a @ k[start : start + rows].T
    return out


# Bandwidths are rounded to steps of 1% (on the log scale), far inside the slack of the rules
# that set them; the rounding lets a kernel's constants outlive one suggestion (see TruncationCache).
_BANDWIDTH_STEP = 0.01


def round_bandwidths(sigma: np.ndarray) -> np.ndarray:
    return np.exp(np.round(np.log(sigma) / _BANDWIDTH_STEP) * _BANDWIDTH_STEP)


def log_truncation(m: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """log of the mass inside [0, 1] of Gaussians at m with widths sigma: log(Phi((1 - m) / s) - Phi(-m / s))."""
    sp = special()
    inv = 1.0 / sigma
    t = m * inv
    z = sp.ndtr(inv - t)
    z -= sp.ndtr(-t)
    return np.log(z, out=z)


class TruncationCache:
    """The truncation constants log Z of the observations' kernels, per continuous dim, kept between suggestions.

    Z needs two normal CDFs per observation and dimension, the largest cost of fitting g(x)
    (hundreds of kernels). Its bandwidths (rounded, over nearly the same observations) rarely
    change from one suggestion to the next, so a column is recomputed only when its bandwidth
    changes, and a row once, when the observation arrives.
    """

    def __init__(self, dims: int) -> None:
        self.sigma = np.full(dims, np.nan)
        self.table = np.empty((0, dims))
        self.filled = 0

    def log_z(self, m: np.ndarray, rows: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Sum over dims of log Z for `rows` of the observations' continuous coordinates `m`."""
        n = len(m)
        if len(self.table) < n:
            grown = np.empty((max(n, 2 * len(self.table), 64), self.table.shape[1]))
            grown[: self.filled] = self.table[: self.filled]
            self.table = grown
        changed = np.flatnonzero(sigma != self.sigma)
        if len(changed) and self.filled:
            self.table[: self.filled, changed] = log_truncation(m[: self.filled, changed], sigma[changed])
        if n > self.filled:
            self.table[self.filled : n] = log_truncation(m[self.filled : n], sigma)
        self.sigma[:] = sigma
        self.filled = n
        return self.table.take(rows, 0).sum(axis=1)


class Parzen:
    """A weighted mixture of product kernels over a `Layout`, fitted to observations in the box.

    >>> import numpy as np
    >>> from hyperdial.space import Float
    >>> layout = Layout({"x": Float(0.0, 1.0)})
    >>> u, cells = np.array([[0.2], [0.25]]), np.full((2, 1), -1)
    >>> p = Parzen(layout, u, cells, layout.features(u, cells), np.ones(2))
    >>> near, far = p.log_pdf(np.array([[0.22], [0.9]]), np.full((2, 1), -1))
    >>> bool(near > far)
    True
    """

    def __init__(
        self,
        layout: Layout,
        u: np.ndarray,
        cells: np.ndarray,
        features: np.ndarray,
        weights: np.ndarray,
        *,
        prior_weight: float = 1.0,
        magic_clip: bool = True,
        min_bandwidth: float = 0.01,
        bandwidth: str = "scott",
        log_z: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        n = len(u)
        self.layout, self.n, self.u, self.cells = layout, n, u, cells
        w = np.empty(n + 1)
        w[:n] = weights
        w[n] = prior_weight if n else 1.0
        self.cum_w = np.cumsum(w)  # sampling picks a kernel by inverting this
        self.log_w = np.log(w / self.cum_w[-1])
        dims = layout.dims

        self.sigma = np.ones(len(dims))
        num = layout.numeric
        if n and len(num):
            d = len(dims)
            un = u[:, num] if len(num) < u.shape[1] else u
            spread = np.zeros(len(num))
            if n > 1:
                dev = un - un.mean(axis=0)
                spread = np.sqrt(np.einsum("ij,ij->j", dev, dev) / (n - 1))
            scott = (4.0 / (d + 2)) ** (1.0 / (d + 4)) * spread * n ** (-1.0 / (d + 4))
            floor = max(min_bandwidth, 1.0 / (n + 1)) if magic_clip else min_bandwidth
            self.sigma[num] = round_bandwidths(np.minimum(np.maximum(scott, floor), 1.0))
        # Continuous dims: Scott's rule shares one width per dimension; "hyperopt" gives each
        # kernel its own (None: the shared ones).
        cont = layout.cont
        dc = len(cont)
        self.shared = bandwidth == "scott"
        self.kernel_sigma: np.ndarray | None = None
        if n and dc and not self.shared:
            floor = max(min_bandwidth, 1.0 / (n + 1)) if magic_clip else min_bandwidth
            self.kernel_sigma = np.clip(_neighbour_bandwidths(features[:, :dc]), floor, 1.0)

        c = prior_weight / (n + 1)
        self.b: dict[int, float] = {}
        self.tables: dict[int, np.ndarray] = {}  # T_j[kernel cell, candidate cell], log
        for j in layout.tables:
            dim = dims[j]
            if dim.categorical:
                k = dim.cells
                self.b[j] = (k - 1) * c / (1 + k * c)
                self.tables[j] = layout.cell_table(j, self.b[j])
            else:
                self.tables[j] = layout.cell_table(j, float(self.sigma[j]))

        # Kernel side of the expanded exponent and per-kernel constants: log weight, Gaussian
        # normaliser and truncation to [0, 1]. With shared widths the 1 / s^2 factors go to the
        # candidate side, so the kernel features are the cached observation features as they are.
        self.bias = self.log_w[:n].copy()
        self.kernel_features = features
        if n and dc:
            m = features[:, :dc]
            if self.kernel_sigma is None:
                s = self.sigma[cont]
                self.bias -= log_z(s) if log_z is not None else log_truncation(m, s).sum(axis=1)
                self.bias -= (m * m) @ (0.5 / (s * s))
            else:
                s = self.kernel_sigma
                inv = 1.0 / (s * s)
                self.bias -= log_truncation(m, s).sum(axis=1)
                self.bias -= (0.5 * m * m * inv + np.log(s)).sum(axis=1) + dc * _LOG_SQRT_2PI
                self.kernel_features = np.concatenate([inv, m * inv, features[:, dc:]], axis=1)

    def sample(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """`size` draws as (box coordinates, cell indices); discrete values sit on their cells."""
        layout, n = self.layout, self.n
        num, cat = layout.numeric, layout.categorical
        r = rng.random((size, 1 + len(num) + 3 * len(cat)))  # every uniform this needs, in one draw
        k = np.minimum(np.searchsorted(self.cum_w, r[:, 0] * self.cum_w[-1], side="right"), n)
        prior = k == n
        obs = np.minimum(k, max(n - 1, 0))
        u = np.empty((size, len(layout.dims)))
        cells = np.full((size, len(layout.dims)), -1, dtype=np.int64)
        if len(num):  # truncated normals by inverse CDF, all numeric dims at once
            sp = special()
            mu = self.u[obs][:, num] if n else np.full((size, len(num)), 0.5)
            sd = np.repeat(self.sigma[num][None, :], size, axis=0)
            if self.kernel_sigma is not None:
                sd[:, np.searchsorted(num, layout.cont)] = self.kernel_sigma[obs]
            mu[prior], sd[prior] = 0.5, 1.0
            inv = 1.0 / sd
            lo = -mu * inv
            cdf = sp.ndtr(np.concatenate([lo, lo + inv], axis=1))
            lo_cdf = cdf[:, : len(num)]
            q = lo_cdf + r[:, 1 : 1 + len(num)] * (cdf[:, len(num) :] - lo_cdf)
            u[:, num] = np.minimum(np.maximum(mu + sd * sp.ndtri(q), 0.0), 1.0)
            for j in layout.discrete:
                u[:, j], cells[:, j] = layout.snap(j, u[:, j])
        for i, j in enumerate(cat):
            kk = layout.dims[j].cells
            keep, r_other, r_prior = r[:, 1 + len(num) + 3 * i : 4 + len(num) + 3 * i].T
            observed = self.cells[obs, j] if n else np.zeros(size, dtype=np.int64)
            other = np.minimum((r_other * (kk - 1)).astype(np.int64), max(kk - 2, 0))
            other += other >= observed  # a uniform choice among the other kk - 1
            pick = np.where(keep >= self.b.get(j, 1.0), observed, np.minimum(other, kk - 1))
            pick = np.where(prior, np.minimum((r_prior * kk).astype(np.int64), kk - 1), pick)
            cells[:, j] = pick
            u[:, j] = (pick + 0.5) / kk
        return u, cells

    def log_pdf(self, x: np.ndarray, xc: np.ndarray, prior_log_pdf: np.ndarray | None = None) -> np.ndarray:
        """Log density (mass for discrete parameters) at points x of the box with cell indices xc.

        `prior_log_pdf`: the prior kernel's `layout.prior_log_pdf(x, xc)`, if already computed.
        """
        layout = self.layout
        cont = layout.cont
        c = len(x)
        if prior_log_pdf is None:
            prior_log_pdf = layout.prior_log_pdf(x, xc)
        prior = prior_log_pdf + self.log_w[-1]
        if not self.n:
            return prior
        dc = len(cont)
        width = dc if self.shared else 2 * dc
        feats = np.empty((c, width + layout.n_features))
        const = np.zeros(c)
        if dc:
            xs = x[:, cont]
            if self.shared:  # -x^2 / 2s^2 - log s - log sqrt(2 pi) is the same for every kernel
                s = self.sigma[cont]
                inv = 1.0 / (s * s)
                np.multiply(xs, inv, out=feats[:, :dc])
                const = -0.5 * (xs * xs) @ inv - (float(np.log(s).sum()) + dc * _LOG_SQRT_2PI)
            else:
                feats[:, :dc] = -0.5 * xs * xs
                feats[:, dc:width] = xs
        for j, offset in zip(layout.tables, layout.table_offsets):
            table = self.tables[j]
            feats[:, width + offset : width + offset + table.shape[0]] = table[:, xc[:, j]].T
        log_k = _product(feats, self.kernel_features)
        log_k += self.bias
        top = log_k.max(axis=1)
        log_k -= top[:, None]
        np.exp(log_k, out=log_k)
        kernels = np.log(log_k.sum(axis=1)) + top + const
        return np.logaddexp(kernels, prior)
