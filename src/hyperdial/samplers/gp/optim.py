"""Maximise the acquisition over the mixed space.

1. Score a scrambled Sobol batch plus perturbations of the best observed points.
2. From the best few, run L-BFGS-B on the numeric columns (integers relaxed),
   all starts at once: the batch objective is the sum of independent terms, so one
   vectorised call gives every start's value and gradient (as BoTorch does).
   Coordinates are divided by the lengthscales, which evens out the curvature.
3. Snap integers and stepped floats to their values, then search discrete and
   categorical columns one at a time (all values, or neighbours for long integer
   ranges), accepting improvements, then polish the continuous columns again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hyperdial.samplers.gp.encoding import Encoding

MIN_DISTANCE = 0.01  # in lengthscales: the kernel correlation there is 0.9999, a repeat measurement
AcqFn = Callable[..., tuple[np.ndarray, "np.ndarray | None"]]


def _lbfgsb(acq: AcqFn, x0: np.ndarray, cols: np.ndarray, scale: np.ndarray, maxiter: int) -> np.ndarray:
    """Batched L-BFGS-B over columns `cols` of every start in x0 (b, d); returns the optimised points."""
    from scipy.optimize import minimize

    b = len(x0)
    base = x0.copy()

    def negative(flat: np.ndarray) -> tuple[float, np.ndarray]:
        x = base.copy()
        x[:, cols] = flat.reshape(b, -1) * scale
        value, grad = acq(x, grad=True)
        assert grad is not None
        return -float(value.sum()), -(grad[:, cols] * scale).ravel()

    bounds = [(0.0, 1.0 / s) for s in scale] * b
    res = minimize(negative, (x0[:, cols] / scale).ravel(), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": maxiter, "ftol": 1e-9, "gtol": 1e-6})
    out = base.copy()
    out[:, cols] = np.clip(res.x.reshape(b, -1) * scale, 0.0, 1.0)
    return out


def _improve(acq: AcqFn, x: np.ndarray, fx: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep, per start, whichever of x and new has the larger acquisition."""
    fnew = acq(new)[0]
    better = fnew > fx
    return np.where(better[:, None], new, x), np.where(better, fnew, fx)


def _local_search(acq: AcqFn, enc: Encoding, x: np.ndarray, fx: np.ndarray, sweeps: int = 3) -> tuple[np.ndarray, ...]:
    """Coordinate search over the discrete and categorical columns of every start."""
    for _ in range(sweeps):
        changed = False
        for j in enc.searched:
            alts = enc.columns[j].alternatives(x[:, j])  # (b, k)
            b, k = alts.shape
            cand = np.repeat(x, k, axis=0)
            cand[:, j] = alts.ravel()
            fc = acq(cand)[0].reshape(b, k)
            best = np.argmax(fc, axis=1)
            gain = fc[np.arange(b), best] > fx + 1e-12
            if np.any(gain):
                changed = True
                x = x.copy()
                x[gain, j] = alts[np.arange(b), best][gain]
                fx = np.where(gain, fc[np.arange(b), best], fx)
        if not changed:
            break
    return x, fx


def _far_from(x: np.ndarray, observed: np.ndarray, lengthscales: np.ndarray, min_distance: float) -> np.ndarray:
    """Rows of x at least `min_distance` from every observed point, distances in lengthscales."""
    from hyperdial.samplers.gp.kernel import sqdist

    d2 = sqdist(x / lengthscales, observed / lengthscales)
    return np.asarray(d2.min(axis=1) >= min_distance**2)


def optimize(
    acq: AcqFn,
    enc: Encoding,
    rng: np.random.Generator,
    incumbents: np.ndarray,
    lengthscales: np.ndarray,
    *,
    n_sobol_log2: int = 10,
    n_perturb: int = 64,
    n_starts: int = 8,
    maxiter: int = 100,
    observed: np.ndarray | None = None,
    min_distance: float = MIN_DISTANCE,
    project: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, float]:
    """The best point found (d,) and its acquisition value.

    With `observed`, a point closer than `min_distance` lengthscales to one of them is
    only returned when nothing else was found. `project` maps points to what the model
    sees (conditional spaces: inactive columns imputed); the distance check and the
    returned point use it.
    """
    from scipy.stats import qmc

    d = enc.dim
    sobol = qmc.Sobol(d, scramble=True, seed=rng).random_base2(n_sobol_log2)
    parts = [sobol]
    numeric = enc.numeric
    for inc in incumbents:
        pert = np.repeat(inc[None, :], n_perturb, axis=0)
        sd = rng.choice([0.01, 0.05, 0.2], size=(n_perturb, 1))
        pert[:, numeric] += sd * rng.standard_normal((n_perturb, len(numeric)))
        for j in range(d):
            if enc.columns[j].kind == "categorical":
                flip = rng.random(n_perturb) < 1.0 / max(d, 2)
                pert[flip, j] = rng.random(int(flip.sum()))
        parts.append(np.vstack([inc[None, :], pert]))
    cand = enc.snap(np.vstack(parts))
    fc = acq(cand)[0]
    order = np.argsort(-fc, kind="stable")
    _, first = np.unique(cand[order], axis=0, return_index=True)  # distinct starts, best first
    top = order[np.sort(first)[:n_starts]]
    x, fx = cand[top], fc[top]

    if len(numeric):
        # Relaxed run over every numeric column, then snap.
        opt = enc.snap(_lbfgsb(acq, x, numeric, lengthscales[numeric], maxiter))
        x, fx = _improve(acq, x, fx, opt)
    if enc.searched:
        x, fx = _local_search(acq, enc, x, fx)
        cont = enc.continuous
        if len(cont):
            x, fx = _improve(acq, x, fx, _lbfgsb(acq, x, cont, lengthscales[cont], maxiter))
    if project is not None:
        x, cand = project(x), project(cand)
    if observed is not None and len(observed):
        # A deterministic-looking model puts its best EI a hair from the incumbent (its noise
        # term keeps EI > 0 there), and a study can then spend most of its trials re-measuring
        # one point (seen on Hartmann-6: 70 of 100 trials within 1e-3 of each other). A point
        # that close adds nothing: take the best proposal that is not, else the best candidate.
        far = _far_from(x, observed, lengthscales, min_distance)
        if not far.any():
            far_cand = _far_from(cand, observed, lengthscales, min_distance)
            if far_cand.any():
                i = int(np.flatnonzero(far_cand)[np.argmax(fc[far_cand])])
                return cand[i], float(fc[i])
        else:
            fx = np.where(far, fx, -np.inf)
    i = int(np.argmax(fx))
    return x[i], float(fx[i])
