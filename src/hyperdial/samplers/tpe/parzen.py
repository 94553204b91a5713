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
and a kernel constant (with one width per dimension, Scott's rule, the first
term moves to the candidate side); a cell table adds T[cell(m_k), cell(x)] = sum_c T[c, cell(x)] onehot_c(m_k),
with the one-hot rows cached per observation by the sampler. So the
(candidates x kernels) matrix of log densities is one matrix product, and a
log-sum-exp over kernels finishes the mixture.
"""

from __future__ import annotations

import math

import numpy as np

from hyperdial.samplers.tpe.encoding import Layout, special, trunc_log_mass

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LOG_PRIOR_Z = math.log(math.erf(0.5 / math.sqrt(2.0)))  # N(0.5, 1) mass inside [0, 1]


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


class Parzen:
    """A weighted mixture of product kernels over a `Layout`, fitted to observations in the box.

    >>> import numpy as np
    >>> from hyperdial.space import Float
    >>> layout = Layout({"x": Float(0.0, 1.0)})
    >>> u, cells = np.array([[0.2], [0.25]]), np.full((2, 1), -1)
    >>> p = Parzen(layout, u, cells, layout.onehot(cells), np.ones(2))
    >>> near, far = p.log_pdf(np.array([[0.22], [0.9]]), np.full((2, 1), -1))
    >>> bool(near > far)
    True
    """

    def __init__(
        self,
        layout: Layout,
        u: np.ndarray,
        cells: np.ndarray,
        onehot: np.ndarray,
        weights: np.ndarray,
        *,
        prior_weight: float = 1.0,
        magic_clip: bool = True,
        min_bandwidth: float = 0.01,
        bandwidth: str = "scott",
    ) -> None:
        n = len(u)
        self.layout, self.n, self.u, self.cells = layout, n, u, cells
        w = np.append(np.asarray(weights, dtype=float), prior_weight) if n else np.ones(1)
        self.log_w = np.log(w / w.sum())
        dims = layout.dims

        self.sigma = np.ones(len(dims))
        if n and len(layout.numeric):
            d = len(dims)
            spread = u[:, layout.numeric].std(axis=0, ddof=1 if n > 1 else 0)
            scott = (4.0 / (d + 2)) ** (1.0 / (d + 4)) * spread * n ** (-1.0 / (d + 4))
            floor = max(min_bandwidth, 1.0 / (n + 1)) if magic_clip else min_bandwidth
            self.sigma[layout.numeric] = np.clip(scott, floor, 1.0)
        # Continuous dims: one width per kernel and dimension (shared widths broadcast).
        cont = layout.cont
        self.kernel_sigma = np.broadcast_to(self.sigma[cont], (n, len(cont)))
        if n and len(cont) and bandwidth == "hyperopt":
            floor = max(min_bandwidth, 1.0 / (n + 1)) if magic_clip else min_bandwidth
            self.kernel_sigma = np.clip(_neighbour_bandwidths(u[:, cont]), floor, 1.0)

        c = prior_weight / (n + 1)
        self.b: dict[int, float] = {}
        self.tables: dict[int, np.ndarray] = {}  # T_j[kernel cell, candidate cell], log
        for j in layout.tables:
            dim = dims[j]
            if dim.categorical:
                k = dim.cells
                b = self.b[j] = (k - 1) * c / (1 + k * c)
                table = np.full((k, k), math.log(b / (k - 1)) if k > 1 else 0.0)
                np.fill_diagonal(table, math.log1p(-b))
            else:
                assert dim.edges is not None and dim.centres is not None
                table = trunc_log_mass(dim.edges, dim.centres, float(self.sigma[j]))
            self.tables[j] = table

        # Kernel side of the expanded exponent and per-kernel constants: log weight, Gaussian
        # normaliser and truncation to [0, 1]. Shared widths fold 1 / s^2 into the candidate side.
        self.bias = self.log_w[:n].copy()
        self.shared = bandwidth == "scott"
        self.kernel_features = onehot
        dc = len(cont)
        if n and dc:
            m = u[:, cont]
            s = self.kernel_sigma
            z = special().ndtr(np.concatenate([(1.0 - m) / s, -m / s], axis=1))
            self.bias -= np.log(z[:, :dc] - z[:, dc:]).sum(axis=1)
            if self.shared:
                inv = 1.0 / self.sigma[cont] ** 2
                self.bias -= 0.5 * (m * m) @ inv
                self.kernel_features = np.concatenate([m * inv, onehot], axis=1)
            else:
                inv = 1.0 / (s * s)
                self.bias -= (0.5 * m * m * inv + np.log(s)).sum(axis=1) + dc * _LOG_SQRT_2PI
                self.kernel_features = np.concatenate([inv, m * inv, onehot], axis=1)

    def sample(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """`size` draws as (box coordinates, cell indices); discrete values sit on their cells."""
        sp = special()
        layout, n = self.layout, self.n
        k = rng.choice(n + 1, size=size, p=np.exp(self.log_w))
        prior = k == n
        obs = np.minimum(k, max(n - 1, 0))
        u = np.empty((size, len(layout.dims)))
        cells = np.full((size, len(layout.dims)), -1, dtype=np.int64)
        num = layout.numeric
        if len(num):  # truncated normals by inverse CDF, all numeric dims at once
            mu = np.where(prior[:, None], 0.5, self.u[obs][:, num] if n else 0.5)
            sd = np.broadcast_to(self.sigma[num], (size, len(num))).copy()
            if n and len(layout.cont):
                sd[:, np.searchsorted(num, layout.cont)] = self.kernel_sigma[obs]
            sd[prior] = 1.0
            lo, hi = sp.ndtr(-mu / sd), sp.ndtr((1.0 - mu) / sd)
            r = rng.random((size, len(num)))
            u[:, num] = np.clip(mu + sd * sp.ndtri(lo + r * (hi - lo)), 0.0, 1.0)
            for j in layout.discrete:
                u[:, j], cells[:, j] = layout.snap(j, u[:, j])
        for j in layout.categorical:
            kk = layout.dims[j].cells
            observed = self.cells[obs, j] if n else np.zeros(size, dtype=np.int64)
            other = rng.integers(0, max(kk - 1, 1), size=size)
            other += other >= observed
            pick = np.where(rng.random(size) >= self.b.get(j, 1.0), observed, np.minimum(other, kk - 1))
            pick = np.where(prior, rng.integers(0, kk, size=size), pick)
            cells[:, j] = pick
            u[:, j] = (pick + 0.5) / kk
        return u, cells

    def log_pdf(self, x: np.ndarray, xc: np.ndarray) -> np.ndarray:
        """Log density (mass for discrete parameters) at points x of the box with cell indices xc."""
        layout = self.layout
        cont = layout.cont
        c = len(x)
        prior = self._prior_log_pdf(x, xc) + self.log_w[-1]
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
                feats[:, :dc] = xs
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
        kernels = np.log(np.exp(log_k - top[:, None]).sum(axis=1)) + top + const
        return np.logaddexp(kernels, prior)

    def _prior_log_pdf(self, x: np.ndarray, xc: np.ndarray) -> np.ndarray:
        layout = self.layout
        out = np.zeros(len(x))
        if len(layout.cont):
            out -= (0.5 * (x[:, layout.cont] - 0.5) ** 2 + _LOG_SQRT_2PI + _LOG_PRIOR_Z).sum(axis=1)
        for j in layout.tables:
            out += layout.prior_tables[j][xc[:, j]]
        return out
