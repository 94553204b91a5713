"""The web dashboard: every study of a storage, live, offline, read-only by default.

`hyperdial dashboard --storage sqlite:///hyperdial.db` (or `hd.dashboard.run(storage)`) serves it
on http://127.0.0.1:8080; `create_app(storage)` returns the ASGI app to mount in another one.
Needs `pip install 'hyperdial[dashboard]'` (Starlette, uvicorn, plotly for its plotly.js file).
See docs/dashboard.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperdial.storage.base import Storage

__all__ = ["create_app", "run"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def create_app(storage: str | Storage, *, allow_write: bool = False, allowed_hosts: Sequence[str] | None = None,
               poll_ms: int = 2000) -> Any:
    """The dashboard as an ASGI (Starlette) app; see `hyperdial.dashboard.app.create_app`."""
    from hyperdial._imports import optional_import

    optional_import("starlette", extra="dashboard", purpose="the dashboard")
    from hyperdial.dashboard.app import create_app as _create

    return _create(storage, allow_write=allow_write, allowed_hosts=allowed_hosts, poll_ms=poll_ms)


def run(storage: str | Storage, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_write: bool = False,
        log_level: str = "warning") -> None:
    """Serve the dashboard with uvicorn until Ctrl-C (binds to 127.0.0.1 unless told otherwise).

    The storage is opened first, so a mistyped SQLite path fails here with a clear error
    instead of serving an empty database.
    """
    from hyperdial._imports import optional_import
    from hyperdial._validation import InstanceOf, Int, check
    from hyperdial.dashboard.app import loopback_hosts
    from hyperdial.storage.base import get_storage

    check("host", host, InstanceOf(str, what="a host name or address"))
    port = check("port", port, Int(low=0, high=65535))
    uvicorn = optional_import("uvicorn", extra="dashboard", purpose="serving the dashboard")
    store = get_storage(storage, create=False)
    app = create_app(store, allow_write=allow_write, allowed_hosts=loopback_hosts(host))
    mode = "read-write" if allow_write else "read-only"
    shown = f"[{host}]" if ":" in host else host
    print(f"hyperdial dashboard ({mode}) at http://{shown}:{port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
