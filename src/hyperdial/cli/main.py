"""`hyperdial` command line: argument parsing, storage resolution, error reporting.

>>> from hyperdial.cli.main import resolve_storage
>>> resolve_storage("sqlite:///other.db", environ={"HYPERDIAL_STORAGE": "sqlite:///env.db"})
'sqlite:///other.db'
>>> resolve_storage(None, environ={"HYPERDIAL_STORAGE": "sqlite:///env.db"})
'sqlite:///env.db'
>>> resolve_storage(None, environ={})
'sqlite:///hyperdial.db'
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence

import hyperdial as hd
from hyperdial.cli._output import escape
from hyperdial.cli.commands import (
    CommandError,
    cmd_best,
    cmd_delete,
    cmd_studies,
    cmd_trials,
    display_storage,
)
from hyperdial.exceptions import storage_error

DEFAULT_STORAGE = "sqlite:///hyperdial.db"
ENV_STORAGE = "HYPERDIAL_STORAGE"

Handler = Callable[[argparse.Namespace, str], int]

_EPILOG = f"""\
The storage is --storage URL if given, else ${ENV_STORAGE}, else {DEFAULT_STORAGE}
(a SQLite file in the current directory). Examples:
  hyperdial demo --n-trials 40
  hyperdial studies
  hyperdial trials demo --format csv > demo.csv
  hyperdial best demo
  hyperdial importance demo --method fanova
  hyperdial plot history demo --out history.html
  hyperdial dashboard --port 8080
  hyperdial lineage pbt-study
  hyperdial --storage postgresql+psycopg://user@host/db delete old-study --yes
  hyperdial worker demo --objective train:objective --n-trials 100 --n-trials-scope study
  hyperdial sweep sweep.yaml --count 20
  hyperdial logs my-sweep 3
"""


def resolve_storage(explicit: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The storage URL: `--storage` if given, else $HYPERDIAL_STORAGE if set and non-empty, else the default."""
    if explicit:
        return explicit
    env = (os.environ if environ is None else environ).get(ENV_STORAGE)
    return env if env else DEFAULT_STORAGE


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _n_jobs(text: str) -> int:
    if text.strip() == "-1":
        return -1
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be an integer >= 1, or -1 for one per CPU, got {text!r}"
        ) from None


def _cmd_demo(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.cli.demo import run_demo  # keeps scikit-learn out of every other command

    return run_demo(
        storage=storage,
        study_name=args.study_name,
        n_trials=args.n_trials,
        seed=args.seed,
        n_jobs=args.n_jobs,
    )


def _cmd_worker(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.cli.worker import cmd_worker

    return cmd_worker(args, storage)


def _cmd_fail_stale(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.cli.maintenance import cmd_fail_stale

    return cmd_fail_stale(args, storage)


def _fail_stale_arguments(p: argparse.ArgumentParser) -> None:
    from hyperdial.cli.maintenance import add_arguments

    add_arguments(p)


def _cmd_importance(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.cli.importance import cmd_importance

    return cmd_importance(args, storage)


def _importance_arguments(p: argparse.ArgumentParser) -> None:
    from hyperdial.cli.importance import add_arguments

    add_arguments(p)


def _cmd_plot(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.cli.plot import cmd_plot  # keeps plotly and matplotlib out of every other command

    return cmd_plot(args, storage)


def _plot_arguments(p: argparse.ArgumentParser) -> None:
    from hyperdial.cli.plot import add_arguments

    add_arguments(p)


def _cmd_dashboard(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.cli.dashboard import cmd_dashboard  # keeps Starlette and uvicorn out of every other command

    return cmd_dashboard(args, storage)


def _dashboard_arguments(p: argparse.ArgumentParser) -> None:
    from hyperdial.cli.dashboard import add_arguments

    add_arguments(p)


def _cmd_lineage(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.cli.lineage import cmd_lineage

    return cmd_lineage(args, storage)


def _lineage_arguments(p: argparse.ArgumentParser) -> None:
    from hyperdial.cli.lineage import add_arguments

    add_arguments(p)


def _cmd_sweeps(name: str) -> Handler:
    # Sweep commands live in cli/sweep.py, imported only when one of them runs.
    def handler(args: argparse.Namespace, storage: str) -> int:
        from hyperdial.cli import manual, sweep

        module = manual if name in ("ask", "tell", "add") else sweep
        return int(getattr(module, f"cmd_{name}")(args, storage))

    return handler


def _sweep_arguments(name: str, p: argparse.ArgumentParser) -> None:
    from hyperdial.cli import manual, sweep

    module = manual if name in ("ask", "tell", "add") else sweep
    getattr(module, f"add_{name}_arguments")(p)


def _worker_arguments(p: argparse.ArgumentParser) -> None:
    from hyperdial.cli.worker import add_arguments

    add_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each subcommand stores its handler in `func`.

    >>> args = build_parser().parse_args(["trials", "demo", "--format", "csv"])
    >>> args.command, args.study, args.format
    ('trials', 'demo', 'csv')
    """
    storage_help = f"SQLAlchemy storage URL (default: ${ENV_STORAGE} or {DEFAULT_STORAGE})"
    # Accepted after the subcommand too; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--storage", metavar="URL", default=argparse.SUPPRESS, help=storage_help)

    parser = argparse.ArgumentParser(
        prog="hyperdial",
        description="Inspect and manage hyperdial studies, or run a tuning demo.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--storage", metavar="URL", default=None, help=storage_help)
    parser.add_argument("--version", action="version", version=f"%(prog)s {hd.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=handler)
        return p

    p = add("studies", cmd_studies, "list every study: directions, trial counts per state, best value")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = add("trials", cmd_trials, "one row per trial of a study: state, value(s), params, times")
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = add("best", cmd_best, "the best trial of a study (the Pareto front with several objectives)")
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = add("delete", cmd_delete, "delete a study and all its trials")
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    p = add("fail-stale", _cmd_fail_stale, "fail (and rerun where allowed) RUNNING trials whose worker died")
    _fail_stale_arguments(p)

    p = add("importance", _cmd_importance, "rank the parameters of a study by importance (PED-ANOVA or fANOVA)")
    _importance_arguments(p)

    p = add("plot", _cmd_plot, "plot a study: PNG/SVG/PDF (matplotlib) or offline HTML (plotly; needs hyperdial[plot])")
    _plot_arguments(p)

    p = add("dashboard", _cmd_dashboard,
            "serve the web dashboard on http://127.0.0.1:8080 (read-only; needs hyperdial[dashboard])")
    _dashboard_arguments(p)

    p = add("lineage", _cmd_lineage, "a population-based-training study's members: exploits, explores, best schedule")
    _lineage_arguments(p)

    p = add("worker", _cmd_worker, "run trials of an existing study (start one per core / machine)")
    _worker_arguments(p)

    p = add("sweep", _cmd_sweeps("sweep"),
            "tune any program from a sweep file (W&B's format or hyperdial's; needs hyperdial[sweeps])")
    _sweep_arguments("sweep", p)

    p = add("agent", _cmd_sweeps("agent"), "join a sweep from another terminal or machine (the file is in the study)")
    _sweep_arguments("agent", p)

    p = add("logs", _cmd_sweeps("logs"), "print the log (stdout and stderr) of a sweep trial")
    _sweep_arguments("logs", p)

    p = add("ask", _cmd_sweeps("ask"), "start a trial and print its configuration (for runs you start yourself)")
    _sweep_arguments("ask", p)

    p = add("tell", _cmd_sweeps("tell"), "record the result of a trial from `ask`")
    _sweep_arguments("tell", p)

    p = add("add", _cmd_sweeps("add"), "record a run made by hand (parameters and result) so the sampler learns")
    _sweep_arguments("add", p)

    p = add("demo", _cmd_demo, "tune an SVC on scikit-learn's digits data set (needs hyperdial[demo])")
    p.add_argument(
        "--n-trials", type=_positive_int, default=40, metavar="N", help="trials to run (default: 40)"
    )
    p.add_argument("--study-name", default="demo", metavar="NAME", help="study name (default: demo)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the sampler")
    p.add_argument(
        "--n-jobs", type=_n_jobs, default=1, metavar="J", help="parallel trials (threads; -1: one per CPU)"
    )
    return parser


def _error(message: str) -> None:
    # Messages quote names from the storage and text from database drivers: escaped, one line.
    print(f"hyperdial: error: {escape(message)}", file=sys.stderr)


def _is_storage_error(exc: BaseException) -> bool:
    # Errors of the database layer (bad URL, server down), recognised without importing it.
    return type(exc).__module__.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg", "psycopg2")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code.

    Bad arguments exit through argparse with code 2; expected failures (an unknown
    study, a refused deletion, a missing optional dependency) print one line on
    stderr and return 1.

    >>> main(["--storage", "sqlite://", "studies", "--format", "json"])
    []
    0
    """
    args = build_parser().parse_args(argv)
    storage = resolve_storage(args.storage)
    handler: Handler = args.func
    try:
        return int(handler(args, storage))
    except CommandError as exc:
        _error(str(exc))
        return exc.code
    except hd.StudyNotFound as exc:
        _error(f"{exc} in {display_storage(storage)}")
        return 1
    except hd.HyperdialError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:  # `hyperdial trials x | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        if not _is_storage_error(exc):
            raise
        _error(str(storage_error(display_storage(storage), exc, doing="use", url=storage)))
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
