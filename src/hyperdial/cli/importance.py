"""`hyperdial importance STUDY [--method ped-anova|fanova] [--objective I]`: ranked parameter importances.

One row per parameter: rank, parameter, importance (shares summing to 1), through the same
writers as `trials` (the table escapes control characters in names from the storage).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hyperdial.cli._output import write_rows
from hyperdial.cli.commands import CommandError, open_study
from hyperdial.importance import METHODS, evaluate


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("--method", choices=METHODS, default="ped-anova",
                   help="ped-anova (default: fast, NumPy only) or fanova (random forest, needs hyperdial[importance])")
    p.add_argument("--objective", type=int, default=None, metavar="I",
                   help="which objective of a multi-objective study (0-based); required there")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")


def cmd_importance(args: argparse.Namespace, storage: str) -> int:
    study = open_study(storage, args.study)
    history = study.history()
    n = history.n_objectives
    target = None
    if args.objective is not None or n > 1:
        i = args.objective
        if i is None:
            raise CommandError(f"study {args.study!r} has {n} objectives: choose one with --objective 0..{n - 1}")
        if not 0 <= i < n:
            raise CommandError(f"--objective must be in 0..{n - 1} for study {args.study!r}, got {i}")
        sign = history.sign(i)

        def target(t: Any) -> float:  # lower is better, whatever the direction
            return sign * float(t.values[i])

    imp = evaluate(history, method=args.method, target=target)
    rows = [{"rank": r, "parameter": name, "importance": v} for r, (name, v) in enumerate(imp.items(), 1)]
    write_rows(rows, ["rank", "parameter", "importance"], args.format, sys.stdout)
    return 0
