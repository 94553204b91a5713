"""The `hyperdial` command line: inspect, export and delete studies, and run a demo.

It is an edge of the package: it uses only the public API (`import hyperdial as hd`).

>>> from hyperdial.cli import main
>>> main(["--storage", "sqlite://", "studies", "--format", "csv"])
name,directions,n_trials,COMPLETE,PRUNED,FAIL,RUNNING,WAITING,best_value,datetime_start
0
"""

from hyperdial.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
