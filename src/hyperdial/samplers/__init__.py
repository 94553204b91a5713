"""Samplers propose parameter values.

`Random`, `Grid`, `QMC` (quasi-random), `TPE` (tree-structured Parzen estimator), `CMAES` (evolution strategy for numeric
spaces), `NSGA2` (multi-objective genetic algorithm).
"""

from hyperdial.samplers.base import Sampler
from hyperdial.samplers.cmaes import CMAES
from hyperdial.samplers.grid import Grid
from hyperdial.samplers.nsga2 import NSGA2
from hyperdial.samplers.qmc import QMC
from hyperdial.samplers.random import Random
from hyperdial.samplers.tpe import TPE

__all__ = ["CMAES", "NSGA2", "TPE", "Grid", "QMC", "Random", "Sampler"]
