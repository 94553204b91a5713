"""Training-aware schedulers: trials that pause and are promoted later, from their checkpoints.

- `Scheduler`, `NextTrial`: the protocol (schedulers/base.py).
"""

from hyperdial.schedulers.base import NextTrial, Scheduler

__all__ = ["NextTrial", "Scheduler"]
