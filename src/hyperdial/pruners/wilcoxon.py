"""Prune a trial that a paired Wilcoxon signed-rank test finds worse than the best trial.

For objectives that are a mean over instances (cross-validation folds, problem
instances, benchmark questions): each report is one instance, and its step is the
instance id. The test (Wilcoxon, "Individual Comparisons by Ranking Methods",
Biometrics Bulletin 1(6), 1945) pairs the trial's values with the best trial's on
the instances both have evaluated. Semantics follow Optuna's `WilcoxonPruner`.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np

from hyperdial._validation import Int, Real, check
from hyperdial.history import History
from hyperdial.pruners._util import as_float, best_trial, single_objective
from hyperdial.trial import FrozenTrial

_logger = logging.getLogger("hyperdial")


class Wilcoxon:
    """Stop a trial once it is worse than the best trial with p-value < `p_threshold`.

    Report one value per instance with the instance id as the step
    (`trial.report(loss, step=instance_id)`), in any order (shuffling the order per
    trial is recommended). At each call the trial's values are paired with the
    best COMPLETE trial's values on the steps both reported, and a one-sided
    Wilcoxon signed-rank test (`scipy.stats.wilcoxon`, `zero_method="zsplit"`)
    asks whether the trial is worse. It is pruned when p < `p_threshold`, unless
    its mean over all its reports is at least as good as the best trial's mean.

    Never prunes with fewer than `max(2, n_startup_steps)` shared instances, nor
    when the trial's or the best trial's values hold NaN or infinity. Steps that
    the best trial lacks are ignored. The test is repeated as values come in, so
    the false-positive rate is above `p_threshold`; pass a corrected threshold
    (e.g. Pocock's) if that matters.

    A pruned trial's value is its last report; to record its mean instead, return
    the mean from the objective rather than raising `TrialPruned`.

    >>> import hyperdial as hd
    >>> from hyperdial.testing.pruners import curve
    >>> best = curve(0, [0.1, 0.5, 0.2, 0.3, 0.4, 0.6])
    >>> worse = curve(1, [0.3, 0.8, 0.4, 0.5, 0.7], hd.TrialState.RUNNING)
    >>> hd.pruners.Wilcoxon(p_threshold=0.1).should_prune(hd.History(["minimize"], [best, worse]), worse)
    True
    """

    def __init__(self, *, p_threshold: float = 0.1, n_startup_steps: int = 2) -> None:
        self.p_threshold = float(check("p_threshold", p_threshold, Real(low=0, high=1)))
        self.n_startup_steps = check("n_startup_steps", n_startup_steps, Int(low=0))

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        single_objective(history, self)
        if not trial.intermediate_values:
            return False
        mine = {s: as_float(v) for s, v in trial.intermediate_values.items()}
        if not all(math.isfinite(v) for v in mine.values()):
            _logger.debug("Wilcoxon: trial %d has NaN or infinite reports; not pruned", trial.number)
            return False
        best = best_trial(history)
        if best is None or best.number == trial.number or not best.intermediate_values:
            return False
        theirs = {s: as_float(v) for s, v in best.intermediate_values.items()}
        if not all(math.isfinite(v) for v in theirs.values()):
            return False
        shared = sorted(set(mine) & set(theirs))
        if len(shared) < max(2, self.n_startup_steps):
            return False
        sign = history.sign()
        # Signed so that positive differences mean "this trial is worse".
        diff = np.array([sign * (mine[s] - theirs[s]) for s in shared])
        if sign * (np.mean(list(mine.values())) - np.mean(list(theirs.values()))) <= 0:
            return False  # on average at least as good as the best: keep it
        from scipy.stats import wilcoxon  # core dependency, heavy: imported on first use

        with warnings.catch_warnings():
            # Small samples with ties make scipy switch from the exact to the normal
            # approximation and say so; the p-value is still the one we want.
            warnings.simplefilter("ignore", category=UserWarning)
            p = float(wilcoxon(diff, alternative="greater", zero_method="zsplit").pvalue)
        return bool(p < self.p_threshold)

    def __repr__(self) -> str:
        return f"Wilcoxon(p_threshold={self.p_threshold}, n_startup_steps={self.n_startup_steps})"
