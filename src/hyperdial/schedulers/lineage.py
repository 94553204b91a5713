"""Population-based training's lineage, read back from the trials (pure functions of a `History`).

A PBT member is a chain of trials, one per segment of `interval` steps: finished trials
never change, so at each interval the segment ends (paused) and the scheduler enqueues
the member's next segment, which resumes from a checkpoint. Each segment carries one
system attribute, `PBT_SEGMENT`, a JSON record:

- `member`, `generation`: which member, and how many segments it ran before this one;
- `parent`: the number of the trial whose checkpoint the segment resumes from (None for
  generation 0): the member's own previous segment, or a better member's (exploit);
- `until`: the step at which the segment pauses (the parent's last step + interval);
- `action`: "start", "continue" or "exploit"; `donor`: the member copied when exploiting;
  `explored`: for each changed parameter, {"from", "to", "how"} ("x1.2", "+1", "resample", "pb2").

A rerun of a segment lost with its worker (`RETRY_OF`) is the same segment, again.

>>> import hyperdial as hd
>>> from hyperdial.system_attrs import PBT_SEGMENT
>>> def seg(n, member, gen, parent, steps, value, **kw):
...     rec = {"member": member, "generation": gen, "parent": parent, "until": steps[-1], "action": "start", **kw}
...     return hd.FrozenTrial(number=n, state=hd.TrialState.PRUNED, values=(value,), params={"lr": 0.1 * (n + 1)},
...                           distributions={"lr": hd.Float(0.01, 1)}, system_attrs={PBT_SEGMENT: rec},
...                           intermediate_values={s: value for s in steps})
>>> h = hd.History(["maximize"], [seg(0, 0, 0, None, [1, 2], 0.5), seg(1, 1, 0, None, [1, 2], 0.7),
...     seg(2, 0, 1, 1, [3, 4], 0.8, action="exploit", donor=1)])
>>> [(s.number, s.member, s.generation) for s in lineage(h, 2)]
[(1, 1, 0), (2, 0, 1)]
>>> [(after, params["lr"]) for after, params in schedule(h, 2)]
[(None, 0.2), (2, 0.30000000000000004)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hyperdial.history import History
from hyperdial.system_attrs import PBT_SEGMENT, RETRY_OF
from hyperdial.trial import FrozenTrial, TrialState


@dataclass(frozen=True)
class Segment:
    """One trial of a PBT member (the last attempt of it, when it was rerun)."""

    trial: FrozenTrial
    member: int
    generation: int
    parent: int | None
    until: int
    action: str = "start"
    donor: int | None = None
    explored: Mapping[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return self.trial.number

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.trial.params)

    @property
    def last_step(self) -> int | None:
        return self.trial.last_step

    @property
    def first_step(self) -> int | None:
        steps = self.trial.intermediate_values
        return min(steps) if steps else None

    @property
    def score(self) -> float | None:
        """The value reported at the segment's last step (the objective's value if none was reported)."""
        last = self.trial.last_step
        if last is not None:
            v = self.trial.intermediate_values[last]
            return float(v) if isinstance(v, (int, float)) else None
        return self.trial.values[0] if self.trial.values else None

    @property
    def finished(self) -> bool:
        """Paused (PRUNED) or done (COMPLETE): its checkpoint and score no longer change."""
        return self.trial.state in (TrialState.COMPLETE, TrialState.PRUNED)

    @property
    def done(self) -> bool:
        """The member's training ended here (the objective returned)."""
        return self.trial.state == TrialState.COMPLETE


def record(trial: FrozenTrial, by_number: Mapping[int, FrozenTrial]) -> dict[str, Any] | None:
    """`trial`'s PBT record, following reruns back to the trial that was enqueued with it."""
    seen = 0
    while True:
        rec = trial.system_attrs.get(PBT_SEGMENT)
        if rec is not None:
            return dict(rec)
        origin = trial.system_attrs.get(RETRY_OF)
        if origin is None or origin not in by_number or seen > len(by_number):
            return None
        trial, seen = by_number[origin], seen + 1


def segments(history: History) -> list[Segment]:
    """Every PBT segment of the study in trial-number order, each as its latest attempt."""
    by_number = {t.number: t for t in history.trials}
    latest: dict[tuple[int, int], Segment] = {}
    for t in sorted(by_number.values(), key=lambda t: t.number):
        rec = record(t, by_number)
        if rec is None:
            continue
        seg = Segment(
            trial=t, member=int(rec["member"]), generation=int(rec["generation"]),
            parent=rec.get("parent"), until=int(rec["until"]), action=str(rec.get("action", "start")),
            donor=rec.get("donor"), explored=dict(rec.get("explored") or {}),
        )
        latest[(seg.member, seg.generation)] = seg  # a rerun replaces the attempt it reran
    return sorted(latest.values(), key=lambda s: s.number)


def segment_of(history: History, number: int) -> Segment | None:
    """The segment trial `number` ran (also for an attempt a rerun superseded), or None."""
    by_number = {t.number: t for t in history.trials}
    t = by_number.get(number)
    if t is None:
        return None
    rec = record(t, by_number)
    if rec is None:
        return None
    return Segment(trial=t, member=int(rec["member"]), generation=int(rec["generation"]),
                   parent=rec.get("parent"), until=int(rec["until"]), action=str(rec.get("action", "start")),
                   donor=rec.get("donor"), explored=dict(rec.get("explored") or {}))


def members(history: History) -> dict[int, list[Segment]]:
    """Each member's segments, by generation."""
    out: dict[int, list[Segment]] = {}
    for s in segments(history):
        out.setdefault(s.member, []).append(s)
    for chain in out.values():
        chain.sort(key=lambda s: s.generation)
    return out


def lineage(history: History, number: int) -> list[Segment]:
    """The segments whose training led to trial `number`'s model, oldest first.

    Follows `parent` links, so an exploit crosses into the donor's chain: this is the
    sequence of parameters the final weights were actually trained with.
    """
    out: list[Segment] = []
    current = segment_of(history, number)
    while current is not None and len(out) <= len(history.trials):
        out.append(current)
        current = None if current.parent is None else segment_of(history, int(current.parent))
    return out[::-1]


def schedule(history: History, number: int) -> list[tuple[int | None, dict[str, Any]]]:
    """Trial `number`'s parameter schedule: (after step, params) pairs, the first with `None`
    (from the start); each segment's parameters apply to the steps after its parent's last step."""
    chain = lineage(history, number)
    out: list[tuple[int | None, dict[str, Any]]] = []
    previous: Segment | None = None
    for s in chain:
        out.append((None if previous is None else previous.last_step, s.params))
        previous = s
    return out


def best_member_segment(history: History) -> Segment | None:
    """The finished segment with the best score (the final segment of the best member, usually)."""
    sign = history.sign()
    best: Segment | None = None
    for s in segments(history):
        if not s.finished or s.score is None:
            continue
        if best is None or sign * s.score < sign * best.score:  # type: ignore[operator]
            best = s
    return best


def describe_action(s: Segment) -> str:
    """One line for what the scheduler did when it started segment `s`."""
    if s.action == "exploit":
        changes = ", ".join(f"{k} {_fmt(v.get('from'))}->{_fmt(v.get('to'))} ({v.get('how')})"
                            for k, v in s.explored.items())
        return f"exploit member {s.donor} (trial {s.parent})" + (f": {changes}" if changes else "")
    if s.action == "continue":
        return "continue"
    return "start " + " ".join(f"{k}={_fmt(v)}" for k, v in s.params.items())


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _steps(s: Segment) -> str:
    first, last = s.first_step, s.last_step
    return "-" if first is None else f"{first}-{last}"


def format_lineage(history: History, *, member: int | None = None) -> str:
    """The lineage as text: one table row per segment, member by member, then the best member's schedule."""
    rows = [("member", "gen", "trial", "state", "steps", "score", "action")]
    for m, chain in sorted(members(history).items()):
        if member is not None and m != member:
            continue
        for s in chain:
            score = "-" if s.score is None else f"{s.score:.4g}"
            rows.append((str(m), str(s.generation), str(s.number), s.trial.state.name.lower(), _steps(s), score,
                         describe_action(s)))
    if len(rows) == 1:
        return "no population-based-training segments in this study"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.rjust(w) if i in (0, 1, 2) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             + "  " + r[-1] for r in rows]
    best = best_member_segment(history)
    if best is not None and member is None:
        lines.append("")
        lines.append(f"best: member {best.member}, trial {best.number}, score {best.score:.4g}; its schedule:")
        for after, params in schedule(history, best.number):
            when = "from the start" if after is None else f"after step {after}"
            lines.append(f"  {when}: " + " ".join(f"{k}={_fmt(v)}" for k, v in params.items()))
    return "\n".join(line.rstrip() for line in lines)
