"""The declared constraints of `hyperdial._validation`: each good value passes, each bad one
raises the exact message."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperdial
from hyperdial._validation import (
    Bool,
    HasMethod,
    InstanceOf,
    Int,
    IsCallable,
    OneOf,
    Real,
    as_number,
    check,
    rule_of,
    satisfies,
)
from hyperdial.exceptions import InvalidParameterError

Spec = tuple[Any, ...]

GOOD: list[tuple[Spec, Any]] = [
    ((Int(),), 0),
    ((Int(),), -7),
    ((Int(low=0),), 0),
    ((Int(low=0),), np.int64(3)),
    ((Int(low=0),), 2**70),
    ((Int(low=0), None), None),
    ((Int(low=1, high=3),), 3),
    ((Real(),), 0.5),
    ((Real(),), -math.inf),
    ((Real(),), 3),
    ((Real(),), np.float32(0.5)),
    ((Real(),), Fraction(1, 3)),
    ((Real(low=0, high=1),), 0),
    ((Real(low=0, high=1),), 1.0),
    ((Real(low=0, high=1, closed="right"),), 1),
    ((Real(low=0, high=1, closed="left"),), 0),
    ((Real(low=0, closed="neither"),), 1e-300),
    ((Real(low=0),), 2**2000),
    ((Real(finite=True),), 1e308),
    ((OneOf("call", "study"),), "study"),
    ((OneOf("ipop", "bipop", None),), None),
    ((OneOf(-1),), -1),
    ((Bool(),), False),
    ((IsCallable(),), len),
    ((InstanceOf(dict, what="a dict"),), {}),
    ((HasMethod("sample"),), type("S", (), {"sample": lambda self: 0})()),
    ((IsCallable(), Real(low=0, high=1, closed="right"), None), 0.25),
]

BAD: list[tuple[Spec, Any, str]] = [
    ((Int(),), 1.0, "`p` must be an int, got p=1.0"),
    ((Int(),), True, "`p` must be an int, got p=True"),
    ((Int(),), np.bool_(True), "`p` must be an int, got p=np.True_"),
    ((Int(),), "3", "`p` must be an int, got p='3'"),
    ((Int(low=0),), -1, "`p` must be an int >= 0, got p=-1"),
    ((Int(low=0), None), -1, "`p` must be an int >= 0 or None, got p=-1"),
    ((Int(low=0), None), False, "`p` must be an int >= 0 or None, got p=False"),
    ((Int(low=2),), np.int64(1), "`p` must be an int >= 2, got p=np.int64(1)"),
    ((Int(high=5),), 6, "`p` must be an int <= 5, got p=6"),
    ((Int(low=1, high=3),), 4, "`p` must be an int in [1, 3], got p=4"),
    ((Real(),), math.nan, "`p` must be a number, got p=nan"),
    ((Real(),), True, "`p` must be a number, got p=True"),
    ((Real(),), "0.5", "`p` must be a number, got p='0.5'"),
    ((Real(),), None, "`p` must be a number, got p=None"),
    ((Real(), None), math.nan, "`p` must be a number or None, got p=nan"),
    ((Real(low=0, high=1),), 1.5, "`p` must be a number in [0, 1], got p=1.5"),
    ((Real(low=0, high=1),), math.nan, "`p` must be a number in [0, 1], got p=nan"),
    ((Real(low=0, high=1, closed="right"),), 0, "`p` must be a number in (0, 1], got p=0"),
    ((Real(low=0, high=1, closed="left"),), 1, "`p` must be a number in [0, 1), got p=1"),
    ((Real(low=0, high=100),), -0.1, "`p` must be a number in [0, 100], got p=-0.1"),
    ((Real(low=0, closed="neither"),), 0, "`p` must be a number > 0, got p=0"),
    ((Real(high=0),), 1, "`p` must be a number <= 0, got p=1"),
    ((Real(high=0, closed="neither"),), 0, "`p` must be a number < 0, got p=0"),
    ((Real(low=0, finite=True),), math.inf, "`p` must be a finite number >= 0, got p=inf"),
    ((Real(low=0, finite=True),), -1, "`p` must be a finite number >= 0, got p=-1"),
    ((Real(low=0, what="a number of seconds"),), -1, "`p` must be a number of seconds >= 0, got p=-1"),
    ((Real(low=0, high=1, what="a probability"),), 2, "`p` must be a probability in [0, 1], got p=2"),
    ((OneOf("call", "study"),), "calls", "`p` must be 'call' or 'study', got p='calls'"),
    ((OneOf("pruned", "worst", "last"),), "x", "`p` must be 'pruned', 'worst' or 'last', got p='x'"),
    ((OneOf("ipop", "bipop", None),), "x", "`p` must be 'ipop', 'bipop' or None, got p='x'"),
    ((OneOf("ipop", "bipop"), None), 1, "`p` must be 'ipop', 'bipop' or None, got p=1"),
    ((OneOf(1),), True, "`p` must be 1, got p=True"),
    ((OneOf("a"),), np.array(["a", "b"]), "`p` must be 'a', got p=array(['a', 'b'], dtype='<U1')"),
    ((Bool(),), 1, "`p` must be a bool, got p=1"),
    ((Bool(),), np.bool_(False), "`p` must be a bool, got p=np.False_"),
    ((IsCallable(),), 3, "`p` must be callable, got p=3"),
    ((InstanceOf(dict, what="a dict"),), [], "`p` must be a dict, got p=[]"),
    ((InstanceOf(dict, list),), 1, "`p` must be an instance of dict or list, got p=1"),
    ((HasMethod("sample"),), object, "`p` must be an object with a `sample` method, got p=<class 'object'>"),
    ((IsCallable(), Real(low=0, high=1, closed="right"), None), 0,
     "`p` must be callable, a number in (0, 1] or None, got p=0"),
]


def _id(spec: Spec) -> str:
    return rule_of(*spec)


@pytest.mark.parametrize(("spec", "value"), GOOD, ids=[f"{_id(s)}:{v!r}" for s, v in GOOD])
def test_good_values_pass(spec: Spec, value: Any) -> None:
    assert satisfies(value, *spec)
    out = check("p", value, *spec)
    assert out is value or out == value


@pytest.mark.parametrize(("spec", "value", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_values_name_parameter_rule_and_value(spec: Spec, value: Any, message: str) -> None:
    assert not satisfies(value, *spec)
    with pytest.raises(InvalidParameterError) as info:
        check("p", value, *spec)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_numpy_ints_come_back_as_ints() -> None:
    out = check("n", np.int32(4), Int(low=0))
    assert out == 4 and type(out) is int


def test_rule_and_distribution_name() -> None:
    with pytest.raises(InvalidParameterError) as info:
        check("n_jobs", 0, Int(low=1), OneOf(-1), None, rule="must be an int >= 1, or -1 for one per CPU")
    assert str(info.value) == "`n_jobs` must be an int >= 1, or -1 for one per CPU, got n_jobs=0"
    with pytest.raises(InvalidParameterError) as info:
        check("step", 0, Int(low=1), name="layers")
    assert str(info.value) == "`step` must be an int >= 1 for 'layers', got step=0"


def test_number_coerces_reported_values() -> None:
    assert as_number("value", np.float32(0.5)) == 0.5
    assert as_number("value", np.array(2.0)) == 2.0
    assert math.isnan(as_number("value", math.nan))  # a reported NaN is data, not a bad argument
    for bad in (True, "1", b"1", object()):
        with pytest.raises(InvalidParameterError, match="^`value` must be a number, got value="):
            as_number("value", bad)


def test_check_needs_a_constraint() -> None:
    with pytest.raises(TypeError):
        check("p", 1)


SRC = Path(hyperdial.__file__).parent
INLINE = re.compile(r"isinstance\(\s*[^,()]+,\s*bool\s*\)\s*or\s+not\s+isinstance")
CHECKERS = re.compile(r"^\s*def (_?check_int|_?check_number|_?check_bool)\(", re.MULTILINE)


def test_no_inline_type_checks_left() -> None:
    """Argument checks go through `_validation.check`, not `isinstance(x, bool) or not isinstance(x, int) ...`."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "_validation.py":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE, CHECKERS):
            for m in pattern.finditer(text):
                offenders.append(f"{path.relative_to(SRC)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0).strip()}")
    assert not offenders, "use hyperdial._validation.check:\n" + "\n".join(offenders)


def test_the_guard_sees_the_pattern() -> None:
    assert INLINE.search("if isinstance(value, bool) or not isinstance(value, int) or value < 0:")
    assert INLINE.search("if (\n    isinstance(seed, bool)\n    or not isinstance(seed, (int, np.integer))\n):")
    assert CHECKERS.search("def check_int(name: str, value: object, minimum: int) -> int:")
