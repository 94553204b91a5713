"""The dashboard as a Starlette (ASGI) app: HTML shells, a JSON API under /api, static assets.

Read-only unless `allow_write=True`: then POST routes mark a RUNNING trial failed, add a note
and stop a study; each needs the page's token in the `X-Hyperdial-Token` header (a page of
another site can neither read the token nor send that header without a CORS preflight,
which this app never grants). Every failure is a clear page or JSON `{"error": ...}`, never
a stack trace; the server goes on serving.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import secrets
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

import hyperdial as hd
from hyperdial.dashboard import _html, _payload, _plots
from hyperdial.dashboard._service import CORRUPT, Gone, Service, now_note, unreadable, with_note
from hyperdial.exceptions import InvalidParameterError, StorageError, StudyNotFound, TrialFinishedError, TrialNotFound
from hyperdial.storage.base import Storage, get_storage
from hyperdial.trial import TrialState

_logger = logging.getLogger("hyperdial.dashboard")
_STATIC = os.path.join(os.path.dirname(__file__), "static")
_STATIC_FILES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
MAX_NOTE = 10_000  # characters in one note
TOKEN_HEADER = "x-hyperdial-token"

# No inline script anywhere: the pages load only this app's own files, so injected markup could not
# run even if it slipped past the escaping. plotly.js sets inline styles (hence 'unsafe-inline' for styles),
# and its WebGL traces (parallel coordinates) build their draw calls with `new Function` (regl's code
# generation; without 'unsafe-eval' the plot shows "WebGL is not supported"). No code of ours evaluates text.
_CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'")
_SECURITY_HEADERS = {
    "content-security-policy": _CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class SafeJSON(JSONResponse):
    """JSON without NaN (as strings) and with '<' escaped, so no response parses as HTML."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(_payload.jsonable(content), allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode("utf-8")


def _plotly_js() -> str | None:
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(next(iter(spec.submodule_search_locations)), "package_data", "plotly.min.js")
    return path if os.path.exists(path) else None


def _classify(exc: BaseException) -> tuple[int, str, str]:
    """(HTTP status, title, message) for an error, without a stack trace."""
    if isinstance(exc, StudyNotFound):
        return 404, "Study not found", f"{exc}. It may have been deleted."
    if isinstance(exc, TrialNotFound):
        return 404, "Trial not found", str(exc)
    if isinstance(exc, InvalidParameterError):
        return 400, "Bad request", str(exc)
    if isinstance(exc, TrialFinishedError):
        return 409, "Trial already finished", str(exc)
    if isinstance(exc, Gone):
        return 503, "Storage gone", str(exc)
    if isinstance(exc, StorageError) or type(exc).__module__.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg"):
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return 503, "Storage unavailable", f"the storage cannot be read: {first}"
    if isinstance(exc, CORRUPT):
        return 500, "Unreadable data", unreadable(exc)
    return 500, "Server error", f"unexpected error: {type(exc).__name__}: {exc}"


Handler = Callable[[Request], Awaitable[Response]]


def _api(fn: Callable[..., Any]) -> Handler:
    """A JSON route: `fn(request)` runs in a worker thread (storage calls block); errors become JSON."""

    @functools.wraps(fn)
    async def route(request: Request) -> Response:
        try:
            result = await run_in_threadpool(fn, request)
        except Exception as exc:
            status, _, message = _classify(exc)
            if status >= 500:
                _logger.warning("%s %s: %s", request.method, request.url.path, message, exc_info=status == 500)
            return SafeJSON({"error": message}, status_code=status)
        return result if isinstance(result, Response) else SafeJSON(result)

    return route


def _int_param(request: Request, name: str, default: int, low: int = 0, high: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidParameterError(f"query parameter {name!r} must be an integer, got {text!r}") from None
    if value < low or (high is not None and value > high):
        raise InvalidParameterError(f"query parameter {name!r} must be in {low}..{high}, got {value}")
    return value


def _filters(text: str | None) -> dict[str, Any] | None:
    """`filters={"lr": [low, high], "opt": {"in": ["adam"]}}` (JSON) -> page_trials' param_filters."""
    if not text:
        return None
    try:
        raw = json.loads(text)
    except ValueError:
        raise InvalidParameterError(f"query parameter 'filters' must be JSON, got {text!r}") from None
    if not isinstance(raw, dict):
        raise InvalidParameterError(f"query parameter 'filters' must be a JSON object, got {text!r}")
    out: dict[str, Any] = {}
    for name, spec in raw.items():
        if isinstance(spec, list) and len(spec) == 2:
            out[name] = (spec[0], spec[1])
        elif isinstance(spec, dict) and isinstance(spec.get("in"), list):
            out[name] = list(spec["in"])
        else:
            raise InvalidParameterError(
                f"filter for {name!r} must be [low, high] or {{\"in\": [values]}}, got {json.dumps(spec)}")
    return out


def create_app(storage: str | Storage, *, allow_write: bool = False, allowed_hosts: Sequence[str] | None = None,
               poll_ms: int = 2000) -> Starlette:
    """The dashboard as an ASGI app, to serve with any ASGI server or mount in another app.

    `storage`: a URL (the SQLite file must exist) or a Storage. `allow_write`: enable the POST
    routes (fail a trial, add a note, stop a study). `allowed_hosts`: Host header names to
    answer (None: any; `run` passes the loopback names when it binds to loopback, which stops
    DNS-rebinding pages from reading the API). `poll_ms`: how often pages look for changes.

    >>> from starlette.testclient import TestClient
    >>> import hyperdial as hd
    >>> study = hd.create_study(study_name="demo", storage="sqlite://")
    >>> client = TestClient(create_app(study.storage))
    >>> [s["name"] for s in client.get("/api/studies").json()]
    ['demo']
    >>> client.post("/api/studies/1/stop").status_code
    403
    """
    store = get_storage(storage, create=False)
    service = Service(store)
    token = secrets.token_urlsafe(24)
    note_lock = threading.Lock()
    hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def shell(request: Request, kind: str, title: str, data: dict[str, object] | None = None) -> HTMLResponse:
        return HTMLResponse(_html.page(kind, title=title, root=root(request), token=token, writable=allow_write,
                                       data=data, poll_ms=poll_ms))

    def error_html(request: Request, exc: BaseException) -> HTMLResponse:
        status, title, message = _classify(exc)
        if status >= 500:
            _logger.warning("%s %s: %s", request.method, request.url.path, message, exc_info=status == 500)
        return HTMLResponse(_html.error_page(status, title, message, root=root(request)), status_code=status)

    # -- pages -------------------------------------------------------------------------------
    async def studies_page(request: Request) -> Response:
        try:
            await run_in_threadpool(service.check_present)
        except Exception as exc:  # noqa: BLE001
            return error_html(request, exc)
        return shell(request, "studies", "Studies")

    async def study_page(request: Request) -> Response:
        sid = request.path_params["study_id"]
        try:
            info = await run_in_threadpool(service.info, sid)
        except Exception as exc:  # noqa: BLE001
            return error_html(request, exc)
        return shell(request, "study", info.name, {"study-id": sid})

    async def trial_page(request: Request) -> Response:
        sid, number = request.path_params["study_id"], request.path_params["number"]
        try:
            info = await run_in_threadpool(service.info, sid)
            await run_in_threadpool(service.trial, sid, number)
        except Exception as exc:  # noqa: BLE001
            return error_html(request, exc)
        return shell(request, "trial", f"Trial {number} of {info.name}", {"study-id": sid, "trial": number})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        headers = {"cache-control": "max-age=3600"}
        if name == "plotly.min.js":
            path = _plotly_js()
            if path is None:
                return PlainTextResponse("plotly is not installed: pip install 'hyperdial[dashboard]'",
                                         status_code=404)
            return FileResponse(path, media_type="text/javascript", headers=headers)
        if name not in _STATIC_FILES:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(os.path.join(_STATIC, name), media_type=_STATIC_FILES[name], headers=headers)

    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(root(request) + "/api/"):
            return SafeJSON({"error": f"no such route: {request.url.path}"}, status_code=404)
        return HTMLResponse(_html.error_page(404, "Not found", f"No page at {request.url.path}.", root=root(request)),
                            status_code=404)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_html(request, exc)

    # -- the JSON API ------------------------------------------------------------------------
    def api_studies(request: Request) -> Any:
        return service.studies()

    def api_study(request: Request) -> Any:
        return service.overview(request.path_params["study_id"])

    def api_version(request: Request) -> Any:
        sid = request.path_params["study_id"]
        return {"version": service.version(sid)}

    def api_trials(request: Request) -> Any:
        sid = request.path_params["study_id"]
        states = request.query_params.getlist("state") or None
        return service.trials_page(
            sid,
            states=states,
            order_by=request.query_params.get("order_by", "number"),
            descending=request.query_params.get("desc", "0") in ("1", "true"),
            offset=_int_param(request, "offset", 0),
            limit=_int_param(request, "limit", 50, low=1, high=1000),
            param_filters=_filters(request.query_params.get("filters")),
        )

    def api_trial(request: Request) -> Any:
        sid, number = request.path_params["study_id"], request.path_params["number"]
        detail = service.trial_detail(sid, number)
        # Samplers record their choice only where it changes: the trial page shows the one in effect.
        try:
            choice = _payload.choice_in_effect(service.sampler_choices(sid, _version(sid)), number)
        except Exception:  # another trial's unreadable row must not take this page down
            _logger.debug("sampler choices unreadable for study %d", sid, exc_info=True)
            own = detail["sampler_choice"]
            choice = {**own, "trial": number} if isinstance(own, dict) else None
        detail["sampler_choice"] = None if choice is None else {**choice, "since": choice["trial"]}
        return detail

    def api_log(request: Request) -> Any:
        return service.trial_log(request.path_params["study_id"], request.path_params["number"])

    def _version(sid: int) -> str:
        return service.version(sid)

    def api_plot_kinds(request: Request) -> Any:
        sid = request.path_params["study_id"]
        try:
            return {"kinds": _plots.kinds(service, sid, _version(sid)), "error": None}
        except ImportError as exc:
            return {"kinds": [], "error": f"plots are unavailable: {exc}"}

    def api_plot(request: Request) -> Any:
        sid = request.path_params["study_id"]
        return _plots.figure(service, sid, request.path_params["kind"], _version(sid))

    def api_importance(request: Request) -> Any:
        sid = request.path_params["study_id"]
        return _plots.importance(service, sid, _version(sid))

    def api_choices(request: Request) -> Any:
        sid = request.path_params["study_id"]
        return {"choices": service.sampler_choices(sid, _version(sid))}

    # -- writes ------------------------------------------------------------------------------
    def _write_check(request: Request) -> Response | None:
        if not allow_write:
            return SafeJSON({"error": "this dashboard is read-only; start it with --allow-write to change studies"},
                            status_code=403)
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            return SafeJSON({"error": f"missing or wrong {TOKEN_HEADER} header (reload the page)"}, status_code=403)
        return None

    def _study(sid: int) -> hd.Study:
        return hd.open_study(study_name=service.info(sid).name, storage=store)

    def write(fn: Callable[[Request, dict[str, Any]], Any]) -> Handler:
        async def route(request: Request) -> Response:
            refused = _write_check(request)
            if refused is not None:
                return refused
            try:
                body = await request.json() if await request.body() else {}
            except ValueError:
                return SafeJSON({"error": "the request body must be JSON"}, status_code=400)
            if not isinstance(body, dict):
                return SafeJSON({"error": "the request body must be a JSON object"}, status_code=400)
            return await _api(lambda req: fn(req, body))(request)

        return route

    def api_fail(request: Request, body: dict[str, Any]) -> Any:
        sid, number = request.path_params["study_id"], request.path_params["number"]
        trial = service.trial(sid, number)
        if trial.state != TrialState.RUNNING:
            raise TrialFinishedError(f"trial {number} is {trial.state.name}: only a RUNNING trial can be marked failed")
        reason = body.get("reason") or "marked failed from the dashboard"
        if not isinstance(reason, str):
            raise InvalidParameterError("'reason' must be a string")
        _study(sid).tell(number, state=TrialState.FAIL, fail_reason=reason[:MAX_NOTE])
        return {"ok": True, "number": number, "state": "FAIL"}

    def api_note(request: Request, body: dict[str, Any]) -> Any:
        sid = request.path_params["study_id"]
        text, trial = body.get("text"), body.get("trial")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
            raise InvalidParameterError(f"'text' must be a non-empty string of at most {MAX_NOTE} characters")
        if trial is not None:
            if not isinstance(trial, int) or isinstance(trial, bool):
                raise InvalidParameterError("'trial' must be a trial number")
            service.trial(sid, trial)  # TrialNotFound for a wrong number
        with note_lock:  # a read-modify-write of one study attribute
            study = _study(sid)
            study.set_user_attr(_payload.NOTES_ATTR, with_note(study.user_attrs, now_note(text, trial)))
        return {"ok": True}

    def api_stop(request: Request, body: dict[str, Any]) -> Any:
        _study(request.path_params["study_id"]).stop(everywhere=True)
        return {"ok": True}

    # -- the app -----------------------------------------------------------------------------
    routes = [
        Route("/", studies_page),
        Route("/studies/{study_id:int}", study_page),
        Route("/studies/{study_id:int}/trials/{number:int}", trial_page),
        Route("/static/{name}", static),
        Route("/api/studies", _api(api_studies)),
        Route("/api/studies/{study_id:int}", _api(api_study)),
        Route("/api/studies/{study_id:int}/version", _api(api_version)),
        Route("/api/studies/{study_id:int}/trials", _api(api_trials)),
        Route("/api/studies/{study_id:int}/trials/{number:int}", _api(api_trial)),
        Route("/api/studies/{study_id:int}/trials/{number:int}/log", _api(api_log)),
        Route("/api/studies/{study_id:int}/plots", _api(api_plot_kinds)),
        Route("/api/studies/{study_id:int}/plots/{kind}", _api(api_plot)),
        Route("/api/studies/{study_id:int}/importance", _api(api_importance)),
        Route("/api/studies/{study_id:int}/choices", _api(api_choices)),
        Route("/api/studies/{study_id:int}/stop", write(api_stop), methods=["POST"]),
        Route("/api/studies/{study_id:int}/notes", write(api_note), methods=["POST"]),
        Route("/api/studies/{study_id:int}/trials/{number:int}/fail", write(api_fail), methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 500: server_error},
                     middleware=[Middleware(_Guard, hosts=hosts)])


class _Guard:
    """ASGI middleware: answer only to the allowed Host names, and add the security headers."""

    def __init__(self, app: Any, hosts: set[str] | None) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.hosts is not None:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
            name = host if host.endswith("]") else host.rsplit(":", 1)[0]
            if name not in self.hosts:
                response = PlainTextResponse(
                    f"this dashboard answers only to {', '.join(sorted(self.hosts))}, not to Host {host!r}",
                    status_code=421)
                await response(scope, receive, send)
                return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in _SECURITY_HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def loopback_hosts(host: str) -> list[str] | None:
    """The Host names to accept when serving on `host`: the loopback names for a loopback address."""
    if host in ("127.0.0.1", "localhost", "::1", "[::1]"):
        return ["127.0.0.1", "localhost", "[::1]", "::1"]
    return None
