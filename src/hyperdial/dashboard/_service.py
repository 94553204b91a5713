"""What the dashboard asks of a storage, in one place (no web framework here).

Pages and tables go through `hyperdial.storage.query` (SQL for SQLStorage: a 100,000-trial
study serves a page without loading its trials). Plots and importances read a light,
subsampled load of the trials, cached per study until the study changes.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from hyperdial import system_attrs
from hyperdial.dashboard import _payload
from hyperdial.exceptions import StorageError, StudyNotFound, TrialNotFound
from hyperdial.storage.base import Storage, StudyInfo, StudySummary
from hyperdial.storage.query import StudyOverview, page_trials, plot_trials, study_overview
from hyperdial.trial import FrozenTrial, TrialState

PLOT_TRIALS = 20_000  # trials loaded for plots and importance, evenly spaced over the study
CURVE_TRIALS = 2_000  # trials whose learning curves are loaded (a plot cannot show more curves)
LOG_TAIL = 256 * 1024  # bytes of a trial's log sent to the page (the end of it)
RETRY_SCAN = 2_000  # trials after a failed one searched for its rerun


# What reading a damaged row raises (json.JSONDecodeError is a ValueError; a bad distribution dict,
# KeyError or TypeError).
CORRUPT = (ValueError, KeyError, TypeError)


def unreadable(exc: BaseException) -> str:
    return f"a stored row of this study cannot be read (corrupt data?): {type(exc).__name__}: {exc}"


def _summary_overview(s: StudySummary) -> StudyOverview:
    """An overview from `list_studies`' counts alone (no best value, no parameters)."""
    counts = {state.name: 0 for state in TrialState}
    counts.update(s.state_counts)
    return StudyOverview(study_id=s.study_id, name=s.name, directions=tuple(s.directions), n_trials=s.n_trials,
                         state_counts=counts, best_values=tuple(None for _ in s.directions), best_trial_number=None,
                         n_pareto=None, last_activity=s.datetime_start, distributions={})


class Gone(StorageError):
    """The storage itself is no longer there (its SQLite file was deleted or moved)."""


class Service:
    """The dashboard's reads (and, with `allow_write`, its writes) over one storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._sqlite_path = _sqlite_path(storage)
        self._lock = threading.Lock()
        self._plots: OrderedDict[tuple[int, str], tuple[str, Any, float, float]] = OrderedDict()
        self._names: dict[int, str] = {}
        self._gates: dict[tuple[int, str], threading.Lock] = {}

    # -- guards ----------------------------------------------------------------------------
    def check_present(self) -> None:
        """Refuse to touch a SQLite file that vanished: SQLite would silently create an empty one."""
        if self._sqlite_path is not None and not os.path.exists(self._sqlite_path):
            raise Gone(f"the SQLite database {self._sqlite_path!r} no longer exists (deleted or moved?)")

    # -- studies ---------------------------------------------------------------------------
    def studies(self) -> list[dict[str, Any]]:
        self.check_present()
        out = []
        for s in self.storage.list_studies():
            try:
                out.append(_payload.study_line(study_overview(self.storage, s.study_id)))
            except StudyNotFound:  # deleted between the two reads
                continue
            except CORRUPT as exc:  # one unreadable row must not hide every other study
                out.append(_payload.study_line(_summary_overview(s), error=unreadable(exc)))
        return out

    def info(self, study_id: int) -> StudyInfo:
        """The study with this id (StudyNotFound if there is none, say it was deleted).

        Names are looked up by id once (`list_studies` counts every trial: slow at 100,000) and
        checked on each use, since an id can come back after its study was deleted."""
        self.check_present()
        name = self._names.get(study_id)
        if name is not None:
            try:
                info = self.storage.get_study(name)
                if info.study_id == study_id:
                    return info
            except StudyNotFound:
                pass
        self._names = {s.study_id: s.name for s in self.storage.list_studies()}
        if study_id not in self._names:
            raise StudyNotFound(f"no study with id {study_id}")
        return self.storage.get_study(self._names[study_id])

    def overview(self, study_id: int) -> dict[str, Any]:
        info = self.info(study_id)
        cursor = self.storage.poll(study_id, 1 << 62).cursor
        error = None
        try:
            ov = study_overview(self.storage, study_id)
        except CORRUPT as exc:  # the header from the plain counts; the page says what is wrong
            summary = next(s for s in self.storage.list_studies() if s.study_id == study_id)
            ov, error = _summary_overview(summary), unreadable(exc)
        return _payload.overview(ov, study_user_attrs=info.user_attrs, study_system_attrs=info.system_attrs,
                                 cursor=cursor, error=error)

    def version(self, study_id: int) -> str:
        """Changes whenever a trial finishes, starts, reports or gets a parameter, or the study's
        attributes change: what the page polls to know it must refresh. Reads the change cursor
        and the unfinished trials only (`poll` past any cursor: no finished trial is loaded)."""
        self.check_present()
        changes = self.storage.poll(study_id, 1 << 62)
        unfinished = tuple(
            (t.number, int(t.state), len(t.intermediate_values), len(t.params), len(t.user_attrs))
            for t in changes.trials if not t.state.is_finished()
        )
        info = self.info(study_id)
        attrs = repr(sorted(info.user_attrs.items(), key=lambda kv: kv[0]))
        return f"{changes.cursor}-{hash((unfinished, attrs)) & 0xFFFFFFFF:08x}"

    # -- trials ----------------------------------------------------------------------------
    def trials_page(self, study_id: int, **query: Any) -> dict[str, Any]:
        self.check_present()
        page = page_trials(self.storage, study_id, **query)
        return {"total": page.total, "offset": query.get("offset", 0), "limit": query.get("limit", 50),
                "trials": [_payload.trial_row(t) for t in page.trials]}

    def trial(self, study_id: int, number: int) -> FrozenTrial:
        """Trial `number` of the study (numbers are dense: it sits at that offset in number order)."""
        self.check_present()
        if number >= 0:
            page = page_trials(self.storage, study_id, offset=number, limit=1)
            if page.trials and page.trials[0].number == number:
                return page.trials[0]
        raise TrialNotFound(f"study {study_id} has no trial {number}")

    def trial_detail(self, study_id: int, number: int) -> dict[str, Any]:
        info = self.info(study_id)
        t = self.trial(study_id, number)
        return {"study_id": study_id, "study_name": info.name, "directions": list(info.directions),
                **_payload.trial_detail(t, retry_chain=self.retry_chain(study_id, t),
                                        notes=_payload.notes_of(info.user_attrs, number))}

    def retry_chain(self, study_id: int, trial: FrozenTrial) -> list[int]:
        """The numbers of every run of this trial's parameters, first to last (just it, if none)."""
        chain = [trial.number]
        current = trial
        while isinstance(current.system_attrs.get(system_attrs.RETRY_OF), int) and len(chain) < 100:
            try:
                current = self.trial(study_id, current.system_attrs[system_attrs.RETRY_OF])
            except TrialNotFound:
                break
            chain.insert(0, current.number)
        current = trial
        while current.state == TrialState.FAIL and len(chain) < 100:  # reruns come after their failure
            page = page_trials(self.storage, study_id, offset=current.number + 1, limit=RETRY_SCAN)
            rerun = next((t for t in page.trials if t.system_attrs.get(system_attrs.RETRY_OF) == current.number), None)
            if rerun is None:
                break
            chain.append(rerun.number)
            current = rerun
        return chain

    def trial_log(self, study_id: int, number: int) -> dict[str, Any]:
        """The end of a sweep trial's log file (its program's stdout and stderr)."""
        info = self.info(study_id)
        t = self.trial(study_id, number)
        path = t.user_attrs.get(_payload.LOG_ATTR)
        if not isinstance(path, str) or _payload.SWEEP_ATTR not in info.user_attrs:
            return {"path": None, "text": None, "error": "this trial has no log (it was not run by a sweep agent)"}
        if not path.endswith(".log"):
            return {"path": path, "text": None, "error": "the recorded log path does not name a .log file"}
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - LOG_TAIL))
                data = f.read()
        except OSError as exc:
            return {"path": path, "text": None,
                    "error": f"cannot read the log: {exc.strerror} (logs stay on the machine that ran the trial)"}
        return {"path": path, "text": data.decode("utf-8", errors="replace"), "truncated": size > LOG_TAIL,
                "size": size, "error": None}

    # -- plots and importance ----------------------------------------------------------------
    def cached(self, study_id: int, what: str, version: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once per study version (the last 32 results kept); concurrent requests for
        the same key wait for the first one's result instead of computing it again.

        While a study runs its version changes with every trial: a result is then reused until it
        is 5 times as old as it took to compute (2 s to 60 s), so a 100,000-trial study's plots
        refresh every few seconds instead of keeping the server busy reloading them."""
        key = (study_id, what)
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                hit = self._plots.get(key)
                if hit is not None:
                    stamp, value, at, took = hit
                    if stamp == version or time.monotonic() - at < min(60.0, max(2.0, 5 * took)):
                        self._plots.move_to_end(key)
                        return value
            start = time.monotonic()
            value = compute()
            with self._lock:
                self._plots[key] = (version, value, time.monotonic(), time.monotonic() - start)
                while len(self._plots) > 32:
                    old, _ = self._plots.popitem(last=False)
                    self._gates.pop(old, None)
            return value

    def plot_trials(self, study_id: int, version: str, *, intermediate_values: bool = False) -> list[FrozenTrial]:
        """The trials every plot of this study version reads (loaded once, shared by the kinds)."""
        def load() -> list[FrozenTrial]:
            return plot_trials(self.storage, study_id, max_trials=CURVE_TRIALS if intermediate_values else PLOT_TRIALS,
                               intermediate_values=intermediate_values, attrs=False)

        return self.cached(study_id, f"trials:{intermediate_values}", version, load)

    def sampler_choices(self, study_id: int, version: str) -> list[dict[str, Any]]:
        def compute() -> list[dict[str, Any]]:
            trials = plot_trials(self.storage, study_id, max_trials=PLOT_TRIALS, attrs=True)
            return _payload.sampler_choices(trials)

        return self.cached(study_id, "choices", version, compute)


def _sqlite_path(storage: Storage) -> str | None:
    db = getattr(storage, "db", None)
    path = getattr(db, "sqlite_path", None)
    if db is None or not callable(path) or not getattr(db, "is_sqlite", False):
        return None
    found = path()
    return os.path.abspath(found) if isinstance(found, str) else None


def now_note(text: str, trial: int | None) -> dict[str, Any]:
    note: dict[str, Any] = {"text": text, "at": time.time()}
    if trial is not None:
        note["trial"] = trial
    return note


def with_note(user_attrs: Mapping[str, Any], note: dict[str, Any]) -> list[Any]:
    notes = user_attrs.get(_payload.NOTES_ATTR)
    return [*(notes if isinstance(notes, list) else []), note]
