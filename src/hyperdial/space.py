"""Search-space types: `Float`, `Int` and `Categorical`.

They are frozen, validated at construction, and shared by `trial.suggest_*` and
declarative spaces (`study.optimize(fn, space={...})`, or a dict parsed by
`parse_space`). Each maps a user value to an internal float (the number itself, or the
index of a categorical choice), which is what storages keep.

>>> import hyperdial as hd
>>> hd.Float(1e-5, 1e-1, log=True).contains(1e-3)
True
>>> hd.Int(16, 256, step=16).contains(40)
False
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from hyperdial import _validation as rules
from hyperdial.exceptions import InvalidParameterError, invalid

CategoricalChoice = Union[None, bool, int, float, str]
ParamValue = Union[CategoricalChoice]

_STEP_TOL = 1e-8


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_bounds(kind: str, low: Any, high: Any, name: str | None) -> None:
    for label, v in (("low", low), ("high", high)):
        if kind == "int":
            rules.check(label, v, rules.Int(), name=name)
        if not _is_real(v):
            raise invalid(label, "must be a real number", v, name=name)
        if not math.isfinite(float(v)):
            raise invalid(label, "must be finite", v, name=name)
    if low > high:
        raise invalid("low", "must be <= `high`", f"low={low!r}, high={high!r}", name=name)


class Distribution:
    """Common interface of the three space types."""

    kind: ClassVar[str] = ""

    def contains(self, value: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_internal(self, value: Any) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_external(self, internal: float) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def is_single(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def with_name(self, name: str) -> Distribution:
        """Re-validate with `name` in error messages (used by `suggest_*`)."""
        validate_named(self, name)
        return self


@dataclass(frozen=True)
class Float(Distribution):
    """A real number in [low, high]; `log=True` samples on a log scale, `step` discretises.

    >>> Float(0.0, 1.0, step=0.25).contains(0.5)
    True
    """

    low: float
    high: float
    log: bool = False
    step: float | None = None
    kind: ClassVar[str] = "float"

    def __init__(self, low: float, high: float, *, log: bool = False, step: float | None = None) -> None:
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "step", step)
        validate_named(self, None)
        object.__setattr__(self, "low", float(low))
        object.__setattr__(self, "high", float(high))
        if step is not None:
            object.__setattr__(self, "step", float(step))

    def contains(self, value: Any) -> bool:
        if not _is_real(value) or not math.isfinite(float(value)):
            return False
        v = float(value)
        if not (self.low <= v <= self.high):
            return False
        if self.step is not None:
            k = (v - self.low) / self.step
            return abs(k - round(k)) < 1e-6
        return True

    def to_internal(self, value: Any) -> float:
        return float(value)

    def to_external(self, internal: float) -> float:
        return float(internal)

    def is_single(self) -> bool:
        if self.step is not None:
            return self.high - self.low < self.step
        return self.low == self.high

    def to_dict(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log, "step": self.step}


@dataclass(frozen=True)
class Int(Distribution):
    """An integer in [low, high] on the grid low, low+step, ...; `log=True` for a log scale.

    >>> Int(1, 8, log=True).contains(3)
    True
    """

    low: int
    high: int
    log: bool = False
    step: int = 1
    kind: ClassVar[str] = "int"

    def __init__(self, low: int, high: int, *, log: bool = False, step: int = 1) -> None:
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "step", step)
        validate_named(self, None)
        object.__setattr__(self, "low", int(low))
        object.__setattr__(self, "high", int(high))
        object.__setattr__(self, "step", int(step))

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not _is_real(value):
            return False
        v = float(value)
        if not v.is_integer() or not (self.low <= v <= self.high):
            return False
        return (int(v) - self.low) % self.step == 0

    def to_internal(self, value: Any) -> float:
        return float(value)

    def to_external(self, internal: float) -> int:
        return int(round(internal))

    def is_single(self) -> bool:
        return self.low == self.high

    def to_dict(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log, "step": self.step}


def choice_key(value: Any) -> tuple[str, Any]:
    """How two categorical choices are told apart: 1, 1.0 and True compare equal in Python but
    are different choices here.

    >>> choice_key(1) == choice_key(True)
    False
    """
    return (type(value).__name__, value)


@dataclass(frozen=True)
class Categorical(Distribution):
    """One of a finite list of choices (None, bool, int, float or str).

    >>> Categorical(["adam", "sgd"]).contains("sgd")
    True
    """

    choices: tuple[CategoricalChoice, ...]
    kind: ClassVar[str] = "categorical"

    def __init__(self, choices: Any) -> None:
        object.__setattr__(self, "choices", choices)
        validate_named(self, None)
        object.__setattr__(self, "choices", tuple(choices))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Categorical):
            return NotImplemented
        return [choice_key(c) for c in self.choices] == [choice_key(c) for c in other.choices]

    def __hash__(self) -> int:
        return hash(tuple(choice_key(c) for c in self.choices))

    def index(self, value: Any) -> int:
        key = choice_key(value)
        for i, c in enumerate(self.choices):
            if choice_key(c) == key:
                return i
        raise InvalidParameterError(f"{value!r} is not one of the choices {list(self.choices)!r}")

    def contains(self, value: Any) -> bool:
        key = choice_key(value)
        return any(choice_key(c) == key for c in self.choices)

    def to_internal(self, value: Any) -> float:
        return float(self.index(value))

    def to_external(self, internal: float) -> CategoricalChoice:
        return self.choices[int(round(internal))]

    def is_single(self) -> bool:
        return len(self.choices) == 1

    def to_dict(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices)}


def covers(wide: Distribution, narrow: Distribution) -> bool:
    """Whether `wide` holds every value of `narrow`, on the same scale: a widened range (same
    type, log and step, the old grid on the new one) or a categorical with more choices.
    What lets a study's space grow while its samplers keep the earlier trials.

    >>> covers(Float(0.0, 2.0), Float(0.0, 1.0)), covers(Categorical(["a", "b", "c"]), Categorical(["b", "a"]))
    (True, True)
    >>> covers(Float(0.0, 2.0, log=False), Float(0.5, 1.0, step=0.5))
    False
    """
    if wide == narrow:
        return True
    if isinstance(wide, Categorical) and isinstance(narrow, Categorical):
        return all(wide.contains(c) for c in narrow.choices)
    if type(wide) is not type(narrow) or not isinstance(wide, (Float, Int)) or not isinstance(narrow, (Float, Int)):
        return False
    if wide.log != narrow.log or wide.step != narrow.step or wide.low > narrow.low or wide.high < narrow.high:
        return False
    return wide.contains(narrow.low)  # on wide's grid when stepped


def validate_named(dist: Distribution, name: str | None) -> None:
    """The one validation helper: raises InvalidParameterError naming the rule and value."""
    if isinstance(dist, Float):
        _check_bounds("float", dist.low, dist.high, name)
        rules.check("log", dist.log, rules.Bool(), name=name)
        if dist.log and dist.low <= 0:
            raise invalid("low", "must be > 0 when log=True", dist.low, name=name)
        if dist.step is not None:
            if dist.log:
                raise invalid("step", "cannot be combined with log=True", dist.step, name=name)
            rules.check("step", dist.step, rules.Real(low=0, closed="neither", finite=True),
                        rule="must be a positive number", name=name)
            k = (dist.high - dist.low) / dist.step
            if abs(k - round(k)) > _STEP_TOL * max(1.0, abs(k)):
                raise invalid(
                    "high",
                    "minus `low` must be a multiple of `step`",
                    f"low={dist.low!r}, high={dist.high!r}, step={dist.step!r}",
                    name=name,
                )
    elif isinstance(dist, Int):
        _check_bounds("int", dist.low, dist.high, name)
        rules.check("log", dist.log, rules.Bool(), name=name)
        rules.check("step", dist.step, rules.Int(low=1), name=name)
        if dist.log and dist.low < 1:
            raise invalid("low", "must be >= 1 when log=True", dist.low, name=name)
        if dist.log and dist.step != 1:
            raise invalid("step", "must be 1 when log=True", dist.step, name=name)
        if (dist.high - dist.low) % dist.step != 0:
            raise invalid(
                "high",
                "minus `low` must be a multiple of `step`",
                f"low={dist.low!r}, high={dist.high!r}, step={dist.step!r}",
                name=name,
            )
    elif isinstance(dist, Categorical):
        choices = dist.choices
        if isinstance(choices, (str, bytes, Mapping)) or not hasattr(choices, "__iter__"):
            raise invalid("choices", "must be a list or tuple", choices, name=name)
        choices = tuple(choices)
        if not choices:
            raise invalid("choices", "must not be empty", list(choices), name=name)
        seen: set[tuple[str, Any]] = set()
        for c in choices:
            if c is not None and not isinstance(c, (bool, int, float, str)):
                raise invalid("choices", "must hold only None, bool, int, float or str", c, name=name)
            if isinstance(c, float) and math.isnan(c):
                raise invalid("choices", "must not contain NaN", c, name=name)
            key = choice_key(c)
            if key in seen:
                raise invalid("choices", "must not repeat a value", c, name=name)
            seen.add(key)
    else:
        raise InvalidParameterError(f"unknown distribution type {type(dist).__name__}")


def distribution_from_dict(data: Mapping[str, Any]) -> Distribution:
    """Inverse of `Distribution.to_dict` (what storages and YAML files hold)."""
    kind = data.get("type")
    if kind == "float":
        return Float(data["low"], data["high"], log=bool(data.get("log", False)), step=data.get("step"))
    if kind == "int":
        return Int(data["low"], data["high"], log=bool(data.get("log", False)), step=data.get("step", 1))
    if kind == "categorical":
        return Categorical(data["choices"])
    raise InvalidParameterError(f"`type` must be 'float', 'int' or 'categorical', got type={kind!r}")


def parse_space(space: Mapping[str, Any]) -> dict[str, Distribution]:
    """Turn a declarative space into distributions.

    Values may be distributions, lists (categorical), or dicts such as
    ``{"type": "float", "low": 1e-5, "high": 0.1, "log": True}`` (as in YAML files).

    >>> parse_space({"lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True}, "bs": [16, 32]})["bs"]
    Categorical(choices=(16, 32))
    """
    if not isinstance(space, Mapping):
        raise invalid("space", "must be a dict of name -> distribution", space)
    out: dict[str, Distribution] = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name:
            raise invalid("space", "keys must be non-empty strings", name)
        if isinstance(spec, Distribution):
            out[name] = spec.with_name(name)
        elif isinstance(spec, (list, tuple)):
            out[name] = Categorical(spec).with_name(name)
        elif isinstance(spec, Mapping):
            try:
                out[name] = distribution_from_dict(spec)
            except KeyError as exc:
                raise invalid("space", f"entry is missing key {exc.args[0]!r}", dict(spec), name=name) from None
        else:
            raise invalid("space", "values must be Float/Int/Categorical, a list, or a dict", spec, name=name)
    return out
