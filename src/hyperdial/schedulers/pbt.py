"""Population-based training (Jaderberg et al. 2017, "Population Based Training of Neural Networks").

`PBT` trains `population` members at once. Each member is a chain of trials, one per
segment of `interval` steps (schedulers/lineage.py): its pruner pauses the trial at the end
of a segment, and the scheduler queues the member's next segment, which resumes from a
checkpoint (`trial.load_checkpoint()` in the objective). The decision is Ray Tune's
`PopulationBasedTraining` (asynchronous PBT), made as pure functions of a `History`:
- rank every member by the score of its latest finished segment (`standing`);
- a member in the bottom `quantile` *exploits*: it copies the checkpoint and parameters of a
  member drawn from the top `quantile`, and *explores*: each parameter is resampled from its
  distribution with `resample_probability`, else perturbed (`explore`);
- any other member continues with its own parameters from its own checkpoint.
Quantile sizes follow Ray: ceil(n * quantile), at most floor(n / 2), nothing below 2 members.

While members of the population have not started yet (fewer workers than members), paused
members wait: they continue once every member has run its first segment, least trained
first, so that the population is compared as a whole (Ray runs the least trained member
first too).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperdial._plugins import NextTrial
from hyperdial._validation import Int as IntRule
from hyperdial._validation import Real, check
from hyperdial.exceptions import invalid
from hyperdial.history import History
from hyperdial.pruners.base import Decision
from hyperdial.samplers.base import check_seed, trial_rng
from hyperdial.schedulers.lineage import Segment, members, resolve, segments
from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.system_attrs import FIXED_PARAMS, PAUSED, PBT_SEGMENT, SUCCESSOR_OF
from hyperdial.transform import decode, round_to_space
from hyperdial.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from hyperdial.study import Study


STALE_DECISION_S = 30.0  # a paused segment nobody continued for this long is continued by any process


@dataclass(frozen=True)
class NextSegment:
    """What to enqueue for a member after its segment paused."""

    member: int
    generation: int
    after: Segment
    parent: int
    params: dict[str, Any]
    until: int
    action: str
    donor: int | None = None
    explored: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The `PBT_SEGMENT` system attribute of the enqueued trial."""
        rec: dict[str, Any] = {"member": self.member, "generation": self.generation, "until": self.until,
                               "action": self.action}
        if self.donor is not None:
            rec["donor"] = self.donor
        if self.explored:
            rec["explored"] = self.explored
        return rec


def standing(history: History) -> list[Segment]:
    """Each training member's latest finished segment that has a score, worst first (ties by member).

    Members whose training ended (the objective returned) are left out, as in Ray: their last
    segment has no checkpoint to copy, and the others are compared among themselves.
    """
    sign = history.sign()
    latest = []
    for chain in members(history).values():
        if _ended(chain[-1]):
            continue
        done = [s for s in chain if s.finished and s.score is not None and math.isfinite(s.score)]
        if done:
            latest.append(done[-1])
    # Sorting by -sign*score puts the worst first whatever the direction.
    return sorted(latest, key=lambda s: (-sign * s.score, s.member))  # type: ignore[operator]


def quantiles(ranked: Sequence[Segment], fraction: float) -> tuple[list[Segment], list[Segment]]:
    """(bottom, top) of members ranked worst first, as Ray Tune's `_quantiles`."""
    if len(ranked) <= 1:
        return [], []
    k = int(math.ceil(len(ranked) * fraction))
    k = min(k, len(ranked) // 2)
    if k == 0:
        return [], []
    return list(ranked[:k]), list(ranked[-k:])


def explore(
    params: Mapping[str, Any],
    space: Mapping[str, Distribution],
    rng: np.random.Generator,
    *,
    factors: Sequence[float] = (0.8, 1.2),
    resample_probability: float = 0.25,
    names: Sequence[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Perturbed copy of `params` and, per changed parameter, {"from", "to", "how"}.

    Each explored parameter is resampled uniformly from its distribution (log scale for log
    ones) with `resample_probability`; otherwise a float is multiplied by a factor drawn from
    `factors` (then clipped and snapped into its distribution), an int likewise but moved at
    least one step in the factor's direction (so 1 * 1.2 still becomes 2), and a categorical
    moves to a neighbouring choice (as Ray Tune does with lists).

    >>> import numpy as np
    >>> from hyperdial.space import Float
    >>> new, how = explore({"lr": 0.1}, {"lr": Float(1e-3, 1.0, log=True)}, np.random.default_rng(0),
    ...                    resample_probability=0.0)
    >>> how["lr"]["how"] in ("x0.8", "x1.2"), round(new["lr"], 6) in (0.08, 0.12)
    (True, True)
    """
    out = dict(params)
    explored: dict[str, Any] = {}
    for name in (names if names is not None else list(params)):
        if name not in params or name not in space:
            continue
        dist = space[name]
        if dist.is_single():
            continue
        old = params[name]
        if rng.random() < resample_probability:
            new, how = decode(dist, float(rng.random())), "resample"
        elif isinstance(dist, Categorical):
            idx = dist.index(old)
            shift = int(rng.choice([-1, 1]))
            j = min(max(idx + shift, 0), len(dist.choices) - 1)
            if j == idx:  # at an end: the only neighbour
                j = idx - shift
            new, how = dist.choices[j], f"{j - idx:+d}"
        else:
            assert isinstance(dist, (Float, Int))
            factor = float(factors[int(rng.integers(len(factors)))])
            new, how = _scale(dist, old, factor), f"x{factor:g}"
        if new != old:
            explored[name] = {"from": old, "to": new, "how": how}
        out[name] = new
    return out, explored


def _scale(dist: Float | Int, value: Any, factor: float) -> Any:
    if isinstance(dist, Int):
        target = round(value * factor)
        if target == value and factor != 1.0:
            target = value + (dist.step if factor > 1.0 else -dist.step)
        return round_to_space(dist, target)
    return round_to_space(dist, float(value) * factor)


def pick_donor(
    history: History, finished: Segment, quantile: float, rng: np.random.Generator
) -> Segment | None:
    """The member `finished`'s member should copy (None: it is not in the bottom quantile)."""
    ranked = standing(history)
    bottom, top = quantiles(ranked, quantile)
    if not any(s.member == finished.member for s in bottom):
        return None
    candidates = [s for s in top if s.member != finished.member]
    if not candidates:
        return None
    return candidates[int(rng.integers(len(candidates)))]


def continue_segment(finished: Segment, interval: int) -> NextSegment:
    last = finished.last_step if finished.last_step is not None else (finished.until or 0)
    return NextSegment(member=finished.member, generation=finished.generation + 1, after=finished,
                       parent=finished.number,
                       params=finished.params, until=last + interval, action="continue")


def exploit_segment(
    finished: Segment, donor: Segment, params: dict[str, Any], explored: dict[str, Any], interval: int
) -> NextSegment:
    """Resume from the donor's checkpoint, at the donor's step, for `interval` more steps."""
    last = donor.last_step if donor.last_step is not None else (donor.until or 0)
    return NextSegment(member=finished.member, generation=finished.generation + 1, after=finished,
                       parent=donor.number,
                       params=params, until=last + interval, action="exploit", donor=donor.member,
                       explored=explored)


def pause_step(history: History, trial: FrozenTrial, interval: int) -> int | None:
    """The step at which `trial`'s segment pauses: its parent's last step + interval, or, for a
    member's first segment, its first reported step + interval - 1 (so steps counted from 0 or
    from 1 both give segments of `interval` steps). None until that is known."""
    resolved = resolve(history)
    seg = resolved.get(trial.number)
    if seg is None:
        return None
    if seg.until is not None:
        return int(seg.until)
    if seg.parent is not None:
        parent = resolved.get(seg.parent)
        return None if parent is None or parent.last_step is None else parent.last_step + interval
    # A first segment: its first step over every attempt of it (a rerun resumes mid-segment).
    firsts = [s.first_step for s in resolved.values()
              if s.member == seg.member and s.generation == 0 and s.first_step is not None]
    if trial.intermediate_values:
        firsts.append(min(trial.intermediate_values))
    return min(firsts) + interval - 1 if firsts else None


class PauseEvery:
    """PBT's pruner: PAUSE a trial at the end of its segment (see `pause_step`), else CONTINUE.

    With `population`, a member beyond it is STOPPED at its first report: processes that race
    can queue a successor twice, and `ask`, ending the duplicate, may start a new configuration
    in its place; it must not grow the population.
    """

    def __init__(self, interval: int, population: int | None = None) -> None:
        self.interval = interval
        self.population = population

    def decision(self, history: History, trial: FrozenTrial) -> Decision:
        if self.population is not None:
            seg = resolve(history).get(trial.number)
            if seg is not None and seg.member >= self.population:
                return Decision.STOP
        last = trial.last_step
        until = None if last is None else pause_step(history, trial, self.interval)
        return Decision.PAUSE if until is not None and last is not None and last >= until else Decision.CONTINUE

    def should_prune(self, history: History, trial: FrozenTrial) -> bool:
        return self.decision(history, trial) != Decision.CONTINUE

    def __repr__(self) -> str:
        return f"PauseEvery(interval={self.interval}, population={self.population})"


def awaiting(history: History) -> list[Segment]:
    """Paused segments with no successor yet, least trained first."""
    followed = {t.system_attrs.get(SUCCESSOR_OF) for t in history.trials}
    out = [s for s in segments(history)
           if s.trial.state == TrialState.PRUNED and PAUSED in s.trial.system_attrs and s.number not in followed]
    return sorted(out, key=lambda s: (s.last_step if s.last_step is not None else -1, s.number))


class PBT:
    """Population-based training as a scheduler: `hd.create_study(scheduler=hd.schedulers.PBT(...))`.

    - `population`: members trained at once (Ray Tune: `num_samples`); their first parameters
      come from `sampler` (random search by default) or `study.enqueue_trial`.
    - `interval`: steps (`trial.report(value, step)`) per segment: a member is compared with
      the others and may exploit/explore every `interval` steps (Ray: `perturbation_interval`).
    - `quantile`: the fraction of members at the bottom that copy one at the top (Ray:
      `quantile_fraction`, 0.25).
    - `perturb`: the factors a number is multiplied by when explored (Ray: `perturbation_factors`).
    - `resample_probability`: the chance that an explored parameter is drawn afresh from its
      distribution instead (Ray: 0.25).
    - `params`: the names of the parameters to explore (default: every parameter).

    The objective resumes from `trial.load_checkpoint()` (None for a new member), reports
    every step, saves a checkpoint, and stops when `trial.should_prune()` says so (the end of
    its segment); its next segment is a new trial. `hyperdial lineage STUDY` shows what
    happened; `Replay.best(study)` replays the best member's parameter schedule.

    >>> import hyperdial as hd
    >>> pbt = hd.schedulers.PBT(population=4, interval=5, seed=0)
    >>> study = hd.create_study(direction="maximize", scheduler=pbt)
    >>> study.pruner
    PauseEvery(interval=5, population=4)
    """

    def __init__(
        self,
        *,
        population: int,
        interval: int,
        quantile: float = 0.25,
        perturb: Sequence[float] = (0.8, 1.2),
        resample_probability: float = 0.25,
        params: Sequence[str] | None = None,
        sampler: Any = None,
        seed: int | None = None,
    ) -> None:
        self.population = check("population", population, IntRule(low=2))
        self.interval = check("interval", interval, IntRule(low=1))
        self.quantile = check("quantile", quantile, Real(low=0, high=0.5, closed="right"))
        if isinstance(perturb, (str, bytes)) or not hasattr(perturb, "__iter__") or not list(perturb):
            raise invalid("perturb", "must be a non-empty list of positive factors such as (0.8, 1.2)", perturb)
        self.perturb = tuple(check("perturb", f, Real(low=0, closed="neither")) for f in perturb)
        self.resample_probability = check("resample_probability", resample_probability, Real(low=0, high=1))
        if params is not None and (isinstance(params, str) or not all(isinstance(p, str) for p in params)):
            raise invalid("params", "must be a list of parameter names", params)
        self.params = None if params is None else list(params)
        self.seed = check_seed(seed)
        if sampler is None:
            from hyperdial.samplers import Random

            sampler = Random(seed=self.seed)
        self.sampler = sampler
        self.pruner = PauseEvery(self.interval, self.population)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # shipped to process, Dask and Ray workers
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(population={self.population}, interval={self.interval}, "
                f"quantile={self.quantile})")

    # -- the scheduler protocol --------------------------------------------------------
    def next_trial(self, history: History) -> NextTrial:
        """START while members are missing or a segment is queued; DONE once every member finished."""
        chains = members(history)
        if len(chains) < self.population or _queued(history):
            return NextTrial.START
        if all(_ended(chain[-1]) for chain in chains.values()):
            return NextTrial.DONE
        return NextTrial.WAIT

    def on_trial_finished(self, study: Study, trial: FrozenTrial) -> None:
        """Queue the next segment of every paused member (once all members have started)."""
        if trial.state not in (TrialState.PRUNED, TrialState.COMPLETE):
            return
        with self._lock:  # threads of one process: one decision per paused segment
            history = study.history()
            if len(members(history)) < self.population:
                return  # members still to start come first; paused ones are continued later
            self._continue_paused(study, history, trial.number)

    def _continue_paused(self, study: Study, history: History, finished: int) -> None:
        pending = [dict(p) for p in _queued_params(history)]
        now = time.time()
        for seg in awaiting(history):
            # The process that recorded a paused segment continues it. Others take only first
            # segments (paused while the population was still starting: nobody continued them)
            # and segments left waiting (their process died before queueing): processes racing
            # on the same segment would queue it twice.
            done = seg.trial.datetime_complete
            stale = done is not None and now - done.timestamp() > STALE_DECISION_S
            if seg.number != finished and seg.generation > 0 and not stale:
                continue
            nxt = self.decide(history, seg, pending)
            # `enqueue_successor`'s trial plus the PBT record (SUCCESSOR_OF: racing processes'
            # duplicates are ended by `ask`, as for any successor).
            study.add_waiting_trial(nxt.params, resume_from=nxt.parent,
                                    system_attrs={SUCCESSOR_OF: seg.number, PBT_SEGMENT: nxt.record()})
            pending.append(nxt.params)

    # -- the decision ----------------------------------------------------------------
    def decide(self, history: History, paused: Segment, pending: Sequence[Mapping[str, Any]] = ()) -> NextSegment:
        """Continue `paused`'s member, or make it exploit a top member and explore."""
        rng = trial_rng(self.seed, paused.number)
        donor = pick_donor(history, paused, self.quantile, rng)
        if donor is None:
            return continue_segment(paused, self.interval)
        params, explored = self.explore(history, donor, rng, pending)
        return exploit_segment(paused, donor, params, explored, self.interval)

    def explore(
        self, history: History, donor: Segment, rng: np.random.Generator, pending: Sequence[Mapping[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The donor's parameters, explored (PB2 overrides this)."""
        return explore(donor.params, donor.trial.distributions, rng, factors=self.perturb,
                       resample_probability=self.resample_probability, names=self.params)


def _ended(seg: Segment) -> bool:
    """The member trains no more: it returned, was stopped (not paused), or failed for good."""
    t = seg.trial
    return t.state == TrialState.COMPLETE or t.state == TrialState.FAIL or (
        t.state == TrialState.PRUNED and PAUSED not in t.system_attrs)


def _queued(history: History) -> bool:
    """Whether a WAITING trial will run: successors queued twice by racing processes are ended by
    `ask` (the lowest-numbered runs), so they do not count."""
    first: dict[Any, int] = {}
    for t in sorted(history.trials, key=lambda t: t.number):
        of = t.system_attrs.get(SUCCESSOR_OF)
        if of is not None:
            first.setdefault(of, t.number)
        if t.state == TrialState.WAITING and (of is None or first[of] == t.number):
            return True
    return False


def _queued_params(history: History) -> list[dict[str, Any]]:
    """Parameters of the segments running or queued now."""
    out = []
    for s in segments(history):
        if s.trial.state in (TrialState.RUNNING, TrialState.WAITING):
            params = {**(s.trial.system_attrs.get(FIXED_PARAMS) or {}), **s.trial.params}
            if params:
                out.append(params)
    return out
