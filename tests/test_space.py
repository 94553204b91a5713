"""Search-space types, their validation messages, and the unit-box transform."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperdial as hd
from hyperdial.space import distribution_from_dict, parse_space
from hyperdial.transform import UnitTransform, decode


@pytest.mark.parametrize(
    "build, fragments",
    [
        (lambda: hd.Float(0.1, 0.01), ["`low` must be <= `high`", "low=0.1", "high=0.01"]),
        (lambda: hd.Float(0.0, 1.0, log=True), ["`low` must be > 0 when log=True", "low=0.0"]),
        (lambda: hd.Float(0.0, 1.0, step=0.3), ["multiple of `step`", "step=0.3"]),
        (lambda: hd.Float(0.0, 1.0, step=-1), ["`step` must be a positive number", "step=-1"]),
        (lambda: hd.Float(1e-3, 1.0, log=True, step=0.1), ["`step` cannot be combined with log=True"]),
        (lambda: hd.Float(0, float("inf")), ["`high` must be finite", "high=inf"]),
        (lambda: hd.Float("a", 1), ["`low` must be a real number", "low='a'"]),
        (lambda: hd.Int(1.5, 3), ["`low` must be an int", "low=1.5"]),
        (lambda: hd.Int(0, 10, log=True), ["`low` must be >= 1 when log=True", "low=0"]),
        (lambda: hd.Int(1, 10, step=4), ["multiple of `step`", "high=10"]),
        (lambda: hd.Int(1, 9, step=0), ["`step` must be an int >= 1", "step=0"]),
        (lambda: hd.Int(1, 9, log=True, step=2), ["`step` must be 1 when log=True"]),
        (lambda: hd.Categorical([]), ["`choices` must not be empty"]),
        (lambda: hd.Categorical("abc"), ["`choices` must be a list or tuple", "choices='abc'"]),
        (lambda: hd.Categorical([1, 1]), ["must not repeat a value", "choices=1"]),
        (lambda: hd.Categorical([[1]]), ["None, bool, int, float or str", "choices=[1]"]),
        (lambda: hd.Categorical([float("nan")]), ["must not contain NaN"]),
    ],
)
def test_validation_names_parameter_and_value(build, fragments) -> None:
    with pytest.raises(hd.InvalidParameterError) as info:
        build()
    for fragment in fragments:
        assert fragment in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_suggest_errors_name_the_parameter() -> None:
    study = hd.create_study()
    trial = study.ask()
    with pytest.raises(ValueError, match=r"`low` must be <= `high` for 'lr', got low=0.1, high=0.01"):
        trial.suggest_float("lr", 0.1, 0.01)
    with pytest.raises(ValueError, match=r"for 'layers'"):
        trial.suggest_int("layers", 0, 4, log=True)
    with pytest.raises(ValueError, match=r"for 'opt'"):
        trial.suggest_categorical("opt", [])


def test_contains() -> None:
    assert hd.Float(0, 1, step=0.25).contains(0.75) and not hd.Float(0, 1, step=0.25).contains(0.3)
    assert not hd.Float(0, 1).contains(float("nan")) and not hd.Float(0, 1).contains(True)
    assert hd.Int(16, 256, step=16).contains(32) and not hd.Int(16, 256, step=16).contains(40)
    assert hd.Int(1, 3).contains(2.0) and not hd.Int(1, 3).contains(2.5) and not hd.Int(0, 3).contains(True)
    c = hd.Categorical([1, "1", True, None])
    assert c.contains(True) and c.contains(None) and not c.contains(1.0) and not c.contains(2)
    assert c.index(True) == 2 and c.index(1) == 0


def test_categorical_equality_distinguishes_types() -> None:
    assert hd.Categorical([1, 2]) != hd.Categorical([True, 2])
    assert hd.Categorical([1, 2]) == hd.Categorical((1, 2))
    assert len({hd.Categorical([1]), hd.Categorical([True]), hd.Categorical([1])}) == 2


def test_dict_round_trip_and_parse_space() -> None:
    for dist in [hd.Float(1e-5, 1, log=True), hd.Float(0, 1, step=0.5), hd.Int(2, 64, log=True),
                 hd.Int(0, 10, step=5), hd.Categorical([None, True, 1, 1.5, "a"])]:
        assert distribution_from_dict(dist.to_dict()) == dist
    space = parse_space({"lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True}, "bs": [16, 32],
                         "n": hd.Int(1, 4)})
    assert space == {"lr": hd.Float(1e-5, 0.1, log=True), "bs": hd.Categorical([16, 32]), "n": hd.Int(1, 4)}
    with pytest.raises(ValueError, match="missing key 'high'.*for 'lr'"):
        parse_space({"lr": {"type": "float", "low": 1}})
    with pytest.raises(ValueError, match="`type` must be"):
        parse_space({"lr": {"type": "loguniform", "low": 1, "high": 2}})
    with pytest.raises(ValueError, match="for 'x'"):
        parse_space({"x": 3})


DISTS = [
    hd.Float(-2.0, 3.0),
    hd.Float(1e-6, 1e2, log=True),
    hd.Float(0.0, 1.0, step=0.1),
    hd.Int(-5, 5),
    hd.Int(1, 1000, log=True),
    hd.Int(16, 256, step=16),
    hd.Categorical(["a", "b", "c"]),
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=len(DISTS), max_size=len(DISTS)), st.booleans())
def test_unit_box_round_trip(us: list[float], one_hot: bool) -> None:
    space = {f"p{i}": d for i, d in enumerate(DISTS)}
    t = UnitTransform(space, one_hot=one_hot)
    params = {name: decode(d, u) for (name, d), u in zip(space.items(), us)}
    for name, d in space.items():
        assert d.contains(params[name]), (name, params[name])
    x = t.to_unit(params)
    assert x.shape == (t.dim,) and np.all((x >= 0) & (x <= 1))
    assert t.from_unit(x) == params


def test_decode_gives_every_integer_equal_mass() -> None:
    values = [decode(hd.Int(1, 4), u) for u in np.linspace(0, 1, 4001)]
    counts = np.bincount(values)[1:]
    assert counts.min() >= 990 and counts.max() <= 1010, counts
    assert math.isclose(decode(hd.Float(1e-4, 1.0, log=True), 0.5), 1e-2, rel_tol=1e-9)
