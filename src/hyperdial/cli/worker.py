"""`hyperdial worker STUDY --objective module:function`: join a study from any machine.

Workers cooperate through the storage (PostgreSQL across machines, SQLite on one):
each asks for trials, runs the objective, records results. Start as many as you
like, anywhere the storage is reachable; with `--n-trials-scope study` they stop
together when the study reaches its total.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import hyperdial as hd
from hyperdial.cli.commands import CommandError


def load_objective(spec: str) -> Callable[..., Any]:
    """Import `module:function` (the current directory is searched last), as a value, never as code.

    The current directory goes at the END of sys.path: first, a file there named like a module
    the worker imports later (`sqlalchemy.py`, `json.py`, `numpy.py`) cannot shadow it; the cost
    is that an objective module named like an installed one loads the installed one, so name it
    apart (`train_mnist.py`). (`python -m hyperdial` puts the directory first anyway: Python
    does that for -m; the `hyperdial` command does not.)

    >>> load_objective("math:sqrt")(9.0)
    3.0
    """
    func = load_object(spec, "--objective")
    if not callable(func):
        raise CommandError(f"--objective {spec!r} is not callable")
    return func


def load_object(spec: str, flag: str) -> Any:
    """The object `module:name` names (what `--objective` and `--scheduler` take)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CommandError(f"{flag} must look like module:{'function' if flag == '--objective' else 'name'}, "
                           f"got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandError(f"cannot import module {module_name!r} for {flag}: {exc}") from None
    found: Any = module
    for part in attr.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise CommandError(f"module {module_name!r} has no {attr!r} for {flag}")
    return found


# The samplers a name and a seed suffice to build; the others need objects the command line cannot give.
BY_NAME = ("Auto", "CMAES", "GP", "MultiFidelity", "NSGA2", "QMC", "Random", "TPE")
_NEEDS = {"Grid": "its grid (a search space)", "PerBracket": "a base sampler and a Hyperband pruner"}


def make_sampler(name: str, seed: int | None) -> Any:
    """The sampler `--sampler NAME --seed S` names.

    >>> make_sampler("Random", 3).seed
    3
    """
    if name in _NEEDS:
        raise CommandError(f"--sampler {name} needs {_NEEDS[name]}, which a command line cannot give; "
                           f"choose one of {', '.join(BY_NAME)}, or run it from Python")
    if name not in BY_NAME:
        raise CommandError(f"unknown sampler {name!r}; choose one of {', '.join(BY_NAME)}")
    return getattr(hd.samplers, name)(seed=seed)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY", help="name of an existing study")
    p.add_argument("--objective", required=True, metavar="MODULE:FUNCTION",
                   help="the objective, e.g. train:objective (from sys.path, then the current directory)")
    p.add_argument("--n-trials", type=int, default=None, metavar="N", help="trials to run (default: until stopped)")
    p.add_argument("--n-trials-scope", choices=("call", "study"), default="call",
                   help="count N for this worker (call) or for the whole study (study)")
    p.add_argument("--timeout", type=float, default=None, metavar="S", help="stop starting trials after S seconds")
    p.add_argument("--sampler", default=None, metavar="NAME", help="a sampler of hd.samplers, e.g. QMC")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the sampler")
    p.add_argument("--scheduler", default=None, metavar="MODULE:NAME",
                   help="a scheduler object (hd.schedulers), e.g. train:hyperband; every worker needs the same one")
    p.add_argument("--catch", action="store_true", help="record failing trials and go on (default: stop)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")


def cmd_worker(args: argparse.Namespace, storage: str) -> int:
    """Run trials of STUDY until the budget, the timeout or SIGTERM (exit 143, trial recorded)."""
    func = load_objective(args.objective)
    sampler = None if args.sampler is None else make_sampler(args.sampler, args.seed)
    scheduler = None if args.scheduler is None else load_object(args.scheduler, "--scheduler")
    study = hd.load_study(study_name=args.study, storage=storage, sampler=sampler,
                          seed=args.seed if sampler is None else None, scheduler=scheduler)
    study.optimize(
        func,
        n_trials=args.n_trials,
        timeout=args.timeout,
        n_trials_scope=args.n_trials_scope,
        catch=(Exception,) if args.catch else (),
        show_progress_bar=args.progress,
    )
    return 0
