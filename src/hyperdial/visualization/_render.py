"""Figures from plot data: a plotly Figure (from the plotly.js spec) or a matplotlib Figure."""

from __future__ import annotations

from typing import Any

from hyperdial._imports import optional_import
from hyperdial.exceptions import invalid
from hyperdial.visualization import _mpl_params, _mpl_trials
from hyperdial.visualization._mpl_common import t
from hyperdial.visualization.spec import TITLES, figure_spec

BACKENDS = ("plotly", "matplotlib")

_MPL = {
    "history": _mpl_trials.history,
    "parallel_coordinate": _mpl_params.parallel_coordinate,
    "slice": _mpl_params.slice_,
    "contour": _mpl_params.contour,
    "importance": _mpl_params.importance,
    "intermediate": _mpl_trials.intermediate,
    "pareto": _mpl_trials.pareto,
    "timeline": _mpl_trials.timeline,
    "compare": _mpl_trials.compare,
}


def render(kind: str, data: dict[str, Any], *, backend: str, title: str | None) -> Any:
    if backend == "plotly":
        go = optional_import("plotly.graph_objects", extra="plot", purpose="plotly figures")
        return go.Figure(figure_spec(kind, data, title=title))
    if backend == "matplotlib":
        fig = _MPL[kind](data)
        fig.suptitle(t(title) if title is not None else TITLES[kind])
        return fig
    raise invalid("backend", f"must be one of {', '.join(BACKENDS)}", backend)
