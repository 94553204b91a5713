"""`GP`: Gaussian-process Bayesian optimisation over mixed spaces (the sampler; the math is in the sibling modules)."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperdial._validation import Bool, Int, Real, check
from hyperdial.history import History, counts_for
from hyperdial.samplers._memo import TrialMemo
from hyperdial.samplers.base import PicklableLock, check_seed, trial_rng
from hyperdial.samplers.gp.conditional import Conditions, imputed_params, union_space
from hyperdial.samplers.gp.encoding import Encoding
from hyperdial.samplers.prior import Prior, check_prior
from hyperdial.samplers.qmc import QMC
from hyperdial.samplers.random import Random
from hyperdial.space import Distribution
from hyperdial.transform import decode
from hyperdial.trial import FrozenTrial, TrialState

if TYPE_CHECKING:  # the numeric modules import scipy: loaded on the first model-based proposal
    from hyperdial.samplers.gp.kernel import Embedding
    from hyperdial.samplers.gp.model import Layout, Posterior

_logger = logging.getLogger("hyperdial")

MAX_FIT_POINTS = 300  # beyond this, hyperparameters are fitted on a subset (the posterior uses every point)
COLD_FIT_POINTS = 100
COLD_MAXITER = 200
WARM_MAXITER = 30
PAREGO_RHO = 0.05
N_INCUMBENTS = 5
OUTLIER_IQRS = 3.0


class OutputTransform:
    """Squash outliers, then standardise: a monotone map fitted on observed values.

    Values (to maximise) more than 3 interquartile ranges below the lower quartile
    are pulled into one more interquartile range below that bound, smoothly and in
    order (lo - s (1 - exp(-(lo - v) / s))), so one diverged run does not flatten
    the rest of the data; the good tail is left alone, since it is where the model
    needs resolution. Then (y - mean) / std, with std = 1 for flat data.
    """

    def __init__(self, values: np.ndarray) -> None:
        # A constant pre-scale keeps squares finite for values near the float range (all else is scale-free).
        self.prescale = max(1.0, float(np.max(np.abs(values))))
        values = np.asarray(values, dtype=float) / self.prescale
        q1, q3 = np.percentile(values, [25.0, 75.0])
        spread = q3 - q1
        if spread <= 0:
            spread = float(np.std(values))
        self.lo, self.spread = q1 - OUTLIER_IQRS * spread, spread
        squashed = self._squash(values)
        self.mean = float(np.mean(squashed))
        std = float(np.std(squashed))
        self.std = std if std > 1e-12 * abs(self.mean) else 1.0  # below: rounding noise, treat as flat

    def _squash(self, v: np.ndarray) -> np.ndarray:
        if self.spread <= 0:
            return np.asarray(v, dtype=float)
        v = np.asarray(v, dtype=float)
        s = self.spread
        return np.where(v < self.lo, self.lo + s * np.expm1(-np.maximum(self.lo - v, 0.0) / s), v)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return (self._squash(np.asarray(values, dtype=float) / self.prescale) - self.mean) / self.std


def _fit_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Point indices in the order a subset for fitting hyperparameters takes them.

    Interleaves the best points with a random permutation of the rest (one in
    three from the top), so any prefix covers both the region that matters and
    the whole space. Small data sets keep their order: every point is used.
    """
    n = len(y)
    if n <= COLD_FIT_POINTS:
        return np.arange(n)
    by_value = np.argsort(-y, kind="stable")
    n_top = n // 3
    top, rest = by_value[:n_top], rng.permutation(by_value[n_top:])
    out = np.empty(n, dtype=int)
    k_top = np.arange(0, 3 * n_top, 3)
    mask = np.zeros(n, dtype=bool)
    mask[k_top] = True
    out[mask] = top
    out[~mask] = rest
    return out


def _projected(acq: Any, conditions: Conditions) -> Any:
    """The acquisition seen through the imputation: inactive columns at their imputed value, zero gradient."""

    def call(x: np.ndarray, grad: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        xp, on = conditions.project(x)
        value, g = acq(xp, grad=grad)
        return value, (None if g is None else np.where(on, g, 0.0))

    return call


_controller: Any = None


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread if threadpoolctl is installed: these matrices are small."""
    global _controller
    if _controller is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
        except Exception:  # noqa: BLE001 - optional: any failure means no limiting
            _controller = False
    if _controller is False:
        yield
        return
    with _controller.limit(limits=1):
        yield


@dataclass(frozen=True)
class _Observations:
    """The trials a proposal models and their encoding (see `GP._observations`)."""

    complete: Sequence[FrozenTrial]
    pruned: list[FrozenTrial]
    model_space: dict[str, Distribution]
    enc: Encoding
    x: np.ndarray
    conditions: Conditions | None


class GP(PicklableLock):
    """Gaussian-process Bayesian optimisation: Matern-5/2 with ARD, input warping, LogEI.

    Each trial after `n_startup_trials` (quasi-random until then), the GP is fitted
    to the COMPLETE trials of the joint space (hyperparameters by maximum a
    posteriori, warm-started from the previous fit) and the next point maximises
    log expected improvement. The prior mean is the worst value seen (`prior_quantile`), so unexplored
    regions are not assumed average (which sends EI to the box's corners in higher
    dimensions), and a proposal within 0.01 lengthscales of a measured point is
    replaced by the best one that is not. Integers and stepped floats are snapped to their
    values and searched locally; categoricals use a Hamming-distance kernel and are
    searched choice by choice. Running trials (other workers) enter the model as
    "constant liars" with the worst value seen, so parallel proposals spread out.
    Several objectives: one random Chebyshev scalarisation per trial (ParEGO,
    Knowles 2006). Constraints (`trial.set_constraint`): one GP each; the
    acquisition adds log P(feasible), or is that alone while nothing is feasible.
    Conditional parameters (asked by some trials only): with `conditional=True` the
    model covers every parameter seen, inactive ones imputed, and learns from the
    trials which categorical choices switch each one on (`conditional.py`); the
    proposal includes them and the trial gets them when its objective asks. Otherwise,
    and for a parameter the proposal did not cover, they are sampled at random
    (logged once per parameter at INFO). PRUNED trials are modelled at the worst value seen;
    FAILED trials are not modelled.

    Args:
        seed: seeds the start-up points and each trial's acquisition search.
        n_startup_trials: COMPLETE trials sampled quasi-randomly before the model is used.
        deterministic_objective: fix the noise variance at a tiny value instead of learning it.
        input_warping: learn a Kumaraswamy CDF warping of each numeric input.
        conditional: model conditional parameters (see above) instead of sampling them at random.
        prior_quantile: where the prior mean sits among the observed values, as a quantile: 0 (the
            default) is the worst value seen, the pessimistic prior described above; 0.5 the median;
            1 the best value seen, an optimistic prior that explores untried regions first (`Auto`
            uses it while trials are being pruned, where exploring is cheap).
        prior: a belief about the optimum (`hd.samplers.Prior`, e.g. a preset's defaults): the
            acquisition is weighted by prior(x)^(beta / n) after n COMPLETE trials (piBO,
            `samplers/prior.py`), and the belief is one of the starts of its maximisation.

    >>> import hyperdial as hd
    >>> study = hd.create_study(sampler=hd.samplers.GP(seed=0, n_startup_trials=4))
    >>> study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2, n_trials=12, show_progress_bar=False)
    >>> abs(study.best_params["x"] - 1) < 0.2
    True
    """

    joint_sampling = True

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 10,
        deterministic_objective: bool = False,
        input_warping: bool = True,
        conditional: bool = True,
        prior_quantile: float = 0.0,
        prior: Prior | None = None,
    ) -> None:
        n_startup_trials = check("n_startup_trials", n_startup_trials, Int(low=0))
        check("deterministic_objective", deterministic_objective, Bool())
        check("input_warping", input_warping, Bool())
        self.conditional = check("conditional", conditional, Bool())
        self.prior_quantile = float(check("prior_quantile", prior_quantile, Real(low=0, high=1)))
        self.prior = check_prior(prior)
        self.seed = check_seed(seed)
        self.n_startup_trials = int(n_startup_trials)
        self.deterministic_objective = deterministic_objective
        self.input_warping = input_warping
        self._startup = QMC(seed=self.seed)
        self._random = Random(seed=self.seed)
        self._lock = threading.Lock()
        self._logged: set[str] = set()
        self._space_key: Any = None
        self._encoding: Encoding | None = None
        self._rows: dict[int, tuple[dict[str, Any], np.ndarray]] = {}  # number -> (params, point); finished trials never change
        self._theta: dict[str, np.ndarray] = {}  # warm starts per model role
        self._fitted_on: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # the data of each role's last fit
        # Conditional parameters proposed with the joint ones, until the objective asks for them.
        self._pending: TrialMemo[dict[str, tuple[Distribution, Any]]] = TrialMemo()  # conditional values, per trial

    def __repr__(self) -> str:
        return f"GP(seed={self.seed}, n_startup_trials={self.n_startup_trials})"

    # -- entry point ---------------------------------------------------------------
    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        if not space:
            return {}
        if dict(space) != history.joint_space():
            return self._sample_outside(history, trial, space)
        if len(history.complete) < max(self.n_startup_trials, 1):
            return self._startup.sample(history, trial, space)
        try:
            with _one_blas_thread():
                return self._propose(history, trial, space)
        except np.linalg.LinAlgError as exc:  # a degenerate kernel matrix even with jitter: do not fail the trial
            _logger.warning("GP could not fit trial %d's model (%s); sampling it quasi-randomly", trial.number, exc)
            return self._startup.sample(history, trial, space)

    def _sample_outside(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        """Parameters outside the joint space: this trial's proposal if it covered them, else random."""
        out: dict[str, Any] = {}
        rest: dict[str, Distribution] = {}
        with self._lock:
            pending = self._pending.get(trial.number) or {}
            for name, dist in space.items():
                if name in pending and pending[name][0] == dist:
                    out[name] = pending.pop(name)[1]
                else:
                    rest[name] = dist
        if rest:
            self._log_fallback(rest)
            out.update(self._random.sample(history, trial, rest))
        return out

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        with self._lock:
            self._pending.pop(trial.number)

    def _log_fallback(self, space: Mapping[str, Distribution]) -> None:
        with self._lock:
            new = [n for n in space if n not in self._logged]
            self._logged.update(new)
        if new:
            why = ("not in this trial's proposal (start-up trials, or not seen in a finished trial yet)"
                   if self.conditional else "outside the joint search space")
            _logger.info("GP samples %s at random: %s (logged once)", new, why)

    # -- data ----------------------------------------------------------------------
    def _encode(self, space: Mapping[str, Distribution], trials: Sequence[FrozenTrial]) -> tuple[Encoding, np.ndarray]:
        key = tuple((k, space[k]) for k in space)
        with self._lock:
            if key != self._space_key or self._encoding is None:
                self._space_key, self._encoding, self._rows, self._theta = key, Encoding(space), {}, {}
                self._fitted_on = {}
            enc, rows = self._encoding, self._rows
        out = np.empty((len(trials), enc.dim))
        for i, t in enumerate(trials):
            hit = rows.get(t.number)
            # Same number, same params: an identity check first (a study hands out the same frozen
            # trials every time), equality for a sampler shared between studies.
            if hit is not None and (hit[0] is t.params or hit[0] == t.params):
                out[i] = hit[1]
                continue
            out[i] = enc.encode(imputed_params(t, enc.space))  # a flat space imputes nothing
            if t.state.is_finished():
                rows[t.number] = (t.params, out[i].copy())
        return enc, out

    def _fit(self, role: str, enc: Embedding, layout: Layout, x: np.ndarray, y: np.ndarray,
             rng: np.random.Generator, *, better: np.ndarray) -> Posterior:
        """Hyperparameters for one model (warm-started from this role's last fit), then the posterior on all points.

        `better` ranks the points (larger is better) for the subset that large data sets are fitted on.
        """
        from hyperdial.samplers.gp import model

        with self._lock:
            theta = self._theta.get(role)
            last = self._fitted_on.get(role)
        order = _fit_order(better, rng)
        sub = order[:MAX_FIT_POINTS]
        if theta is not None and last is not None and np.array_equal(last[0], x[sub]) and np.array_equal(last[1], y[sub]):
            # The same observations as the last fit: several idle workers asked in a row with no
            # trial finished in between, so one fit serves the whole batch (the constant liar still
            # sets each proposal apart).
            return model.Posterior(enc, x, y, model.Hyper.from_theta(theta, layout))
        if theta is None and len(y) > COLD_FIT_POINTS:
            # A cold fit on a small subset first: most of the iterations, at a fraction of the cost.
            sub = order[:COLD_FIT_POINTS]
            theta = model.fit(enc, x[sub], y[sub], layout, None, maxiter=COLD_MAXITER)
        theta = model.fit(enc, x[sub], y[sub], layout, theta, maxiter=WARM_MAXITER if theta is not None else COLD_MAXITER)
        with self._lock:
            self._theta[role] = theta
            self._fitted_on[role] = (x[sub].copy(), y[sub].copy())
        return model.Posterior(enc, x, y, model.Hyper.from_theta(theta, layout))

    # -- proposal ------------------------------------------------------------------
    def _propose(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        """Fit the objective (and constraint) models, lie about running trials, maximise the
        acquisition; the conditional parameters the point switches on wait in `_pending`."""
        from hyperdial.samplers.gp import model
        from hyperdial.samplers.gp.kernel import Embedding
        from hyperdial.samplers.gp.optim import optimize

        obs = self._observations(history, space)
        if obs.enc.dim == 0:
            return obs.enc.decode(np.zeros(0))
        rng = trial_rng(self.seed, trial.number)
        emb = Embedding(obs.enc.cat_sizes)
        layout = model.Layout(obs.enc.dim, len(emb.numeric), not self.deterministic_objective, self.input_warping)
        f = self._objective_values(history, obs.complete, rng)  # to maximise
        f = np.concatenate([f, np.full(len(obs.pruned), np.min(f))])
        if np.ptp(f) == 0.0 and all(t.constraints is None for t in obs.complete):
            # Every value the same: nothing to model yet, keep filling the space.
            return self._startup.sample(history, trial, space)
        y = self._prior_centred(f)
        obj = self._fit("objective", emb, layout, obs.x, y, rng, better=y)
        constraints = self._constraint_models(obs.complete, emb, layout, obs.x, rng)
        feasible = np.array([t.feasible for t in obs.complete] + [False] * len(obs.pruned))
        obj, constraints = self._lie_about_running(history, trial, space, obs, y, feasible, obj, constraints)
        acq, project, best_first = self._acquisition(obs, y, feasible, obj, constraints)
        incumbents = obs.x[best_first[:N_INCUMBENTS]]
        term = self.prior.term(obs.enc.model_space) if self.prior is not None else None
        if term is not None:  # piBO: weight the acquisition by the prior, and start a search at the belief
            from hyperdial.samplers.prior import at_centre, weighted

            acq = weighted(acq, term, self.prior.weight(len(obs.complete)))  # type: ignore[union-attr]
            incumbents = np.vstack([incumbents, at_centre(term, incumbents[:1])])
        point, _ = optimize(acq, obs.enc, rng, incumbents, obj.hp.lengthscales,
                            n_sobol_log2=10 if len(y) <= 300 else 9, observed=obj.x, project=project)
        values = obs.enc.decode(point)
        if obs.conditions is None:
            return values
        self._remember_conditional(history, trial, space, obs, point, values)
        return {n: values[n] for n in space}

    def _observations(self, history: History, space: Mapping[str, Distribution]) -> _Observations:
        """What the model is fitted on: COMPLETE trials, and PRUNED ones modelled at the worst value
        seen (the pruner judged them bad; without a value there the model keeps proposing the point
        it stops after one step: seen on lcbench with Median, a thousand trials, ten finished; this is
        what the multi-fidelity view's stopped="worst" does at the full budget, the better of its
        modes on lcbench). With `conditional`, over the union of their parameters."""
        complete = history.complete
        pruned = [t for t in history.with_states(TrialState.PRUNED)
                  if all(counts_for(t, k, d) for k, d in space.items())]
        model_space = union_space([*complete, *pruned], space) if self.conditional else dict(space)
        enc, x = self._encode(model_space, [*complete, *pruned])
        conditions = None
        if enc.dim and len(model_space) > len(space):
            centre = enc.encode({k: decode(d, 0.5) for k, d in enc.space.items()})
            conditions = Conditions(list(enc.model_space), model_space, [*complete, *pruned],
                                    set(model_space) - set(space), centre)
        return _Observations(complete, pruned, model_space, enc, x, conditions)

    def _prior_centred(self, f: np.ndarray) -> np.ndarray:
        """The transformed targets minus the prior mean. A pessimistic prior: the GP is zero-mean on
        y - min(y), so far from the data it predicts the worst value seen, not the average. With the
        average, the posterior far away (the corners of the box, in 5+ dimensions) looks as promising
        as the middle, and EI spends a third or more of the trials there (seen on Ackley-10: corners
        at 19.8 while the incumbent sat at 14). Normalised regret at 100 trials, 10 seeds: Ackley-10
        0.45 -> 0.17, Styblinski-Tang-8 0.26 -> 0.12 (docs/benchmarks.md). `prior_quantile` moves it
        up (Auto, once trials are pruned, to the best value: stopped trials sit at the worst value,
        and a prior there too makes an unexplored region look no better than one where trials were
        stopped)."""
        y = OutputTransform(f)(f)
        y -= float(np.quantile(y, self.prior_quantile))
        return y

    def _lie_about_running(
        self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution], obs: _Observations,
        y: np.ndarray, feasible: np.ndarray, obj: Any, constraints: list[tuple[Any, float]],
    ) -> tuple[Any, list[tuple[Any, float]]]:
        """Constant liar: other workers' points enter the model with the worst value seen, so the
        acquisition drops there and this proposal goes elsewhere (Ginsbourger et al. 2010)."""
        running = [r for t in history.running if t.number != trial.number
                   and all(counts_for(r := t.with_proposal(), k, d) for k, d in space.items())]
        if not running:
            return obj, constraints
        _, xr = self._encode(obs.model_space, running)
        lie = np.ones(len(running))
        if feasible.any():
            return obj.condition(xr, lie * float(np.min(y))), constraints
        # Only the feasibility terms count: lie on the constraints instead.
        return obj, [(g.condition(xr, lie * float(np.min(g.y))), tau) for g, tau in constraints]

    def _acquisition(
        self, obs: _Observations, y: np.ndarray, feasible: np.ndarray, obj: Any, constraints: list[tuple[Any, float]],
    ) -> tuple[Any, Any, np.ndarray]:
        """The acquisition (EI, weighted by the probability of feasibility), projected onto the
        learned activation rules of a conditional space; and the observations best first."""
        from hyperdial.samplers.gp.acquisition import Acquisition

        if feasible.any():
            best = float(np.max(y[feasible]))
            ranking = np.where(feasible, y, -np.inf)
        else:
            best = math.inf
            ranking = -np.array([t.violation for t in obs.complete] + [np.inf] * len(obs.pruned))
        acq: Any = Acquisition(obj if feasible.any() else None, best, constraints)
        project = None
        conditions = obs.conditions
        if conditions is not None and conditions.rules:
            acq, project = _projected(acq, conditions), lambda z: conditions.project(z)[0]
        return acq, project, np.argsort(-ranking, kind="stable")

    def _remember_conditional(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution],
                              obs: _Observations, point: np.ndarray, values: dict[str, Any]) -> None:
        """The conditional parameters the point switches on, for when the objective asks for them."""
        assert obs.conditions is not None
        on = obs.conditions.active(point[None, :])[0]
        active = {n for j, n in enumerate(obs.enc.model_space) if on[j]}
        with self._lock:
            self._pending.put(trial.number, {
                n: (obs.model_space[n], values[n]) for n in obs.model_space if n not in space and n in active
            }, history)

    def _objective_values(self, history: History, complete: Sequence[FrozenTrial], rng: np.random.Generator) -> np.ndarray:
        signs = np.array([-history.sign(i) for i in range(history.n_objectives)])
        values = np.array([t.values for t in complete], dtype=float) * signs
        if values.shape[1] == 1:
            return values[:, 0]
        # ParEGO: the augmented Chebyshev scalarisation of min-max normalised objectives, random weights.
        lo, hi = values.min(axis=0), values.max(axis=0)
        norm = (values - lo) / np.where(hi > lo, hi - lo, 1.0)
        weights = rng.dirichlet(np.ones(values.shape[1]))
        return np.min(weights * norm, axis=1) + PAREGO_RHO * (norm @ weights)

    def _constraint_models(self, complete: Sequence[FrozenTrial], emb: Embedding, layout: Layout,
                           x: np.ndarray, rng: np.random.Generator) -> list[tuple[Posterior, float]]:
        """One GP per constraint, on the trials that report the usual number of constraints."""
        lengths = [len(t.constraints) for t in complete if t.constraints is not None]
        if not lengths:
            return []
        n_c = max(set(lengths), key=lengths.count)
        keep = [i for i, t in enumerate(complete) if t.constraints is not None and len(t.constraints) == n_c]
        if len(keep) < 2:
            return []
        # Model g = -c, so that larger is better (and violations are the tail OutputTransform tames).
        g = -np.array([complete[i].constraints for i in keep], dtype=float)
        out = []
        for k in range(n_c):
            transform = OutputTransform(g[:, k])
            yg = transform(g[:, k])
            post = self._fit(f"constraint{k}", emb, layout, x[keep], yg, rng, better=yg)
            out.append((post, float(transform(np.zeros(1))[0])))  # feasible: g >= transform(0)
        return out
