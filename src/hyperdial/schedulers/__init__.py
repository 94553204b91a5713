"""Training-aware schedulers: trials that pause and are promoted later, from their checkpoints.

- `SuccessiveHalving`, `Hyperband`: synchronous, as Ray Tune's HyperBandScheduler runs them
  (a rung's best continue once the whole rung has paused).
- `ASHA`: asynchronous successive halving with promotion (MLSys 2020, Algorithm 2).
- `PBT`, `PB2`: population-based training and population-based bandits (docs/pbt.md);
  `Replay`: one model trained with a PBT member's parameter schedule; `hyperdial lineage`.
- `Scheduler`, `NextTrial`: the protocol (schedulers/base.py); docs/schedulers.md.
"""

from hyperdial.schedulers.asha import ASHA
from hyperdial.schedulers.base import NextTrial, Scheduler
from hyperdial.schedulers.hyperband import Hyperband
from hyperdial.schedulers.pb2 import PB2
from hyperdial.schedulers.pbt import PBT
from hyperdial.schedulers.replay import Replay
from hyperdial.schedulers.successive_halving import SuccessiveHalving

__all__ = ["ASHA", "PB2", "PBT", "Hyperband", "NextTrial", "Replay", "Scheduler", "SuccessiveHalving"]
