"""`RegretBound`: stop when a GP's bound on the remaining regret falls below the objective's noise.

Makarova et al. 2022, "Automatic termination for hyperparameter optimization" (AutoML-Conf,
PMLR 188), written for maximisation (values are negated to minimise). With a GP fitted to the
trials, mean mu and standard deviation sigma, and the confidence bounds

    ucb(x) = mu(x) + sqrt(beta) sigma(x),   lcb(x) = mu(x) - sqrt(beta) sigma(x),

the regret of the best trial so far is at most (their Theorem 1, with high probability)

    r = max_x ucb(x) - max_{x_i observed} lcb(x_i),

and the study stops once r < the statistical error of the objective (their section 4: the
standard error of the cross-validated score, `noise.py`): past that point the model cannot tell
a further gain from the noise of one evaluation. beta follows the paper's experiments, from
GP-UCB (Srinivas et al. 2010): beta = 2 log(d n^2 pi^2 / (6 delta)) / 5, d parameters, n points.

As Optuna's `RegretBoundEvaluator` (Optuna 5.0.0, `optuna/terminator/improvement/evaluator.py`):
the GP is fitted to the better half of the COMPLETE trials (at least `min_trials` of them),
values standardised, with a learned noise; the bound is scaled back to objective units.
Differences, all in hyperdial's GP (`samplers/gp/`, the sampler's own model and prior on its
hyperparameters): inputs are encoded and categoricals compared as the GP sampler does, the
noise variance is learned there with a prior that favours small noise, and max ucb is found as
the sampler maximises its acquisition (a Sobol batch, then L-BFGS-B and a coordinate search)
rather than the best of 2048 random points, so it is a larger, safer bound in many dimensions.
No input warping: the bound is about the GP's confidence, and a warp fitted on the top half
of the trials bends it where there is no data.

Noise (`noise=`): "cv" the fold scores of the best trial (`report_cv_scores`, as Optuna);
"gp" the GP's learned noise standard deviation (for objectives that report no folds; it can
be near 0 for a deterministic objective, and then the rule rarely stops); "auto" (the
default) the first when the best trial reported folds, else the second; or a number, a fixed
threshold in objective units (Optuna's `StaticErrorEvaluator`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.samplers.base import check_seed
from hyperdial.stopping.noise import CV_SCORES, cv_noise
from hyperdial.trial import FrozenTrial

__all__ = ["Estimate", "RegretBound"]


@dataclass(frozen=True)
class Estimate:
    """What a stopping rule saw: the regret bound, the noise, and the decision.

    `bound` and `noise` are in objective units (None before `min_trials` COMPLETE trials);
    `noise_source` is "cv", "gp" or "fixed"; `n_trials` counts the COMPLETE trials used.
    """

    n_trials: int
    bound: float | None
    noise: float | None
    noise_source: str | None
    should_stop: bool
    min_trials: int

    def as_dict(self) -> dict[str, Any]:
        return {"n_trials": self.n_trials, "bound": self.bound, "noise": self.noise,
                "noise_source": self.noise_source, "should_stop": self.should_stop, "min_trials": self.min_trials}

    def __str__(self) -> str:
        if self.bound is None:
            return f"{self.n_trials} COMPLETE trials, fewer than {self.min_trials}: too early to judge"
        verdict = ("more trials are unlikely to pay: the bound is below the noise" if self.should_stop
                   else "more trials may still pay: the bound exceeds the noise")
        return (f"regret bound {self.bound:.4g} vs noise {self.noise:.4g} ({self.noise_source}) after "
                f"{self.n_trials} trials: {verdict}")


def _history(study: Any) -> History:
    if isinstance(study, History):
        return study
    history = getattr(study, "history", None)
    if callable(history):  # hd.Study.history(): a fresh read-only view
        history = history()
    if isinstance(history, History):
        return history
    raise invalid("study", "must be an hd.Study or an hd.History", type(study).__name__)


def ucb_beta(n_params: int, n_points: int, delta: float) -> float:
    """beta of the confidence bounds (see the module docstring; Optuna's `_get_beta`)."""
    return 2.0 * math.log(n_params * n_points**2 * math.pi**2 / 6.0 / delta) / 5.0


def _fit(model: Any, emb: Any, x: np.ndarray, y: np.ndarray, layout: Any) -> np.ndarray:
    """MAP hyperparameters from two starts, the better kept: the sampler's (noise variance 0.01)
    and Optuna's (noise variance 1). The posterior is often bimodal here (a smooth fit with
    noise, a wiggly one without), and the top half of a study's trials sits right where the two
    compete; the higher posterior is the better guess at either."""
    starts = [None]
    if layout.learn_noise:
        noisy = layout.default()
        noisy[layout.dim + 1] = 0.0  # log(noise - MIN_NOISE) ~ log 1
        starts.append(noisy)
    best, best_value = None, math.inf
    for start in starts:
        theta = model.fit(emb, x, y, layout, start, maxiter=200)
        try:
            value = model.neg_log_posterior(theta, emb, x, y, layout)[0]
        except np.linalg.LinAlgError:
            continue
        if value < best_value:
            best, best_value = theta, value
    return best if best is not None else layout.default()


class RegretBound:
    """The regret-bound stopping rule (module docstring): `estimate(study)` and `should_stop(study)`.

    Args (keyword-only):
        min_trials: COMPLETE trials before the rule judges (and the least number the GP is fitted on).
        top_trials_ratio: the share of COMPLETE trials, best first, the GP is fitted on.
        delta: the confidence of the bound (1 - delta).
        noise: "auto", "cv", "gp" or a number >= 0 (module docstring).
        seed: seeds the search for max ucb.

    >>> import hyperdial as hd
    >>> study = hd.create_study(seed=0)
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", -1, 1)
    ...     folds = [x * x + e for e in (-0.05, 0.0, 0.05)]
    ...     hd.stopping.report_cv_scores(trial, folds)
    ...     return sum(folds) / 3
    >>> study.optimize(objective, n_trials=25, show_progress_bar=False)
    >>> est = hd.stopping.RegretBound(min_trials=20, seed=0).estimate(study)
    >>> est.noise_source, est.bound is not None
    ('cv', True)
    """

    def __init__(
        self,
        *,
        min_trials: int = 20,
        top_trials_ratio: float = 0.5,
        delta: float = 0.1,
        noise: str | float = "auto",
        seed: int | None = None,
    ) -> None:
        self.min_trials = rules.check("min_trials", min_trials, rules.Int(low=2))
        self.top_trials_ratio = float(rules.check("top_trials_ratio", top_trials_ratio,
                                                  rules.Real(low=0, high=1, closed="right")))
        self.delta = float(rules.check("delta", delta, rules.Real(low=0, high=1, closed="neither")))
        self.noise = rules.check("noise", noise, rules.OneOf("auto", "cv", "gp"), rules.Real(low=0, finite=True),
                                 rule="must be 'auto', 'cv', 'gp' or a finite number >= 0")
        self.seed = check_seed(seed)
        self._n_calls = 0

    def __repr__(self) -> str:
        return (f"RegretBound(min_trials={self.min_trials}, top_trials_ratio={self.top_trials_ratio}, "
                f"delta={self.delta}, noise={self.noise!r})")

    def should_stop(self, study: Any) -> bool:
        return self.estimate(study).should_stop

    def estimate(self, study: Any) -> Estimate:
        """The bound, the noise and the decision for the study's COMPLETE trials so far."""
        history = _history(study)
        if history.is_multi_objective:
            raise invalid("study", "must have one objective (the regret bound is for one)",
                          f"{history.n_objectives} objectives")
        complete = list(history.complete)
        n = len(complete)
        if n < self.min_trials:
            return Estimate(n, None, None, None, False, self.min_trials)
        sign = history.sign()
        values = np.array([t.value for t in complete], dtype=float) * -sign  # to maximise
        bound, gp_noise = self._bound(history, complete, values)
        noise, source = self._noise(complete, values, gp_noise)
        return Estimate(n, bound, noise, source, bool(bound < noise), self.min_trials)

    # -- the bound -----------------------------------------------------------------
    def _bound(self, history: History, complete: list[FrozenTrial], values: np.ndarray) -> tuple[float, float]:
        """(regret bound, the GP's noise standard deviation), both in objective units."""
        from hyperdial.samplers.gp import model
        from hyperdial.samplers.gp.encoding import Encoding
        from hyperdial.samplers.gp.kernel import Embedding
        from hyperdial.samplers.gp.optim import optimize

        enc = Encoding(history.joint_space())
        if enc.dim == 0:
            raise invalid("study", "has no parameter with more than one value shared by every COMPLETE trial",
                          sorted(history.joint_space()))
        n = len(values)
        top_n = int(np.clip(int(n * self.top_trials_ratio), self.min_trials, n))
        threshold = np.partition(values, n - top_n)[n - top_n]
        keep = np.flatnonzero(values >= threshold)  # ties at the threshold all stay, as in Optuna
        top_values = values[keep]
        mean, std = float(top_values.mean()), max(1e-10, float(top_values.std()))
        y = (top_values - mean) / std
        x = np.array([enc.encode(complete[i].params) for i in keep])
        emb = Embedding(enc.cat_sizes)
        layout = model.Layout(enc.dim, len(emb.numeric), learn_noise=True, warping=False)
        theta = _fit(model, emb, x, y, layout)
        post = model.Posterior(emb, x, y, model.Hyper.from_theta(theta, layout))
        root_beta = math.sqrt(ucb_beta(enc.dim, len(y), self.delta))

        def ucb(xq: np.ndarray, grad: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
            if not grad:
                m, v = post.predict(xq)
                return m + root_beta * np.sqrt(v), None
            m, v, dm, dv = post.predict(xq, grad=True)
            s = np.sqrt(v)
            return m + root_beta * s, dm + root_beta * dv / (2.0 * s[:, None])

        m_obs, v_obs = post.predict(x)
        best_lcb = float(np.max(m_obs - root_beta * np.sqrt(v_obs)))
        rng = np.random.default_rng(None if self.seed is None else [self.seed, self._n_calls])
        self._n_calls += 1
        incumbents = x[np.argsort(-y, kind="stable")[:5]]
        _, ucb_max = optimize(ucb, enc, rng, incumbents, post.hp.lengthscales, n_sobol_log2=11)
        ucb_max = max(ucb_max, float(np.max(ucb(x)[0])))
        return (ucb_max - best_lcb) * std, math.sqrt(post.hp.noise) * std

    # -- the noise -----------------------------------------------------------------
    def _noise(self, complete: list[FrozenTrial], values: np.ndarray, gp_noise: float) -> tuple[float, str]:
        if not isinstance(self.noise, str):
            return float(self.noise), "fixed"
        best = complete[int(np.argmax(values))]  # the first best, as Optuna's max()
        scores = best.system_attrs.get(CV_SCORES)
        if self.noise == "gp" or (self.noise == "auto" and scores is None):
            return gp_noise, "gp"
        if scores is None:
            raise invalid("noise", "is 'cv' but the best trial reported no fold scores: call "
                          "hd.stopping.report_cv_scores(trial, scores) in the objective",
                          f"trial {best.number}")
        return cv_noise(scores), "cv"
