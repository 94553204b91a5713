"""Plots of a study: what happened, what mattered, where the trade-offs lie.

Three layers, each usable alone:

- `hyperdial.visualization.data`: the trials as plain JSON data per plot kind (`KINDS`), no
  plotting library needed; `max_points` keeps a 100,000-trial study drawable.
- `hyperdial.visualization.spec`: plotly.js figures as plain dicts (what the dashboard sends).
- `plot(kind, study)`: a `plotly.graph_objects.Figure` (interactive; in a notebook it displays
  itself, and ``fig.write_html(path)`` saves it) or, with ``backend="matplotlib"``, a matplotlib
  Figure for papers (``fig.savefig("history.pdf")``). Needs ``pip install 'hyperdial[plot]'``.

>>> import hyperdial as hd
>>> from hyperdial.visualization import plot
>>> study = hd.create_study(sampler=hd.samplers.Random(seed=0))
>>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=10, show_progress_bar=False)
>>> fig = plot("history", study)
>>> [trace.name for trace in fig.data]
['value', 'best value']
>>> fig = plot("slice", study, backend="matplotlib")
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperdial.exceptions import invalid
from hyperdial.visualization.data import DEFAULT_MAX_POINTS, KINDS, compute, compute_for_study
from hyperdial.visualization.spec import TITLES, figure_spec

__all__ = [
    "KINDS",
    "compute",
    "figure_spec",
    "plot",
    "plot_compare",
    "plot_contour",
    "plot_history",
    "plot_importance",
    "plot_intermediate",
    "plot_parallel_coordinate",
    "plot_pareto",
    "plot_slice",
    "plot_timeline",
]


def plot(kind: str, study_or_trials: Any, *, backend: str = "plotly", directions: Sequence[Any] | None = None,
         params: Sequence[str] | None = None, max_points: int = DEFAULT_MAX_POINTS, title: str | None = None,
         **options: Any) -> Any:
    """A figure of one plot `kind` (see `KINDS`) of a Study, or of a list of FrozenTrial with `directions`.

    `backend`: ``"plotly"`` (a `plotly.graph_objects.Figure`) or ``"matplotlib"`` (a
    `matplotlib.figure.Figure`, made without pyplot). `title` defaults to the kind's title and the
    study name. Other options go to `hyperdial.visualization.data.compute` (``objective=``,
    ``method=``, ``other=`` for ``"compare"``, which may be a second Study...).
    """
    from hyperdial.visualization._render import BACKENDS, render

    if backend not in BACKENDS:
        raise invalid("backend", f"must be one of {', '.join(BACKENDS)}", backend)
    if hasattr(study_or_trials, "study_name") and hasattr(study_or_trials, "directions"):
        if directions is not None:
            raise invalid("directions", "is taken from the study; give it only with a list of trials", directions)
        data = compute_for_study(kind, study_or_trials, params=params, max_points=max_points, **options)
        if title is None:
            title = f"{TITLES[kind]}: {study_or_trials.study_name}"
    else:
        if directions is None:
            raise invalid("directions", "is required with a list of trials (e.g. ['minimize'])", directions)
        data = compute(kind, study_or_trials, directions, params=params, max_points=max_points, **options)
    return render(kind, data, backend=backend, title=title)


def _kind_function(kind: str) -> Any:
    def plot_kind(study_or_trials: Any, **options: Any) -> Any:
        return plot(kind, study_or_trials, **options)

    plot_kind.__name__ = plot_kind.__qualname__ = f"plot_{kind}"
    plot_kind.__doc__ = f"""`plot({kind!r}, study_or_trials, **options)`: {TITLES[kind].lower()}."""
    return plot_kind


plot_history = _kind_function("history")
plot_parallel_coordinate = _kind_function("parallel_coordinate")
plot_slice = _kind_function("slice")
plot_contour = _kind_function("contour")
plot_importance = _kind_function("importance")
plot_intermediate = _kind_function("intermediate")
plot_pareto = _kind_function("pareto")
plot_timeline = _kind_function("timeline")
plot_compare = _kind_function("compare")
