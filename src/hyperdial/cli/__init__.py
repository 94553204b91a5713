"""The `hyperdial` command line: inspect, export and delete studies, and run a demo.

It is an edge of the package: it uses only the public API (`import hyperdial as hd`).

>>> from hyperdial.cli import main
>>> main(["--version"])  # doctest: +SKIP
"""

from hyperdial.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
