"""plotly.js specs of the trial plots: history, compare, intermediate values, Pareto front, timeline."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from hyperdial.visualization._spec_common import GRID, STATE_COLORS, axis_name, num, panels, text

_STUDY_COLORS = ("#1f77b4", "#d62728")


def _message(message: str) -> dict[str, Any]:
    return {"data": [], "layout": {"annotations": [{"text": message, "showarrow": False, "xref": "paper",
                                                    "yref": "paper", "x": 0.5, "y": 0.5, "font": {"size": 14}}]}}


def _series_traces(s: dict[str, Any], label: str, color: str, xref: str = "x", yref: str = "y",
                   legend: bool = True) -> list[dict[str, Any]]:
    """The values as markers and the best-so-far as a step line, for one objective of one study."""
    name = text(label)
    return [
        {"type": "scatter", "mode": "markers", "name": f"{name}: value", "x": s["number"], "y": s["value"],
         "xaxis": xref, "yaxis": yref, "marker": {"color": color, "size": 6, "opacity": 0.6},
         "text": [f"trial {n}<br>{name}: {num(v)}" for n, v in zip(s["number"], s["value"])],
         "hoverinfo": "text", "showlegend": legend},
        {"type": "scatter", "mode": "lines", "name": f"{name}: best so far", "x": s["best"]["number"],
         "y": s["best"]["value"], "xaxis": xref, "yaxis": yref, "line": {"color": color, "shape": "hv", "width": 2},
         "text": [f"best after trial {n}: {num(v)}" for n, v in zip(s["best"]["number"], s["best"]["value"])],
         "hoverinfo": "text", "showlegend": legend},
    ]


def history(data: dict[str, Any]) -> dict[str, Any]:
    objectives = data["objectives"]
    if not any(o["number"] for o in objectives):
        return _message("no COMPLETE trials yet")
    doms = panels(len(objectives), 1, gap=0.1)
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"height": 380 * len(objectives) + 60, "legend": {"orientation": "h", "y": -0.12}}
    for k, (o, dom) in enumerate(zip(objectives, doms)):
        xref, xkey = axis_name(k, "x")
        yref, ykey = axis_name(k, "y")
        traces += _series_traces(o, o["name"], _STUDY_COLORS[0], xref, yref)
        layout[xkey] = {"domain": dom["x"], "anchor": yref, "gridcolor": GRID, "title": {"text": "trial"}}
        layout[ykey] = {"domain": dom["y"], "anchor": xref, "gridcolor": GRID,
                        "title": {"text": f"{text(o['name'])} ({o['direction']})"}}
    return {"data": traces, "layout": layout}


def compare(data: dict[str, Any]) -> dict[str, Any]:
    studies = data["studies"]
    traces: list[dict[str, Any]] = []
    for s, color in zip(studies, _STUDY_COLORS):
        traces += _series_traces(s, s["name"], color)
    obj = data["objective"]
    best = ", ".join(f"{text(s['name'])}: {num(s['best_value'])}" for s in studies)
    layout = {"xaxis": {"title": {"text": "trial"}, "gridcolor": GRID},
              "yaxis": {"title": {"text": f"{text(obj['name'])} ({obj['direction']})"}, "gridcolor": GRID},
              "legend": {"orientation": "h", "y": -0.15},
              "annotations": [{"text": f"best: {best}", "showarrow": False, "xref": "paper", "yref": "paper",
                               "x": 0, "y": 1.06, "xanchor": "left"}]}
    return {"data": traces, "layout": layout}


def intermediate(data: dict[str, Any]) -> dict[str, Any]:
    """One trace per state (curves joined with gaps, so 400 curves cost 3 traces), pruned stops as x."""
    curves = data["curves"]
    if not curves:
        return _message("no trial reported intermediate values")
    traces: list[dict[str, Any]] = []
    for state in ("COMPLETE", "PRUNED", "RUNNING", "FAIL", "WAITING"):
        xs: list[Any] = []
        ys: list[Any] = []
        hover: list[Any] = []
        for c in curves:
            if c["state"] != state:
                continue
            xs += [*c["step"], None]
            ys += [*c["value"], None]
            hover += [f"trial {c['number']} ({state})<br>step {s}: {num(v)}" for s, v in zip(c["step"], c["value"])]
            hover.append("")
        if xs:
            traces.append({"type": "scatter", "mode": "lines+markers", "name": state, "x": xs, "y": ys,
                           "text": hover, "hoverinfo": "text", "connectgaps": False,
                           "line": {"color": STATE_COLORS[state], "width": 1},
                           "marker": {"size": 3, "color": STATE_COLORS[state]}, "opacity": 0.7})
    stops = [c for c in curves if c["state"] == "PRUNED" and c["step"]]
    if stops:
        traces.append({"type": "scatter", "mode": "markers", "name": "pruned here",
                       "x": [c["step"][-1] for c in stops], "y": [c["value"][-1] for c in stops],
                       "text": [f"trial {c['number']} pruned at step {c['step'][-1]}" for c in stops],
                       "hoverinfo": "text",
                       "marker": {"symbol": "x", "size": 9, "color": STATE_COLORS["PRUNED"],
                                  "line": {"width": 1, "color": "#333"}}})
    layout = {"xaxis": {"title": {"text": "step"}, "gridcolor": GRID},
              "yaxis": {"title": {"text": "intermediate value"}, "gridcolor": GRID}}
    return {"data": traces, "layout": layout}


def pareto(data: dict[str, Any], *, three_d: bool = False) -> dict[str, Any]:
    objs = data["objectives"]
    if not data["number"]:
        return _message("no COMPLETE trials yet")
    labels = [f"{text(o['name'])} ({o['direction']})" for o in objs]
    groups = {
        "Pareto front": ([i for i, (f, ok) in enumerate(zip(data["front"], data["feasible"])) if f], "#d62728"),
        "dominated": ([i for i, (f, ok) in enumerate(zip(data["front"], data["feasible"])) if not f and ok],
                      "#9ecae1"),
        "infeasible": ([i for i, ok in enumerate(data["feasible"]) if not ok], "#bbbbbb"),
    }

    def hover(i: int) -> str:
        vals = "<br>".join(f"{text(o['name'])}: {num(v)}" for o, v in zip(objs, data["values"][i]))
        return f"trial {data['number'][i]}<br>{vals}"

    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"legend": {"orientation": "h", "y": -0.08}}
    if len(objs) == 3 and three_d:
        for name, (idx, color) in groups.items():
            if idx:
                traces.append({"type": "scatter3d", "mode": "markers", "name": name,
                               **{a: [data["values"][i][j] for i in idx] for j, a in enumerate("xyz")},
                               "text": [hover(i) for i in idx], "hoverinfo": "text",
                               "marker": {"color": color, "size": 4}})
        layout["scene"] = {f"{a}axis": {"title": {"text": labels[j]}} for j, a in enumerate("xyz")}
        layout["scene"]["domain"] = {"x": [0, 1], "y": [0.3, 1]}
        pairs: list[tuple[int, int]] = []
    else:
        pairs = list(itertools.combinations(range(len(objs)), 2))[:6]
    doms = panels(len(pairs), min(3, len(pairs)), gap=0.1, bottom=0.32) if pairs else []
    for k, ((a, b), dom) in enumerate(zip(pairs, doms)):
        xref, xkey = axis_name(k, "x")
        yref, ykey = axis_name(k, "y")
        for name, (idx, color) in groups.items():
            if idx:
                traces.append({"type": "scatter", "mode": "markers", "name": name, "xaxis": xref, "yaxis": yref,
                               "x": [data["values"][i][a] for i in idx], "y": [data["values"][i][b] for i in idx],
                               "text": [hover(i) for i in idx], "hoverinfo": "text", "legendgroup": name,
                               "showlegend": k == 0, "marker": {"color": color, "size": 7 if name == "Pareto front"
                                                                else 5}})
        layout[xkey] = {"domain": dom["x"], "anchor": yref, "gridcolor": GRID, "title": {"text": labels[a]}}
        layout[ykey] = {"domain": dom["y"], "anchor": xref, "gridcolor": GRID, "title": {"text": labels[b]}}
    # The hypervolume history: the last panel, across the bottom.
    k = len(pairs)
    xref, xkey = axis_name(k, "x")
    yref, ykey = axis_name(k, "y")
    hv = data["hypervolume"]
    traces.append({"type": "scatter", "mode": "lines+markers", "name": "hypervolume", "xaxis": xref, "yaxis": yref,
                   "x": hv["number"], "y": hv["value"], "line": {"shape": "hv", "color": "#2ca02c"},
                   "text": [f"after trial {n}: {num(v)}" for n, v in zip(hv["number"], hv["value"])],
                   "hoverinfo": "text"})
    ref = ", ".join(num(r) for r in data["reference"] or [])
    layout[xkey] = {"domain": [0, 1], "anchor": yref, "gridcolor": GRID, "title": {"text": "trial"}}
    layout[ykey] = {"domain": [0, 0.2], "anchor": xref, "gridcolor": GRID,
                    "title": {"text": f"hypervolume<br>(ref. {ref})"}}
    layout["height"] = 320 * max(1, -(-len(pairs) // 3)) + 320
    return {"data": traces, "layout": layout}


def timeline(data: dict[str, Any]) -> dict[str, Any]:
    """Horizontal bars on a date axis: `base` is the start, `x` the duration in milliseconds."""
    if not data["number"]:
        return _message("no trial has started yet")
    now = data["now"]
    traces = []
    for state, color in STATE_COLORS.items():
        idx = [i for i, s in enumerate(data["state"]) if s == state]
        if not idx:
            continue
        starts = [_dt(data["start"][i]) for i in idx]
        ends = [_dt(data["end"][i] or now) for i in idx]
        ms = [max(1.0, (e - s).total_seconds() * 1000) for s, e in zip(starts, ends)]
        traces.append({"type": "bar", "orientation": "h", "name": state, "x": ms,
                       "base": [s.isoformat(sep=" ") for s in starts],
                       "y": [data["lane"][i] for i in idx], "marker": {"color": color},
                       "text": [f"trial {data['number'][i]} ({state})<br>{num(m / 1000)} s" for i, m in zip(idx, ms)],
                       "hoverinfo": "text", "textposition": "none"})
    lanes = [text(x) for x in data["lanes"]]
    layout = {"barmode": "overlay", "xaxis": {"type": "date", "title": {"text": "time (UTC)"}, "gridcolor": GRID},
              "yaxis": {"tickmode": "array", "tickvals": list(range(len(lanes))), "ticktext": lanes,
                        "title": {"text": "worker" if data["lane_source"] != "inferred" else "lane"},
                        "autorange": "reversed", "automargin": True},
              "height": max(300, 30 * len(lanes) + 160)}
    return {"data": traces, "layout": layout}


def _dt(s: str) -> datetime:
    """A naive UTC datetime: plotly.js date axes read no time-zone offsets."""
    d = datetime.fromisoformat(s)
    return d if d.tzinfo is None else d.astimezone(timezone.utc).replace(tzinfo=None)
