"""Population-based training's decisions as pure functions of a `History` (Jaderberg et al. 2017).

When a member's segment pauses, `next_segment` decides its next one, as Ray Tune's
`PopulationBasedTraining` does (asynchronous PBT):
- rank every member by the score of its latest finished segment (`standing`);
- a member in the bottom `quantile` *exploits*: it copies the checkpoint and parameters of a
  member drawn from the top `quantile`, and *explores*: each parameter is resampled from its
  distribution with `resample_probability`, else perturbed (`explore`);
- any other member continues with its own parameters from its own checkpoint.
Quantile sizes follow Ray: ceil(n * quantile), at most floor(n / 2), nothing below 2 members.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperdial.history import History
from hyperdial.schedulers.lineage import Segment, members
from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.transform import decode, round_to_space


@dataclass(frozen=True)
class NextSegment:
    """What to enqueue for a member after its segment paused."""

    member: int
    generation: int
    parent: int
    params: dict[str, Any]
    until: int
    action: str
    donor: int | None = None
    explored: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The `PBT_SEGMENT` system attribute of the enqueued trial."""
        rec: dict[str, Any] = {"member": self.member, "generation": self.generation, "parent": self.parent,
                               "until": self.until, "action": self.action}
        if self.donor is not None:
            rec["donor"] = self.donor
        if self.explored:
            rec["explored"] = self.explored
        return rec


def standing(history: History) -> list[Segment]:
    """Each member's latest finished segment that has a score, worst first (ties by member)."""
    sign = history.sign()
    latest = []
    for chain in members(history).values():
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
    last = finished.last_step if finished.last_step is not None else finished.until
    return NextSegment(member=finished.member, generation=finished.generation + 1, parent=finished.number,
                       params=finished.params, until=last + interval, action="continue")


def exploit_segment(
    finished: Segment, donor: Segment, params: dict[str, Any], explored: dict[str, Any], interval: int
) -> NextSegment:
    """Resume from the donor's checkpoint, at the donor's step, for `interval` more steps."""
    last = donor.last_step if donor.last_step is not None else donor.until
    return NextSegment(member=finished.member, generation=finished.generation + 1, parent=donor.number,
                       params=params, until=last + interval, action="exploit", donor=donor.member,
                       explored=explored)
