"""`Auto`: the default sampler. It picks an algorithm from what the history shows.

The rules (checked at every trial, cheap: they read only the joint space and counts):

1. Several objectives: TPE (MOTPE split by non-dominated rank) up to
   `mo_switch_trials` trials, then NSGA-II, which scales better on long runs.
2. A conditional space (some trials have parameters outside the joint space),
   or no joint space yet: TPE, which models each group of parameters on the
   trials that have it.
3. A flat space while the study is small: GP-BO, the most sample-efficient
   choice early (`gp_max_trials`, default 200; GP cost grows as n^3).
4. After that: CMA-ES for purely numeric spaces (no categoricals), which keeps
   improving with many evaluations; TPE otherwise.

Each trial is handled by one algorithm from start to end (its choice is cached by
trial number), and the choice is logged whenever it changes, with the reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.samplers.base import PicklableLock, check_seed
from hyperdial.space import Categorical, Distribution
from hyperdial.trial import FrozenTrial

_logger = logging.getLogger("hyperdial")


def _is_conditional(history: History) -> bool:
    joint = history.joint_space()
    return any(set(t.distributions) - set(joint) for t in history.complete)


class Auto(PicklableLock):
    """The sampler `create_study` uses unless told otherwise; logs what it chose and why.

    >>> import hyperdial as hd
    >>> study = hd.create_study(sampler=hd.samplers.Auto(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=12, show_progress_bar=False)
    >>> study.sampler.choice_log[-1][1]
    'GP'
    """

    joint_sampling = True

    def __init__(self, *, seed: int | None = None, gp_max_trials: int = 200, mo_switch_trials: int = 300) -> None:
        for name, value in (("gp_max_trials", gp_max_trials), ("mo_switch_trials", mo_switch_trials)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid(name, "must be an int >= 0", value)
        self.seed = check_seed(seed)
        self.gp_max_trials = gp_max_trials
        self.mo_switch_trials = mo_switch_trials
        self._samplers: dict[str, Any] = {}
        self._by_trial: dict[int, str] = {}
        self._lock = threading.Lock()
        self.choice_log: list[tuple[int, str, str]] = []  # (trial number, algorithm, reason) when it changes

    def _sampler(self, name: str) -> Any:
        if name not in self._samplers:
            from hyperdial import samplers

            self._samplers[name] = getattr(samplers, name)(seed=self.seed)
        return self._samplers[name]

    def choose(self, history: History) -> tuple[str, str]:
        """The algorithm for the next trial, and why."""
        n = len(history.complete)
        joint = history.joint_space()
        if history.is_multi_objective:
            if n < self.mo_switch_trials:
                return "TPE", f"{history.n_objectives} objectives, {n} < {self.mo_switch_trials} trials"
            return "NSGA2", f"{history.n_objectives} objectives, a long run ({n} trials)"
        if not joint:
            return "TPE", "no search space seen yet"
        if _is_conditional(history):
            return "TPE", "conditional search space"
        numeric = not any(isinstance(d, Categorical) for d in joint.values())
        if n < self.gp_max_trials:
            kind = "numeric" if numeric else "mixed"
            return "GP", f"flat {kind} space of {len(joint)} parameters, {n} < {self.gp_max_trials} trials"
        if numeric:
            return "CMAES", f"numeric space, a long run ({n} trials)"
        return "TPE", f"mixed space, a long run ({n} trials)"

    def _delegate(self, history: History, trial: FrozenTrial) -> Any:
        with self._lock:
            name = self._by_trial.get(trial.number)
            if name is None:
                name, why = self.choose(history)
                if not self.choice_log or self.choice_log[-1][1] != name:
                    _logger.info("Auto sampler: trial %d onwards uses %s (%s)", trial.number, name, why)
                    self.choice_log.append((trial.number, name, why))
                if len(self._by_trial) > 10_000:
                    self._by_trial.clear()
                self._by_trial[trial.number] = name
            return self._sampler(name)

    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        return dict(self._delegate(history, trial).sample(history, trial, space))

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        with self._lock:
            name = self._by_trial.pop(trial.number, None)
        hook = getattr(self._samplers.get(name or ""), "after_trial", None)
        if hook is not None:
            hook(history, trial)

    def __repr__(self) -> str:
        return f"Auto(seed={self.seed})"
