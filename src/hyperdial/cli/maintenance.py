"""`hyperdial fail-stale STUDY [--older-than SECONDS]`: clean up after workers that died.

A worker killed while liveness was off (studies made before it was on by default, or
with `heartbeat_interval=0`) leaves its trial RUNNING forever. This fails every RUNNING
trial whose heartbeat (its start, if it never sent one) is older than `--older-than`
seconds (default: the study's grace period), and reruns it where the study's
`max_retries` allows, exactly as a live worker's reaper would.
"""

from __future__ import annotations

import argparse
import logging

from hyperdial.cli.commands import CommandError, open_study
from hyperdial.system_attrs import RETRY_OF


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, got {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("--older-than", type=_seconds, default=None, metavar="SECONDS",
                   help="fail RUNNING trials silent for longer than this (default: the study's grace period); "
                        "0 fails every RUNNING trial, so stop the workers first")


def cmd_fail_stale(args: argparse.Namespace, storage: str) -> int:
    study = open_study(storage, args.study)
    older_than = args.older_than if args.older_than is not None else study.grace_period
    if older_than is None:
        raise CommandError(f"study {args.study!r} has liveness off: give --older-than SECONDS")
    logging.getLogger("hyperdial").setLevel(logging.ERROR)  # this command prints its own summary
    failed = study.reap_stale_trials(older_than=older_than)
    if not failed:
        print(f"no RUNNING trial of {args.study!r} has been silent for more than {older_than:g} s")
        return 0
    numbers = {t.number for t in failed}
    reruns = {t.system_attrs[RETRY_OF]: t.number for t in study.trials if t.system_attrs.get(RETRY_OF) in numbers}
    for t in failed:
        rerun = f"; rerun as trial {reruns[t.number]}" if t.number in reruns else ""
        print(f"trial {t.number}: FAIL (no heartbeat for more than {older_than:g} s){rerun}")
    print(f"{len(failed)} stale trial(s) failed, {len(reruns)} queued to rerun")
    return 0
