"""hyperdial's native sweep format (recognised by its `study` key). Schema in docs/sweeps.md:

```yaml
study: digits-svc                     # the study name (created, or resumed)
command: [python, train.py, "${args}"]  # argv, with the W&B macros
metric: {name: accuracy, goal: maximize}   # or metrics: [{name, goal}, ...] (multi-objective)
parameters:
  kernel: {values: [rbf, poly]}
  C: {type: float, low: 1e-3, high: 1e3, log: true}
  degree: {type: int, low: 2, high: 5, when: {kernel: poly}}
  epochs: {value: 20}
method: TPE                           # any sampler of hd.samplers, or {name: TPE, <its arguments>}
early_stopping: {type: ASHA, min_resource: 1}   # any pruner of hd.pruners, with its arguments
budget: {trials: 50, timeout: 3600}
parallel: 2
storage: sqlite:///hyperdial.db
defaults: {kernel: rbf, C: 1.0}       # a first trial at known-good values
seed: 0
trial_timeout: 600
executor: {type: dask, address: "tcp://10.0.0.5:8786"}   # agents as cluster tasks (dask or ray; no address: local)
gpus_per_trial: 1                     # each trial's program sees its own CUDA_VISIBLE_DEVICES
```
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import hyperdial as hd
from hyperdial.exceptions import InvalidParameterError
from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.sweeps._checks import Where, choice, is_number, mapping, number, only_keys, text
from hyperdial.sweeps.command import check_command
from hyperdial.sweeps.errors import SweepFileError
from hyperdial.sweeps.spec import Metric, Parameter, SweepSpec

TOP_KEYS = (
    "study", "description", "program", "command", "parameters", "metric", "metrics", "method", "early_stopping",
    "budget", "parallel", "storage", "defaults", "seed", "trial_timeout", "executor", "gpus_per_trial",
)
EXECUTORS = ("local", "dask", "ray")
_NOT_PLUGINS = ("Sampler", "Pruner", "Budget", "BudgetView")  # protocols and helpers, not classes to name
_ALIASES = {"random": "Random", "grid": "Grid", "bayes": "Auto", "auto": "Auto", "tpe": "TPE", "gp": "GP",
            "cmaes": "CMAES", "qmc": "QMC", "nsga2": "NSGA2"}


def _distribution(where: Where, name: str) -> tuple[Distribution | None, Any]:
    spec = where.node
    forms = [k for k in ("type", "values", "value") if k in spec]
    if len(forms) != 1:
        raise where.error(None, "needs exactly one of `type` (float or int), `values` or `value`", dict(spec))
    try:
        if forms[0] == "value":
            only_keys(where, ("value", "when"))
            return None, spec["value"]
        if forms[0] == "values":
            only_keys(where, ("values", "when"))
            if not isinstance(spec["values"], list):
                raise where.error("values", "must be a list", spec["values"])
            return Categorical(spec["values"]).with_name(name), None
        only_keys(where, ("type", "low", "high", "log", "step", "when"))
        kind = choice(where, "type", ("float", "int"))
        for key in ("low", "high"):
            if key not in spec:
                raise where.error(None, f"needs `{key}`")
            number(where, key, integer=kind == "int")
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise where.error("log", "must be true or false", log)
        if kind == "float":
            step = number(where, "step", low=0, strict=True) if "step" in spec else None
            return Float(spec["low"], spec["high"], log=log, step=step).with_name(name), None
        step_i = number(where, "step", low=1, integer=True) if "step" in spec else 1
        return Int(spec["low"], spec["high"], log=log, step=step_i).with_name(name), None
    except InvalidParameterError as exc:
        if isinstance(exc, SweepFileError):
            raise
        raise where.error(None, f"is invalid: {exc}") from None


def _when(where: Where, known: dict[str, Parameter]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    cond = mapping(where, "other parameter -> value or list of values")
    out = []
    for other, allowed in cond.items():
        if other not in known:
            raise where.error(other, "must name a parameter defined above this one")
        values = tuple(allowed) if isinstance(allowed, list) else (allowed,)
        dist = known[other].dist
        for v in values:
            ok = known[other].value == v if dist is None else dist.contains(v)
            if not ok:
                raise where.error(other, f"can never equal this value of {other!r}", v)
        out.append((other, values))
    return tuple(out)


def _parameters(where: Where) -> list[Parameter]:
    params = mapping(where, "name -> {type, low, high, log, step} | {values} | {value}")
    known: dict[str, Parameter] = {}
    for name in params:
        if not isinstance(name, str) or not name:
            raise where.error(name, "must be a non-empty string")
        w = where.child(name)
        mapping(w, "{type, low, high, log, step} | {values} | {value}, and `when`")
        dist, value = _distribution(w, name)
        when = _when(w.child("when"), known) if "when" in w.node else ()
        known[name] = Parameter(name, (name,), dist=dist, value=value, when=when)
    return list(known.values())


def _metrics(top: Where) -> list[Metric]:
    if ("metric" in top.node) == ("metrics" in top.node):
        raise top.error(None, "needs `metric: {name, goal}` or `metrics: [{name, goal}, ...]` (one of them)")
    items = [top.child("metric")] if "metric" in top.node else None
    if items is None:
        ms = top.node["metrics"]
        if not isinstance(ms, list) or not ms:
            raise top.error("metrics", "must be a non-empty list of {name, goal}", ms)
        items = [Where(top.source, m, ("metrics", i), top.line("metrics")) for i, m in enumerate(ms)]
    out = []
    for w in items:
        mapping(w, "name, goal")
        only_keys(w, ("name", "goal"))
        if "name" not in w.node:
            raise w.error(None, "needs `name`, the metric the program reports")
        goal = choice(w, "goal", ("minimize", "maximize")) if "goal" in w.node else "minimize"
        out.append(Metric(text(w, "name"), goal))
    if len({m.name for m in out}) != len(out):
        raise top.error("metrics", "must not name a metric twice", [m.name for m in out])
    return out


def _plugin(where: Where, key: str, module: Any, aliases: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """`NAME` or `{name|type: NAME, <keyword arguments>}` naming a class of hd.samplers / hd.pruners."""
    node = where.node[key]
    field = "name" if key == "method" else "type"
    if isinstance(node, str):
        name, args = node, {}
    elif isinstance(node, dict) and field in node:
        name, args = node[field], {k: v for k, v in node.items() if k != field}
    else:
        raise where.error(key, f"must be a name or a mapping with `{field}`", node)
    resolved = aliases.get(str(name).lower(), name)
    classes = [n for n in module.__all__ if n[:1].isupper() and n not in _NOT_PLUGINS]
    if resolved not in classes:
        raise where.error(key, f"must name one of {', '.join(sorted(classes))}", name)
    cls = getattr(module, resolved)
    params = inspect.signature(cls).parameters
    for arg in args:
        if arg not in params or arg == "seed":
            raise Where(where.source, node, (key,)).error(arg, f"is not an argument of {resolved} here")
    return resolved, args


def _executor(top: Where) -> tuple[str | None, str | None]:
    """`executor: dask` (a local cluster), `{type: dask, address: tcp://...}`, `ray`, `{type: ray, address: auto}`,
    or `local` (the default: agents in threads of `hyperdial sweep`)."""
    node = top.node["executor"]
    if isinstance(node, str):
        kind, address = node, None
    elif isinstance(node, dict):
        where = top.child("executor")
        only_keys(where, ("type", "address"))
        if "type" not in node:
            raise where.error(None, f"needs `type` ({', '.join(EXECUTORS)})")
        kind = text(where, "type")
        address = text(where, "address") if "address" in node else None
    else:
        raise top.error("executor", f"must be one of {', '.join(EXECUTORS)} or a mapping with `type` and `address`",
                        node)
    kind = kind.lower()
    if kind not in EXECUTORS:
        raise top.error("executor", f"must be one of {', '.join(EXECUTORS)}", kind)
    if kind == "local" and address is not None:
        raise top.error("executor", "`local` takes no address", address)
    return (None if kind == "local" else kind), address


def read_native(data: dict[str, Any], *, source: str, text_: str) -> SweepSpec:
    """A validated `SweepSpec` from hyperdial's native format."""
    top = Where(source, data, ())
    only_keys(top, TOP_KEYS)
    study = text(top, "study")
    if "command" not in data:
        raise top.error(None, "needs `command`, the argv list of each trial (macros as in W&B)")
    command = data["command"]
    if not isinstance(command, list) or not all(isinstance(c, (str, int, float)) for c in command):
        raise top.error("command", "must be a list of strings (argv)", command)
    command = [str(c) for c in command]
    program = text(top, "program") if "program" in data else None
    params = _parameters(top.child("parameters")) if "parameters" in data else []
    spec = SweepSpec(format="native", source=source, text=text_, study=study, command=command, program=program,
                     parameters=params, metrics=_metrics(top), method="Auto")
    spec.warnings.extend(check_command(top, command, program))
    if "description" in data:
        spec.attrs["description"] = text(top, "description")
    if "method" in data:
        spec.method, spec.method_args = _plugin(top, "method", hd.samplers, _ALIASES)
        if spec.method in ("PerBracket", "MultiFidelity"):
            raise top.error("method", "needs Python objects as arguments; run it from Python", spec.method)
    if "early_stopping" in data and data["early_stopping"] not in (None, "none"):
        spec.pruner, spec.pruner_args = _plugin(top, "early_stopping", hd.pruners, {})
        try:
            spec.make_pruner()
        except InvalidParameterError as exc:
            raise top.error("early_stopping", f"is invalid: {exc}") from None
    if "budget" in data:
        b = top.child("budget")
        mapping(b, "trials, timeout")
        only_keys(b, ("trials", "timeout"))
        spec.trials = number(b, "trials", low=1, integer=True) if "trials" in b.node else None
        spec.timeout = number(b, "timeout", low=0, strict=True) if "timeout" in b.node else None
    if "parallel" in data:
        spec.parallel = number(top, "parallel", low=1, integer=True)
    if "storage" in data:
        spec.storage = text(top, "storage")
    if "seed" in data:
        spec.seed = number(top, "seed", low=0, integer=True)
    if "trial_timeout" in data:
        spec.trial_timeout = float(number(top, "trial_timeout", low=0, strict=True))
    if "executor" in data:
        spec.executor, spec.executor_address = _executor(top)
    if "gpus_per_trial" in data:
        spec.gpus_per_trial = number(top, "gpus_per_trial", low=0, integer=True)
    if "defaults" in data:
        d = top.child("defaults")
        mapping(d, "parameter -> value")
        by_name = {p.name: p for p in params}
        for name, value in d.node.items():
            p = by_name.get(name)
            if p is None or p.dist is None:
                raise d.error(name, "must name a searched parameter")
            if not (p.dist.contains(value) or (is_number(value) and isinstance(p.dist, Float)
                                               and p.dist.contains(float(value)))):
                raise d.error(name, f"must lie in {p.dist}", value)
        spec.defaults = dict(d.node)
    try:
        spec.make_sampler()
    except (InvalidParameterError, TypeError) as exc:
        raise top.error("method", f"cannot be built: {exc}") from None
    for w in spec.warnings:
        warnings.warn(w, UserWarning, stacklevel=3)
    return spec
