"""`hyperdial lineage STUDY [--member M] [--format text|json]`: a PBT study's members, segment by segment.

One row per segment (member, generation, trial, state, steps, score, what the scheduler did:
start, continue, exploit member k with the parameters it explored), then the best member's
parameter schedule (what `hd.schedulers.Replay.best(study)` replays). Text from the storage
is escaped (cli/_output.py); JSON carries the full records.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from hyperdial.cli._output import clip, escape, plain
from hyperdial.cli.commands import CommandError, open_study
from hyperdial.schedulers.lineage import best_member_segment, format_lineage, members, schedule


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("--member", type=int, default=None, metavar="M", help="only member M (0-based)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def cmd_lineage(args: argparse.Namespace, storage: str) -> int:
    history = open_study(storage, args.study).history()
    chains = members(history)
    if args.member is not None and args.member not in chains:
        raise CommandError(f"study {args.study!r} has no member {args.member} (members: 0..{len(chains) - 1})")
    if args.format == "text":
        print(format_lineage(history, member=args.member, quote=lambda text: escape(clip(text))))
        return 0
    out: dict[str, Any] = {"members": [
        {"member": m, "segments": [
            {"trial": s.number, "generation": s.generation, "state": s.trial.state.name, "first_step": s.first_step,
             "last_step": s.last_step, "score": s.score, "parent": s.parent, "action": s.action, "donor": s.donor,
             "explored": s.explored, "params": s.params} for s in chain]}
        for m, chain in sorted(chains.items()) if args.member is None or m == args.member]}
    best = best_member_segment(history)
    if best is not None:
        out["best"] = {"member": best.member, "trial": best.number, "score": best.score,
                       "schedule": [{"after_step": a, "params": p} for a, p in schedule(history, best.number)]}
    print(json.dumps(plain(out), indent=2))
    return 0
