"""W&B sweep files, read as W&B reads them (its `sweeps` package's JSON schema is the reference).

Keys W&B's schema rejects (unknown keys, a distribution's foreign keys, `min >= max`...)
are rejected here too, with the key path and the line. Keys that only W&B's service uses
(`entity`, `project`, `name`, `description`) become study user attributes; `controller`,
`apiVersion`, `kind` are accepted and have no effect offline. The mapping onto hyperdial,
key by key, is the table in docs/sweeps.md.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

from hyperdial.sweeps._checks import Where, choice, is_number, mapping, number, only_keys, text
from hyperdial.sweeps.command import DEFAULT_WANDB_COMMAND, check_command
from hyperdial.sweeps.priors import KINDS, prior
from hyperdial.sweeps.spec import Metric, Parameter, SweepSpec

TOP_KEYS = (
    "apiVersion", "kind", "controller", "description", "program", "job", "image_uri", "entity", "project",
    "method", "command", "name", "run_cap", "metric", "metrics", "scheduler", "early_terminate", "parameters",
)
# Keys W&B accepts that need its Launch service, with what to do instead.
_LAUNCH_ONLY = {
    "job": "a W&B Launch job needs W&B's service; give `program` or `command` instead",
    "image_uri": "a W&B Launch image needs W&B's service; give `program` or `command` instead",
    "scheduler": "a W&B Launch scheduler needs W&B's service; choose `method`, or a sampler in hyperdial's "
                 "native format",
    "metrics": "several metrics need `method: custom` (W&B Launch); hyperdial's native format takes "
               "`metrics:` for multi-objective sweeps",
}
_METHODS = {"random": "WandbRandom", "grid": "Grid", "bayes": "Auto"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")

_BOUNDS = ("min", "max")
_KEYS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "categorical": ("values",),
    "categorical_w_probabilities": ("values", "probabilities"),
    "int_uniform": _BOUNDS, "uniform": _BOUNDS, "log_uniform": _BOUNDS, "log_uniform_values": _BOUNDS,
    "inv_log_uniform": _BOUNDS, "inv_log_uniform_values": _BOUNDS,
    "q_uniform": (*_BOUNDS, "q"), "q_log_uniform": (*_BOUNDS, "q"), "q_log_uniform_values": (*_BOUNDS, "q"),
    "normal": ("mu", "sigma"), "log_normal": ("mu", "sigma"),
    "q_normal": ("mu", "sigma", "q"), "q_log_normal": ("mu", "sigma", "q"),
    "beta": ("a", "b"), "q_beta": ("a", "b", "q"),
}
_REQUIRED = {"constant": ("value",), "categorical": ("values",), "categorical_w_probabilities": ("values", "probabilities")}


def infer_kind(spec: dict[str, Any]) -> str | None:
    """The distribution W&B infers for a parameter without `distribution` (its schema's first match)."""
    if "value" in spec:
        return "constant"
    if "values" in spec:
        return "categorical_w_probabilities" if "probabilities" in spec else "categorical"
    if "min" in spec and "max" in spec:
        ints = all(isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in _BOUNDS)
        return "int_uniform" if ints else "uniform"
    return None


def _parameter(where: Where, name: str, path: tuple[str, ...], out: list[Parameter]) -> None:
    spec = mapping(where, "a W&B parameter: value, values, min/max, distribution or parameters")
    if "parameters" in spec:  # nested: {parameters: {...}} and nothing else
        only_keys(where, ("parameters",), "a nested parameter holds only `parameters`")
        _parameters(where.child("parameters"), path, out)
        return
    kind = spec.get("distribution")
    if kind is None:
        kind = infer_kind(spec)
        if kind is None:
            raise where.error(None, "needs `value`, `values`, `min` and `max`, `distribution` or `parameters`",
                              dict(spec))
    elif kind not in KINDS:
        raise where.error("distribution", f"must be one of {', '.join(KINDS)}", kind)
    only_keys(where, ("distribution", *_KEYS[kind]), f"W&B's {kind} distribution takes no other key")
    for key in _REQUIRED.get(kind, _BOUNDS if "min" in _KEYS[kind] else ()):
        if key not in spec:
            raise where.error(None, f"needs `{key}` (distribution {kind})")
    c: dict[str, Any] = {k: spec[k] for k in _KEYS[kind] if k in spec}
    if kind == "constant":
        out.append(Parameter(name, path, value=c["value"]))
        return
    if kind.startswith("categorical"):
        values = c["values"]
        if not isinstance(values, list) or not values:
            raise where.error("values", "must be a non-empty list", values)
        if kind == "categorical_w_probabilities":
            probs = c["probabilities"]
            if not isinstance(probs, list) or not all(is_number(p) and p >= 0 for p in probs):
                raise where.error("probabilities", "must be a list of numbers >= 0", probs)
            if len(probs) != len(values):
                raise where.error("probabilities", f"must have one entry per value ({len(values)})", probs)
            if not math.isclose(sum(probs), 1.0, rel_tol=1e-8, abs_tol=1e-8):
                raise where.error("probabilities", "must sum to 1", probs)
    else:
        for key in c:
            number(where, key, integer=kind == "int_uniform" and key in _BOUNDS)
        if "min" in c and c["min"] >= c["max"]:
            raise where.error("max", "must be > `min`", f"min={c['min']!r}, max={c['max']!r}")
        if kind.endswith("_values") and c["min"] <= 0:
            raise where.error("min", f"must be > 0 for {kind} (bounds are values, taken logs of)", c["min"])
        if "q" in c:
            number(where, "q", low=0, strict=True)
        if "sigma" in c:
            number(where, "sigma", low=0, strict=True)
        for key in ("a", "b"):
            if key in c:
                number(where, key, low=0, strict=True)
    try:
        p = prior(name, kind, c)
    except ValueError as exc:  # a quantised range too narrow for one step, for instance
        raise where.error(None, f"cannot be searched: {exc}") from None
    out.append(Parameter(name, path, dist=p.dist.with_name(name), prior=p))


def _parameters(where: Where, prefix: tuple[str, ...], out: list[Parameter]) -> None:
    params = mapping(where, "name -> parameter")
    if not params:
        raise where.error(None, "must hold at least one parameter")
    for key in params:
        if not isinstance(key, str) or not _NAME.match(key):
            raise where.error(key, "is not a valid W&B parameter name (letters, digits, _ . -, not first digit)")
        path = (*prefix, key)
        name = ".".join(path)
        if any(p.name == name for p in out):  # `a.b` beside `a: {parameters: {b: ...}}`
            raise where.error(key, f"names the parameter {name!r} a second time (a dotted name and a nested "
                                   "`parameters:` give the same name here)")
        _parameter(where.child(key), name, path, out)


def _metric(where: Where) -> Metric:
    mapping(where, "name, goal, target, impute")
    only_keys(where, ("name", "goal", "target", "impute", "impute_while_running"))
    if "name" not in where.node:
        raise where.error(None, "needs `name`, the metric the program reports")
    goal = choice(where, "goal", ("minimize", "maximize")) if "goal" in where.node else "minimize"
    target = number(where, "target") if "target" in where.node else None
    impute = choice(where, "impute", ("latest", "best", "worst")) if "impute" in where.node else None
    if "impute_while_running" in where.node:
        choice(where, "impute_while_running", ("latest", "best", "worst", "false"))
    return Metric(text(where, "name"), goal, target, impute)


def _early_terminate(where: Where, spec: SweepSpec) -> None:
    et = mapping(where, "type: hyperband, min_iter or max_iter and s, eta, strict")
    only_keys(where, ("type", "max_iter", "min_iter", "s", "eta", "strict"))
    if "type" not in et:
        raise where.error(None, "needs `type: hyperband`")
    choice(where, "type", ("hyperband",))
    eta = number(where, "eta", low=1, strict=True) if "eta" in et else 3
    if "strict" in et and not isinstance(et["strict"], bool):
        raise where.error("strict", "must be true or false", et["strict"])
    max_resource: Any
    if "max_iter" in et and "s" in et:  # W&B's engine takes this form first, ignoring min_iter
        max_resource = number(where, "max_iter", low=1, integer=True)
        s = number(where, "s", low=0)
        # W&B's bands sit at max_iter / eta^k for k = 1..s: the first at max_iter / eta^s.
        min_iter = max(1, int(max_resource / eta ** s))
    elif "min_iter" in et:
        min_iter = number(where, "min_iter", low=1, integer=True)
        max_resource = number(where, "max_iter", integer=True) if "max_iter" in et else "auto"
    else:
        raise where.error(None, "needs `min_iter`, or `max_iter` and `s`")
    if isinstance(max_resource, int) and max_resource < min_iter:
        raise where.error("max_iter", "must be >= `min_iter`", f"min_iter={min_iter}, max_iter={max_resource}")
    if int(eta) != eta:
        raise where.error("eta", "must be a whole number for hyperdial's Hyperband", eta)
    spec.pruner = "Hyperband"
    spec.pruner_args = {"min_resource": min_iter, "max_resource": max_resource, "reduction_factor": int(eta)}


def read_wandb(data: dict[str, Any], *, source: str, text_: str, stem: str) -> SweepSpec:
    """A validated `SweepSpec` from a W&B sweep configuration (a dict read from YAML)."""
    top = Where(source, data, ())
    only_keys(top, TOP_KEYS, "W&B's sweep schema rejects it")
    if "method" not in data:
        raise top.error(None, "needs `method` (grid, random or bayes)")
    method = data["method"]
    if method == "custom":
        raise top.error("method", "custom needs a W&B Launch scheduler; use random, grid or bayes, or the native "
                                  "format's `method` for any hyperdial sampler", method)
    choice(top, "method", ("random", "grid", "bayes"))
    for key, why in _LAUNCH_ONLY.items():
        if key in data:
            raise top.error(key, f"is not supported offline: {why}")
    if "metric" not in data:
        raise top.error(None, "needs `metric: {name: ..., goal: minimize|maximize}`: hyperdial records the "
                              "metric's last reported value as each trial's result")
    metric = _metric(top.child("metric"))
    params: list[Parameter] = []
    if "parameters" in data:
        _parameters(top.child("parameters"), (), params)
    attrs: dict[str, Any] = {k: text(top, k) for k in ("entity", "project", "name", "description") if k in data}
    if "controller" in data:
        ctl = top.child("controller")
        mapping(ctl, "type: local or cloud")
        if "type" not in ctl.node:
            raise ctl.error(None, "needs `type` (local or cloud)")
        choice(ctl, "type", ("local", "cloud"))
    program = text(top, "program") if "program" in data else None
    if "command" in data:
        if not isinstance(data["command"], list):
            raise top.error("command", "must be a list (argv)", data["command"])
        command = [str(c) if not isinstance(c, str) else c for c in data["command"]]
    else:
        command = list(DEFAULT_WANDB_COMMAND)
    spec = SweepSpec(
        format="wandb", source=source, text=text_, study=attrs.get("name", stem), command=command,
        program=program, parameters=params, metrics=[metric], method=_METHODS[method], attrs=attrs,
    )
    if "command" in data:  # W&B's default command needs `program`: checked when the sweep runs
        spec.warnings.extend(check_command(top, command, program))
    if "run_cap" in data:
        spec.trials = number(top, "run_cap", low=1, integer=True)
    if "early_terminate" in data:
        _early_terminate(top.child("early_terminate"), spec)
        if data["early_terminate"].get("strict") is False:
            spec.warnings.append("early_terminate.strict: false has no counterpart; hyperdial's Hyperband prunes "
                                 "by its brackets (docs/sweeps.md)")
    if method == "grid":
        spec.parameters = _grid_parameters(top, params)
    for w in spec.warnings:
        warnings.warn(w, UserWarning, stacklevel=3)
    return spec



_GRID_KINDS = ("categorical", "int_uniform", "q_uniform")


def _grid_parameters(top: Where, params: list[Parameter]) -> list[Parameter]:
    """W&B's grid search: categorical (without probabilities), constant, int_uniform and q_uniform
    parameters only; q_uniform's grid is W&B's `numpy.arange(min, max, q)` (max excluded)."""
    out = []
    for p in params:
        if p.prior is None:  # a constant
            out.append(p)
            continue
        if p.prior.kind not in _GRID_KINDS:
            raise top.error("parameters", f"must be categorical, constant, int_uniform or q_uniform for grid "
                                          f"search (as in W&B); {p.name} is {p.prior.kind}")
        if p.prior.kind == "q_uniform":
            spec = _at(top, p.path)
            lo, hi, q = spec["min"], spec["max"], spec.get("q", 1.0)
            n = max(0, math.ceil((hi - lo) / q))
            values = [lo + k * q for k in range(n)]
            values = [int(v) if isinstance(q, int) and isinstance(lo, int) else float(v) for v in values]
            g = prior(p.name, "categorical", {"values": values})
            out.append(Parameter(p.name, p.path, dist=g.dist.with_name(p.name), prior=g))
        else:
            out.append(p)
    return out


def _at(top: Where, path: tuple[str, ...]) -> Any:
    node = top.node["parameters"]
    for i, key in enumerate(path):
        node = node[key] if i == len(path) - 1 else node[key]["parameters"]
    return node
