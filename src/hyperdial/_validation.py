"""Declared argument constraints and the one function that checks them (convention 4).

Modelled on scikit-learn's `utils/_param_validation.py`: a parameter is valid when it
satisfies any of its constraints, and the error names the parameter, the rule (built
from the constraints unless `rule=` words it better) and the value:

>>> from hyperdial._validation import Int, Real, check
>>> check("n_trials", 5, Int(low=0), None)
5
>>> check("n_trials", -1, Int(low=0), None)
Traceback (most recent call last):
...
hyperdial.exceptions.InvalidParameterError: `n_trials` must be an int >= 0 or None, got n_trials=-1
>>> check("gamma", 0.0, Real(low=0, high=1, closed="right"))
Traceback (most recent call last):
...
hyperdial.exceptions.InvalidParameterError: `gamma` must be a number in (0, 1], got gamma=0.0

`None` among the constraints allows None. Bools are never ints or numbers, NumPy
integers are ints (returned as `int`), and NaN is never a valid number.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal, Union

from hyperdial.exceptions import invalid

__all__ = [
    "Bool",
    "Constraint",
    "HasMethod",
    "InstanceOf",
    "Int",
    "IsCallable",
    "OneOf",
    "Real",
    "as_number",
    "check",
    "satisfies",
]

Closed = Literal["left", "right", "both", "neither"]


class Constraint:
    """One accepted form of a value: `accepts` says whether `value` has it, `describe` words it."""

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> list[str]:
        """The alternatives this constraint allows, each a noun phrase ("an int >= 0", "'call'")."""
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """The value `check` returns once `accepts(value)` holds."""
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({' or '.join(self.describe())})"


def _fmt(x: Any) -> str:
    return str(x)


class _Interval(Constraint):
    kind = ""

    def __init__(
        self, low: Any = None, high: Any = None, *, closed: Closed = "both", what: str | None = None
    ) -> None:
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be 'left', 'right', 'both' or 'neither', got {closed!r}")
        self.low, self.high, self.closed = low, high, closed
        self.what = what if what is not None else self.kind

    def _in_bounds(self, value: Any) -> bool:
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        if self.low is not None and not (value >= self.low if left else value > self.low):
            return False
        return self.high is None or bool(value <= self.high if right else value < self.high)

    def _bounds(self) -> str:
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        if self.low is not None and self.high is not None:
            return f" in {'[' if left else '('}{_fmt(self.low)}, {_fmt(self.high)}{']' if right else ')'}"
        if self.low is not None:
            return f" {'>=' if left else '>'} {_fmt(self.low)}"
        if self.high is not None:
            return f" {'<=' if right else '<'} {_fmt(self.high)}"
        return ""

    def describe(self) -> list[str]:
        return [self.what + self._bounds()]


class Int(_Interval):
    """An integer (NumPy's too, returned as `int`; never a bool), bounds inclusive by default."""

    kind = "an int"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool) and self._in_bounds(value)

    def convert(self, value: Any) -> int:
        return int(value)


class Real(_Interval):
    """A real number (ints and NumPy floats too; never a bool, never NaN), returned unchanged.

    `closed` says which bounds are included; `finite=True` also refuses +-inf.
    """

    kind = "a number"

    def __init__(
        self,
        low: Any = None,
        high: Any = None,
        *,
        closed: Closed = "both",
        finite: bool = False,
        what: str | None = None,
    ) -> None:
        super().__init__(low, high, closed=closed, what=what)
        self.finite = finite
        if finite and what is None:
            self.what = "a finite number"

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            return False
        # An int is neither NaN nor inf (and one too big for a float must not be converted).
        if not isinstance(value, numbers.Integral) and (math.isnan(value) or (self.finite and math.isinf(value))):
            return False
        return self._in_bounds(value)


class OneOf(Constraint):
    """One of the given options (compared with ==, but a bool only ever equals a bool)."""

    def __init__(self, *options: Any) -> None:
        self.options = options

    def accepts(self, value: Any) -> bool:
        for option in self.options:
            if isinstance(option, bool) != isinstance(value, bool):
                continue
            try:
                if option is value or bool(option == value):
                    return True
            except (TypeError, ValueError):  # an array's == is elementwise
                continue
        return False

    def describe(self) -> list[str]:
        return [repr(o) for o in self.options]


class Bool(Constraint):
    """True or False (not 0, 1 or numpy.bool_)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> list[str]:
        return ["a bool"]


class IsCallable(Constraint):
    def accepts(self, value: Any) -> bool:
        return callable(value)

    def describe(self) -> list[str]:
        return ["callable"]


class InstanceOf(Constraint):
    """An instance of any of `types`; `what` words it ("a dict")."""

    def __init__(self, *types: type, what: str | None = None) -> None:
        self.types = types
        self.what = what if what is not None else "an instance of " + " or ".join(t.__name__ for t in types)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def describe(self) -> list[str]:
        return [self.what]


class HasMethod(Constraint):
    """An object with a callable attribute `name` (a plugin: `HasMethod("sample")`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def accepts(self, value: Any) -> bool:
        return callable(getattr(value, self.name, None))

    def describe(self) -> list[str]:
        return [f"an object with a `{self.name}` method"]


Spec = Union[Constraint, None]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def rule_of(*constraints: Spec) -> str:
    """The rule `check` states for these constraints: "must be an int >= 0 or None"."""
    words: list[str] = []
    for c in constraints:
        words.extend(["None"] if c is None else c.describe())
    return "must be " + _join(words)


def satisfies(value: Any, *constraints: Spec) -> bool:
    """Whether `value` satisfies any of `constraints` (for checks whose message is not about an argument)."""
    return any(value is None if c is None else c.accepts(value) for c in constraints)


def check(param: str, value: Any, *constraints: Spec, rule: str | None = None, name: str | None = None) -> Any:
    """`value` (converted by the constraint it satisfies: NumPy ints become ints), or raise.

    The error is `invalid(param, rule, value, name=name)`; `rule` defaults to the words of
    the constraints ("must be an int >= 1 or None"), and `name` is the distribution's name.
    """
    if not constraints:
        raise TypeError("check() needs at least one constraint")
    for c in constraints:
        if c is None:
            if value is None:
                return None
        elif c.accepts(value):
            return c.convert(value)
    raise invalid(param, rule if rule is not None else rule_of(*constraints), value, name=name)


def as_number(param: str, value: Any) -> float:
    """Coerce a reported value (an objective, an intermediate value, a constraint) to float.

    Unlike `check(param, value, Real())` this takes anything `float()` reads (NumPy
    scalars, 0-d arrays, torch scalars) and keeps NaN: a reported value is data, and what
    NaN means is decided where it is stored. Bools, strings and bytes are refused.
    """
    if isinstance(value, (bool, str, bytes)):
        raise invalid(param, "must be a number", value)
    if not isinstance(value, numbers.Real):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise invalid(param, "must be a number", value) from None
    return float(value)
