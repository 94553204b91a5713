"""`hyperdial ask`, `tell`, `add`: manual and scripted experiments that still feed the sampler.

    hyperdial ask my-study --space sweep.yaml --format args   # the next configuration, trial RUNNING
    hyperdial tell my-study 7 0.132                            # its result (or --state pruned|fail)
    hyperdial add my-study --params '{"lr": 0.01}' --value 0.2 # a run made by hand, recorded as COMPLETE

The space is a sweep file's (either format): given once with `--space`, it is stored with the
study, as `hyperdial sweep` stores it. A trial from `ask` stays RUNNING until `tell`; in a
study that agents with liveness also run, they fail it after the study's grace period.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from typing import Any

import hyperdial as hd
from hyperdial.cli.commands import CommandError, missing_sqlite_file, open_study


def add_ask_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="study name (created from --space if it does not exist)")
    p.add_argument("--space", metavar="FILE", default=None,
                   help="a sweep file (W&B or native) whose parameters, metric and method to use")
    p.add_argument("--format", choices=("json", "args", "env"), default="json",
                   help="json (default), args (--name=value ...) or env (HYPERDIAL_PARAM_NAME=value lines)")


def add_tell_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("trial", metavar="TRIAL", type=int, help="the trial number `ask` printed")
    p.add_argument("values", metavar="VALUE", nargs="*", type=float, help="the result, one per metric")
    p.add_argument("--state", choices=("complete", "pruned", "fail"), default="complete")


def add_add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="study name (created from --space if it does not exist)")
    p.add_argument("--params", required=True, metavar="JSON", help='the parameters, e.g. \'{"lr": 0.01}\'')
    p.add_argument("--value", dest="values", action="append", type=float, required=True, metavar="V",
                   help="the result (repeat for several metrics)")
    p.add_argument("--space", metavar="FILE", default=None, help="a sweep file, if the study has none stored")


def _study_and_spec(args: argparse.Namespace, storage: str) -> tuple[hd.Study, Any]:
    from hyperdial.cli.sweep import _load
    from hyperdial.sweeps.agent import SWEEP_ATTR
    from hyperdial.sweeps.launch import read_stored

    if args.space is not None:
        spec = _load(args.space)
        study = hd.create_study(study_name=args.study, storage=storage, directions=spec.directions,
                                sampler=spec.make_sampler(), load_if_exists=True)
        if SWEEP_ATTR not in study.user_attrs:
            study.set_user_attr(SWEEP_ATTR, {"file": spec.text, "source": spec.source, "format": spec.format})
        return study, spec
    spec = read_stored(open_study(storage, args.study))
    if spec is None:
        raise CommandError(f"study {args.study!r} stores no sweep file: give its space with --space FILE")
    return hd.load_study(study_name=args.study, storage=storage, sampler=spec.make_sampler()), spec


def cmd_ask(args: argparse.Namespace, storage: str) -> int:
    """Start a trial and print its configuration; record the result later with `tell`."""
    from hyperdial.sweeps.agent import _nest, sample_config
    from hyperdial.sweeps.command import env_name, env_text, expand

    if args.space is None and missing_sqlite_file(storage):
        open_study(storage, args.study)  # the error that names the missing file
    study, spec = _study_and_spec(args, storage)
    trial = study.ask()
    values = sample_config(trial, spec)
    config = _nest(values, spec.parameters)
    trial.set_user_attr("config", config)
    study.keep_alive(trial, alive=False)  # nothing beats for it after this command: `tell` finishes it
    if args.format == "json":
        print(json.dumps({"trial": trial.number, "params": config}))
    elif args.format == "args":
        print(shlex.join(expand(["${args}"], config)))
        # the trial number goes to stderr, so that `$(hyperdial ask ... --format args)` is only the arguments
        print(f"trial {trial.number} (record its result: hyperdial tell {args.study} {trial.number} VALUE)",
              file=sys.stderr)
    else:
        print(f"HYPERDIAL_TRIAL={trial.number}")
        for name, value in values.items():
            print(f"{env_name(name)}={shlex.quote(env_text(value))}")
    return 0


def cmd_tell(args: argparse.Namespace, storage: str) -> int:
    """Record the result of a trial from `ask`."""
    study = open_study(storage, args.study)
    state = {"complete": hd.TrialState.COMPLETE, "pruned": hd.TrialState.PRUNED, "fail": hd.TrialState.FAIL}[args.state]
    if state != hd.TrialState.COMPLETE and args.values:
        raise CommandError(f"--state {args.state} takes no VALUE, got {args.values}")
    if state == hd.TrialState.COMPLETE and len(args.values) != len(study.directions):
        raise CommandError(f"study {args.study!r} has {len(study.directions)} metric(s): give as many VALUEs, "
                           f"got {len(args.values)}")
    matches = [t for t in study.trials if t.number == args.trial]
    if not matches:
        raise CommandError(f"study {args.study!r} has no trial {args.trial}")
    if matches[0].state != hd.TrialState.RUNNING:
        raise CommandError(f"trial {args.trial} of {args.study!r} is already {matches[0].state.name}")
    if state == hd.TrialState.COMPLETE:
        frozen = study.tell(args.trial, args.values)
    else:
        frozen = study.tell(args.trial, state=state,
                            fail_reason="told by hand" if state == hd.TrialState.FAIL else None)
    reason = frozen.system_attrs.get("fail_reason")
    print(f"trial {frozen.number}: {frozen.state.name}" + (f" ({reason})" if reason else ""))
    return 0


def cmd_add(args: argparse.Namespace, storage: str) -> int:
    """Record a run made by hand (its parameters and result) as a COMPLETE trial."""
    try:
        params = json.loads(args.params)
    except ValueError as exc:
        raise CommandError(f"--params must be a JSON object: {exc}") from None
    if not isinstance(params, dict):
        raise CommandError(f"--params must be a JSON object, got {args.params!r}")
    study, spec = _study_and_spec(args, storage)
    if len(args.values) != len(study.directions):
        raise CommandError(f"study {args.study!r} has {len(study.directions)} metric(s): give as many --value, "
                           f"got {len(args.values)}")
    if not all(math.isfinite(v) for v in args.values):
        raise CommandError(f"--value must be finite numbers, got {args.values}")
    space = spec.space()
    constants = {p.name for p in spec.parameters if p.dist is None}
    dists = {}
    for name, value in params.items():
        if name in constants:
            continue
        if name not in space:
            raise CommandError(f"--params: {name!r} is not a parameter of the space ({', '.join(sorted(space))})")
        dist = space[name]
        if isinstance(value, int) and not isinstance(value, bool) and isinstance(dist, hd.Float):
            params[name] = value = float(value)
        if not dist.contains(value):
            raise CommandError(f"--params: {name}={value!r} lies outside {dist!r}")
        dists[name] = dist
    searched = {k: v for k, v in params.items() if k in dists}
    study.add_trial(hd.FrozenTrial(number=-1, state=hd.TrialState.COMPLETE, values=tuple(args.values),
                                   params=searched, distributions=dists,
                                   user_attrs={"config": params, "added_by_hand": True}))
    number = max(t.number for t in study.trials)
    print(f"trial {number}: COMPLETE with value(s) {', '.join(f'{v:g}' for v in args.values)}")
    return 0
