"""`hyperdial sweep FILE`, `hyperdial agent STUDY`, `hyperdial logs STUDY TRIAL`: config-file sweeps.

The sweep file (W&B's format, unchanged, or hyperdial's native one; docs/sweeps.md) is
stored with the study, so an agent started on another machine needs only the study name
and the storage URL.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from typing import Any

import hyperdial as hd
from hyperdial.cli._output import escape
from hyperdial.cli.commands import CommandError, display_storage, open_study
from hyperdial.cli.maintenance import _seconds


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count", type=_positive, default=None, metavar="N",
                   help="stop after starting N trials (in this command; the file's budget still applies)")
    p.add_argument("--parallel", type=_positive, default=None, metavar="N",
                   help="trials at once (default: the file's `parallel`, else 1)")
    p.add_argument("--log-dir", default="hyperdial-logs", metavar="DIR",
                   help="where each trial's log goes, under DIR/STUDY/ (default: hyperdial-logs)")
    p.add_argument("--grace", type=_seconds, default=10.0, metavar="S",
                   help="seconds between SIGTERM and SIGKILL when a program is stopped (default: 10)")


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a sweep file: W&B's format or hyperdial's native one")
    p.add_argument("--dry-run", action="store_true",
                   help="check the file, print the space, method and first command line, run nothing")
    _common(p)


def add_agent_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="the study of a sweep started with `hyperdial sweep`")
    _common(p)


def add_logs_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("trial", metavar="TRIAL", type=int, help="trial number")


def _load(path: str) -> Any:
    from hyperdial.sweeps import load_sweep

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = load_sweep(path)
    for w in caught:
        print(f"hyperdial: warning: {escape(str(w.message))}", file=sys.stderr)
    return spec


def _dry_run(spec: Any, storage: str) -> int:
    from hyperdial.sweeps.agent import _nest, sample_config
    from hyperdial.sweeps.command import expand

    print(f"file: {spec.source} ({'W&B' if spec.format == 'wandb' else 'native'} format)")
    print(f"study: {spec.study}   storage: {display_storage(storage)}")
    print("metrics: " + ", ".join(f"{m.name} ({m.goal}" + (f", target {m.target:g}" if m.target is not None else "")
                                   + ")" for m in spec.metrics))
    print(f"method: {spec.make_sampler()!r}   early stopping: {spec.make_pruner()!r}")
    budget = [f"{spec.trials} trials" if spec.trials else "", f"{spec.timeout:g} s" if spec.timeout else ""]
    print(f"budget: {', '.join(b for b in budget if b) or 'none (use --count or Ctrl-C)'}   parallel: {spec.parallel}"
          + (f"   trial timeout: {spec.trial_timeout:g} s" if spec.trial_timeout else ""))
    if spec.executor is not None or spec.gpus_per_trial:
        where = (f"agents on {spec.executor} ({spec.executor_address or 'a local cluster'})"
                 if spec.executor is not None else "agents in threads here")
        print(where + (f"   gpus per trial: {spec.gpus_per_trial}" if spec.gpus_per_trial else ""))
    print("parameters:")
    for p in spec.parameters:
        kind = f"  [W&B {p.prior.kind}]" if p.prior is not None else ""
        when = ("  when " + ", ".join(f"{o} in {list(v)}" for o, v in p.when)) if p.when else ""
        print(f"  {p.name}: {p.dist!r}{kind}{when}" if p.dist is not None else f"  {p.name}: constant {p.value!r}")
    study = hd.create_study(directions=spec.directions, sampler=spec.make_sampler())
    if spec.defaults:
        study.enqueue_trial(spec.defaults)
    trial = study.ask()
    config = _nest(sample_config(trial, spec), spec.parameters)
    argv = expand(spec.command, config, program=spec.program, json_file="<trial dir>/trial-0.args.json")
    print("first command: " + escape(shlex.join(argv)))
    return 0


def _progress(study: hd.Study) -> Any:
    from hyperdial.sweeps.launch import progress_line

    started = time.monotonic()
    tty = sys.stderr.isatty()
    last: dict[str, Any] = {"line": "", "at": 0.0}

    def show(final: bool) -> None:
        line = progress_line(study, started)
        now = time.monotonic()
        if tty:
            sys.stderr.write("\r" + line.ljust(len(last["line"])) + ("\n" if final else ""))
            sys.stderr.flush()
        elif final or (line.split("|")[0] != last["line"].split("|")[0] and now - last["at"] > 2):
            print(line, file=sys.stderr, flush=True)
            last["at"] = now
        last["line"] = line

    return show


def _run(study: hd.Study, spec: Any, args: argparse.Namespace, storage: str) -> int:
    from hyperdial.sweeps.launch import run_agents, summary

    reason = run_agents(study, spec, parallel=args.parallel, count=args.count, log_dir=args.log_dir,
                        grace=args.grace, progress=_progress(study))
    print(summary(study, spec, reason=reason, storage=storage, log_dir=args.log_dir))
    return 130 if reason == "interrupted" else 0


def cmd_sweep(args: argparse.Namespace, storage: str) -> int:
    """Run a sweep file: create (or resume) its study and run its agents until the budget ends."""
    from hyperdial.sweeps.command import missing_envvars
    from hyperdial.sweeps.launch import open_sweep_study

    spec = _load(args.file)
    if args.storage is None and spec.storage is not None:  # the file's storage, unless --storage says otherwise
        storage = spec.storage
    if spec.program is None and "${program}" in spec.command:
        raise CommandError(f"{args.file}: the command {spec.command} runs ${{program}}, but the file has no "
                           "`program` (add `program: train.py`, or a `command`)")
    if args.dry_run:
        return _dry_run(spec, storage)
    missing = missing_envvars(spec.command)
    if missing:
        raise CommandError(f"{args.file}: `command` uses ${{envvar:{missing[0]}}} but {missing[0]} is not set")
    study = open_sweep_study(spec, storage)
    return _run(study, spec, args, storage)


def cmd_agent(args: argparse.Namespace, storage: str) -> int:
    """Join a sweep's study from any machine: the sweep file comes from the storage."""
    from hyperdial.sweeps.launch import join_sweep_study

    open_study(storage, args.study)  # a clear error for an unknown study or a missing file
    study, spec = join_sweep_study(args.study, storage)
    return _run(study, spec, args, storage)


def cmd_logs(args: argparse.Namespace, storage: str) -> int:
    """Print a trial's log (its program's stdout and stderr)."""
    from hyperdial.sweeps.agent import LOG_ATTR

    study = open_study(storage, args.study)
    trials = [t for t in study.trials if t.number == args.trial]
    if not trials:
        raise CommandError(f"study {args.study!r} has no trial {args.trial}")
    path = trials[0].user_attrs.get(LOG_ATTR)
    if not isinstance(path, str):
        raise CommandError(f"trial {args.trial} of {args.study!r} has no log (it was not run by a sweep agent)")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            sys.stdout.write(f.read())
    except OSError as exc:
        raise CommandError(f"cannot read the log of trial {args.trial} at {path}: {exc.strerror} "
                           "(logs stay on the machine that ran the trial)") from None
    return 0
