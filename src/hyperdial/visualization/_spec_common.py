"""What the plotly.js specs share: escaping, number formats, axes, panels, colours."""

from __future__ import annotations

import html
import math
from typing import Any

STATE_COLORS = {
    "COMPLETE": "#1f77b4",
    "PRUNED": "#ff7f0e",
    "FAIL": "#d62728",
    "RUNNING": "#2ca02c",
    "WAITING": "#7f7f7f",
}
GRID = "#e5e5e5"


def text(value: Any) -> str:
    """User text as plotly.js shows it literally: ``&``, ``<`` and ``>`` as entities, which plotly.js
    turns back into characters after reading its HTML-like tags, so no tag of the user's is read.

    >>> text('"><img src=x onerror=alert(1)>')
    '"&gt;&lt;img src=x onerror=alert(1)&gt;'
    """
    return html.escape(str(value), quote=False)


def num(x: Any) -> str:
    """A number as hover text reads it."""
    if x is None:
        return "-"
    if isinstance(x, int):
        return str(x)
    return f"{x:.6g}"


def axis_name(index: int, letter: str) -> tuple[str, str]:
    """The trace reference ("x2") and the layout key ("xaxis2") of panel `index` (0-based)."""
    suffix = "" if index == 0 else str(index + 1)
    return f"{letter}{suffix}", f"{letter}axis{suffix}"


def panels(n: int, cols: int, *, gap: float = 0.08, bottom: float = 0.0, top: float = 1.0) -> list[dict[str, Any]]:
    """Domains of `n` panels in a grid of `cols` columns, filling rows from the top."""
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    w = (1.0 - gap * (cols - 1)) / cols
    h = ((top - bottom) - gap * (rows - 1)) / rows
    out = []
    for k in range(n):
        r, c = divmod(k, cols)
        x0 = c * (w + gap)
        y1 = top - r * (h + gap)
        out.append({"x": [round(x0, 4), round(x0 + w, 4)], "y": [round(y1 - h, 4), round(y1, 4)]})
    return out


def param_axis_layout(axis: dict[str, Any]) -> dict[str, Any]:
    """A plotly axis for one parameter of `data`: log type, or categories as escaped tick labels."""
    out: dict[str, Any] = {"title": {"text": text(axis["name"])}, "gridcolor": GRID, "zeroline": False}
    if axis["type"] == "categorical":
        n = len(axis["labels"])
        out.update(tickmode="array", tickvals=list(range(n)), ticktext=[text(s) for s in axis["labels"]],
                   range=[-0.5, n - 0.5])
    elif axis["log"]:
        out["type"] = "log"
    return out


def param_value_text(axis: dict[str, Any], v: Any) -> str:
    if v is None:
        return "-"
    if axis["type"] == "categorical":
        return text(axis["labels"][v])
    return num(v)


def colorbar(title: str) -> dict[str, Any]:
    return {"title": {"text": text(title)}, "thickness": 14}


COLORSCALE = "Viridis"


def reversed_scale(direction: str) -> bool:
    """Viridis runs dark (low) to yellow (high): reversed when maximising, so dark is always best."""
    return direction == "maximize"
