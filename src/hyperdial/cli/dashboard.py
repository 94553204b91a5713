"""`hyperdial dashboard [--host 127.0.0.1] [--port 8080] [--allow-write]`: the web dashboard.

The storage must exist (a mistyped SQLite path is an error, not a new empty database); the
server binds to 127.0.0.1 and is read-only unless told otherwise (docs/dashboard.md).
"""

from __future__ import annotations

import argparse

from hyperdial.dashboard import DEFAULT_HOST, DEFAULT_PORT


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in 0..65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer in 0..65535, got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=DEFAULT_HOST, metavar="HOST",
                   help=f"address to bind (default: {DEFAULT_HOST}, this machine only)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="PORT",
                   help=f"port to listen on (default: {DEFAULT_PORT})")
    p.add_argument("--allow-write", action="store_true",
                   help="enable marking a running trial failed, adding notes and stopping a study")


def cmd_dashboard(args: argparse.Namespace, storage: str) -> int:
    from hyperdial.dashboard import run

    run(storage, host=args.host, port=args.port, allow_write=args.allow_write)
    return 0
