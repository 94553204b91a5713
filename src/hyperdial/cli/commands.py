"""The read-and-delete subcommands: `studies`, `trials`, `best`, `delete`.

Each takes the parsed arguments and the resolved storage URL, writes to stdout,
and returns an exit code; expected failures raise `CommandError`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

import hyperdial as hd
from hyperdial.cli._output import escape, write_json, write_rows, write_table
from hyperdial.storage._url import redact_url

STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")
_SQLITE_FILE = re.compile(r"^sqlite(?:\+\w+)?:///(?P<path>[^?]*)")


class CommandError(Exception):
    """An expected failure: main prints the message on stderr and exits with `code`."""

    def __init__(self, message: str, *, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def display_storage(url: str) -> str:
    """The storage URL with any password masked and control characters escaped, for messages."""
    return escape(redact_url(url))


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite file URL whose file does not exist (None otherwise).

    Read-only commands check this first, because opening a storage creates the file.
    """
    m = _SQLITE_FILE.match(url)
    if m is None:
        return None
    path = m.group("path")
    if path in ("", ":memory:") or os.path.exists(path):
        return None
    return path


def open_study(storage: str, name: str) -> hd.Study:
    """Load an existing study, or raise CommandError naming the study and the storage."""
    missing = missing_sqlite_file(storage)
    if missing is None:
        try:
            return hd.load_study(study_name=name, storage=storage)
        except hd.StudyNotFound:
            pass
    where = display_storage(storage) + (f" (no such file: {missing})" if missing else "")
    raise CommandError(f"no study named {name!r} in {where}")


def _value_columns(n_objectives: int) -> list[str]:
    return ["value"] if n_objectives == 1 else [f"values_{i}" for i in range(n_objectives)]


def trial_row(trial: hd.FrozenTrial, n_objectives: int) -> dict[str, Any]:
    """One trial as a flat row: number, state, value(s), params_<name>..., duration, datetimes."""
    row: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
    for i, col in enumerate(_value_columns(n_objectives)):
        row[col] = None if trial.values is None else trial.values[i]
    for name in sorted(trial.params):
        row[f"params_{name}"] = trial.params[name]
    row["duration"] = trial.duration
    row["datetime_start"] = trial.datetime_start
    row["datetime_complete"] = trial.datetime_complete
    return row


def _trial_columns(rows: list[dict[str, Any]], n_objectives: int) -> list[str]:
    head = ["number", "state", *_value_columns(n_objectives)]
    params = sorted({k for row in rows for k in row if k.startswith("params_")})
    return [*head, *params, "duration", "datetime_start", "datetime_complete"]


def cmd_studies(args: argparse.Namespace, storage: str) -> int:
    """List every study in the storage with its trial counts and best value."""
    if missing_sqlite_file(storage) is not None:
        summaries = []
    else:
        summaries = hd.get_all_studies(storage)
    rows: list[dict[str, Any]] = []
    for s in summaries:
        best = None
        if len(s.directions) == 1 and s.state_counts.get("COMPLETE", 0) > 0:
            best = hd.load_study(study_name=s.name, storage=storage).best_value
        row: dict[str, Any] = {"name": s.name, "directions": ",".join(s.directions), "n_trials": s.n_trials}
        row.update({state: s.state_counts.get(state, 0) for state in STATES})
        row["best_value"] = best
        row["datetime_start"] = s.datetime_start
        rows.append(row)
    if not rows and args.format == "table":
        print(f"no studies in {display_storage(storage)}", file=sys.stderr)
        return 0
    columns = ["name", "directions", "n_trials", *STATES, "best_value", "datetime_start"]
    write_rows(rows, columns, args.format, sys.stdout)
    return 0


def cmd_trials(args: argparse.Namespace, storage: str) -> int:
    """Print every trial of a study as a table, CSV or JSON."""
    study = open_study(storage, args.study)
    n = len(study.directions)
    rows = [trial_row(t, n) for t in study.trials]
    write_rows(rows, _trial_columns(rows, n), args.format, sys.stdout)
    return 0


def _best_json(trial: hd.FrozenTrial, n_objectives: int) -> dict[str, Any]:
    out: dict[str, Any] = {"number": trial.number}
    if n_objectives == 1:
        out["value"] = trial.value
    else:
        out["values"] = list(trial.values or ())
    out.update(
        params=dict(trial.params),
        duration=trial.duration,
        datetime_start=trial.datetime_start,
        datetime_complete=trial.datetime_complete,
    )
    return out


def _preset_summary(study: hd.Study) -> Any:
    """`hd.presets.summary` for a study tuned from a built-in preset (user attr "preset"), else None."""
    if "preset" not in study.user_attrs:
        return None
    try:
        return hd.presets.summary(study)
    except ValueError as exc:  # not a built-in preset, or one whose recorded attr is not ours
        print(f"preset summary unavailable: {exc}", file=sys.stderr)
        return None


def cmd_best(args: argparse.Namespace, storage: str) -> int:
    """Print the best trial (single objective) or the Pareto front (several objectives); for a study
    tuned from a built-in preset, also what tuning gained over its defaults and whether more
    trials are likely to pay (`hd.presets.summary`)."""
    study = open_study(storage, args.study)
    directions = [d.value for d in study.directions]
    n = len(directions)
    if n == 1:
        try:
            best = [study.best_trial]
        except hd.NoCompletedTrials:
            raise CommandError(f"study {study.study_name!r} has no COMPLETE trial yet") from None
    else:
        best = sorted(study.best_trials, key=lambda t: t.number)
        if not best:
            raise CommandError(f"study {study.study_name!r} has no COMPLETE trial yet")
    preset_summary = _preset_summary(study) if n == 1 else None
    if args.format == "json":
        data: dict[str, Any] = {"study": study.study_name, "directions": directions}
        if n == 1:
            data["best_trial"] = _best_json(best[0], n)
            if preset_summary is not None:
                data["preset_summary"] = preset_summary.as_dict()
        else:
            data["best_trials"] = [_best_json(t, n) for t in best]
        write_json(data, sys.stdout)
        return 0
    if n == 1:
        t = best[0]
        print(f"Study {study.study_name!r} ({directions[0]})")
        print(f"Best trial: {t.number}")
        print(f"Value: {t.value!r}")
        print("Params:")
        for name in sorted(t.params):
            value = t.params[name]
            print(f"  {escape(name)}: {escape(value) if isinstance(value, str) else repr(value)}")
        if preset_summary is not None:
            print()
            for line in preset_summary.text().splitlines():
                print(escape(line))
        return 0
    print(f"Study {study.study_name!r} ({', '.join(directions)}): Pareto front of {len(best)} trial(s)")
    rows = [trial_row(t, n) for t in best]
    cols = [c for c in _trial_columns(rows, n) if c not in ("state", "datetime_start", "datetime_complete")]
    write_table(rows, cols, sys.stdout)
    return 0


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def cmd_delete(args: argparse.Namespace, storage: str) -> int:
    """Delete a study and its trials, after confirmation unless `--yes`."""
    study = open_study(storage, args.study)
    n_trials = len(study.trials)
    where = display_storage(storage)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError(
                f"refusing to delete study {args.study!r} ({n_trials} trials) from {where} without "
                "confirmation: stdin is not a terminal; pass --yes to delete it"
            )
        if not _confirm(f"Delete study {args.study!r} and its {n_trials} trials from {where}?"):
            print("Not deleted.", file=sys.stderr)
            return 1
    hd.delete_study(study_name=args.study, storage=storage)
    print(f"Deleted study {args.study!r} ({n_trials} trials) from {where}.")
    return 0


__all__ = [
    "CommandError",
    "cmd_best",
    "cmd_delete",
    "cmd_studies",
    "cmd_trials",
    "display_storage",
    "missing_sqlite_file",
    "open_study",
    "trial_row",
]
