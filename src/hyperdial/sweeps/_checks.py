"""Small validators shared by both formats: each error names the file, the key path and the line."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hyperdial.sweeps._yaml import Located
from hyperdial.sweeps.errors import SweepFileError

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Where:
    """A place in the file: a mapping, its key path, and the file name. `at` is the line of the key
    this node stands under, for errors about a node that is not a mapping (`metric: loss`)."""

    source: str
    node: Any
    path: Path
    at: int = 0

    def line(self, key: Any = None) -> int:
        if isinstance(self.node, Located):
            return self.node.line_of(key) if key is not None else self.node.line
        return self.at

    def error(self, key: Any, rule: str, value: Any = ...) -> SweepFileError:
        path = self.path if key is None else (*self.path, key)
        return SweepFileError.at(self.source, path, self.line(key), rule, value)

    def child(self, key: Any) -> Where:
        return Where(self.source, self.node[key], (*self.path, key), self.line(key))


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def mapping(where: Where, what: str) -> Located:
    if not isinstance(where.node, dict):
        raise where.error(None, f"must be a mapping ({what})", where.node)
    return where.node  # type: ignore[return-value]


def only_keys(where: Where, allowed: set[str] | tuple[str, ...], why: str = "") -> None:
    for key in where.node:
        if key not in allowed:
            hint = f" ({why})" if why else ""
            raise where.error(key, f"is not a known key{hint}; allowed here: {', '.join(sorted(allowed))}")


def number(where: Where, key: str, *, low: float | None = None, strict: bool = False,
           integer: bool = False) -> Any:
    value = where.node[key]
    if integer and (not isinstance(value, int) or isinstance(value, bool)):
        raise where.error(key, "must be an integer", value)
    if not is_number(value) or not math.isfinite(value):
        raise where.error(key, "must be a finite number", value)
    if low is not None and (value <= low if strict else value < low):
        raise where.error(key, f"must be {'>' if strict else '>='} {low}", value)
    return value


def text(where: Where, key: str) -> str:
    value = where.node[key]
    if not isinstance(value, str) or not value:
        raise where.error(key, "must be a non-empty string", value)
    return value


def choice(where: Where, key: str, options: tuple[str, ...]) -> str:
    value = where.node[key]
    if value not in options:
        raise where.error(key, f"must be one of {', '.join(options)}", value)
    return str(value)
