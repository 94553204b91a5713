"""`Auto`: the default sampler. It picks an algorithm from what the history shows.

The rules (checked at every trial, cheap: they read only the joint space and counts):

1. Several objectives: TPE (MOTPE split by non-dominated rank) up to
   `mo_switch_trials` trials, then NSGA-II, which scales better on long runs.
2. No joint space yet: TPE.
3. While the study is small: GP-BO, the most sample-efficient choice early
   (`gp_max_trials`, default 200; GP cost grows as n^3). Conditional spaces
   (some trials have parameters others do not) too: the GP models the union of
   the parameters, inactive ones imputed, and learns which choices switch each
   one on (`gp/conditional.py`).
4. After that: CMA-ES for flat, purely numeric spaces (no categoricals), which
   keeps improving with many evaluations; TPE otherwise (it models each group of
   a conditional space on the trials that have it).

Multi-fidelity (on by default, `multi_fidelity=True`): once trials are being
pruned, the rules above and the algorithm they pick see `BudgetView`'s history
(`fidelity.py`, BOHB-style). While fewer than N_min = d + 2 trials are
COMPLETE, the trials observed at the largest reported step with at least N_min
observations appear COMPLETE with their value there, so the model learns from
the pruned trials' curves instead of waiting for finished runs, and a third of
the trials are sampled at random (BOHB's share). Trials stopped before the
modelled step (at the full budget too) appear COMPLETE with the worst value
seen there: GP reads only COMPLETE trials, and without this keeps proposing
the point the pruner stops after one step. In this mode the GP's prior mean
sits at the best value observed rather than the worst one, so it explores
(`PRUNED_PRIOR_QUANTILE`). No pruned trials: no change at all.

Each trial is handled by one algorithm from start to end (its choice is cached by
trial number). The choice is logged at INFO once per algorithm, with the reason,
when it changes (TPE before any space is seen is a placeholder, not news); the
smaller changes (the kind of space, say from flat to conditional, or the
multi-fidelity view turning on or off) go to DEBUG, and all of them to `choice_log`.
A study of 100 trials with pruning used to log five INFO lines for one GP.

`warm_up()` (called by `optimize` before its first trial) imports GP's numeric modules
(scipy.stats for the Sobol start-up points, scipy.optimize), 0.5 s warm and seconds on a
cold disk, which otherwise landed in the first GP trial: its recorded duration and the
progress bar's rate were off by that much. Not in a background thread: scipy's import
cycles break when two threads import it at once ("partially initialized module
'scipy.stats._qmc'", seen here), and an objective may import scipy (or scikit-learn)
during the first trial.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from hyperdial import _plugins
from hyperdial._validation import Bool, Int, Real, check
from hyperdial.history import History
from hyperdial.samplers._memo import TrialMemo
from hyperdial.samplers.base import PicklableLock, check_seed
from hyperdial.samplers.fidelity import Budget, MultiFidelity
from hyperdial.samplers.prior import Prior, check_prior
from hyperdial.samplers.random import Random
from hyperdial.space import Categorical, Distribution
from hyperdial.trial import FrozenTrial, TrialState

_logger = logging.getLogger("hyperdial")

# Once trials are pruned, the GP's prior mean sits at the best value observed instead of the worst
# one: an optimistic prior, so a region nobody has tried looks worth a trial. Exploring is cheap
# here (the pruner stops a bad configuration after a few steps), and the stopped trials, modelled
# at the worst value, mark the regions already ruled out; with the worst-value prior as well,
# untried regions looked no better than those, and the search stayed around the few finished
# trials. lcbench, default study, 10 seeds x 5 instances, mean normalised score at 6/10/20/30 full
# runs: prior at the worst value 0.74 / 0.89 / 1.11 / 1.17, at the median 0.81 / 0.97 / 1.18 / 1.28,
# at the best 0.90 / 1.11 / 1.33 / 1.39 (+0.08 to +0.16 over the median, 2.5-4 standard errors;
# the 75th percentile gained nothing over the median). The cost, on synthetic learning curves over
# the synthetic test functions (benchmarks/multifidelity_synthetic.py, 8 seeds): normalised regret
# at 30 full runs 0.31 -> 0.38 (Hartmann-6 0.33 -> 0.53, Styblinski-Tang-8 0.31 -> 0.44, the
# others level): lcbench's real learning curves decide the default. Without pruning the worst value stays:
# there every trial is a full run, and an optimistic prior sends the GP to the box's corners
# (synthetic group, regret @100 with the median prior already: 0.055 -> 0.139).
PRUNED_PRIOR_QUANTILE = 1.0
_GP_PRUNED = "GP (pruned trials)"
_NO_SPACE = "no search space seen yet"
def _import_models() -> None:
    try:
        import scipy.optimize
        import scipy.stats.qmc  # noqa: F401

        import hyperdial.samplers.gp.acquisition
        import hyperdial.samplers.gp.model
        import hyperdial.samplers.gp.optim  # noqa: F401
    except Exception:
        _logger.debug("Auto sampler: warming up the GP's imports failed", exc_info=True)


def _is_conditional(history: History) -> bool:
    joint = history.joint_space()
    return any(set(t.distributions) - set(joint) for t in history.complete)


class Auto(PicklableLock):
    """The sampler `create_study` uses unless told otherwise; logs what it chose and why.

    Args (keyword-only):
        seed: seeds the algorithm it delegates to.
        gp_max_trials: COMPLETE trials after which a flat space leaves GP (its cost grows as n^3).
        mo_switch_trials: COMPLETE trials after which several objectives go from TPE to NSGA-II.
        multi_fidelity: once trials are pruned, model the largest budget with enough
            observations (`MultiFidelity`'s view; see the module docstring).
        min_observations: N_min of that view; None means d + 2 for d parameters.
        random_fraction: share of trials sampled at random while the view models a lower budget.
        stopped: how trials stopped before the modelled budget appear: "worst", "last" or
            "pruned" (see `BudgetView`).
        pruned_prior_quantile: the `prior_quantile` of the GP it uses once trials are pruned
            (default `PRUNED_PRIOR_QUANTILE`, 1 = the best value observed; see above).
        prior: a belief about the optimum (`hd.samplers.Prior`), handed to the GP and TPE it uses
            (CMA-ES and NSGA-II take none).

    With the view on, the trial counts of the rules are those of the view (pruned trials
    count as COMPLETE there): GP's cost grows with the points it models.

    >>> import hyperdial as hd
    >>> study = hd.create_study(sampler=hd.samplers.Auto(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=12, show_progress_bar=False)
    >>> study.sampler.choice_log[-1][1]
    'GP'
    """

    joint_sampling = True

    def __init__(
        self,
        *,
        seed: int | None = None,
        gp_max_trials: int = 200,
        mo_switch_trials: int = 300,
        multi_fidelity: bool = True,
        min_observations: int | None = None,
        random_fraction: float = 1 / 3,
        stopped: str = "worst",
        pruned_prior_quantile: float = PRUNED_PRIOR_QUANTILE,
        prior: Prior | None = None,
    ) -> None:
        self.prior = check_prior(prior)
        gp_max_trials = check("gp_max_trials", gp_max_trials, Int(low=0))
        mo_switch_trials = check("mo_switch_trials", mo_switch_trials, Int(low=0))
        check("multi_fidelity", multi_fidelity, Bool())
        self.pruned_prior_quantile = float(check("pruned_prior_quantile", pruned_prior_quantile, Real(low=0, high=1)))
        self.seed = check_seed(seed)
        self.gp_max_trials = gp_max_trials
        self.mo_switch_trials = mo_switch_trials
        self.multi_fidelity = multi_fidelity
        # The view and the random share are MultiFidelity's; Auto wraps the algorithm it picks instead.
        self._fidelity = MultiFidelity(
            Random(seed=self.seed), min_observations=min_observations, random_fraction=random_fraction, stopped=stopped,
            seed=self.seed,
        )
        self._samplers: dict[str, Any] = {}
        self._by_trial: TrialMemo[tuple[str, bool]] = TrialMemo()  # number -> (algorithm, in the random share)
        self._lock = threading.Lock()
        self._mode = ""  # what the last choice's view was, for the log: "", "low" or "full"
        self._announced = ""  # the algorithm last logged at INFO
        self.choice_log: list[tuple[int, str, str]] = []  # (trial number, algorithm, reason) when it changes
        self._news: dict[int, tuple[str, str]] = {}  # trial number -> a change `explain` has yet to hand out

    @property
    def min_observations(self) -> int | None:
        return self._fidelity.view.min_observations

    @property
    def random_fraction(self) -> float:
        return self._fidelity.random_fraction

    def _sampler(self, name: str) -> Any:
        if name not in self._samplers:
            from hyperdial import samplers

            if name == _GP_PRUNED:
                self._samplers[name] = samplers.GP(seed=self.seed, prior_quantile=self.pruned_prior_quantile,
                                                   prior=self.prior)
            elif name in ("GP", "TPE") and self.prior is not None:
                self._samplers[name] = getattr(samplers, name)(seed=self.seed, prior=self.prior)
            else:
                self._samplers[name] = getattr(samplers, name)(seed=self.seed)
        return self._samplers[name]

    def choose(self, history: History) -> tuple[str, str]:
        """The algorithm for the next trial, and why (give it the view the algorithm will model)."""
        n = len(history.complete)
        joint = history.joint_space()
        if history.is_multi_objective:
            if n < self.mo_switch_trials:
                return "TPE", f"{history.n_objectives} objectives, {n} < {self.mo_switch_trials} trials"
            return "NSGA2", f"{history.n_objectives} objectives, a long run ({n} trials)"
        if not joint:
            return "TPE", _NO_SPACE
        conditional = _is_conditional(history)
        numeric = not any(isinstance(d, Categorical) for d in joint.values())
        # GP on small conditional and mixed spaces too, not TPE: on the real-ML TUNING split
        # (benchmarks/sklearn_problems.py, 10 problems x 5 seeds) normalised regret @25 / @50 was GP 0.140 / 0.075,
        # hyperdial's TPE 0.185 / 0.114, Optuna's TPE (multivariate, group=True) 0.186 / 0.106. GP trails that TPE
        # only on the two SVC classifiers at 25 trials (+0.03 / +0.04, 1.4-1.6 standard errors; level at 50);
        # GP with 5 start-up trials closed svc_cancer's gap but widened svc_iris's (level with this over the split);
        # with a fixed noise (deterministic_objective) it was behind this over the split (+0.018 +- 0.010 @25).
        if n < self.gp_max_trials:
            kind = "conditional" if conditional else "flat numeric" if numeric else "flat mixed"
            return "GP", f"{kind} space of {len(joint)} joint parameters, {n} < {self.gp_max_trials} trials"
        if conditional:
            return "TPE", f"conditional space, a long run ({n} trials)"
        if numeric:
            return "CMAES", f"numeric space, a long run ({n} trials)"
        return "TPE", f"mixed space, a long run ({n} trials)"

    def view(self, history: History) -> tuple[History, Budget | None]:
        """What the algorithm models: the budget view once trials are pruned (None: the history as is)."""
        if not self.multi_fidelity or not history.with_states(TrialState.PRUNED):
            return history, None
        return self._fidelity.view(history)

    def _delegate(self, history: History, trial: FrozenTrial) -> tuple[Any, History]:
        view, budget = self.view(history)
        with self._lock:
            hit = self._by_trial.get(trial.number)
            if hit is None:
                name, why = self.choose(view)
                mode = ""
                if budget is not None:
                    mode = "low" if budget.step is not None else "full"
                    why += "; " + self._why_view(history, view, budget)
                # Logged when the algorithm, the kind of space (the reason up to its first comma)
                # or the view changes: a flat space turning conditional is news even if GP stays.
                last = self.choice_log[-1] if self.choice_log else None
                if last is None or last[1] != name or last[2].split(",")[0] != why.split(",")[0] or mode != self._mode:
                    news = name != self._announced and why != _NO_SPACE  # a new algorithm: INFO, once
                    _logger.log(logging.INFO if news else logging.DEBUG, "Auto sampler: trial %d onwards uses %s (%s)",
                                trial.number, name, why)
                    self._announced = name if news else self._announced
                    self.choice_log.append((trial.number, name, why))
                    if why != _NO_SPACE:  # the placeholder is not news for the study either
                        self._news[trial.number] = (name, why)
                self._mode = mode
                # With trials pruned, GP's prior mean goes to the best value (see PRUNED_PRIOR_QUANTILE).
                key = _GP_PRUNED if name == "GP" and budget is not None else name
                hit = (key, mode == "low" and self._fidelity.is_random(trial.number))
                self._by_trial.put(trial.number, hit, history)
            name, random = hit
            return (self._fidelity.base if random else self._sampler(name)), view

    def _why_view(self, history: History, view: History, budget: Budget) -> str:
        n, n_min = len(history.complete), budget.min_observations
        stopped = {
            "worst": "at the worst value seen there",
            "last": "at their last value or the worst seen there, whichever is worse",
            "pruned": "stay PRUNED",
        }[self._fidelity.view.stopped]
        if budget.step is not None:
            return (
                f"trials are being pruned and {n} < {n_min} are COMPLETE: multi-fidelity, modelling step "
                f"{budget.step} ({budget.n_observations} trials observed there; trials stopped earlier {stopped}; "
                f"{self.random_fraction:.0%} sampled at random)"
            )
        where = f"{n} COMPLETE trials" if n >= n_min else f"no step has {n_min} observations yet"
        if view is history:
            return f"trials are being pruned; {where}: multi-fidelity at the full budget"
        return f"trials are being pruned; {where}: multi-fidelity at the full budget, pruned trials {stopped}"

    def warm_up(self) -> None:
        """Import the GP's modules now (a no-op once imported, or without GP in the plan),
        so the first model-based trial does not pay for scipy's import."""
        if self.gp_max_trials > 0:
            _import_models()

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        sampler, view = self._delegate(history, trial)
        return dict(sampler.sample(view, trial, space))

    def explain(self, trial: FrozenTrial) -> dict[str, str] | None:
        """{"algorithm", "reason"} when this trial's proposal is the first of a new choice (the
        study stores it as `system_attrs.SAMPLER_CHOICE`, the dashboard shows it); None otherwise.

        >>> import hyperdial as hd
        >>> study = hd.create_study(sampler=hd.samplers.Auto(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3, show_progress_bar=False)
        >>> study.trials[1].system_attrs["sampler_choice"]["algorithm"]
        'GP'
        """
        with self._lock:
            news = self._news.pop(trial.number, None)
        return None if news is None else {"algorithm": news[0], "reason": news[1]}

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        with self._lock:
            self._news.pop(trial.number, None)
            hit = self._by_trial.pop(trial.number)
        used = self._samplers.get(hit[0]) if hit else None
        if used is not None:
            _plugins.after_trial(used, history, trial)

    def __repr__(self) -> str:
        return f"Auto(seed={self.seed}, multi_fidelity={self.multi_fidelity})"
