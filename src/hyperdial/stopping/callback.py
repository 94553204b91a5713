"""`StopWhenConverged`: a `study.optimize` callback that stops the study when a stopping rule says so."""

from __future__ import annotations

import logging
from typing import Any

from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.stopping.regret_bound import Estimate, RegretBound

__all__ = ["StopWhenConverged"]

_log = logging.getLogger("hyperdial")


class StopWhenConverged:
    """Call `study.stop()` once `rule` (default `RegretBound()`) says more trials are unlikely to pay.

    Checks after every `check_every`-th finished trial; running trials finish normally (that
    is what `stop()` does). `estimates` keeps what each check saw, for reporting; `stopped_at`
    is the number of COMPLETE trials when it stopped the study (None until then).

    >>> import hyperdial as hd
    >>> stopper = hd.stopping.StopWhenConverged(hd.stopping.RegretBound(min_trials=10, noise=10.0))
    >>> study = hd.create_study(seed=0)
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=50, callbacks=[stopper],
    ...                show_progress_bar=False)
    >>> len(study.trials)
    10
    """

    def __init__(self, rule: Any = None, *, check_every: int = 1) -> None:
        if rule is None:
            rule = RegretBound()
        if not callable(getattr(rule, "estimate", None)):
            raise invalid("rule", "must have an estimate(study) method, such as hd.stopping.RegretBound()",
                          type(rule).__name__)
        self.rule = rule
        self.check_every = rules.check("check_every", check_every, rules.Int(low=1))
        self.estimates: list[Estimate] = []
        self.stopped_at: int | None = None
        self._seen = 0

    def __repr__(self) -> str:
        return f"StopWhenConverged({self.rule!r}, check_every={self.check_every})"

    def __call__(self, study: Any, trial: Any) -> None:
        self._seen += 1
        if self.stopped_at is not None or self._seen % self.check_every:
            return
        est = self.rule.estimate(study)
        self.estimates.append(est)
        if est.should_stop:
            self.stopped_at = est.n_trials
            _log.info("stopping study %r: %s", getattr(study, "study_name", "?"), est)
            study.stop()
