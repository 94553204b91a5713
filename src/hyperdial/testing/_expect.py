"""A plain assertion that survives `python -O` and needs no pytest rewriting."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any


def expect(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


@contextlib.contextmanager
def quiet_trials() -> Iterator[None]:
    """Hide the per-trial INFO lines while a check runs studies, then put the `hyperdial`
    logger's level back: a conformance suite must not change the user's logging."""
    logger = logging.getLogger("hyperdial")
    old = logger.level
    logger.setLevel(max(old, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(old)


def quietly(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """`check` run inside `quiet_trials()`, under its own name (for pytest's ids)."""

    @functools.wraps(check)
    def run(make: Any) -> None:
        with quiet_trials():
            check(make)

    return run
