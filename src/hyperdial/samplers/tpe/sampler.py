"""The Tree-structured Parzen Estimator sampler (Bergstra et al. 2011; multivariate: Falkner et al. 2018).

Each suggestion: split the observations into good and bad (`split.py`), fit a
Parzen estimator l(x) to the good ones and g(x) to the bad ones (`parzen.py`),
draw `n_ei_candidates` points from l and keep the one with the largest
log l(x) - log g(x), which maximises expected improvement (Bergstra et al.
2011, section 4.1: EI is proportional to (gamma + (1 - gamma) g(x) / l(x))^-1).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hyperdial._validation import Bool, Int, IsCallable, OneOf, Real, check, satisfies
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.samplers.base import PicklableLock, check_seed, trial_rng
from hyperdial.samplers.prior import Prior, check_prior
from hyperdial.samplers.random import Random
from hyperdial.samplers.tpe._store import Block, Store, usable
from hyperdial.samplers.tpe.encoding import Layout
from hyperdial.samplers.tpe.parzen import Parzen, log_truncation
from hyperdial.samplers.tpe.split import default_gamma, default_gamma_multi, default_weights, split
from hyperdial.space import Distribution
from hyperdial.transform import decode
from hyperdial.trial import FrozenTrial

_KEEP = 4096  # proposals remembered for unfinished trials (constant liar, groups)
_CACHE_TRUNCATION = 64  # bad observations from which g(x)'s truncation constants are cached


def _belief_draws(layout: Layout, belief: Any, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Draws from a `PriorTerm` as TPE candidates: discrete values on their cells, unnamed choices uniform."""
    u, cells = belief.sample(rng, size)
    for j in layout.discrete:
        u[:, j], cells[:, j] = layout.snap(j, u[:, j])
    for j in layout.categorical:
        k = layout.dims[j].cells
        free = cells[:, j] < 0
        cells[free, j] = np.minimum((u[free, j] * k).astype(np.int64), k - 1)
        u[:, j] = (cells[:, j] + 0.5) / k
    return u, cells


class TPE(PicklableLock):
    """Tree-structured Parzen Estimator: model good and bad regions, sample where good/bad is largest.

    Multivariate by default (one joint kernel density over the joint space), with
    conditional parameters sampled jointly with the parameters that always occur
    with them, on the trials that have them. Running trials count as bad
    observations (constant liar) so parallel workers spread out. Several
    objectives use non-dominated ranks; feasible trials rank before infeasible ones.

    Args (keyword-only):
        n_startup_trials: random trials before the model takes over.
        n_ei_candidates: draws from l(x) scored by l(x) / g(x) per suggestion.
        gamma: number of good trials given the number of finished ones (a callable), or a
            fraction in (0, 1] of them. Default: 10%, at most 25 (uncapped for several objectives).
        weights: observation weights given their number, oldest first (a callable).
        prior_weight: weight of the prior kernel relative to one observation.
        multivariate: one joint density (True) or one density per parameter (False).
        group: sample a conditional parameter jointly with the parameters that always come with it.
        constant_liar: treat running trials as bad observations.
        magic_clip: lower bound 1 / (n + 1) on the bandwidths (Hyperopt's "magic clip").
        min_bandwidth: absolute lower bound on the bandwidths, as a fraction of each range.
        seed: seeds every random draw (a draw depends on the seed and the trial number only).
        prior: a belief about the optimum (`hd.samplers.Prior`, e.g. a preset's defaults): the score
            log l(x) - log g(x) gains (beta / n) log prior(x) after n observations, and a share
            beta / n of the candidates is drawn from the prior (piBO, `samplers/prior.py`).

    >>> import hyperdial as hd
    >>> study = hd.create_study(sampler=hd.samplers.TPE(seed=0, n_startup_trials=5))
    >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=30, show_progress_bar=False)
    >>> abs(study.best_params["x"] - 1) < 0.5
    True
    """

    joint_sampling = True

    def __init__(
        self,
        *,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        gamma: Callable[[int], int] | float | None = None,
        weights: Callable[[int], Any] | None = None,
        prior_weight: float = 1.0,
        multivariate: bool = True,
        group: bool = True,
        constant_liar: bool = True,
        bandwidth: str = "scott",
        magic_clip: bool = True,
        min_bandwidth: float = 0.01,
        seed: int | None = None,
        prior: Prior | None = None,
    ) -> None:
        self.prior = check_prior(prior)
        self.n_startup_trials = check("n_startup_trials", n_startup_trials, Int(low=0))
        self.n_ei_candidates = check("n_ei_candidates", n_ei_candidates, Int(low=1))
        self.gamma = check("gamma", gamma, IsCallable(), Real(low=0, high=1, closed="right"), None,
                           rule="must be a callable n -> int or a fraction in (0, 1]")
        self.weights = check("weights", weights, IsCallable(), None,
                             rule="must be a callable n -> array of n non-negative weights")
        self.prior_weight = float(check("prior_weight", prior_weight, Real(low=0, closed="neither")))
        self.multivariate = check("multivariate", multivariate, Bool())
        self.group = check("group", group, Bool())
        self.constant_liar = check("constant_liar", constant_liar, Bool())
        self.bandwidth = check("bandwidth", bandwidth, OneOf("scott", "hyperopt"))
        self.magic_clip = check("magic_clip", magic_clip, Bool())
        self.min_bandwidth = float(check("min_bandwidth", min_bandwidth, Real(low=0, high=1, closed="right")))
        self.seed = check_seed(seed)
        self._random = Random(seed=self.seed)
        self._lock = threading.Lock()
        self._store = Store()
        # What this process proposed for unfinished trials: the liar sees a running trial's
        # values before the objective asks for them, and a group's other members wait here.
        self._proposed: dict[int, dict[str, tuple[Distribution, Any]]] = {}
        self._pending: dict[int, dict[str, tuple[Distribution, Any]]] = {}

    def __repr__(self) -> str:
        return f"TPE(seed={self.seed}, multivariate={self.multivariate})"

    # -- the protocol ---------------------------------------------------------------
    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        todo: dict[str, Distribution] = {}
        with self._lock:
            pending = self._pending.get(trial.number, {})
            for name, dist in space.items():
                if dist.is_single():
                    out[name] = decode(dist, 0.5)
                elif name in pending and pending[name][0] == dist:
                    out[name] = pending.pop(name)[1]
                else:
                    todo[name] = dist
            if todo:
                out.update(self._sample(history, trial, todo))
            mine = self._proposed.setdefault(trial.number, {})
            mine.update((name, (space[name], value)) for name, value in out.items())
            for d in (self._proposed, self._pending):
                while len(d) > _KEEP:
                    del d[next(iter(d))]
        return out

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        with self._lock:
            self._proposed.pop(trial.number, None)
            self._pending.pop(trial.number, None)

    # -- the algorithm --------------------------------------------------------------
    def _sample(self, history: History, trial: FrozenTrial, space: dict[str, Distribution]) -> dict[str, Any]:
        store = self._store
        rows, running = store.view(history, trial.number)
        usable_rows = rows[store.state[rows] != 2]
        n = len(usable_rows)
        if n < self.n_startup_trials or n == 0:
            return self._random.sample(history, trial, space)
        below = split(
            state=store.state[usable_rows],
            values=store.values[usable_rows],
            signs=np.array([history.sign(i) for i in range(history.n_objectives)]),
            violation=store.violation[usable_rows],
            last_step=store.last_step[usable_rows],
            last_value=store.last_value[usable_rows],
            n_below=self._n_below(n, history.is_multi_objective),
        )
        good, bad = usable_rows[below], usable_rows[~below]
        liars = running if self.constant_liar else []
        ctx = (good, bad, liars, history.is_multi_objective)

        if not self.multivariate:
            out: dict[str, Any] = {}
            for name, dist in space.items():
                out.update(self._fit_and_pick({name: dist}, ctx, trial_rng(self.seed, trial.number, name)))
            return out
        if len(space) == 1:
            (name, dist), = space.items()
            rng = trial_rng(self.seed, trial.number, name)
            group = self._group(history, trial, name, dist) if self.group else {}
            if group:
                result = self._fit_and_pick({name: dist, **group}, ctx, rng)
                self._pending[trial.number] = {k: (group[k], result[k]) for k in group}
                return {name: result[name]}
            return self._fit_and_pick(space, ctx, rng)
        return self._fit_and_pick(space, ctx, trial_rng(self.seed, trial.number))

    def _n_below(self, n: int, multi: bool) -> int:
        if self.gamma is None:
            return default_gamma_multi(n) if multi else default_gamma(n)
        if callable(self.gamma):
            k = self.gamma(n)
            if not satisfies(k, Int(low=0)):
                raise invalid("gamma", f"must return an int >= 0, returned {k!r} for n={n}", self.gamma)
            return min(int(k), n)
        return min(int(np.ceil(self.gamma * n)), n)

    def _group(self, history: History, trial: FrozenTrial, name: str, dist: Distribution) -> dict[str, Distribution]:
        """The parameters to sample together with `name` (none set yet, none in the joint space)."""
        joint = history.joint_space()
        return {
            k: d
            for k, d in self._store.companions(name, dist).items()
            if k != name and k not in trial.params and k not in joint and not d.is_single()
        }

    def _weights(self, numbers: np.ndarray, uniform: bool) -> np.ndarray:
        """Weights of observations given their trial numbers (the weights function sees them oldest first)."""
        n = len(numbers)
        if uniform or n == 0:
            return np.ones(n)
        if self.weights is None:
            w = default_weights(n)
        else:
            w = np.asarray(self.weights(n), dtype=float)
            if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
                raise invalid("weights", f"must return {n} finite non-negative weights, not all zero", w)
        if n < 2 or bool(np.all(numbers[1:] >= numbers[:-1])):  # already oldest first (the usual case)
            return w
        out = np.empty(n)
        out[np.argsort(numbers, kind="stable")] = w
        return out

    def _fit_and_pick(
        self,
        space: dict[str, Distribution],
        ctx: tuple[np.ndarray, np.ndarray, list[FrozenTrial], bool],
        rng: np.random.Generator,
    ) -> dict[str, Any]:
        good, bad, running, multi = ctx
        store = self._store
        block = store.block(space)
        layout = block.layout
        good, bad = good[block.valid[good]], bad[block.valid[bad]]
        if len(good) + len(bad) == 0:  # nobody has these parameters yet
            return {name: decode(dist, rng.random()) for name, dist in space.items()}
        bad_u, bad_c, bad_f = block.u.take(bad, 0), block.cells.take(bad, 0), block.features.take(bad, 0)
        bad_numbers = store.number.take(bad)
        liar_f = bad_f[:0]
        if running:
            extra = self._encode_running(block, running)
            if extra is not None:
                liar_f = layout.features(extra[0], extra[1])
                bad_u, bad_c = np.concatenate([bad_u, extra[0]]), np.concatenate([bad_c, extra[1]])
                bad_f = np.concatenate([bad_f, liar_f])
                bad_numbers = np.concatenate([bad_numbers, extra[2]])
        dc = len(layout.cont)

        def bad_log_z(sigma: np.ndarray) -> np.ndarray:  # g(x)'s many truncation constants, mostly cached
            cached = block.truncation.log_z(block.features[: block.filled, :dc], bad, sigma)
            if not len(liar_f):
                return cached
            return np.concatenate([cached, log_truncation(liar_f[:, :dc], sigma).sum(axis=1)])

        l_x = self._parzen(layout, block.u.take(good, 0), block.cells.take(good, 0), block.features.take(good, 0),
                           self._weights(store.number.take(good), multi))
        g_x = self._parzen(layout, bad_u, bad_c, bad_f, self._weights(bad_numbers, False),
                           bad_log_z if len(bad) >= _CACHE_TRUNCATION else None)
        cand_u, cand_c = l_x.sample(rng, self.n_ei_candidates)
        belief = self.prior.term(space) if self.prior is not None else None
        if belief is not None:  # piBO: candidates from the belief too (scored below)
            weight = self.prior.weight(len(good) + len(bad))  # type: ignore[union-attr]
            draws_u, draws_c = _belief_draws(layout, belief, rng,
                                             min(self.n_ei_candidates, round(self.n_ei_candidates * weight)))
            cand_u, cand_c = np.concatenate([cand_u, draws_u]), np.concatenate([cand_c, draws_c])
        prior = layout.prior_log_pdf(cand_u, cand_c)
        score = l_x.log_pdf(cand_u, cand_c, prior) - g_x.log_pdf(cand_u, cand_c, prior)
        if belief is not None:
            score = score + weight * belief.log_pdf(cand_u, cand_c)[0]
        best = int(np.argmax(score))
        return {d.name: layout.value(j, float(cand_u[best, j]), int(cand_c[best, j])) for j, d in enumerate(layout.dims)}

    def _parzen(
        self,
        layout: Layout,
        u: np.ndarray,
        cells: np.ndarray,
        features: np.ndarray,
        weights: np.ndarray,
        log_z: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> Parzen:
        return Parzen(
            layout, u, cells, features, weights, prior_weight=self.prior_weight, magic_clip=self.magic_clip,
            min_bandwidth=self.min_bandwidth, bandwidth=self.bandwidth, log_z=log_z,
        )

    def _encode_running(
        self, block: Block, running: list[FrozenTrial]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        us, cs, numbers = [], [], []
        layout = block.layout
        for t in running:
            view = t.with_proposal()  # includes what another process's sampler proposed at ask
            params, dists = dict(view.params), dict(view.distributions)
            for name, (dist, value) in self._proposed.get(t.number, {}).items():
                params.setdefault(name, value)
                dists.setdefault(name, dist)
            if usable(params, dists, layout.dims):
                u, c = layout.encode(params)
                us.append(u)
                cs.append(c)
                numbers.append(t.number)
        if not us:
            return None
        return np.array(us), np.array(cs), np.array(numbers, dtype=np.int64)
