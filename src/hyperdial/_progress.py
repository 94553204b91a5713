"""The progress bar of `optimize`, and the log lines around it.

A log line written while a tqdm bar is on screen tears it (the bar redraws on the
line the record left), and one INFO line per trial buries it. So while a bar is
shown: per-trial lines go to DEBUG (the bar already shows the count and the best
value), other records (warnings, the Auto sampler's choice) are printed above the
bar through `tqdm.write`, and one summary line follows the bar at the end.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hyperdial.trial import FrozenTrial

if TYPE_CHECKING:
    from hyperdial.study import Study

_logger = logging.getLogger("hyperdial")


class _BarHandler(logging.StreamHandler):
    """A console handler that prints through the bar (tqdm clears it, prints, redraws)."""

    def __init__(self, like: logging.StreamHandler, write: Callable[..., None]) -> None:
        super().__init__(like.stream)
        self.setLevel(like.level)
        self.setFormatter(like.formatter)
        for f in like.filters:
            self.addFilter(f)
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record), file=self.stream)
        except Exception:  # noqa: BLE001 - logging must never break the study
            self.handleError(record)


def _through_bar(write: Callable[..., None]) -> Callable[[], None]:
    """Swap the console handlers of hyperdial's logger and the root logger for bar-aware ones;
    returns what puts them back. Handlers to files and elsewhere are left alone."""
    saved: list[tuple[logging.Logger, list[logging.Handler]]] = []
    for logger in (_logger, logging.getLogger()):
        handlers = list(logger.handlers)
        console = [isinstance(h, logging.StreamHandler) and h.stream in (sys.stdout, sys.stderr) for h in handlers]
        if any(console):
            saved.append((logger, handlers))
            logger.handlers = [_BarHandler(h, write) if c else h for h, c in zip(handlers, console)]  # type: ignore[arg-type]

    def restore() -> None:
        for logger, handlers in saved:
            logger.handlers = handlers

    return restore


class Progress:
    """tqdm bar: one tick per trial (or per second with only a timeout), best value shown."""

    def __init__(self, study: Study, n_trials: int | None, timeout: float | None, show: bool) -> None:
        self.bar: Any = None
        self.study = study
        self.by_time = n_trials is None and timeout is not None
        self.states: Counter[str] = Counter()
        self.start = time.monotonic()
        self.lock = threading.Lock()
        if not show or (n_trials is None and timeout is None):
            return
        from tqdm.auto import tqdm

        total = n_trials if n_trials is not None else timeout
        self.bar = tqdm(total=total, unit="trial" if not self.by_time else "s", dynamic_ncols=True)
        self._restore_logs = _through_bar(tqdm.write)
        study.trial_log_level = logging.DEBUG  # read by Study._log_finished

    def update(self, frozen: FrozenTrial) -> None:
        if self.bar is None:
            return
        with self.lock:
            self.states[frozen.state.name] += 1
            if self.by_time:
                self.bar.n = min(self.bar.total, round(time.monotonic() - self.start, 1))
                self.bar.refresh()
            else:
                self.bar.update(1)
            best = self.study.best_seen
            if best is not None and best.values:
                self.bar.set_postfix_str(f"best={best.values[0]:.6g} (trial {best.number})")

    def close(self) -> None:
        if self.bar is None:
            return
        self.bar.close()
        self._restore_logs()
        self.study.trial_log_level = logging.INFO
        # The one line that stands for the per-trial lines the bar replaced.
        counts = ", ".join(f"{n} {state}" for state, n in sorted(self.states.items()))
        best = self.study.best_seen
        tail = f" Best is trial {best.number} with value {best.values[0]}." if best is not None and best.values else ""
        _logger.info("%d trials finished in %.1f s (%s).%s", sum(self.states.values()),
                     time.monotonic() - self.start, counts or "none", tail)
