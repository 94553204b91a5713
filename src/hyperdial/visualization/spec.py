"""plotly.js figures as plain dicts, built from `hyperdial.visualization.data` without importing plotly.

`figure_spec(kind, data)` returns ``{"data": [traces], "layout": {...}}``, ready for
``Plotly.newPlot(div, spec.data, spec.layout)`` in a browser or for `plotly.graph_objects.Figure(spec)`.

Text from users (study, parameter and objective names, categorical choices, worker names) goes
into the spec as *data*, never as markup: plotly.js reads a small HTML-like language in titles,
tick labels, legend entries and hover text (``<b>``, ``<br>``, ``<a href>``...), so every such
string is entity-escaped here (`text`) and shows as typed, ``<script>`` included. Hover text is
given as `text` with ``hoverinfo="text"``, never as a `hovertemplate`, whose ``%{...}`` would
be filled in from a user's name. Categorical axes are index positions with escaped tick labels.

>>> spec = figure_spec("importance", {"kind": "importance", "method": "ped-anova",
...     "objective": {"name": "loss", "direction": "minimize", "index": 0}, "n_trials": 9,
...     "importances": [{"name": "<img src=x onerror=alert(1)>", "share": 1.0}], "message": None})
>>> spec["layout"]["yaxis"]["ticktext"]
['&lt;img src=x onerror=alert(1)&gt;']
"""

from __future__ import annotations

from typing import Any

from hyperdial.exceptions import invalid
from hyperdial.visualization import _spec_params, _spec_trials
from hyperdial.visualization._spec_common import text

__all__ = ["TITLES", "figure_spec", "text"]

_RENDERERS = {
    "history": _spec_trials.history,
    "parallel_coordinate": _spec_params.parallel_coordinate,
    "slice": _spec_params.slice_,
    "contour": _spec_params.contour,
    "importance": _spec_params.importance,
    "intermediate": _spec_trials.intermediate,
    "pareto": _spec_trials.pareto,
    "timeline": _spec_trials.timeline,
    "compare": _spec_trials.compare,
}

TITLES = {
    "history": "Optimization history",
    "parallel_coordinate": "Parallel coordinates",
    "slice": "Slice",
    "contour": "Contour",
    "importance": "Parameter importance",
    "intermediate": "Intermediate values",
    "pareto": "Pareto front",
    "timeline": "Timeline",
    "compare": "Comparison",
}


def figure_spec(kind: str, data: dict[str, Any], *, title: str | None = None, **options: Any) -> dict[str, Any]:
    """A plotly.js figure (``{"data": [...], "layout": {...}}``, plain JSON) of `data` from
    `hyperdial.visualization.data.compute(kind, ...)`.

    `title` (escaped, like all user text) replaces the kind's default title. Options:
    ``three_d=True`` draws a 3-objective Pareto front as one 3-D scatter (needs WebGL) instead
    of its pairs of objectives.
    """
    if kind not in _RENDERERS:
        raise invalid("kind", f"must be one of {', '.join(_RENDERERS)}", kind)
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise invalid("data", f"must be the dict compute({kind!r}, ...) returns", type(data).__name__)
    fig = _RENDERERS[kind](data, **options)
    layout = fig["layout"]
    layout["title"] = {"text": text(title) if title is not None else TITLES[kind]}
    layout.setdefault("plot_bgcolor", "white")
    layout.setdefault("hovermode", "closest")
    layout.setdefault("margin", {"l": 70, "r": 30, "t": 60, "b": 60})
    return fig
