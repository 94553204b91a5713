"""What the matplotlib renderers share: a pyplot-free Figure, text without mathtext, axes per parameter."""

from __future__ import annotations

import math
from typing import Any

from hyperdial._imports import optional_import

STATE_COLORS = {"COMPLETE": "#1f77b4", "PRUNED": "#ff7f0e", "FAIL": "#d62728", "RUNNING": "#2ca02c",
                "WAITING": "#7f7f7f"}


def figure(n_panels: int, cols: int, *, panel: tuple[float, float] = (4.6, 3.6)) -> tuple[Any, list[Any]]:
    """A matplotlib Figure (no pyplot: no global state, no GUI backend) with a grid of panels."""
    mpl_figure = optional_import("matplotlib.figure", extra="plot", purpose="matplotlib plots")
    cols = max(1, min(cols, n_panels))
    rows = max(1, math.ceil(n_panels / cols))
    fig = mpl_figure.Figure(figsize=(panel[0] * cols + 0.8, panel[1] * rows + 0.8), layout="constrained")
    axes = [fig.add_subplot(rows, cols, k + 1) for k in range(n_panels)]
    return fig, axes


MAX_LABEL = 32  # a longer name is cut: a figure for a paper has no room for it, and the layout would collapse


def t(value: Any, width: int = MAX_LABEL) -> str:
    r"""User text shown as typed: a '$' would start matplotlib's mathtext (and a bad formula fails the
    draw). Cut to `width` characters, the cut marked with an ellipsis.

    >>> print(t("cost in $ (log $)"))
    cost in \$ (log \$)
    """
    s = str(value)
    if len(s) > width:
        s = s[: width - 1] + "\u2026"
    return s.replace("$", r"\$")


def message(fig: Any, ax: Any, text: str) -> Any:
    ax.axis("off")
    ax.text(0.5, 0.5, t(text), ha="center", va="center", transform=ax.transAxes)
    return fig


def set_param_axis(ax: Any, axis: dict[str, Any], which: str = "x") -> None:
    """Log scale, or categories at their index with their labels, for one parameter axis."""
    set_label = ax.set_xlabel if which == "x" else ax.set_ylabel
    set_label(t(axis["name"]))
    if axis["type"] == "categorical":
        n = len(axis["labels"])
        (ax.set_xticks if which == "x" else ax.set_yticks)(range(n), [t(s) for s in axis["labels"]])
        (ax.set_xlim if which == "x" else ax.set_ylim)(-0.5, n - 0.5)
    elif axis["log"]:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")


def cmap(direction: str) -> str:
    """viridis, dark = best whatever the direction."""
    return "viridis_r" if direction == "maximize" else "viridis"
