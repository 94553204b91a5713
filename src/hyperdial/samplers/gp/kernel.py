"""Matern-5/2 kernel with ARD lengthscales, a Hamming term for categoricals, Kumaraswamy input warping.

Points live in the unit box, one column per parameter (see `encoding.py`). Each
numeric column x is warped by the Kumaraswamy CDF w(x) = 1 - (1 - x^a)^b
(Snoek et al. 2014, "Input Warping for Bayesian Optimization of Non-Stationary
Functions"; a = b = 1 is the identity) and divided by its lengthscale. A
categorical column becomes a one-hot block scaled by 1 / (sqrt(2) l), so two
points with different choices are 1 / l^2 apart in squared distance (the
Hamming-style kernel of Optuna's GP). All of this is one embedding `Z`, and

    k(x, x') = s * m(|Z(x) - Z(x')|^2),   m(t) = (1 + sqrt(5t) + 5t/3) exp(-sqrt(5t)),

the Matern-5/2 function of the squared distance t (Rasmussen & Williams 2006, eq. 4.17).
The warping parameters a, b are learned with the other hyperparameters (`model.py`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.distance import cdist

SQRT5 = math.sqrt(5.0)
WARP_EPS = 1e-6  # inputs are squeezed into [eps, 1 - eps]: the warp's derivative is finite there


def matern52(t: np.ndarray) -> np.ndarray:
    """m(t) for squared distances t >= 0 (scale 1)."""
    u = SQRT5 * np.sqrt(t)
    return (1.0 + u + u * u / 3.0) * np.exp(-u)


def matern52_and_grad(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """m(t) and dm/dt = -5/6 (1 + sqrt(5t)) exp(-sqrt(5t)), finite at t = 0."""
    u = SQRT5 * np.sqrt(t)
    e = np.exp(-u)
    return (1.0 + u + u * u / 3.0) * e, (-5.0 / 6.0) * (1.0 + u) * e


def squeeze(x: np.ndarray) -> np.ndarray:
    return WARP_EPS + (1.0 - 2.0 * WARP_EPS) * np.clip(x, 0.0, 1.0)


def kumaraswamy(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """w(x) = 1 - (1 - x^a)^b column-wise (x already squeezed into (0, 1))."""
    return 1.0 - (1.0 - x**a) ** b


def kumaraswamy_dx(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dw/dx of the unsqueezed input: a b x^(a-1) (1 - x^a)^(b-1) times the squeeze factor."""
    p = x**a
    return a * b * (p / x) * (1.0 - p) ** (b - 1.0) * (1.0 - 2.0 * WARP_EPS)


def kumaraswamy_dparams(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dw/d(log a) = a b q^(b-1) x^a log x and dw/d(log b) = -b q^b log q, with q = 1 - x^a."""
    p = x**a
    q = 1.0 - p
    return a * b * q ** (b - 1.0) * p * np.log(x), -b * q**b * np.log(q)


class Embedding:
    """Which columns are numeric and which categorical, and how to embed points for a given set of hyperparameters.

    `cat_sizes[j]` is the number of choices of categorical column j (0 for numeric columns).
    """

    def __init__(self, cat_sizes: list[int]) -> None:
        self.dim = len(cat_sizes)
        self.cat_sizes = list(cat_sizes)
        self.numeric = np.array([j for j, k in enumerate(cat_sizes) if k == 0], dtype=int)
        self.categorical = np.array([j for j, k in enumerate(cat_sizes) if k > 0], dtype=int)

    def warp(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Warped numeric columns of points x, shape (n, n_numeric)."""
        return kumaraswamy(squeeze(x[:, self.numeric]), a, b)

    def one_hot(self, x: np.ndarray) -> list[np.ndarray]:
        """One (n, k) indicator block per categorical column (column value (i + 0.5) / k means choice i)."""
        blocks = []
        for j in self.categorical:
            k = self.cat_sizes[j]
            idx = np.minimum((x[:, j] * k).astype(int), k - 1)
            blocks.append(np.eye(k)[idx])
        return blocks

    def embed(self, x: np.ndarray, lengthscales: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Z(x): squared Euclidean distances between rows are the kernel's t."""
        return self.embed_warped(x, self.warp(x, a, b), lengthscales)

    def embed_warped(self, x: np.ndarray, warped: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
        """Z(x) given the warped numeric columns."""
        z = warped / lengthscales[self.numeric]
        if not len(self.categorical):
            return z
        parts = [z]
        for j, block in zip(self.categorical, self.one_hot(x)):
            parts.append(block / (math.sqrt(2.0) * lengthscales[j]))
        return np.hstack(parts)


def sqdist(z1: np.ndarray, z2: np.ndarray) -> np.ndarray:
    """Pairwise squared distances (exact differences, no |a|^2 + |b|^2 - 2ab cancellation)."""
    return cdist(z1, z2, "sqeuclidean")
