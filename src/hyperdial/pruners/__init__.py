"""Pruners stop unpromising trials early: `Nop`, `Median`, `Percentile` (more to come)."""

from hyperdial.pruners.base import Pruner
from hyperdial.pruners.nop import Nop
from hyperdial.pruners.percentile import Median, Percentile

__all__ = ["Median", "Nop", "Percentile", "Pruner"]
