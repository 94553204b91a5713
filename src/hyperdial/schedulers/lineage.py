"""Population-based training's lineage, read back from the trials (pure functions of a `History`).

A PBT member is a chain of trials, one per segment of `interval` steps: finished trials
never change, so at each interval the segment ends (paused: PRUNED with `PAUSED`) and the
scheduler queues the member's next segment (`Study.enqueue_successor`), which resumes from
a checkpoint. The chain is in the core's own links:

- `SUCCESSOR_OF`: the member's previous segment; a trial without it is a member's first
  segment (members are numbered 0, 1, ... in the order their first segments were created);
- `RESUME_FROM`: the trial whose checkpoint the segment resumes from (its `parent`): the
  member's previous segment, or a better member's segment (exploit);
- `RETRY_OF`: a rerun of a segment lost with its worker is the same segment, again;
- `DUPLICATE_OF`: a successor queued twice by racing processes, never run: not a segment (nor is
  one not yet marked: any successor of a trial after its lowest-numbered one).

`PBT_SEGMENT` adds what the scheduler did: `action` ("start", "continue", "exploit"),
`donor` (the member copied), `explored` ({name: {"from", "to", "how"}}, how being "x1.2",
"+1", "resample" or "pb2") and `until` (the step the segment pauses at).

>>> import hyperdial as hd
>>> from hyperdial.system_attrs import RESUME_FROM, SUCCESSOR_OF
>>> def seg(n, steps, value, **links):
...     return hd.FrozenTrial(number=n, state=hd.TrialState.PRUNED, values=(value,), params={"lr": 0.1 * (n + 1)},
...                           distributions={"lr": hd.Float(0.01, 1)}, system_attrs=links,
...                           intermediate_values={s: value for s in steps})
>>> h = hd.History(["maximize"], [seg(0, [1, 2], 0.5), seg(1, [1, 2], 0.7),
...     seg(2, [3, 4], 0.8, **{SUCCESSOR_OF: 0, RESUME_FROM: 1})])
>>> [(s.number, s.member, s.generation, s.action) for s in lineage(h, 2)]
[(1, 1, 0, 'start'), (2, 0, 1, 'exploit')]
>>> [(after, params["lr"]) for after, params in schedule(h, 2)]
[(None, 0.2), (2, 0.30000000000000004)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hyperdial.history import History
from hyperdial.system_attrs import DUPLICATE_OF, PBT_SEGMENT, RESUME_FROM, RETRY_OF, SUCCESSOR_OF
from hyperdial.trial import FrozenTrial, TrialState


@dataclass(frozen=True)
class Segment:
    """One trial of a PBT member (the last attempt of it, when it was rerun)."""

    trial: FrozenTrial
    member: int
    generation: int
    parent: int | None
    until: int | None = None
    action: str = "start"
    donor: int | None = None
    explored: Mapping[str, Any] = field(default_factory=dict)
    start_after: int | None = None  # the parent's last step: this segment trains the steps after it

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
        """The first step this segment trained (a resumed trial may hold its parent's curve before it)."""
        after = self.start_after
        own = [k for k in self.trial.intermediate_values if after is None or k > after]
        return min(own) if own else None

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


def resolve(history: History) -> dict[int, Segment]:
    """Every attempt of every segment, by trial number (duplicates left out).

    Links point to lower numbers (a successor or a rerun is created after the trial it
    follows), so one pass in number order resolves them.
    """
    out: dict[int, Segment] = {}
    roots = 0
    followed: set[int] = set()
    for t in sorted(history.trials, key=lambda t: t.number):
        attrs = t.system_attrs
        if DUPLICATE_OF in attrs:
            continue
        if SUCCESSOR_OF in attrs:
            if attrs[SUCCESSOR_OF] in followed:
                continue  # queued twice by racing processes: `ask` will end it unrun
            followed.add(attrs[SUCCESSOR_OF])
        rerun_of = attrs.get(RETRY_OF)
        if rerun_of is not None and rerun_of in out:
            out[t.number] = replace(out[rerun_of], trial=t)
            continue
        rec = dict(attrs.get(PBT_SEGMENT) or {})
        previous = out.get(attrs[SUCCESSOR_OF]) if SUCCESSOR_OF in attrs else None
        if previous is None:
            member, generation, parent, action = roots, 0, None, "start"
            roots += 1
        else:
            member, generation = previous.member, previous.generation + 1
            parent = int(attrs.get(RESUME_FROM, previous.number))
            action = "continue" if parent == previous.number else "exploit"
        donor = rec.get("donor")
        if action == "exploit" and donor is None and parent in out:
            donor = out[parent].member
        start_after = None if parent is None or parent not in out else out[parent].last_step
        out[t.number] = Segment(trial=t, member=member, generation=generation, parent=parent,
                                until=rec.get("until"), action=str(rec.get("action", action)), donor=donor,
                                explored=dict(rec.get("explored") or {}), start_after=start_after)
    return out


def segments(history: History) -> list[Segment]:
    """Every segment of the study in trial-number order, each as its latest attempt."""
    latest: dict[tuple[int, int], Segment] = {}
    for seg in sorted(resolve(history).values(), key=lambda s: s.number):
        latest[(seg.member, seg.generation)] = seg  # a rerun replaces the attempt it reran
    return sorted(latest.values(), key=lambda s: s.number)


def segment_of(history: History, number: int) -> Segment | None:
    """The segment trial `number` ran (also for an attempt a rerun superseded), or None."""
    return resolve(history).get(number)


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
    resolved = resolve(history)
    out: list[Segment] = []
    current = resolved.get(number)
    while current is not None:
        out.append(current)
        current = None if current.parent is None else resolved.get(int(current.parent))
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


def describe_action(s: Segment, quote: Callable[[str], str] = str) -> str:
    """One line for what the scheduler did when it started segment `s` (`quote` escapes names and values)."""
    if s.action == "exploit":
        changes = ", ".join(f"{quote(k)} {quote(_fmt(v.get('from')))}->{quote(_fmt(v.get('to')))} ({quote(str(v.get('how')))})"
                            for k, v in s.explored.items())
        return f"exploit member {s.donor} (trial {s.parent})" + (f": {changes}" if changes else "")
    if s.action == "continue":
        return "continue"
    return quote(s.action) + " " + _params(s.params, quote)


def _params(params: Mapping[str, Any], quote: Callable[[str], str]) -> str:
    return " ".join(f"{quote(k)}={quote(_fmt(v))}" for k, v in params.items())


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _steps(s: Segment) -> str:
    first, last = s.first_step, s.last_step
    return "-" if first is None else f"{first}-{last}"


def format_lineage(history: History, *, member: int | None = None, quote: Callable[[str], str] = str) -> str:
    """The lineage as text: one table row per segment, member by member, then the best member's
    schedule. `quote` is applied to parameter names and values (the CLI escapes them)."""
    rows = [("member", "gen", "trial", "state", "steps", "score", "action")]
    for m, chain in sorted(members(history).items()):
        if member is not None and m != member:
            continue
        for s in chain:
            score = "-" if s.score is None else f"{s.score:.4g}"
            rows.append((str(m), str(s.generation), str(s.number), s.trial.state.name.lower(), _steps(s), score,
                         describe_action(s, quote)))
    if len(rows) == 1:
        return "no population-based-training segments in this study"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.rjust(w) if i < 3 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             + "  " + r[-1] for r in rows]
    best = best_member_segment(history)
    if best is not None and member is None:
        lines.append("")
        lines.append(f"best: member {best.member}, trial {best.number}, score {best.score:.4g}; its schedule:")
        for after, params in schedule(history, best.number):
            when = "from the start" if after is None else f"after step {after}"
            lines.append(f"  {when}: " + _params(params, quote))
    return "\n".join(line.rstrip() for line in lines)
