"""matplotlib renderers of the parameter plots: parallel coordinates, slice, contour, importance."""

from __future__ import annotations

import math
from typing import Any

from hyperdial._imports import optional_import
from hyperdial.visualization._mpl_common import cmap, figure, message, set_param_axis, t


def _no_points(data: dict[str, Any], what: str) -> Any | None:
    if not data["number"] or not data.get("params"):
        fig, (ax,) = figure(1, 1)
        return message(fig, ax, what)
    return None


def slice_(data: dict[str, Any]) -> Any:
    empty = _no_points(data, "no COMPLETE trials with parameters yet")
    if empty is not None:
        return empty
    axes_data = data["params"]
    fig, axes = figure(len(axes_data), 3)
    obj = data["objective"]
    for k, (ax, axis) in enumerate(zip(axes, axes_data)):
        idx = [i for i, v in enumerate(axis["values"]) if v is not None]
        sc = ax.scatter([axis["values"][i] for i in idx], [obj["values"][i] for i in idx],
                        c=[data["number"][i] for i in idx], cmap="Blues", s=18, edgecolors="#555", linewidths=0.4)
        set_param_axis(ax, axis)
        if k % 3 == 0:
            ax.set_ylabel(t(obj["name"]))
        ax.grid(alpha=0.3)
    fig.colorbar(sc, ax=axes, label="trial")
    return fig


def parallel_coordinate(data: dict[str, Any]) -> Any:
    """Every axis scaled to [0, 1] (log10 for log axes, index for categories); trials without a
    parameter (conditional spaces) cross that axis at "(none)", below it."""
    if not data["number"]:
        fig, (ax,) = figure(1, 1)
        return message(fig, ax, "no COMPLETE trials yet")
    colors = optional_import("matplotlib.colors", extra="plot")
    cm = optional_import("matplotlib.cm", extra="plot")
    collections = optional_import("matplotlib.collections", extra="plot")
    obj = data["objective"]
    dims = [_scaled({"name": obj["name"], "type": "float", "log": False, "values": obj["values"],
                     "low": min(obj["values"]), "high": max(obj["values"])})] + [_scaled(a) for a in data["params"]]
    fig, (ax,) = figure(1, 1, panel=(max(6.0, 1.6 * len(dims)), 4.4))
    norm = colors.Normalize(min(obj["values"]), max(obj["values"]))
    mapper = cm.ScalarMappable(norm=norm, cmap=cmap(obj["direction"]))
    lines = [[(j, d["y"][i]) for j, d in enumerate(dims)] for i in range(len(data["number"]))]
    ax.add_collection(collections.LineCollection(lines, colors=mapper.to_rgba(obj["values"]), linewidths=0.8,
                                                 alpha=0.7))
    for j, d in enumerate(dims):
        ax.axvline(j, color="#333", linewidth=1)
        for pos, label in d["ticks"]:
            ax.text(j + 0.03, pos, label, fontsize=7, va="center")
    ax.set_xticks(range(len(dims)), [t(d["name"]) for d in dims])
    ax.set_xlim(-0.2, len(dims) - 0.6)
    ax.set_ylim(-0.2, 1.05)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.colorbar(mapper, ax=ax, label=t(obj["name"]))
    return fig


def _scaled(axis: dict[str, Any]) -> dict[str, Any]:
    vals = axis["values"]
    if axis["type"] == "categorical":
        n = len(axis["labels"])
        span = float(max(n - 1, 1))
        y = [None if v is None else v / span for v in vals]
        ticks = [(i / span, t(s)) for i, s in enumerate(axis["labels"])]
    else:
        f = math.log10 if axis["log"] else float
        lo = f(axis["low"]) if axis["low"] is not None else 0.0
        hi = f(axis["high"]) if axis["high"] is not None else 1.0
        span = (hi - lo) or 1.0
        y = [None if v is None else (f(v) - lo) / span for v in vals]
        ticks = [(k / 4, f"{(10 ** (lo + span * k / 4)) if axis['log'] else lo + span * k / 4:.3g}") for k in range(5)]
    if any(v is None for v in y):
        y = [-0.12 if v is None else v for v in y]
        ticks.append((-0.12, "(none)"))
    return {"name": axis["name"], "y": y, "ticks": ticks}


def contour(data: dict[str, Any]) -> Any:
    """The best value per grid cell (over all trials) as coloured cells, the trials as dots."""
    pairs = data.get("pairs") or []
    if not pairs:
        fig, (ax,) = figure(1, 1)
        return message(fig, ax, "a contour needs two parameters and COMPLETE trials")
    np = optional_import("numpy", extra="plot")
    obj = data["objective"]
    axes_data = {a["name"]: a for a in data["params"]}
    fig, axes = figure(len(pairs), 3)
    mesh = None
    for ax, pair in zip(axes, pairs):
        ax_x, ax_y = axes_data[pair["x"]], axes_data[pair["y"]]
        g = pair["grid"]
        if g["x"] and g["y"]:
            z = np.ma.masked_invalid(np.array([[np.nan if v is None else v for v in row] for row in g["z"]], float))
            mesh = ax.pcolormesh(g["x"], g["y"], z, shading="nearest", cmap=cmap(obj["direction"]))
        idx = [i for i in range(len(data["number"])) if ax_x["values"][i] is not None and ax_y["values"][i] is not None]
        ax.scatter([ax_x["values"][i] for i in idx], [ax_y["values"][i] for i in idx], s=6, c="black", alpha=0.6)
        set_param_axis(ax, ax_x, "x")
        set_param_axis(ax, ax_y, "y")
    if mesh is not None:
        fig.colorbar(mesh, ax=axes, label=f"best {t(obj['name'])} in cell")
    return fig


def importance(data: dict[str, Any]) -> Any:
    items = list(reversed(data["importances"]))
    fig, (ax,) = figure(1, 1, panel=(6.0, max(2.5, 0.45 * len(items) + 1.2)))
    if not items:
        return message(fig, ax, data.get("message") or "no parameters")
    shares = [it["share"] for it in items]
    ax.barh(range(len(items)), shares, color="#1f77b4")
    ax.set_yticks(range(len(items)), [t(it["name"]) for it in items])
    for i, s in enumerate(shares):
        ax.text(s, i, f" {s:.1%}", va="center", fontsize=8)
    ax.set_xlim(0, 1.15 * max(max(shares), 1e-9))
    ax.set_xlabel(f"share of importance ({t(data['method'])}, {t(data['objective']['name'])})")
    return fig
