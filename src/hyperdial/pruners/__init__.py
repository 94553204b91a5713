"""Pruners stop unpromising trials early.

- `Median`, `Percentile`: compare with the COMPLETE trials at the same step (Vizier's median rule).
- `ASHA`, `Hyperband`: asynchronous successive halving and its brackets (also multi-objective).
- `Threshold`: a fixed band; `Patience`: wait for a stall, then ask another pruner.
- `Wilcoxon`: a paired test against the best trial, for objectives averaged over instances or folds.
- `Nop`: never prune.
- `Decision`: CONTINUE / STOP / PAUSE, what a pruner's optional `decision` hook says (pruners/base.py).
"""

from hyperdial.pruners.asha import ASHA
from hyperdial.pruners.base import Decision, Pruner
from hyperdial.pruners.hyperband import Hyperband
from hyperdial.pruners.nop import Nop
from hyperdial.pruners.patience import Patience
from hyperdial.pruners.percentile import Median, Percentile
from hyperdial.pruners.threshold import Threshold
from hyperdial.pruners.wilcoxon import Wilcoxon

__all__ = ["ASHA", "Decision", "Hyperband", "Median", "Nop", "Patience", "Percentile", "Pruner", "Threshold", "Wilcoxon"]
