"""Samplers propose parameter values.

`Auto` (the default: picks one of the others from the history), `Random`, `Grid`,
`QMC` (quasi-random), `TPE` (tree-structured Parzen estimator), `GP`
(Gaussian-process BO), `CMAES` (evolution strategy for numeric spaces), `NSGA2`
(multi-objective genetic algorithm), `MultiFidelity` (wraps one of them so that, with a
pruner, it models the largest budget with enough observations: BOHB-style; `budget_view`), `PerBracket`
(wraps one so that, under a Hyperband pruner, it models each bracket apart, as Optuna's TPE does),
`Staged` (wraps one to tune the most impactful parameters first, the rest held at their defaults).
`Prior` is a belief about the optimum that GP, TPE and Auto take as `prior=` (piBO).
"""

from hyperdial.samplers.auto import Auto
from hyperdial.samplers.base import Sampler
from hyperdial.samplers.bracket import PerBracket
from hyperdial.samplers.cmaes import CMAES
from hyperdial.samplers.fidelity import Budget, BudgetView, MultiFidelity, budget_view
from hyperdial.samplers.gp import GP
from hyperdial.samplers.grid import Grid
from hyperdial.samplers.nsga2 import NSGA2
from hyperdial.samplers.prior import Prior
from hyperdial.samplers.qmc import QMC
from hyperdial.samplers.random import Random
from hyperdial.samplers.staged import Stage, Staged, default_stages
from hyperdial.samplers.tpe import TPE

__all__ = [
    "CMAES", "GP", "NSGA2", "QMC", "TPE", "Auto", "Budget", "BudgetView", "Grid", "MultiFidelity", "PerBracket",
    "Prior", "Random", "Sampler", "Stage", "Staged", "budget_view", "default_stages",
]

