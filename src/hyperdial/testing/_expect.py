"""A plain assertion that survives `python -O` and needs no pytest rewriting."""

from __future__ import annotations

from typing import Any


def expect(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)
