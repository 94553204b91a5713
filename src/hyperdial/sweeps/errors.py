"""The one error of sweep files: it names the file, the key path and the line."""

from __future__ import annotations

from typing import Any

from hyperdial.exceptions import InvalidParameterError


class SweepFileError(InvalidParameterError):
    """A malformed sweep file, found before anything runs.

    >>> str(SweepFileError.at("sweep.yaml", ("parameters", "lr", "min"), 7, "must be a number", "abc"))
    "sweep.yaml: `parameters.lr.min` (line 7) must be a number, got 'abc'"
    """

    @classmethod
    def at(cls, source: str, path: tuple[Any, ...], line: int, rule: str, value: Any = ...) -> SweepFileError:
        key = ".".join(str(p) for p in path) or "(top level)"
        where = f" (line {line})" if line else ""
        shown = value if isinstance(value, str) and "=" in value else repr(value)  # "low=1, high=0" as is
        got = "" if value is ... else f", got {shown}"
        return cls(f"{source}: `{key}`{where} {rule}{got}")
