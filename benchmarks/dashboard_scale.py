"""The study page at scale: hyperdial's dashboard queries against optuna-dashboard, same trials.

    nice -n 10 python benchmarks/dashboard_scale.py --trials 20000 100000 --repeats 5

For each size, one study of N trials (3 parameters: a float, a log float, a categorical; 5
intermediate values each; 85% COMPLETE, 10% PRUNED, 5% FAIL) is written into a hyperdial SQLite
file and into an Optuna RDB SQLite file, both from the same generated trials (checked equal on a
sample after loading through each library's own API).

Fast path (building 100,000 trials through either library's per-trial API takes many minutes):
each study is created through its library (so the schema and version rows are the library's own),
then its trials are bulk-inserted with SQLAlchemy Core `executemany` into the library's own tables
(hyperdial: `hyperdial.storage.sql.schema`; Optuna: `optuna.storages._rdb.models`).

Timed, each `--repeats` times:
- optuna-dashboard: a real server process (`optuna-dashboard URL --host 127.0.0.1 --port P
  --server wsgiref`), `GET /api/studies/<id>`, the request its UI makes to open a study (it returns
  the whole study). Cold: the first request to a freshly started server; warm: the next ones.
- hyperdial: what its study page needs. With `hyperdial.dashboard.create_app` importable, a real
  uvicorn server process and its HTTP endpoints; otherwise the query functions in-process
  (`study_overview` + `page_trials` first page, and each sort/filter page; `plot_trials` light
  load, whole and `max_trials=2000`). The output says which.
Reported: medians, mean +- standard error, and the ratio of medians.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CHOICES = ("adam", "sgd", "rmsprop")
N_STEPS = 5


@dataclass(frozen=True)
class Spec:
    """One generated trial, written identically into both storages."""

    number: int
    state: str  # COMPLETE, PRUNED, FAIL
    x: float
    lr: float
    opt: int  # index into CHOICES
    value: float | None
    intermediate: tuple[float, ...]
    start: float  # seconds after T0
    duration: float


def make_specs(n: int, seed: int = 0) -> list[Spec]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-5, 5, n)
    lr = np.exp(rng.uniform(math.log(1e-5), math.log(1e-1), n))
    opt = rng.integers(0, len(CHOICES), n)
    u = rng.uniform(size=n)
    noise = rng.normal(0, 0.05, (n, N_STEPS))
    duration = rng.uniform(0.5, 3.0, n)
    specs = []
    for i in range(n):
        final = (x[i] - 1) ** 2 / 10 + abs(math.log10(lr[i]) + 3) + 0.3 * opt[i]
        curve = tuple(float(final * (1 + 1.0 / (s + 1)) + noise[i, s]) for s in range(N_STEPS))
        state = "COMPLETE" if u[i] < 0.85 else "PRUNED" if u[i] < 0.95 else "FAIL"
        specs.append(Spec(i, state, float(x[i]), float(lr[i]), int(opt[i]),
                          float(final) if state == "COMPLETE" else None, curve, i * 0.5, float(duration[i])))
    return specs


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> Any:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


# -- building the two databases ---------------------------------------------------------------
def build_hyperdial(path: Path, specs: list[Spec]) -> int:
    from hyperdial.space import Categorical, Float
    from hyperdial.storage.sql import schema
    from hyperdial.storage.sql.storage import SQLStorage
    from hyperdial.trial import TrialState

    storage = SQLStorage(f"sqlite:///{path}")
    sid = storage.create_study("scale", ["minimize"])
    dist = {"x": json.dumps(Float(-5, 5).to_dict()), "lr": json.dumps(Float(1e-5, 1e-1, log=True).to_dict()),
            "opt": json.dumps(Categorical(list(CHOICES)).to_dict())}
    base = T0.timestamp()
    trials, params, inter = [], [], []
    for s in specs:
        tid = s.number + 1
        trials.append({"trial_id": tid, "study_id": sid, "number": s.number, "state": int(TrialState[s.state]),
                       "values_json": None if s.value is None else json.dumps([s.value]),
                       "datetime_start": base + s.start, "datetime_complete": base + s.start + s.duration,
                       "heartbeat": None, "finish_seq": s.number + 1})
        params += [{"trial_id": tid, "study_id": sid, "name": "x", "value": s.x, "distribution": dist["x"]},
                   {"trial_id": tid, "study_id": sid, "name": "lr", "value": s.lr, "distribution": dist["lr"]},
                   {"trial_id": tid, "study_id": sid, "name": "opt", "value": float(s.opt),
                    "distribution": dist["opt"]}]
        inter += [{"trial_id": tid, "step": step, "value": json.dumps(v)} for step, v in enumerate(s.intermediate)]

    def write(conn: sa.Connection) -> None:
        for table, rows in ((schema.trials, trials), (schema.trial_params, params),
                            (schema.trial_intermediate, inter)):
            for chunk in _chunks(rows):
                conn.execute(sa.insert(table), chunk)
        conn.execute(sa.update(schema.studies).where(schema.studies.c.study_id == sid).values(seq=len(specs)))

    storage.db.write(write)
    storage.close()
    return sid


def build_optuna(path: Path, specs: list[Spec]) -> int:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, distribution_to_json
    from optuna.storages._rdb import models

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    study = optuna.create_study(study_name="scale", storage=storage, direction="minimize")
    sid = study._study_id
    dist = {"x": distribution_to_json(FloatDistribution(-5, 5)),
            "lr": distribution_to_json(FloatDistribution(1e-5, 1e-1, log=True)),
            "opt": distribution_to_json(CategoricalDistribution(list(CHOICES)))}
    naive = T0.replace(tzinfo=None)  # Optuna's RDB stores naive UTC
    finite = models.TrialValueModel.TrialValueType.FINITE
    finite_iv = models.TrialIntermediateValueModel.TrialIntermediateValueType.FINITE
    trials, params, values, inter = [], [], [], []
    for s in specs:
        tid = s.number + 1
        trials.append({"trial_id": tid, "number": s.number, "study_id": sid,
                       "state": optuna.trial.TrialState[s.state],
                       "datetime_start": naive + timedelta(seconds=s.start),
                       "datetime_complete": naive + timedelta(seconds=s.start + s.duration)})
        params += [{"trial_id": tid, "param_name": "x", "param_value": s.x, "distribution_json": dist["x"]},
                   {"trial_id": tid, "param_name": "lr", "param_value": s.lr, "distribution_json": dist["lr"]},
                   {"trial_id": tid, "param_name": "opt", "param_value": float(s.opt),
                    "distribution_json": dist["opt"]}]
        if s.value is not None:
            values.append({"trial_id": tid, "objective": 0, "value": s.value, "value_type": finite})
        inter += [{"trial_id": tid, "step": step, "intermediate_value": v, "intermediate_value_type": finite_iv}
                  for step, v in enumerate(s.intermediate)]
    engine = storage.engine
    with engine.begin() as conn:
        for model, rows in ((models.TrialModel, trials), (models.TrialParamModel, params),
                            (models.TrialValueModel, values), (models.TrialIntermediateValueModel, inter)):
            for chunk in _chunks(rows):
                conn.execute(sa.insert(model.__table__), chunk)
    engine.dispose()
    return int(sid)


def check_same(hd_path: Path, op_path: Path, sample: int = 200) -> None:
    """Load both studies through their libraries' own APIs and compare a sample of trials."""
    import optuna

    import hyperdial as hd

    hd_trials = hd.load_study(study_name="scale", storage=f"sqlite:///{hd_path}").trials
    op_trials = optuna.load_study(study_name="scale", storage=f"sqlite:///{op_path}").trials
    assert len(hd_trials) == len(op_trials), (len(hd_trials), len(op_trials))
    step = max(1, len(hd_trials) // sample)
    for a, b in zip(hd_trials[::step], op_trials[::step]):
        assert a.number == b.number and a.state.name == b.state.name, (a, b)
        assert a.params == b.params, (a.params, b.params)
        assert (a.values is None and b.values is None) or list(a.values or []) == list(b.values or []), (a, b)
        assert a.intermediate_values == b.intermediate_values, (a.intermediate_values, b.intermediate_values)
        assert abs((a.duration or 0) - b.duration.total_seconds()) < 1e-3, (a.duration, b.duration)


# -- timing -------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 900.0) -> tuple[float, int]:
    """Seconds and bytes of one GET (the whole body read)."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return time.perf_counter() - start, len(body)


class Server:
    """A real server process on 127.0.0.1, stopped (by its own pid) on exit."""

    def __init__(self, argv: list[str], port: int, ready_path: str) -> None:
        self.port = port
        self.proc = subprocess.Popen(["nice", "-n", "10", *argv], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                _get(self.url(ready_path), timeout=5)
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("server did not start in 120 s") from None
                time.sleep(0.2)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:  # noqa: PYI034 (Python 3.10 has no typing.Self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def optuna_dashboard(db: Path, sid: int, repeats: int, warm: int) -> dict[str, Any]:
    exe = shutil.which("optuna-dashboard") or str(Path(sys.executable).with_name("optuna-dashboard"))
    cold, hot, size = [], [], 0
    for _ in range(repeats):
        port = _free_port()
        argv = [exe, f"sqlite:///{db}", "--host", "127.0.0.1", "--port", str(port), "--server", "wsgiref", "--quiet"]
        with Server(argv, port, "/api/meta") as server:
            seconds, size = _get(server.url(f"/api/studies/{sid}"))
            cold.append(seconds)
            hot += [_get(server.url(f"/api/studies/{sid}"))[0] for _ in range(warm)]
    return {"cold": cold, "warm": hot, "bytes": size}


HD_SERVER = """
import sys, uvicorn
from hyperdial.dashboard import create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def hyperdial_http(db: Path, sid: int, repeats: int, warm: int) -> dict[str, Any]:
    """The dashboard's own endpoints for opening a study: its header and its first trials page."""
    paths = [f"/api/studies/{sid}", f"/api/studies/{sid}/trials"]
    cold, hot, size = [], [], 0

    def study_open(server: Server) -> tuple[float, int]:
        got = [_get(server.url(p)) for p in paths]
        return sum(g[0] for g in got), sum(g[1] for g in got)

    for _ in range(repeats):
        port = _free_port()
        with Server([sys.executable, "-c", HD_SERVER, f"sqlite:///{db}", str(port)], port, "/api/studies") as server:
            seconds, size = study_open(server)
            cold.append(seconds)
            hot += [study_open(server)[0] for _ in range(warm)]
    return {"cold": cold, "warm": hot, "bytes": size, "paths": paths}


def hyperdial_queries(db: Path, sid: int, repeats: int, warm: int) -> dict[str, Any]:
    """The query functions in this process: overview + first page, cold (a new storage object) and warm."""
    from hyperdial.storage.query import page_trials, study_overview
    from hyperdial.storage.sql.storage import SQLStorage

    cold, hot = [], []
    for _ in range(repeats):
        storage = SQLStorage(f"sqlite:///{db}", create=False)

        def study_open(storage: SQLStorage = storage) -> float:
            start = time.perf_counter()
            study_overview(storage, sid)
            page_trials(storage, sid)
            return time.perf_counter() - start

        cold.append(study_open())
        hot += [study_open() for _ in range(warm)]
        storage.close()
    return {"cold": cold, "warm": hot, "bytes": None}


PAGES: list[tuple[str, dict[str, Any]]] = [
    ("overview", {}),
    ("page number", {"order_by": "number"}),
    ("page value", {"order_by": "value"}),
    ("page value, desc, page 1000", {"order_by": "value", "descending": True, "offset": 50_000}),
    ("page duration desc", {"order_by": "duration", "descending": True}),
    ("page datetime_start desc", {"order_by": "datetime_start", "descending": True}),
    ("page state", {"order_by": "state"}),
    ("page param:x", {"order_by": "param:x"}),
    ("page param:opt desc", {"order_by": "param:opt", "descending": True}),
    ("filter x in [0, 1]", {"param_filters": {"x": (0.0, 1.0)}}),
    ("filter opt = sgd, sort lr", {"param_filters": {"opt": ["sgd"]}, "order_by": "param:lr"}),
    ("filter x, opt, COMPLETE, sort value", {"param_filters": {"x": (0.0, 1.0), "opt": ["sgd"]},
                                             "states": ["COMPLETE"], "order_by": "value"}),
    ("plot_trials max_trials=2000", {"plot": 2000}),
    ("plot_trials, all (light)", {"plot": None}),
]


def hyperdial_pages(db: Path, sid: int, repeats: int) -> dict[str, list[float]]:
    from hyperdial.storage.query import page_trials, plot_trials, study_overview
    from hyperdial.storage.sql.storage import SQLStorage

    storage = SQLStorage(f"sqlite:///{db}", create=False)
    out: dict[str, list[float]] = {}
    for label, kwargs in PAGES:
        runs = 1 if label.endswith("(light)") else repeats
        times = []
        for _ in range(runs + 1):  # the first run warms the connection and the OS cache: not counted
            start = time.perf_counter()
            if label == "overview":
                study_overview(storage, sid)
            elif "plot" in kwargs:
                plot_trials(storage, sid, max_trials=kwargs["plot"])
            else:
                page_trials(storage, sid, **kwargs)
            times.append(time.perf_counter() - start)
        out[label] = times[1:]
    storage.close()
    return out


def _stats(xs: list[float]) -> str:
    if not xs:
        return "-"
    se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else 0.0
    return f"median {statistics.median(xs) * 1000:9.1f} ms, mean {statistics.mean(xs) * 1000:9.1f} +- {se * 1000:.1f} ms (n={len(xs)})"


def _ratio(a: list[float], b: list[float]) -> str:
    """Ratio of medians a/b, with a standard error from the delta method on the means."""
    ma, mb = statistics.mean(a), statistics.mean(b)
    sa_ = statistics.stdev(a) / math.sqrt(len(a)) if len(a) > 1 else 0.0
    sb_ = statistics.stdev(b) / math.sqrt(len(b)) if len(b) > 1 else 0.0
    se = (ma / mb) * math.sqrt((sa_ / ma) ** 2 + (sb_ / mb) ** 2)
    return f"{statistics.median(a) / statistics.median(b):8.1f}x (means {ma / mb:.1f}x +- {se:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5, help="server starts (cold requests) per size")
    parser.add_argument("--warm", type=int, default=2, help="warm requests after each cold one")
    parser.add_argument("--page-repeats", type=int, default=5, help="runs of each hyperdial query (warm)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the databases here")
    parser.add_argument("--json", type=Path, default=None, help="write the raw timings here")
    args = parser.parse_args()
    try:
        import hyperdial.dashboard  # noqa: F401

        mode = "http" if hasattr(sys.modules["hyperdial.dashboard"], "create_app") else "queries"
    except ImportError:
        mode = "queries"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hd-dashscale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"mode": mode, "sizes": {}}
    print(f"hyperdial side: {'the dashboard over HTTP (hyperdial.dashboard.create_app on uvicorn)' if mode == 'http' else 'the query functions in process (hyperdial.dashboard not importable)'}")
    for n in args.trials:
        specs = make_specs(n)
        hd_db, op_db = workdir / f"hyperdial_{n}.db", workdir / f"optuna_{n}.db"
        for path in (hd_db, op_db):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        hd_sid = build_hyperdial(hd_db, specs)
        hd_build = time.perf_counter() - start
        start = time.perf_counter()
        op_sid = build_optuna(op_db, specs)
        op_build = time.perf_counter() - start
        check_same(hd_db, op_db)
        print(f"\n== {n} trials (built in {hd_build:.0f} s hyperdial, {op_build:.0f} s Optuna; same trials checked "
              f"on a sample through each library's API)")
        optuna = optuna_dashboard(op_db, op_sid, args.repeats, args.warm)
        ours = (hyperdial_http if mode == "http" else hyperdial_queries)(hd_db, hd_sid, args.repeats, args.warm)
        pages = hyperdial_pages(hd_db, hd_sid, args.page_repeats)
        print(f"optuna-dashboard GET /api/studies/{op_sid}: {optuna['bytes'] / 1e6:.1f} MB")
        print(f"  cold  {_stats(optuna['cold'])}")
        print(f"  warm  {_stats(optuna['warm'])}")
        what = " + ".join(f"GET {p}" for p in ours["paths"]) if mode == "http" else "study_overview + page_trials"
        shown = f": {ours['bytes'] / 1e3:.1f} kB" if ours["bytes"] else ""
        print(f"hyperdial {what}{shown}")
        print(f"  cold  {_stats(ours['cold'])}")
        print(f"  warm  {_stats(ours['warm'])}")
        print(f"optuna-dashboard / hyperdial: cold {_ratio(optuna['cold'], ours['cold'])}, "
              f"warm {_ratio(optuna['warm'], ours['warm'])}")
        print("hyperdial queries, warm:")
        for label, times in pages.items():
            print(f"  {label:38s} {_stats(times)}")
        results["sizes"][n] = {"optuna": optuna, "hyperdial": ours, "pages": pages,
                               "build_s": {"hyperdial": hd_build, "optuna": op_build}}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
