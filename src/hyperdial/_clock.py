"""Wall-clock time for liveness (heartbeats, trial starts, the reaper's cutoff), in one place.

Storages stamp heartbeats with `now()` and the reaper compares against `now()`, so a test
can move time by replacing this function (`monkeypatch.setattr(hyperdial._clock, "now", ...)`)
instead of sleeping past a grace period: no timing window to flake under load.
"""

from __future__ import annotations

import time


def now() -> float:
    """UNIX seconds."""
    return time.time()
