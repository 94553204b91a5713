"""fANOVA: parameter importance as the share of variance explained by each parameter alone.

Hutter, Hoos and Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter
Importance", ICML 2014. A random forest (scikit-learn's `RandomForestRegressor`) is fitted
to the losses on the unit-box encoding of the trials (`hyperdial.transform`; a categorical is
one column, its choice's index cell, so every split falls between two choices). Each tree is
a piecewise-constant function y(x) over the box, whose leaves are boxes L with value v_L.
With the uniform measure on the box (volume 1):

    mean        f_0  = sum_L |L| v_L                                   (Eq. 1)
    total       V    = sum_L |L| (v_L - f_0)^2                         (Eq. 2)
    marginal    a_d(x_d) = integral y(x) dx_{-d}
                         = sum_{L: x_d in L_d} v_L |L| / |L_d|          (Eq. 3, Theorem 1)
    unary       V_d  = integral_0^1 (a_d(x_d) - f_0)^2 dx_d             (Eq. 4)

a_d is constant between consecutive split points of column d, so V_d is a finite sum. The
importance of x_d is V_d / V averaged over the trees whose V > 0 (as in Optuna's
`FanovaImportanceEvaluator`), then normalised over the parameters.

Conditional parameters: the forest needs every column in every row, so fANOVA works on the
joint space (parameters every counted trial has with the same distribution); conditional
ones are left out unless named in `params=`, in which case only the trials having all the
named parameters count.

>>> import hyperdial as hd
>>> study = hd.create_study(sampler=hd.samplers.Random(seed=0))
>>> study.optimize(lambda t: 10 * t.suggest_float("a", 0, 1) + t.suggest_float("b", 0, 1),
...                n_trials=40, show_progress_bar=False)
>>> list(Fanova(n_trees=16).evaluate(study.history()))
['a', 'b']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial._imports import optional_import
from hyperdial.history import History, intersect_space
from hyperdial.importance._common import (
    NotEnoughTrials,
    Target,
    latest_distribution,
    normalised,
    resolve_params,
    scored_trials,
)
from hyperdial.space import Distribution
from hyperdial.transform import UnitTransform


def leaf_boxes(tree: Any, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leaves of a fitted sklearn tree (`estimator.tree_`) as boxes of [0, 1]^dim: lo, hi, value."""
    left, right, feature, threshold = tree.children_left, tree.children_right, tree.feature, tree.threshold
    values = tree.value.reshape(tree.node_count, -1)[:, 0]
    los, his, vs = [], [], []
    stack = [(0, np.zeros(dim), np.ones(dim))]
    while stack:
        node, lo, hi = stack.pop()
        if left[node] < 0:  # a leaf
            los.append(lo)
            his.append(hi)
            vs.append(values[node])
            continue
        f, t = feature[node], min(max(float(threshold[node]), lo[feature[node]]), hi[feature[node]])
        lo_right, hi_left = lo.copy(), hi.copy()
        hi_left[f], lo_right[f] = t, t  # sklearn sends x <= threshold left
        stack.append((left[node], lo, hi_left))
        stack.append((right[node], lo_right, hi))
    return np.array(los), np.array(his), np.array(vs)


def unary_variances(lo: np.ndarray, hi: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, float]:
    """V_d for every column d (Eq. 4) and the total variance V (Eq. 2) of one tree."""
    widths = hi - lo
    vol = np.prod(widths, axis=1)
    f0 = float(vol @ v)  # Eq. 1
    total = float(vol @ (v - f0) ** 2)  # Eq. 2
    out = np.zeros(lo.shape[1])
    for d in range(lo.shape[1]):
        cuts = np.unique(np.concatenate([lo[:, d], hi[:, d]]))
        mids, w = 0.5 * (cuts[1:] + cuts[:-1]), np.diff(cuts)
        inside = (lo[None, :, d] <= mids[:, None]) & (mids[:, None] < hi[None, :, d])
        with np.errstate(divide="ignore", invalid="ignore"):
            mass = np.where(widths[:, d] > 0, v * vol / widths[:, d], 0.0)
        a_d = inside @ mass  # Eq. 3
        out[d] = float(w @ (a_d - f0) ** 2)  # Eq. 4
    return out, total


class Fanova:
    """fANOVA importance on a random forest (`pip install 'hyperdial[importance]'`).

    >>> Fanova(n_trees=32, seed=1).n_trees
    32
    """

    def __init__(self, *, n_trees: int = 64, max_depth: int = 64, seed: int | None = 0) -> None:
        self.n_trees = rules.check("n_trees", n_trees, rules.Int(low=1))
        self.max_depth = rules.check("max_depth", max_depth, rules.Int(low=1))
        self.seed = rules.check("seed", seed, rules.Int(low=0), None)

    def _space(self, history: History, params: Sequence[str] | None, target: Target | None) -> Any:
        trials, losses = scored_trials(history, target)
        if params is None:
            space: dict[str, Distribution] | None = None
            for t in trials:
                space = intersect_space(space, t)
            return dict(space or {}), trials, losses
        names = resolve_params(trials, params)
        space = {n: latest_distribution(trials, n) for n in names}
        keep = [i for i, t in enumerate(trials) if all(t.distributions.get(n) == d for n, d in space.items())]
        if len(keep) < 2:
            raise NotEnoughTrials(
                f"fANOVA needs at least 2 COMPLETE trials holding all of {names}, got {len(keep)}"
            )
        return space, [trials[i] for i in keep], losses[keep]

    def raw(
        self, history: History, *, params: Sequence[str] | None = None, target: Target | None = None
    ) -> dict[str, float]:
        """Mean over trees of V_d / V per parameter, before normalisation."""
        space, trials, losses = self._space(history, params, target)
        varying = {n: d for n, d in space.items() if not d.is_single()}
        out = dict.fromkeys(space, 0.0)
        if not varying:
            return out
        ensemble = optional_import("sklearn.ensemble", extra="importance", purpose="fANOVA importance")
        transform = UnitTransform(varying)
        x = np.array([transform.to_unit(t.params) for t in trials])
        forest = ensemble.RandomForestRegressor(
            n_estimators=self.n_trees, max_depth=self.max_depth, min_samples_split=2,
            min_samples_leaf=1, random_state=self.seed,
        )
        forest.fit(x, losses)
        fractions = []
        for est in forest.estimators_:
            v_d, total = unary_variances(*leaf_boxes(est.tree_, transform.dim))
            if total > 0:
                fractions.append(v_d / total)
        if fractions:
            mean = np.mean(fractions, axis=0)
            out.update({n: float(mean[i]) for i, n in enumerate(transform.names)})
        return out

    def evaluate(
        self, history: History, *, params: Sequence[str] | None = None, target: Target | None = None
    ) -> dict[str, float]:
        """Importances summing to 1, most important first (`target` is needed with several objectives)."""
        return normalised(self.raw(history, params=params, target=target))
