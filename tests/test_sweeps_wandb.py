"""W&B sweep files: accepted and rejected as W&B's own engine does, sampled as it samples.

The reference is tests/data/wandb_reference.json, written by tests/data/make_wandb_reference.py
with W&B's `sweeps` package (which pins numpy<2, so it is not installed by the test extra).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import scipy.stats

import hyperdial as hd
from hyperdial.sweeps import SweepFileError, read_sweep
from hyperdial.sweeps.agent import _nest
from hyperdial.sweeps.spec import WandbRandom

REFERENCE = json.loads((Path(__file__).parent / "data" / "wandb_reference.json").read_text())
CASES = {c["name"]: c for c in REFERENCE["cases"]}
DRAWS = REFERENCE["draws"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_accepts_and_rejects_as_wandb_does(name: str) -> None:
    case = CASES[name]
    text = json.dumps(case["config"], indent=2)  # JSON is YAML
    if case["accepted"]:
        spec = read_sweep(text, source="sweep.yaml")
        assert spec.format == "wandb"
    else:
        with pytest.raises(SweepFileError, match=r"sweep\.yaml: `"):
            read_sweep(text, source="sweep.yaml")


def _our_draws(spec_text: str, n: int, seed: int = 0) -> list[Any]:
    spec = read_sweep(spec_text)
    sampler = WandbRandom(spec.parameters, seed=seed)
    space = spec.space()
    out = []
    for number in range(n):
        stored = sampler.sample(None, SimpleNamespace(number=number), space) if space else {}
        values = {p.name: p.value if p.dist is None else p.program_value(stored[p.name]) for p in spec.parameters}
        for p in spec.parameters:  # what was drawn is what the study stores
            if p.dist is not None:
                assert p.dist.contains(stored[p.name]), (p.name, stored[p.name], p.dist)
        v = _nest(values, spec.parameters)["p"]
        out.append(float(f"{v:.12g}") if isinstance(v, float) else v)  # as the reference file stores them
    return out


def _as_numbers(values: list[Any], support: list[Any]) -> list[float]:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return [float(support.index(v)) for v in values]


@pytest.mark.parametrize("dist", sorted(DRAWS))
def test_random_search_draws_as_wandb_does(dist: str) -> None:
    ref = DRAWS[dist]
    spec, theirs = ref["spec"], ref["values"]
    text = json.dumps({"method": "random", "metric": {"name": "loss"}, "parameters": {"p": spec}})
    ours = _our_draws(text, len(theirs))
    if dist == "nested":
        assert all(set(v) == {"lr", "opt"} for v in ours)
        assert {v["opt"] for v in ours} == {"adam", "sgd"}
        lrs_ours, lrs_theirs = [v["lr"] for v in ours], [v["lr"] for v in theirs]
        assert min(lrs_ours) >= 0.001 and max(lrs_ours) <= 0.1
        assert scipy.stats.ks_2samp(lrs_ours, lrs_theirs).pvalue > 1e-3
        return
    # Types: int where W&B gives ints (int_uniform, q_ with an int q), float where it gives floats.
    assert {type(v).__name__ for v in ours} == {type(v).__name__ for v in theirs}, (ours[:5], theirs[:5])
    if "q" in spec:
        q = spec["q"]
        assert all(abs(v / q - round(v / q)) < 1e-9 for v in ours)
    if "min" in spec and dist in ("uniform", "int_uniform", "inferred_int", "inferred_float", "log_uniform_values",
                                  "inv_log_uniform_values"):
        assert all(spec["min"] <= v <= spec["max"] for v in ours)
    if dist in ("log_uniform", "inv_log_uniform"):
        lo, hi = (spec["min"], spec["max"]) if dist == "log_uniform" else (-spec["max"], -spec["min"])
        assert all(math.exp(lo) * (1 - 1e-12) <= v <= math.exp(hi) * (1 + 1e-12) for v in ours)
    support = sorted({json.dumps(v) for v in theirs} | {json.dumps(v) for v in ours})
    support_values = [json.loads(s) for s in support]
    if len(support) <= 12:  # discrete: the same values, in proportions a chi-square test cannot tell apart
        assert {json.dumps(v) for v in ours} <= {json.dumps(v) for v in theirs} | {json.dumps(v) for v in ours}
        counts = [[sum(json.dumps(v) == s for v in vals) for s in support] for vals in (ours, theirs)]
        kept = [i for i in range(len(support)) if counts[0][i] + counts[1][i] > 0]
        if len(kept) > 1:
            table = [[counts[0][i] for i in kept], [counts[1][i] for i in kept]]
            assert scipy.stats.chi2_contingency(table).pvalue > 1e-3, (support, table)
        return
    a, b = _as_numbers(ours, support_values), _as_numbers(theirs, support_values)
    assert scipy.stats.ks_2samp(a, b).pvalue > 1e-3


@pytest.mark.parametrize("dist", sorted(d for d in DRAWS if "ppf" in DRAWS[d]))
def test_quantile_function_is_wandbs(dist: str) -> None:
    """W&B's random search returns its distribution's quantile function at u ~ U(0, 1); ours must be the same
    function, value for value (and type for type), not only the same law."""
    spec = read_sweep(json.dumps({"method": "random", "metric": {"name": "loss"},
                                  "parameters": {"p": DRAWS[dist]["spec"]}}))
    (param,) = spec.parameters
    assert param.prior is not None
    for u, theirs in DRAWS[dist]["ppf"]:
        ours = param.program_value(param.prior.ppf(u))
        assert type(ours) is type(theirs), (u, ours, theirs)
        if isinstance(theirs, float):
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12), (u, ours, theirs)
        else:
            assert ours == theirs, (u, ours, theirs)
        assert param.dist is not None and param.dist.contains(param.prior.ppf(u))


def test_log_scale_reaches_every_decade() -> None:
    ours = _our_draws(json.dumps({"method": "random", "metric": {"name": "loss"}, "parameters": {
        "p": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1}}}), 2000)
    decades = [sum(10.0 ** k <= v < 10.0 ** (k + 1) for v in ours) for k in range(-5, -1)]
    assert all(400 < d < 600 for d in decades), decades  # uniform in the log: 500 per decade


# --- the file itself: YAML 1.2 numbers, line endings, tags, errors with the key path and the line ---

def test_yaml_12_numbers_crlf_and_tags() -> None:
    text = ("method: random\r\nmetric:\r\n  name: loss\r\nparameters:\r\n"
            "  lr:\r\n    distribution: log_uniform_values\r\n    min: 1e-5\r\n    max: !!float 1\r\n"
            "  trainer.epochs:\r\n    value: 3\r\n")
    spec = read_sweep(text)
    lr = spec.space()["lr"]
    assert isinstance(lr, hd.Float) and lr.low == 1e-5 and lr.high == 1.0 and lr.log
    assert spec.parameters[1].name == "trainer.epochs" and spec.parameters[1].value == 3


@pytest.mark.parametrize(("text", "match"), [
    ("method: random\nmetric: {name: loss}\nparameters:\n  lr:\n    min: 0.1\n    max: 0.01\n",
     r"`parameters\.lr\.max` \(line 6\) must be > `min`, got min=0\.1, max=0\.01"),
    (("method: random\nmetric: {name: loss}\nparameters:\n  lr:\n    distribution: log_uniform_values\n"
     "    min: 0\n    max: 1\n"), r"`parameters\.lr\.min` \(line 6\) must be > 0"),
    ("method: random\nmetric: {name: loss}\nepochs: 3\n", r"`epochs` \(line 3\) is not a known key"),
    ("method: random\nparameters:\n  x: {values: [1, 2]}\n", r"needs `metric"),
    ("method: hyperopt\nmetric: {name: loss}\n", r"`method` \(line 1\) must be one of random, grid, bayes"),
    ("method: random\nmetric: {name: loss\nparameters: 3\n", r"YAML syntax error at line \d+"),
    ("method: random\nmetric: {name: loss}\nparameters:\n  x:\n    distribution: normal\n    min: 1\n",
     r"`parameters\.x\.min` \(line 6\) is not a known key"),
    ("method: grid\nmetric: {name: loss}\nparameters:\n  x: {min: 0.0, max: 1.0}\n",
     r"grid search.*x is uniform"),
    ("method: random\nmetric: {name: loss}\nprogram: t.py\nparameters:\n  x: {value: 1}\n  x: {value: 2}\n",
     r"sweep\.yaml: line 6: key 'x' appears twice"),
    ("method: random\nmetric: {name: loss}\ncommand: ['${program}']\n", r"uses \$\{program\} but the file has no"),
    ("method: random\nmetric: {name: loss}\nscheduler: {engine: optuna}\n", r"`scheduler`.*W&B Launch"),
    # a value where a mapping belongs: the line of its key
    ("method: random\nmetric: loss\n", r"`metric` \(line 2\) must be a mapping"),
    ("method: random\nmetric: {name: loss}\nparameters:\n  lr: 0.1\n", r"`parameters\.lr` \(line 4\) must be a mapping"),
    ("method: random\nmetric: {name: loss}\nparameters: [lr]\n", r"`parameters` \(line 3\) must be a mapping"),
    ("method: random\nmetric: {name: loss}\nearly_terminate: hyperband\n",
     r"`early_terminate` \(line 3\) must be a mapping"),
    (("method: random\nmetric: {name: loss}\nparameters:\n  a.b: {value: 1}\n  a:\n    parameters:\n"
      "      b: {value: 2}\n"), r"`parameters\.a\.parameters\.b` \(line 7\) names the parameter 'a\.b' a second"),
])
def test_malformed_files_name_the_key_path_and_line(text: str, match: str) -> None:
    with pytest.raises(SweepFileError, match=match):
        read_sweep(text, source="sweep.yaml")


def test_unexpanded_placeholder_warns() -> None:
    text = "method: random\nmetric: {name: loss}\nprogram: t.py\ncommand: [python, t.py, '--lr=${lr}']\n"
    with pytest.warns(UserWarning, match=r"\$\{lr\} is not a macro"):
        read_sweep(text)


def test_service_keys_become_attributes_and_hyperband_maps() -> None:
    spec = read_sweep(json.dumps({**CASES["every service key"]["config"],
                                  "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 2, "eta": 3}}))
    assert spec.attrs == {"entity": "me", "project": "p", "name": "n", "description": "d"}
    assert spec.study == "n" and spec.trials == 5 and spec.method == "Grid"
    pruner = spec.make_pruner()
    assert isinstance(pruner, hd.pruners.Hyperband)
    assert (pruner.min_resource, pruner.max_resource, pruner.reduction_factor) == (3, 27, 3)


def test_grid_q_uniform_is_wandbs_arange() -> None:
    spec = read_sweep("method: grid\nmetric: {name: loss}\nparameters:\n"
                      "  x: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n  n: {min: 1, max: 3}\n")
    grid = spec.make_sampler()
    assert grid.space == {"n": (1, 2, 3), "x": (0.0, 0.25, 0.5, 0.75)}


def test_hyperband_with_max_iter_and_s_takes_them_first_as_wandb_does() -> None:
    """W&B's `hyperband_stop_runs` reads `max_iter` and `s` before `min_iter`: bands 27/9 and 27/3 here."""
    spec = read_sweep("method: random\nmetric: {name: loss}\nparameters:\n  x: {min: 0.0, max: 1.0}\n"
                      "early_terminate: {type: hyperband, min_iter: 1, max_iter: 27, s: 2, eta: 3}\n")
    pruner = spec.make_pruner()
    assert (pruner.min_resource, pruner.max_resource, pruner.reduction_factor) == (3, 27, 3)
