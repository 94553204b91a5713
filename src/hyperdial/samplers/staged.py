"""`Staged`: tune the most impactful parameters first, the rest held at their defaults.

How practitioners tune: the learning rate first with everything else at an established
default, then the next few parameters, and so on. `Staged` wraps a base sampler (`Auto` by
default) and splits the study into stages by trial number:

- stage 1 tunes the first `stages[0].add` parameters of `priority`; every other parameter of
  `priority` is held at its default, and that default is recorded as the trial's value (so
  importance, plots and `Preset.gain` see it);
- stage k adds the next `stages[k].add` parameters: the next ones in `priority`
  (`order="priority"`) or the untuned ones that the trials so far found most important
  (`order="importance"`, PED-ANOVA by default; see `_ranked`);
- after the listed stages every parameter is tuned, until the study ends.

What earlier stages learned carries into later ones: the base sampler sees every earlier
trial. At stage k the parameters still held have been at their defaults in every staged
trial so far, so the base sampler's view leaves them out (nothing is lost: they never varied)
and keeps each trial's tuned parameters, including those a later stage frees, which the
earlier trials held at their defaults: real observations at one point of the new dimension.
Trials whose held parameters are not at their defaults (from before staging, enqueued ones)
are left out of the view, since dropping those values would misreport them.

State is recomputed from the history (the stage is a function of the trial number; the
importance ranking of a stage is computed once, from the trials numbered before it, and
memoised), so thread and process executors and `deterministic=True` work as with any sampler.
Parameters the objective asks for that `priority` does not name are the base sampler's from the
first trial on.

>>> import hyperdial as hd
>>> staged = hd.samplers.Staged(priority=["lr", "dropout"], defaults={"lr": 1e-3, "dropout": 0.1},
...                             stages=[(6, 1)], seed=0)
>>> study = hd.create_study(sampler=staged)
>>> space = {"lr": hd.Float(1e-5, 1e-1, log=True), "dropout": hd.Float(0.0, 0.5)}
>>> study.optimize(lambda c: (c["lr"] - 0.01) ** 2 + c["dropout"], space=space, n_trials=8,
...                show_progress_bar=False)
>>> {t.params["dropout"] for t in study.trials[:6]}
{0.1}
>>> staged.stage_of(7), staged.tuned(study.history(), 7)
(1, ('lr', 'dropout'))
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from hyperdial import _plugins
from hyperdial import _validation as rules
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.samplers.base import PicklableLock, Sampler, study_fingerprint
from hyperdial.space import Distribution
from hyperdial.system_attrs import PROPOSAL
from hyperdial.trial import FrozenTrial

__all__ = ["Stage", "Staged", "default_stages"]

TRIALS_PER_PARAM = 5  # trials per tuned parameter of a listed stage when the budget is unknown


class Stage(NamedTuple):
    """One stage: it runs `trials` trials and adds `add` parameters to those tuned."""

    trials: int
    add: int


def default_stages(n_params: int, n_trials: int | None = None) -> tuple[Stage, ...]:
    """Stages that double the tuned parameters each time (2, 4, 8, ...; 1, then 2, for two parameters).

    With `n_trials` (the study's budget) each listed stage, and the final one that tunes all
    parameters, gets trials in proportion to how many parameters it tunes; without it each
    listed stage runs `TRIALS_PER_PARAM` trials per parameter it tunes.

    >>> default_stages(8, 50)
    (Stage(trials=7, add=2), Stage(trials=14, add=2))
    >>> default_stages(3)
    (Stage(trials=10, add=2),)
    """
    rules.check("n_params", n_params, rules.Int(low=1))
    rules.check("n_trials", n_trials, rules.Int(low=1), None)
    tuned = []
    m = 1 if n_params == 2 else 2
    while m < n_params:
        tuned.append(m)
        m *= 2
    if n_trials is None:
        counts = [TRIALS_PER_PARAM * m for m in tuned]
    else:
        total = sum(tuned) + n_params
        counts = [max(1, round(n_trials * m / total)) for m in tuned]
    return tuple(Stage(c, m - (tuned[i - 1] if i else 0)) for i, (c, m) in enumerate(zip(counts, tuned)))


def _check_stages(stages: Any, n_params: int) -> tuple[Stage, ...]:
    if isinstance(stages, (str, bytes, Mapping)) or not isinstance(stages, Iterable):
        raise invalid("stages", "must be a sequence of (trials, add) pairs", stages)
    out = []
    for i, s in enumerate(stages):
        if isinstance(s, (str, bytes)) or not isinstance(s, Sequence) or len(s) != 2:
            raise invalid(f"stages[{i}]", "must be a (trials, add) pair", s)
        out.append(Stage(rules.check(f"stages[{i}].trials", s[0], rules.Int(low=1)),
                         rules.check(f"stages[{i}].add", s[1], rules.Int(low=1))))
    added = sum(s.add for s in out)
    if added > n_params:
        raise invalid("stages", f"add {added} parameters in all, more than the {n_params} of `priority`",
                      [tuple(s) for s in out])
    return tuple(out)


def _at(dist: Distribution | None, value: Any, default: Any) -> bool:
    # compare as the storage does (1 and 1.0 are the same Float value; 1 and True different choices)
    if dist is None:
        return bool(value == default)
    return dist.contains(value) and dist.contains(default) and dist.to_internal(value) == dist.to_internal(default)


class Staged(PicklableLock):
    """Tune the parameters of `priority` a few at a time, most impactful first (see the module docstring).

    Args:
        base: the sampler that tunes the parameters of each stage (default `Auto(seed=seed)`).
        priority: parameter names, most impactful first.
        defaults: a value for every name of `priority`: where held parameters sit.
        stages: `(trials, add)` pairs (or `Stage`s): stage i runs `trials` trials (counted by trial
            number from `start`) and tunes `add` more parameters than the stage before; after the
            listed stages every parameter is tuned. Default: `default_stages(len(priority))`.
        order: which parameters a later stage adds: the next ones in `priority` ("priority") or the
            untuned ones ranked by the importance measured on the earlier trials ("importance";
            parameters no earlier trial varied cannot be measured and follow, in priority order).
        importance_method: the `hyperdial.importance.evaluate` method for order="importance".
        start: the trial number where stage 1 begins (trials numbered below it tune everything).
        seed: seeds the default base sampler (seed your own `base` yourself).
    """

    joint_sampling = True

    def __init__(
        self,
        base: Sampler | None = None,
        *,
        priority: Sequence[str],
        defaults: Mapping[str, Any],
        stages: Sequence[Stage | tuple[int, int]] | None = None,
        order: str = "priority",
        importance_method: str = "ped-anova",
        start: int = 0,
        seed: int | None = None,
    ) -> None:
        if isinstance(priority, (str, bytes)) or not isinstance(priority, Iterable):
            raise invalid("priority", "must be a sequence of parameter names", priority)
        prio = tuple(priority)
        if not prio or not all(isinstance(p, str) and p for p in prio):
            raise invalid("priority", "must name at least one parameter, each a non-empty string", list(prio))
        if len(set(prio)) != len(prio):
            raise invalid("priority", "must not repeat a name", list(prio))
        if not isinstance(defaults, Mapping):
            raise invalid("defaults", "must be a mapping of parameter name -> default value", defaults)
        missing = [p for p in prio if p not in defaults]
        if missing:
            raise invalid("defaults", f"must give a value for every name of `priority`; missing {missing}",
                          dict(defaults))
        extra = sorted(set(defaults) - set(prio))
        if extra:
            raise invalid("defaults", "must only name parameters of `priority`", extra)
        self.order = rules.check("order", order, rules.OneOf("priority", "importance"))
        from hyperdial.importance import METHODS

        self.importance_method = rules.check("importance_method", importance_method, rules.OneOf(*METHODS))
        self.start = rules.check("start", start, rules.Int(low=0))
        if base is not None:
            if seed is not None:
                raise invalid("seed", "seeds the default base sampler only; seed the `base` you pass", seed)
            if isinstance(base, type) or not callable(getattr(base, "sample", None)):
                raise invalid("base", "must be a sampler instance (with a sample(history, trial, space) method)", base)
        else:
            from hyperdial.samplers.auto import Auto

            base = Auto(seed=seed)
        self.base = base
        self.priority = prio
        self.defaults = {p: defaults[p] for p in prio}
        self.stages = _check_stages(default_stages(len(prio)) if stages is None else stages, len(prio))
        self._ends = [self.start + sum(s.trials for s in self.stages[: i + 1]) for i in range(len(self.stages))]
        self._lock = threading.Lock()
        self._tuned: dict[tuple[Any, int], tuple[str, ...]] = {}  # (study, stage) -> tuned names (importance)
        self._views: dict[int, tuple[FrozenTrial, tuple[str, ...], FrozenTrial | None]] = {}

    def __repr__(self) -> str:
        return f"Staged({self.base!r}, priority={list(self.priority)}, stages={[tuple(s) for s in self.stages]})"

    # -- which parameters a trial tunes --------------------------------------------
    def stage_of(self, number: int) -> int:
        """The 0-based stage of trial `number`; `len(stages)` is the final stage that tunes everything."""
        if number < self.start:
            return len(self.stages)
        return next((i for i, end in enumerate(self._ends) if number < end), len(self.stages))

    def tuned(self, history: History, number: int) -> tuple[str, ...]:
        """The names of `priority` that trial `number` tunes (the others sit at their defaults)."""
        stage = self.stage_of(number)
        if stage == len(self.stages):
            return self.priority
        if self.order == "priority" or stage == 0:
            return self.priority[: sum(s.add for s in self.stages[: stage + 1])]
        key = (study_fingerprint(history), stage)
        with self._lock:
            hit = self._tuned.get(key)
        if hit is None:
            before = self.tuned(history, number=self._ends[stage - 1] - 1)
            hit = before + self._ranked(history, before, self._ends[stage - 1])[: self.stages[stage].add]
            with self._lock:
                hit = self._tuned.setdefault(key, hit)  # the first computation wins: one set per stage
        return hit

    def _ranked(self, history: History, tuned: tuple[str, ...], stage_start: int) -> tuple[str, ...]:
        """Untuned names, most important first by the COMPLETE trials numbered before `stage_start`."""
        from hyperdial.importance import NotEnoughTrials, evaluate

        rest = [p for p in self.priority if p not in tuned]
        earlier = History(history.directions, [t for t in history.complete if t.number < stage_start])
        varied = [p for p in rest if len({repr(t.params.get(p)) for t in earlier.complete if p in t.params}) > 1]
        scores: dict[str, float] = {}
        if varied and not history.is_multi_objective:
            try:
                scores = evaluate(earlier, method=self.importance_method, params=varied)
            except NotEnoughTrials:
                scores = {}
        rank = {p: i for i, p in enumerate(self.priority)}
        return tuple(sorted(rest, key=lambda p: (-scores.get(p, -math.inf), rank[p])))

    # -- the base sampler's view -----------------------------------------------------
    def _restrict(self, t: FrozenTrial, held: tuple[str, ...]) -> FrozenTrial | None:
        """The trial without its held parameters; None when one of them is off its default."""
        for p in held:
            if p in t.params and not _at(t.distributions.get(p), t.params[p], self.defaults[p]):
                return None
        if not any(p in t.params for p in held) and PROPOSAL not in t.system_attrs:
            return t
        attrs = t.system_attrs
        proposal = attrs.get(PROPOSAL)
        if proposal:
            attrs = dict(attrs)
            attrs[PROPOSAL] = {part: {k: v for k, v in proposal.get(part, {}).items() if k not in held}
                               for part in ("params", "space")}
        return replace(t, params={k: v for k, v in t.params.items() if k not in held},
                       distributions={k: v for k, v in t.distributions.items() if k not in held}, system_attrs=attrs)

    def view(self, history: History, held: tuple[str, ...]) -> History:
        """The history as the base sampler sees it while `held` sit at their defaults."""
        if not held:
            return history
        out = []
        with self._lock:
            views = self._views
            for t in history.trials:
                hit = views.get(t.number)
                # finished trials never change: one view object per trial (samplers cache by identity)
                if hit is not None and hit[0] is t and hit[1] == held:
                    v = hit[2]
                else:
                    v = self._restrict(t, held)
                    if t.state.is_finished():
                        views[t.number] = (t, held, v)
                if v is not None:
                    out.append(v)
        return History(history.directions, out)

    # -- the protocol ----------------------------------------------------------------
    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        tuned = self.tuned(history, trial.number)
        held = tuple(p for p in self.priority if p not in tuned)
        out = {p: self.defaults[p] for p in held if p in space}
        for p, value in out.items():
            if not space[p].contains(value):
                raise invalid(f"defaults[{p!r}]", f"must lie inside the distribution the objective asks for, "
                              f"{space[p]!r}", value)
        rest = {k: d for k, d in space.items() if k not in out}
        if rest:
            own = self._restrict(trial, held) or trial
            out.update(self.base.sample(self.view(history, held), own, rest))
        return out

    def explain(self, trial: FrozenTrial) -> dict[str, Any] | None:
        return _plugins.explain(self.base, trial)

    def after_trial(self, history: History, trial: FrozenTrial) -> None:
        tuned = self.tuned(history, trial.number)
        held = tuple(p for p in self.priority if p not in tuned)
        own = self._restrict(trial, held) or trial
        _plugins.after_trial(self.base, self.view(history, held), own)

    def is_exhausted(self, history: History) -> bool:
        return _plugins.is_exhausted(self.base, lambda: history)

    def warm_up(self) -> None:
        _plugins.warm_up(self.base)
