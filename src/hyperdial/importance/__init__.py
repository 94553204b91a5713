"""Parameter importance: which hyperparameters mattered in a study.

`evaluate(study_or_history, method=...)` returns ``{name: share}``, shares summing to 1,
most important first. Only COMPLETE trials with a finite target count.

- ``"ped-anova"`` (default, `PedAnova`): PED-ANOVA, NumPy only and linear in the trials;
  how much each parameter's distribution among the top 10% of trials differs from its
  distribution over all trials. Conditional parameters count over the trials that have them.
- ``"fanova"`` (`Fanova`, needs ``pip install 'hyperdial[importance]'``): fANOVA on a random
  forest; each parameter's share of the variance of the fitted objective. Works on the joint
  space (conditional parameters left out unless named in `params`).

`target` (a function of a `FrozenTrial`) replaces the objective, and is required with several
objectives; PED-ANOVA takes lower target values as better.

>>> import hyperdial as hd
>>> study = hd.create_study(direction="maximize", sampler=hd.samplers.Random(seed=0))
>>> study.optimize(lambda t: 5 * t.suggest_float("x", 0, 1) + t.suggest_int("n", 0, 2),
...                n_trials=50, show_progress_bar=False)
>>> imp = evaluate(study)
>>> list(imp), round(sum(imp.values()), 6)
(['x', 'n'], 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperdial import _validation as rules
from hyperdial.importance._common import NotEnoughTrials, Target, as_history
from hyperdial.importance.fanova import Fanova
from hyperdial.importance.ped_anova import PedAnova

__all__ = ["METHODS", "Fanova", "NotEnoughTrials", "PedAnova", "evaluate"]

METHODS = ("ped-anova", "fanova")


def evaluate(
    history_or_study: Any,
    *,
    method: str = "ped-anova",
    params: Sequence[str] | None = None,
    target: Target | None = None,
    seed: int | None = 0,
) -> dict[str, float]:
    """Importance of each parameter, shares summing to 1 (all 0 when the target never varies).

    `seed` seeds fANOVA's forest (PED-ANOVA is deterministic).
    """
    rules.check("method", method, rules.OneOf(*METHODS))
    seed = rules.check("seed", seed, rules.Int(low=0), None)
    history = as_history(history_or_study)
    evaluator: PedAnova | Fanova = PedAnova() if method == "ped-anova" else Fanova(seed=seed)
    return evaluator.evaluate(history, params=params, target=target)
