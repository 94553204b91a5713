"""`PerBracket`: with Hyperband, the wrapped sampler models only the trials of the trial's own bracket.

Hyperband (pruners/hyperband.py) runs brackets of successive halving with different
early-stopping rates: bracket 0 judges trials from the first rung, the last one trains
them fully. A trial stopped at step 3 in bracket 0 and one stopped at step 27 in bracket 2
were judged by different rules, and a sampler that ranks PRUNED trials by how far they
got (TPE) mixes those rules when it sees every bracket. Optuna's TPESampler therefore models
each bracket apart when its pruner is a HyperbandPruner; `PerBracket(base, hyperband)` does
the same for any hyperdial sampler, and says so in the code that builds the study.

While the brackets are unknown (`max_resource="auto"` and no COMPLETE trial yet), the base
sees the whole history. The view keeps the study's joint search space, so a bracket whose
trials have not finished yet still proposes over the same parameters.

hyperdial's default does not need it: `Auto` and `MultiFidelity` model a budget (a step),
not a bracket, which is BOHB's answer to the same problem (Falkner et al. 2018 fit one model
per budget on the observations of every bracket). Measured on lcbench: docs/benchmarks.md, "Pruners".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperdial import _plugins
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.space import Distribution
from hyperdial.trial import FrozenTrial


class PerBracket:
    """Wrap a sampler so that, under a `Hyperband` pruner, it sees only its trial's bracket.

    Args:
        base: the sampler that models each bracket's trials.
        pruner: the study's `Hyperband` pruner (the same object), which assigns the brackets.

    >>> import hyperdial as hd
    >>> hb = hd.pruners.Hyperband(min_resource=1, max_resource=9)
    >>> study = hd.create_study(sampler=hd.samplers.PerBracket(hd.samplers.TPE(seed=0), hb), pruner=hb)
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", -3, 3)
    ...     for step in range(1, 10):
    ...         trial.report((x - 1) ** 2 + 1 / step, step)
    ...         if trial.should_prune():
    ...             raise hd.TrialPruned()
    ...     return (x - 1) ** 2
    >>> study.optimize(objective, n_trials=60, show_progress_bar=False)
    >>> abs(study.best_params["x"] - 1) < 0.5
    True
    """

    def __init__(self, base: Any, pruner: Any) -> None:
        if not callable(getattr(base, "sample", None)):
            raise invalid("base", "must be a sampler (an object with a `sample` method)", base)
        if not callable(getattr(pruner, "same_bracket", None)):
            raise invalid("pruner", "must be a Hyperband pruner (an object with a `same_bracket` method)", pruner)
        self.base = base
        self.pruner = pruner

    @property
    def joint_sampling(self) -> bool:
        return _plugins.joint_sampling(self.base)

    @property
    def seed(self) -> Any:
        return getattr(self.base, "seed", None)

    def view(self, history: History, trial_number: int) -> History:
        """The history restricted to the bracket of trial `trial_number` (all of it while brackets are unknown)."""
        same = self.pruner.same_bracket(history, trial_number)
        if same is None:
            return history
        return History(history.directions, same, joint_space=history.joint_space())

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        return dict(self.base.sample(self.view(history, trial.number), trial, space))

    def explain(self, trial: FrozenTrial) -> dict[str, Any] | None:
        return _plugins.explain(self.base, trial)

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        _plugins.after_trial(self.base, history, trial)

    def __repr__(self) -> str:
        return f"PerBracket({self.base!r}, {self.pruner!r})"
