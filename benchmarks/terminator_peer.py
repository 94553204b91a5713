"""Optuna's Terminator (Optuna 5.0.0, needs torch) on hyperdial's trials: the peer of `hd.stopping`.

`optuna_estimate(trials, direction)` rebuilds the COMPLETE trials as Optuna `FrozenTrial`s (the
fold scores under Optuna's key "terminator:cv_scores") and returns what `Terminator` computes:
`RegretBoundEvaluator().evaluate` (the bound), `CrossValidationErrorEvaluator().evaluate` (the
noise) and bound < noise (its decision). Used by benchmarks/stopping_vs_terminator.py and by
tests/test_stopping.py's reference data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import hyperdial as hd

OPTUNA_CV_KEY = "terminator:cv_scores"


def _distribution(dist: Any) -> Any:
    import optuna

    if isinstance(dist, hd.Categorical):
        return optuna.distributions.CategoricalDistribution(list(dist.choices))
    if isinstance(dist, hd.Int):
        return optuna.distributions.IntDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
    return optuna.distributions.FloatDistribution(dist.low, dist.high, log=dist.log, step=dist.step)


def to_optuna(trials: Sequence[hd.FrozenTrial]) -> list[Any]:
    """COMPLETE hyperdial trials as Optuna FrozenTrials (params, distributions, value, fold scores)."""
    import optuna

    out = []
    for t in trials:
        if t.state != hd.TrialState.COMPLETE:
            continue
        attrs = {}
        if hd.stopping.CV_SCORES in t.system_attrs:
            attrs[OPTUNA_CV_KEY] = list(t.system_attrs[hd.stopping.CV_SCORES])
        ot = optuna.trial.create_trial(
            params=dict(t.params), distributions={k: _distribution(d) for k, d in t.distributions.items()},
            value=t.value, system_attrs=attrs,
        )
        ot.number = t.number
        out.append(ot)
    return out


def optuna_estimate(trials: Sequence[hd.FrozenTrial], direction: str, *, seed: int | None = 0,
                    fixed_noise: float | None = None) -> tuple[float, float, bool]:
    """(Optuna's regret bound, its cross-validation error (or `fixed_noise`), bound < noise)."""
    import optuna
    from optuna.terminator import CrossValidationErrorEvaluator, RegretBoundEvaluator

    otrials = to_optuna(trials)
    odir = optuna.study.StudyDirection.MINIMIZE if direction == "minimize" else optuna.study.StudyDirection.MAXIMIZE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning / FutureWarning of the terminator module
        bound = float(RegretBoundEvaluator(seed=seed).evaluate(otrials, odir))
        noise = fixed_noise if fixed_noise is not None else float(
            CrossValidationErrorEvaluator().evaluate(otrials, odir))
    return bound, noise, bound < noise
