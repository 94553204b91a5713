"""The HTML the server writes: a small shell per page (the page's script fills it from the JSON
API, inserting every name and value as text) and the error page. Every value that reaches the
HTML goes through `html.escape` here.

>>> "<script>" in page("studies", title="<script>alert(1)</script>", root="", token="t", writable=False)
False
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import hyperdial


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _head(title: str, root: str) -> str:
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)} \u00b7 hyperdial</title>"
        f"<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"{_e(root)}/static/dashboard.css\">"
        f"<script src=\"{_e(root)}/static/dashboard.js\" defer></script></head>"
    )


def _header(root: str, writable: bool) -> str:
    mode = "read-write" if writable else "read-only"
    return (
        f"<header><a class=\"brand\" href=\"{_e(root)}/\">hyperdial</a>"
        f"<nav id=\"crumbs\"></nav><span class=\"mode {mode}\">{mode}</span>"
        f"<span class=\"live\" id=\"live\" title=\"updates every few seconds\"></span></header>"
    )


def page(kind: str, *, title: str, root: str, token: str, writable: bool,
         data: Mapping[str, object] | None = None, poll_ms: int = 2000) -> str:
    """The shell of one page: `kind` is "studies", "study" or "trial"; `data` becomes data-* attributes."""
    attrs = {"page": kind, "root": root, "writable": "1" if writable else "0", "poll-ms": str(poll_ms),
             "csrf": token, **(data or {})}
    body_attrs = " ".join(f'data-{_e(k)}="{_e(v)}"' for k, v in attrs.items())
    return (
        _head(title, root)
        + f"<body {body_attrs}>"
        + _header(root, writable)
        + "<main id=\"app\"><p class=\"loading\">Loading\u2026</p>"
        "<noscript>This dashboard needs JavaScript (served from this machine; nothing is fetched from the "
        "internet).</noscript></main>"
        + f"<footer>hyperdial {_e(hyperdial.__version__)}</footer></body></html>\n"
    )


def error_page(status: int, title: str, message: str, *, root: str = "") -> str:
    """A clear page for a request that cannot be answered: what went wrong, no stack trace."""
    return (
        _head(title, root)
        + "<body data-page=\"error\">"
        + f"<header><a class=\"brand\" href=\"{_e(root)}/\">hyperdial</a></header>"
        + f"<main><h1>{_e(title)}</h1><p class=\"error\">{_e(message)}</p>"
        + f"<p><a href=\"{_e(root)}/\">All studies</a></p><p class=\"muted\">HTTP {int(status)}</p></main>"
        + "</body></html>\n"
    )
