"""Plot data: a study's trials as plain, JSON-serialisable dicts, one kind per plot.

No plotting library is imported here: the renderers (`hyperdial.visualization.spec` for
plotly.js, `hyperdial.visualization.plot` for plotly and matplotlib figures) and the dashboard
all draw from these dicts. Every kind takes the trials themselves and the study's directions,
so a caller that loaded trials its own way (the dashboard) passes them as they are.

`max_points` bounds the points drawn: a bigger study is subsampled deterministically, keeping
the best trials and every improvement (the best-so-far line and the hypervolume history are
exact, one point per change), or aggregated (the contour grid covers every trial).

>>> import hyperdial as hd
>>> trials = [hd.FrozenTrial(number=i, state=hd.TrialState.COMPLETE, values=(v,),
...                          params={"x": float(i)}, distributions={"x": hd.Float(0, 9)})
...           for i, v in enumerate([3.0, 1.0, 2.0, 0.5])]
>>> d = compute("history", trials, ["minimize"])
>>> d["objectives"][0]["best"]
{'number': [0, 1, 3], 'value': [3.0, 1.0, 0.5]}
>>> sorted(compute("slice", trials, ["minimize"])["params"][0])
['high', 'log', 'low', 'name', 'type', 'values']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hyperdial.exceptions import invalid
from hyperdial.trial import FrozenTrial
from hyperdial.visualization import _curves, _history, _params, _pareto, _timeline
from hyperdial.visualization._common import check_max_points, check_trials, directions_of

__all__ = ["DEFAULT_MAX_POINTS", "KINDS", "compute", "compute_for_study"]

DEFAULT_MAX_POINTS = 2000

_BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "history": _history.history,
    "parallel_coordinate": _params.parallel_coordinate,
    "slice": _params.slice_,
    "contour": _params.contour,
    "importance": _params.importance,
    "intermediate": _curves.intermediate,
    "pareto": _pareto.pareto,
    "timeline": _timeline.timeline,
    "compare": _history.compare,
}
_TAKES_PARAMS = ("parallel_coordinate", "slice", "contour", "importance")

KINDS: tuple[str, ...] = tuple(_BUILDERS)


def compute(kind: str, trials: Sequence[FrozenTrial], directions: Sequence[Any], *,
            params: Sequence[str] | None = None, max_points: int = DEFAULT_MAX_POINTS,
            **options: Any) -> dict[str, Any]:
    """The data of one plot `kind` (one of `KINDS`) as a JSON-serialisable dict with `"kind"`.

    `directions`: the study's (`study.directions`, or strings such as ``["minimize"]``).
    `params`: the parameters to show (parallel_coordinate, slice, contour, importance; default all).
    Options by kind: ``objective=`` (index, for parameter plots and compare of a multi-objective
    study), ``objective_names=``, ``method=`` (importance), ``grid=`` (contour cells per axis),
    ``reference=`` (pareto), ``worker=`` (timeline: a function of a trial naming its worker),
    ``other=``, ``other_directions=``, ``names=`` (compare: the second study's trials, and both names).
    """
    if kind not in _BUILDERS:
        raise invalid("kind", f"must be one of {', '.join(KINDS)}", kind)
    ts = check_trials(trials)
    dirs = directions_of(directions)
    n = check_max_points(max_points)
    if kind in _TAKES_PARAMS:
        options["params"] = params
    elif params is not None:
        raise invalid("params", f"applies only to {', '.join(_TAKES_PARAMS)}, not to kind {kind!r}", params)
    try:
        return _BUILDERS[kind](ts, dirs, max_points=n, **options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise invalid("options", f"{exc}; see hyperdial.visualization.data.compute", sorted(options)) from None
        raise


def compute_for_study(kind: str, study: Any, *, params: Sequence[str] | None = None,
                      max_points: int = DEFAULT_MAX_POINTS, **options: Any) -> dict[str, Any]:
    """`compute` on a `Study`'s trials and directions. For ``"compare"``, `other` may be a Study too
    (its trials, directions and name are used; `names` default to the two study names)."""
    if kind == "compare" and _is_study(options.get("other")):
        other = options.pop("other")
        options.setdefault("names", (str(study.study_name), str(other.study_name)))
        options.setdefault("other_directions", other.directions)
        options["other"] = other.trials
    if not _is_study(study):
        raise invalid("study", "must be a hyperdial Study", type(study).__name__)
    return compute(kind, study.trials, study.directions, params=params, max_points=max_points, **options)


def _is_study(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("trials", "directions", "study_name"))
