"""matplotlib renderers of the trial plots: history, compare, intermediate values, Pareto front, timeline."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from hyperdial._imports import optional_import
from hyperdial.visualization._mpl_common import STATE_COLORS, figure, message, t

_STUDY_COLORS = ("#1f77b4", "#d62728")


def _series(ax: Any, s: dict[str, Any], label: str, color: str, study: bool = False) -> None:
    name = t(label)
    points, line = (f"{name}: value", f"{name}: best so far") if study else (name, f"best {name}")
    ax.scatter(s["number"], s["value"], s=14, color=color, alpha=0.5, label=points)
    ax.step(s["best"]["number"], s["best"]["value"], where="post", color=color, linewidth=2, label=line)


def history(data: dict[str, Any]) -> Any:
    objectives = data["objectives"]
    fig, axes = figure(len(objectives), 1, panel=(7.5, 3.6))
    if not any(o["number"] for o in objectives):
        return message(fig, axes[0], "no COMPLETE trials yet")
    for ax, o in zip(axes, objectives):
        _series(ax, o, o["name"], _STUDY_COLORS[0])
        ax.set_xlabel("trial")
        ax.set_ylabel(f"{t(o['name'])} ({o['direction']})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def compare(data: dict[str, Any]) -> Any:
    fig, (ax,) = figure(1, 1, panel=(7.5, 4.0))
    for s, color in zip(data["studies"], _STUDY_COLORS):
        _series(ax, s, s["name"], color, study=True)
    obj = data["objective"]
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{t(obj['name'])} ({obj['direction']})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def intermediate(data: dict[str, Any]) -> Any:
    fig, (ax,) = figure(1, 1, panel=(7.5, 4.0))
    if not data["curves"]:
        return message(fig, ax, "no trial reported intermediate values")
    collections = optional_import("matplotlib.collections", extra="plot")
    for state, color in STATE_COLORS.items():
        segs = [[(s, v) for s, v in zip(c["step"], c["value"]) if v is not None]
                for c in data["curves"] if c["state"] == state]
        if segs:
            ax.add_collection(collections.LineCollection(segs, colors=color, linewidths=0.9, alpha=0.7, label=state))
    stops = [c for c in data["curves"] if c["state"] == "PRUNED" and c["step"] and c["value"][-1] is not None]
    if stops:
        ax.scatter([c["step"][-1] for c in stops], [c["value"][-1] for c in stops], marker="x",
                   color=STATE_COLORS["PRUNED"], s=30, label="pruned here", zorder=3)
    ax.autoscale()
    ax.set_xlabel("step")
    ax.set_ylabel("intermediate value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def pareto(data: dict[str, Any]) -> Any:
    """2 objectives: one panel; 3: a 3-D scatter; more: pairs of objectives. The hypervolume below."""
    objs = data["objectives"]
    labels = [f"{t(o['name'])} ({o['direction']})" for o in objs]
    mpl_figure = optional_import("matplotlib.figure", extra="plot", purpose="matplotlib plots")
    three_d = len(objs) == 3
    pairs = [] if three_d else list(itertools.combinations(range(len(objs)), 2))[:6]
    cols = 1 if three_d else min(3, len(pairs))
    fig = mpl_figure.Figure(figsize=(4.8 * cols + 0.8, 8.2 if three_d else 6.8), layout="constrained")
    grid = fig.add_gridspec(2, cols, height_ratios=[3, 1.2] if not three_d else [4, 1.2])
    groups = [("Pareto front", "#d62728", 28), ("dominated", "#9ecae1", 12), ("infeasible", "#bbbbbb", 10)]

    def members(name: str) -> list[int]:
        return [i for i, (f, ok) in enumerate(zip(data["front"], data["feasible"]))
                if (name == "Pareto front" and f) or (name == "dominated" and ok and not f)
                or (name == "infeasible" and not ok)]

    if not data["number"]:
        ax = fig.add_subplot(grid[:, :])
        return message(fig, ax, "no COMPLETE trials yet")
    if three_d:
        ax3 = fig.add_subplot(grid[0, 0], projection="3d")
        for name, color, size in groups:
            idx = members(name)
            if idx:
                ax3.scatter(*[[data["values"][i][j] for i in idx] for j in range(3)], c=color, s=size, label=name)
        ax3.set_xlabel(labels[0])
        ax3.set_ylabel(labels[1])
        ax3.set_zlabel(labels[2])
        ax3.legend(fontsize=8)
    for k, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(grid[0, k % cols])
        for name, color, size in groups:
            idx = members(name)
            if idx:
                ax.scatter([data["values"][i][a] for i in idx], [data["values"][i][b] for i in idx], c=color,
                           s=size, label=name, zorder=3 if name == "Pareto front" else 2)
        ax.set_xlabel(labels[a])
        ax.set_ylabel(labels[b])
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=8)
    hv_ax = fig.add_subplot(grid[1, :])
    hv = data["hypervolume"]
    hv_ax.step(hv["number"], hv["value"], where="post", color="#2ca02c", marker=".")
    hv_ax.set_xlabel("trial")
    hv_ax.set_ylabel("hypervolume")
    hv_ax.grid(alpha=0.3)
    return fig


def timeline(data: dict[str, Any]) -> Any:
    lanes = data["lanes"]
    fig, (ax,) = figure(1, 1, panel=(8.0, max(2.5, 0.35 * len(lanes) + 1.5)))
    if not data["number"]:
        return message(fig, ax, "no trial has started yet")
    dates = optional_import("matplotlib.dates", extra="plot")
    now = data["now"]
    for state, color in STATE_COLORS.items():
        idx = [i for i, s in enumerate(data["state"]) if s == state]
        if not idx:
            continue
        start = [dates.date2num(_dt(data["start"][i])) for i in idx]
        end = [dates.date2num(_dt(data["end"][i] or now)) for i in idx]
        ax.barh([data["lane"][i] for i in idx], [max(e - s, 1e-8) for s, e in zip(start, end)], left=start,
                color=color, label=state, height=0.8)
    ax.set_yticks(range(len(lanes)), [t(x) for x in lanes])
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("worker" if data["lane_source"] != "inferred" else "lane")
    ax.legend(fontsize=8)
    return fig


def _dt(s: str) -> datetime:
    d = datetime.fromisoformat(s)
    return d if d.tzinfo is None else d.astimezone(timezone.utc).replace(tzinfo=None)
