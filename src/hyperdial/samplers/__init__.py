"""Samplers propose parameter values: `Random`, `Grid`, `QMC` (model-based ones come next)."""

from hyperdial.samplers.base import Sampler
from hyperdial.samplers.grid import Grid
from hyperdial.samplers.qmc import QMC
from hyperdial.samplers.random import Random

__all__ = ["QMC", "Grid", "Random", "Sampler"]
