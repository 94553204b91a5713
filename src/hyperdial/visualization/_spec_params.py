"""plotly.js specs of the parameter plots: parallel coordinates, slice, contour, importance."""

from __future__ import annotations

import math
from typing import Any

from hyperdial.visualization._spec_common import (
    COLORSCALE,
    GRID,
    axis_name,
    colorbar,
    num,
    panels,
    param_axis_layout,
    param_value_text,
    reversed_scale,
    text,
)


def _hover(data: dict[str, Any], i: int, *axes: dict[str, Any]) -> str:
    obj = data["objective"]
    parts = [f"trial {data['number'][i]}", f"{text(obj['name'])}: {num(obj['values'][i])}"]
    parts += [f"{text(a['name'])}: {param_value_text(a, a['values'][i])}" for a in axes]
    return "<br>".join(parts)


def _no_data(message: str) -> dict[str, Any]:
    return {"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
            "font": {"size": 14}}


def _dimension(axis: dict[str, Any]) -> dict[str, Any]:
    """One parcoords axis. parcoords has no log or category axes and no gaps, so values are mapped:
    log10 for log axes, index for categories, and a trial without the parameter (conditional
    spaces) sits on an extra tick "(none)" just below the axis."""
    vals = axis["values"]
    missing = any(v is None for v in vals)
    name = text(axis["name"])
    if axis["type"] == "categorical":
        n = len(axis["labels"])
        ticks: list[float] = [float(i) for i in range(n)]
        labels = [text(s) for s in axis["labels"]]
        low, high = 0.0, float(max(n - 1, 1))
        mapped: list[float | None] = [None if v is None else float(v) for v in vals]
    else:
        log = axis["log"]
        f = math.log10 if log else float
        low = f(axis["low"]) if axis["low"] is not None else 0.0
        high = f(axis["high"]) if axis["high"] is not None else 1.0
        if high == low:
            high = low + 1.0
        ticks = [low + (high - low) * k / 4 for k in range(5)]
        labels = [num(10 ** t if log else t) for t in ticks]
        mapped = [None if v is None else f(v) for v in vals]
    if missing:
        below = low - 0.15 * (high - low) if high > low else low - 1.0
        ticks, labels = [below, *ticks], ["(none)", *labels]
        mapped = [below if v is None else v for v in mapped]
        low = below
    return {"label": name, "values": mapped, "range": [low, high], "tickvals": ticks, "ticktext": labels}


def parallel_coordinate(data: dict[str, Any]) -> dict[str, Any]:
    obj = data["objective"]
    if not data["number"]:
        return {"data": [], "layout": {"annotations": [_no_data("no COMPLETE trials yet")]}}
    dims = [{"label": text(obj["name"]), "values": obj["values"]}] + [_dimension(a) for a in data["params"]]
    trace = {"type": "parcoords", "dimensions": dims,
             "line": {"color": obj["values"], "colorscale": COLORSCALE, "showscale": True,
                      "reversescale": reversed_scale(obj["direction"]), "colorbar": colorbar(obj["name"])}}
    return {"data": [trace], "layout": {"margin": {"l": 80, "r": 80, "t": 90, "b": 40}}}


def slice_(data: dict[str, Any]) -> dict[str, Any]:
    obj, axes = data["objective"], data["params"]
    if not data["number"] or not axes:
        return {"data": [], "layout": {"annotations": [_no_data("no COMPLETE trials with parameters yet")]}}
    cols = min(len(axes), 3)
    doms = panels(len(axes), cols, gap=0.1)
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"showlegend": False, "height": 320 * math.ceil(len(axes) / cols) + 80}
    for k, (axis, dom) in enumerate(zip(axes, doms)):
        xref, xkey = axis_name(k, "x")
        yref, ykey = axis_name(k, "y")
        idx = [i for i, v in enumerate(axis["values"]) if v is not None]
        traces.append({
            "type": "scatter", "mode": "markers", "xaxis": xref, "yaxis": yref,
            "x": [axis["values"][i] for i in idx], "y": [obj["values"][i] for i in idx],
            "text": [_hover(data, i, axis) for i in idx], "hoverinfo": "text",
            "marker": {"color": [data["number"][i] for i in idx], "colorscale": "Blues", "size": 7,
                       "line": {"width": 0.5, "color": "#555"}, "showscale": k == 0,
                       "colorbar": {"title": {"text": "trial"}, "thickness": 14}},
        })
        layout[xkey] = {**param_axis_layout(axis), "domain": dom["x"], "anchor": yref}
        layout[ykey] = {"domain": dom["y"], "anchor": xref, "gridcolor": GRID,
                        "title": {"text": text(obj["name"]) if k % cols == 0 else ""}}
    return {"data": traces, "layout": layout}


def contour(data: dict[str, Any]) -> dict[str, Any]:
    obj, pairs = data["objective"], data["pairs"]
    if not pairs:
        return {"data": [], "layout": {"annotations": [_no_data("a contour needs two parameters and COMPLETE trials")]}}
    axes = {a["name"]: a for a in data["params"]}
    cols = min(len(pairs), 3)
    doms = panels(len(pairs), cols, gap=0.1)
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"showlegend": False, "height": 380 * math.ceil(len(pairs) / cols) + 80}
    for k, (pair, dom) in enumerate(zip(pairs, doms)):
        ax, ay = axes[pair["x"]], axes[pair["y"]]
        xref, xkey = axis_name(k, "x")
        yref, ykey = axis_name(k, "y")
        grid = pair["grid"]
        traces.append({
            "type": "contour", "xaxis": xref, "yaxis": yref, "x": grid["x"], "y": grid["y"], "z": grid["z"],
            "connectgaps": True, "colorscale": COLORSCALE, "reversescale": reversed_scale(obj["direction"]),
            "showscale": k == 0, "colorbar": colorbar(obj["name"]), "hoverinfo": "z",
            "contours": {"coloring": "heatmap"}, "line": {"width": 0.5},
        })
        idx = [i for i in range(len(data["number"])) if ax["values"][i] is not None and ay["values"][i] is not None]
        traces.append({
            "type": "scatter", "mode": "markers", "xaxis": xref, "yaxis": yref,
            "x": [ax["values"][i] for i in idx], "y": [ay["values"][i] for i in idx],
            "text": [_hover(data, i, ax, ay) for i in idx], "hoverinfo": "text",
            "marker": {"color": "black", "size": 4, "opacity": 0.6},
        })
        layout[xkey] = {**param_axis_layout(ax), "domain": dom["x"], "anchor": yref}
        layout[ykey] = {**param_axis_layout(ay), "domain": dom["y"], "anchor": xref}
    return {"data": traces, "layout": layout}


def importance(data: dict[str, Any]) -> dict[str, Any]:
    items = list(reversed(data["importances"]))  # the most important on top
    if not items:
        msg = data.get("message") or "no parameters"
        return {"data": [], "layout": {"annotations": [_no_data(text(msg))]}}
    names = [text(it["name"]) for it in items]
    trace = {
        "type": "bar", "orientation": "h", "x": [it["share"] for it in items], "y": list(range(len(items))),
        "text": [f"{it['share']:.1%}" for it in items], "textposition": "outside",
        "hovertext": [f"{n}: {it['share']:.3f}" for n, it in zip(names, items)], "hoverinfo": "text",
        "marker": {"color": "#1f77b4"},
    }
    layout = {
        "xaxis": {"title": {"text": f"share of importance ({text(data['method'])}, "
                                    f"{text(data['objective']['name'])})"},
                  "range": [0, 1.1 * max(1e-9, max(it["share"] for it in items))], "gridcolor": GRID},
        "yaxis": {"tickmode": "array", "tickvals": list(range(len(items))), "ticktext": names, "automargin": True},
        "height": max(300, 40 * len(items) + 140),
    }
    return {"data": [trace], "layout": layout}
