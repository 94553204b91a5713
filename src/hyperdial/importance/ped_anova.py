"""PED-ANOVA: parameter importance from Pearson divergences of Parzen estimators.

Watanabe, Bansal and Hutter, "PED-ANOVA: Efficiently Quantifying Hyperparameter Importance
in Arbitrary Subspaces", IJCAI 2023 (arXiv:2304.10255). The local importance of parameter
x_d for reaching the top gamma' quantile of the trials, measured inside the top gamma
region (gamma' < gamma), is, by the paper's main theorem, a closed form of two 1-D densities:

    importance_d = (gamma' / gamma)^2 * D_PE(p_d^{gamma'} || p_d^{gamma}),
    D_PE(p || q) = integral q(x) (p(x) / q(x) - 1)^2 dx          (Pearson divergence)

where p_d^{gamma'} is the density of x_d among the top-gamma' trials and p_d^{gamma} among
the top-gamma ones (gamma = 1: all trials). Each density is a Parzen estimator (Scott's
bandwidth plus a wide prior kernel) on a grid of the parameter's unit interval, so the
integral is a finite sum. No model is fitted: the cost is linear in the number of trials.

Conditional parameters follow condPED-ANOVA (Watanabe et al., arXiv:2601.20800, as in
Optuna): the divergence of x_d is computed over the trials where x_d is active and weighted
by alpha_d^2 / beta_d, the shares of top and region trials in which it is active.

>>> import hyperdial as hd
>>> study = hd.create_study(sampler=hd.samplers.Random(seed=0))
>>> study.optimize(lambda t: 10 * t.suggest_float("a", 0, 1) + t.suggest_float("b", 0, 1),
...                n_trials=60, show_progress_bar=False)
>>> imp = PedAnova().evaluate(study.history())
>>> list(imp)
['a', 'b']
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.importance._common import Target, latest_distribution, normalised, resolve_params, scored_trials
from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.transform import UnitTransform
from hyperdial.trial import FrozenTrial

_SIGMA_MIN = 0.5 / 1.64  # in grid cells: 90% of a kernel's mass stays within its cell's neighbours
_EPS = 1e-12


def top_quantile(losses: np.ndarray, quantile: float) -> np.ndarray:
    """Mask of the trials whose loss is within the best `quantile` (ties at the cut-off kept)."""
    if quantile >= 1.0:
        return np.ones(len(losses), dtype=bool)
    k = max(int(math.ceil(quantile * len(losses))) - 1, 0)
    cutoff = np.partition(losses, k)[k]
    return np.asarray(losses <= cutoff)


def n_cells(dist: Distribution, n_steps: int) -> int:
    """Grid size of a parameter: one cell per choice / integer / step, at most `n_steps`."""
    if isinstance(dist, Categorical):
        return len(dist.choices)
    if isinstance(dist, Int):
        return min(n_steps, (dist.high - dist.low) // dist.step + 1)
    assert isinstance(dist, Float)
    if dist.step is not None:
        return min(n_steps, int(round((dist.high - dist.low) / dist.step)) + 1)
    return n_steps


def cell_indices(dist: Distribution, name: str, trials: Sequence[FrozenTrial], n: int) -> np.ndarray:
    """Each trial's cell of the parameter's unit interval (cut in `n` equal cells)."""
    transform = UnitTransform({name: dist})
    u = np.array([transform.to_unit({name: t.params[name]})[0] for t in trials])
    return np.clip(np.floor(u * n).astype(int), 0, n - 1)


def parzen_on_grid(cells: np.ndarray, n: int, *, categorical: bool, prior_weight: float) -> np.ndarray:
    """A Parzen estimate of the cells' distribution, as probabilities of the n grid cells."""
    counts = np.bincount(cells, minlength=n).astype(float)
    if counts.sum() == 0:
        return np.full(n, 1.0 / n)
    grid = np.arange(n, dtype=float)
    observed = np.flatnonzero(counts)
    if categorical:
        # Each observation's kernel keeps most mass on its choice, a little on every other.
        kernels = np.full((len(observed), n), prior_weight / (len(observed) + 1))
        kernels[np.arange(len(observed)), observed] += 1.0
        prior = np.full(n, 1.0 / n)
    else:
        # Scott's rule, 1.059 * min(IQR / 1.34, std) * m^(-1/5), floored at _SIGMA_MIN cells.
        x = cells.astype(float)
        iqr = float(np.subtract(*np.percentile(x, [75, 25])))
        sigma = 1.059 * min(iqr / 1.34, float(x.std(ddof=1)) if len(x) > 1 else 0.0) * len(x) ** -0.2
        sigma = max(sigma, _SIGMA_MIN)
        kernels = np.exp(-0.5 * ((grid[None, :] - observed[:, None]) / sigma) ** 2)
        prior = np.exp(-0.5 * ((grid - (n - 1) / 2.0) / n) ** 2)  # wide, nearly uniform
        prior /= prior.sum()
    kernels /= kernels.sum(axis=1, keepdims=True)  # each kernel truncated to the grid
    weights = np.append(counts[observed], prior_weight)
    weights /= weights.sum()
    return np.asarray(weights[:-1] @ kernels + weights[-1] * prior)


def pearson_divergence(p_top: np.ndarray, p_region: np.ndarray) -> float:
    """D_PE(p_top || p_region) = sum_x p_region(x) (p_top(x) / p_region(x) - 1)^2."""
    p_top, p_region = p_top + _EPS, p_region + _EPS
    return float(p_region @ ((p_top / p_region - 1.0) ** 2))


class PedAnova:
    """PED-ANOVA importance (the default method of `hyperdial.importance.evaluate`).

    `target_quantile` is gamma' (what counts as a top trial), `region_quantile` is gamma (the
    region the importance is measured in; 1.0: the whole study). Fast and model-free.

    >>> PedAnova(target_quantile=0.2).target_quantile
    0.2
    """

    def __init__(
        self,
        *,
        target_quantile: float = 0.1,
        region_quantile: float = 1.0,
        n_steps: int = 50,
        prior_weight: float = 1.0,
    ) -> None:
        self.target_quantile = rules.check("target_quantile", target_quantile, rules.Real(0, 1, closed="neither"))
        self.region_quantile = rules.check("region_quantile", region_quantile, rules.Real(0, 1, closed="right"))
        if not self.target_quantile < self.region_quantile:
            raise invalid(
                "target_quantile",
                "must be < `region_quantile`",
                f"target_quantile={target_quantile!r}, region_quantile={region_quantile!r}",
            )
        self.n_steps = rules.check("n_steps", n_steps, rules.Int(low=2))
        self.prior_weight = rules.check("prior_weight", prior_weight, rules.Real(low=0, finite=True))

    def raw(
        self, history: History, *, params: Sequence[str] | None = None, target: Target | None = None
    ) -> dict[str, float]:
        """Unnormalised importances (condPED-ANOVA's weighted Pearson divergences)."""
        trials, losses = scored_trials(history, target)
        names = resolve_params(trials, params)
        region = top_quantile(losses, self.region_quantile)
        top = top_quantile(losses, self.target_quantile) & region
        ratio = top.sum() / region.sum()  # gamma' / gamma, as realised with ties
        out: dict[str, float] = {}
        for name in names:
            dist = latest_distribution(trials, name)
            active = np.array([t.distributions.get(name) == dist for t in trials])
            in_region, in_top = region & active, top & active
            if dist.is_single() or in_top.sum() == 0 or in_region.sum() < 2:
                out[name] = 0.0
                continue
            alpha, beta = in_top.sum() / top.sum(), in_region.sum() / region.sum()
            n = n_cells(dist, self.n_steps)
            idx = cell_indices(dist, name, [t for t, a in zip(trials, active) if a], n)
            categorical = isinstance(dist, Categorical)
            p_top = parzen_on_grid(idx[in_top[active]], n, categorical=categorical, prior_weight=self.prior_weight)
            p_region = parzen_on_grid(
                idx[in_region[active]], n, categorical=categorical, prior_weight=self.prior_weight
            )
            out[name] = float(ratio**2 * alpha**2 / beta * pearson_divergence(p_top, p_region))
        return out

    def evaluate(
        self, history: History, *, params: Sequence[str] | None = None, target: Target | None = None
    ) -> dict[str, float]:
        """Importances summing to 1, most important first.

        `target` maps a trial to a loss (lower is better); by default the objective, negated
        when maximised. Required with several objectives.
        """
        return normalised(self.raw(history, params=params, target=target))
