"""Remote trials on Dask and Ray: per-trial framework cost and parallel efficiency, beside Ray Tune.

Clusters are real and local: a Dask scheduler and `--nworkers N --nthreads 1`
workers started as separate processes on 127.0.0.1 (as tests/test_executors.py
does), and a local Ray instance started with `num_cpus=N`, which both
hyperdial's Ray executor and Ray Tune join. Objectives SLEEP, so on a small
shared machine the numbers measure the framework, not a fight for CPU.

1. Per-trial cost (N = 2 workers, n_jobs=2): M trials (default 40) of an
   objective that suggests four parameters (a float, a log float, an int, a
   categorical) and sleeps T = 0.25 s. cost = (wall - M*T/2) / (M/2), what each
   trial slot spends beyond the objective, with three walls:
   - loop (hyperdial; the issue's measure): from the moment `optimize` has its
     executor (client connected) to the moment it closes it: every ask, submit,
     run and collect, not the one-off connection;
   - whole call: `study.optimize(...)` / `Tuner.fit()`, setup and teardown included;
   - span: the first objective's start to the last one's end (worker clocks),
     the same definition for both libraries.
   Also, per trial (hyperdial): submit->result - T in the driver (the executor
   hyperdial is given is wrapped), the task function's time on the worker - T
   (`run_remote_trial`: open the study, rebuild the trial, suggest, objective,
   tell; unpickling the arguments comes before it), driver time in `study.ask`
   (storage + sampler) and in the sampler's `sample` alone (its class is
   patched in the driver process only; workers unpickle the original class).
   The issue's goal: loop cost - sampler <= 25 ms.
   hyperdial with the Random sampler and with the default sampler (Auto), on
   Dask and on Ray; Ray Tune (function trainable that sleeps T,
   `TuneConfig(num_samples=M, max_concurrent_trials=2)`, random search over the
   same four parameters) with `reuse_actors=True` and with its default (a new
   actor per trial; slow, so it runs `--tune-default-trials` trials, once).
   Ratios hyperdial / Tune use the whole call and the span.
2. Parallel efficiency at N = 2, 4, 8 workers (one thread each): 6*N trials of
   an objective sleeping 1 s, n_jobs=N; efficiency = (trials*1 s/N) / wall, on
   the loop (hyperdial), the whole call and the span. The issue's goal: >= 0.9
   at 8 workers. Ray Tune runs with reuse_actors=True here (its default mode
   with `--efficiency-tune-modes reuse,default`).

hyperdial uses `sqlite:///<tmpdir>/remote.db` with a fresh study per run and the
default liveness settings. Every cluster first runs an unrecorded warm-up
(imports on the workers). On Ray, hyperdial's runs come before Tune's, which
get their own warm-up. Runs of section 1 are repeated (`--repeats`), samplers
interleaved; the table shows the median run by cost, the JSON keeps all.

Reproduce (about 7-8 minutes on 2 cores with the defaults):

    pip install -e '.[bench]' 'distributed>=2024.1' "ray[tune]==$(pip show ray | sed -n 's/^Version: //p')"
    python benchmarks/remote.py                          # both sections, Dask + Ray + Ray Tune
    python benchmarks/remote.py --quick                  # about 2 minutes: smaller sizes, one repeat
    python benchmarks/remote.py --sections efficiency --workers 2,4,8 --trials-per-worker 6
    python benchmarks/remote.py --profile 30             # only: cProfile of the driver, Dask, default sampler
                                                         # (plus the pickled size of each task's arguments)

Prints the machine, load averages, markdown tables and ratios; writes JSON to
`benchmarks/results/remote.json` (git-ignored), and with `--profile` the pstats
file next to it.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass, field
from typing import Any

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
DEFAULT_OUT = os.path.join(RESULTS, "remote.json")
SAMPLERS = ("random", "auto")
SAMPLER_LABELS = {"random": "Random", "auto": "default (Auto)"}
ENGINES = ("dask", "ray")
TUNE_MODES = ("reuse", "default")
TUNE_LABELS = {"reuse": "reuse_actors=True", "default": "default (new actor per trial)"}
GOAL_COST_MS = 25.0
GOAL_EFFICIENCY = 0.9
CHOICES = ("adam", "sgd", "rmsprop")


# -- objectives (defined here; Dask and Ray ship them to the workers by value) ------------
class SleepObjective:
    """Four parameters, then sleep: the framework's cost is all that is left to measure."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, trial: Any) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        layers = trial.suggest_int("layers", 1, 8)
        opt = trial.suggest_categorical("optimizer", list(CHOICES))
        time.sleep(self.seconds)
        return x * x + abs(lr) + layers + CHOICES.index(opt)


def _tune_space() -> dict[str, Any]:
    from ray import tune

    return {
        "x": tune.uniform(-5.0, 5.0),
        "lr": tune.loguniform(1e-5, 1e-1),
        "layers": tune.randint(1, 9),  # upper bound exclusive: 1..8 as above
        "optimizer": tune.choice(list(CHOICES)),
    }


def _tune_trainable(seconds: float) -> Callable[[dict[str, Any]], None]:
    def trainable(config: dict[str, Any]) -> None:
        from ray import tune

        t0 = time.time()
        time.sleep(seconds)
        value = config["x"] ** 2 + config["lr"] + config["layers"] + CHOICES.index(config["optimizer"])
        tune.report({"loss": value, "t_start": t0, "t_end": time.time()})

    return trainable


# -- instrumentation around hyperdial (nothing under src/ changes) ------------------------
def _timed_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """Runs on the worker: the task's result, and when it started and ended there (time.time())."""
    t0 = time.time()
    result = fn(*args, **kwargs)
    return result, t0, time.time()


class TimedExecutor(Executor):
    """Wraps the Executor hyperdial is given: submit->result in the driver, task time on the worker."""

    def __init__(self, inner: Executor, payload: list[int] | None = None) -> None:
        self.inner = inner
        self.latency: list[float] = []  # driver: submit -> result available (seconds)
        self.worker: list[tuple[float, float]] = []  # worker: (start, end), time.time()
        self.payload = payload  # if a list: bytes of each task's pickled arguments (costs a pickling)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        outer: Future[Any] = Future()
        if self.payload is not None:
            import cloudpickle

            self.payload.append(len(cloudpickle.dumps((args, kwargs))))
        t0 = time.perf_counter()
        inner = self.inner.submit(_timed_call, fn, *args, **kwargs)

        def done(f: Future[Any]) -> None:
            t1 = time.perf_counter()
            try:
                result, w0, w1 = f.result()
            except BaseException as exc:  # noqa: BLE001 - handed to the driver as the task's failure
                outer.set_exception(exc)
                return
            self.latency.append(t1 - t0)
            self.worker.append((w0, w1))
            outer.set_result(result)

        inner.add_done_callback(done)
        return outer

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class TimedPlace:
    """hd.executors.Dask / Ray with a TimedExecutor, and when the trial loop started and ended."""

    def __init__(self, inner: Any, payload: list[int] | None = None) -> None:
        self.inner = inner
        self.payload = payload
        self.executor: TimedExecutor | None = None
        self.t_called = self.t_started = self.t_closed = 0.0

    def start(self, n_jobs: int, gpus_per_trial: int) -> Executor:
        self.t_called = time.perf_counter()
        self.executor = TimedExecutor(self.inner.start(n_jobs, gpus_per_trial), self.payload)
        self.t_started = time.perf_counter()
        return self.executor

    def close(self) -> None:
        self.t_closed = time.perf_counter()
        self.inner.close()


@contextlib.contextmanager
def timed_sampler_class(sampler: Any, seconds: list[float]) -> Iterator[None]:
    """Time `sample` of the sampler's class in this process (workers unpickle the original class)."""
    cls = type(sampler)
    original = cls.sample

    def sample(self: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - t0)

    cls.sample = sample
    try:
        yield
    finally:
        cls.sample = original


# -- clusters -----------------------------------------------------------------------------
class DaskCluster:
    """`dask scheduler` + `dask worker --nworkers N --nthreads 1`, separate processes on 127.0.0.1."""

    def __init__(self, n_workers: int, tmp: str) -> None:
        self.n = n_workers
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.address = ""
        self.start_s = 0.0

    def __enter__(self) -> DaskCluster:  # noqa: PYI034
        from distributed import Client

        t0 = time.perf_counter()
        sched_file = os.path.join(self.tmp, f"scheduler-{self.n}.json")
        log = open(os.path.join(self.tmp, f"dask-{self.n}.log"), "ab")  # closed in __exit__
        self._log = log
        src = os.path.dirname(os.path.dirname(os.path.abspath(__import__("hyperdial").__file__)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)}
        py = [sys.executable, "-m"]
        self.procs.append(subprocess.Popen(
            [*py, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", sched_file], stdout=log, stderr=log, env=env, start_new_session=True))
        self.procs.append(subprocess.Popen(
            [*py, "distributed.cli.dask_worker", "--scheduler-file", sched_file, "--host", "127.0.0.1",
             "--nworkers", str(self.n), "--nthreads", "1", "--no-dashboard"],
            stdout=log, stderr=log, env=env, start_new_session=True))
        deadline = time.monotonic() + 60
        while not os.path.exists(sched_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        with Client(scheduler_file=sched_file, timeout=60) as client:
            client.wait_for_workers(self.n, timeout=120)
            self.address = client.scheduler.address
        self.start_s = time.perf_counter() - t0
        return self

    def __exit__(self, *exc: object) -> None:
        for p in reversed(self.procs):  # workers (and their nanny children: own session) first
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self._log.close()

    def place(self) -> Any:
        import hyperdial as hd

        return hd.executors.Dask(self.address)


class RayCluster:
    """A local Ray instance with N CPUs; hyperdial's Ray executor and Ray Tune both join it."""

    def __init__(self, n_workers: int, tmp: str) -> None:
        self.n = n_workers
        self.start_s = 0.0

    def __enter__(self) -> RayCluster:  # noqa: PYI034
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=self.n, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        self.start_s = time.perf_counter() - t0
        return self

    def __exit__(self, *exc: object) -> None:
        import ray

        ray.shutdown()

    def place(self) -> Any:
        import hyperdial as hd

        return hd.executors.Ray()  # joins the running instance and leaves it running


# -- one run --------------------------------------------------------------------------------
@dataclass
class Run:
    section: str  # "cost" or "efficiency"
    engine: str  # dask | ray
    library: str  # hyperdial | tune
    variant: str  # sampler (hyperdial) or tune mode
    workers: int
    trials: int
    seconds: float  # T, the objective's sleep
    repeat: int = 0
    call_s: float | None = None  # the whole optimize() / Tuner.fit() call
    wall_s: float | None = None  # hyperdial: the trial loop, executor started -> closed (Tune: not separable)
    span_s: float | None = None  # first objective start -> last objective end (worker clocks)
    setup_s: float | None = None  # hyperdial: executor start (client connection)
    latency_ms: float | None = None  # mean submit -> result in the driver (hyperdial)
    worker_ms: float | None = None  # mean task time on the worker (hyperdial)
    ask_ms: float | None = None  # mean study.ask in the driver
    sampler_ms: float | None = None  # mean sampler time per trial in the driver
    completed: int = 0
    loadavg: tuple[float, float, float] | None = None
    error: str | None = None
    per_trial: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @property
    def slots(self) -> int:
        return self.workers

    def _per_trial_cost(self, total: float | None) -> float | None:
        if total is None or not self.trials:
            return None
        rounds = self.trials / self.slots
        return 1e3 * (total - rounds * self.seconds) / rounds

    @property
    def cost_ms(self) -> float | None:
        """Over the trial loop (hyperdial): the issue's measure."""
        return self._per_trial_cost(self.wall_s)

    @property
    def call_cost_ms(self) -> float | None:
        """Over the whole optimize() / fit() call: setup and teardown included."""
        return self._per_trial_cost(self.call_s)

    @property
    def span_cost_ms(self) -> float | None:
        return self._per_trial_cost(self.span_s)

    @property
    def sort_cost_ms(self) -> float | None:
        return self.cost_ms if self.cost_ms is not None else self.call_cost_ms

    @property
    def direct_ms(self) -> float | None:
        return None if self.latency_ms is None else self.latency_ms - 1e3 * self.seconds

    @property
    def worker_extra_ms(self) -> float | None:
        return None if self.worker_ms is None else self.worker_ms - 1e3 * self.seconds

    @property
    def beyond_sampler_ms(self) -> float | None:
        c = self.cost_ms
        return None if c is None else c - (self.sampler_ms or 0.0)

    @property
    def ideal_s(self) -> float:
        return self.trials * self.seconds / self.slots

    @property
    def efficiency(self) -> float | None:
        return None if not self.wall_s else self.ideal_s / self.wall_s

    @property
    def call_efficiency(self) -> float | None:
        return None if not self.call_s else self.ideal_s / self.call_s

    @property
    def span_efficiency(self) -> float | None:
        return None if not self.span_s else self.ideal_s / self.span_s

    @property
    def label(self) -> str:
        if self.library == "hyperdial":
            return f"hyperdial, {SAMPLER_LABELS[self.variant]}"
        return f"Ray Tune, {TUNE_LABELS[self.variant]}"

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "per_trial"}
        for k in ("cost_ms", "call_cost_ms", "span_cost_ms", "direct_ms", "worker_extra_ms", "beyond_sampler_ms",
                  "ideal_s", "efficiency", "call_efficiency", "span_efficiency"):
            d[k] = getattr(self, k)
        d["per_trial"] = self.per_trial
        return d


def _mean_ms(xs: list[float]) -> float | None:
    return 1e3 * statistics.fmean(xs) if xs else None


def run_hyperdial(run: Run, cluster: Any, tmp: str, profile: cProfile.Profile | None = None,
                  timeout: float | None = None, payload: list[int] | None = None) -> Run:
    import hyperdial as hd

    db = os.path.join(tmp, f"remote-{uuid.uuid4().hex[:8]}.db")
    url = f"sqlite:///{db}"
    if run.variant == "random":
        study = hd.create_study(storage=url, sampler=hd.samplers.Random(seed=run.repeat))
    else:
        study = hd.create_study(storage=url, seed=run.repeat)  # the default sampler, Auto
    ask_s: list[float] = []
    sampler_s: list[float] = []
    ask = study.ask

    def timed_ask(*args: Any, **kwargs: Any) -> Any:  # the driver calls study.ask(space)
        t0 = time.perf_counter()
        try:
            return ask(*args, **kwargs)
        finally:
            ask_s.append(time.perf_counter() - t0)

    study.ask = timed_ask  # type: ignore[method-assign]
    place = TimedPlace(cluster.place(), payload)
    run.loadavg = os.getloadavg()
    t0 = time.perf_counter()
    try:
        with timed_sampler_class(study.sampler, sampler_s):
            if profile is not None:
                profile.enable()
            try:
                study.optimize(SleepObjective(run.seconds), n_trials=None if timeout else run.trials, timeout=timeout,
                               n_jobs=run.workers, executor=place, show_progress_bar=False)
            finally:
                if profile is not None:
                    profile.disable()
    except Exception as exc:  # noqa: BLE001 - reported in the table; the other runs go on
        run.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    run.call_s = time.perf_counter() - t0
    ex = place.executor
    if ex is not None and place.t_closed:
        run.setup_s = place.t_started - place.t_called
        run.wall_s = place.t_closed - place.t_started
        run.latency_ms = _mean_ms(ex.latency)
        run.worker_ms = _mean_ms([b - a for a, b in ex.worker])
        if ex.worker:
            run.span_s = max(b for _, b in ex.worker) - min(a for a, _ in ex.worker)
        run.per_trial = {"latency_s": ex.latency, "worker_s": [b - a for a, b in ex.worker],
                         "ask_s": ask_s, "sampler_s": sampler_s}
    run.ask_ms = _mean_ms(ask_s)
    run.sampler_ms = 1e3 * sum(sampler_s) / max(len(ask_s), 1) if ask_s else None  # per trial, all calls
    trials = study.trials
    run.completed = sum(t.state == hd.TrialState.COMPLETE for t in trials)
    if timeout:
        run.trials = len(trials)
    if run.completed != run.trials and run.error is None:
        run.error = f"{run.completed} of {run.trials} trials COMPLETE"
    with contextlib.suppress(Exception):
        study.storage.db.dispose()  # type: ignore[attr-defined]
    return run


def run_tune(run: Run, tmp: str) -> Run:
    from ray import tune

    run.loadavg = os.getloadavg()
    t0 = time.perf_counter()
    try:
        tuner = tune.Tuner(
            _tune_trainable(run.seconds),
            param_space=_tune_space(),
            tune_config=tune.TuneConfig(num_samples=run.trials, max_concurrent_trials=run.workers, metric="loss",
                                        mode="min", reuse_actors=run.variant == "reuse"),
            run_config=tune.RunConfig(storage_path=os.path.join(tmp, "tune"), name=f"t-{uuid.uuid4().hex[:8]}",
                                      verbose=0),
        )
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            grid = tuner.fit()
        run.call_s = time.perf_counter() - t0
        df = grid.get_dataframe()
        run.completed = int(len(df)) - grid.num_errors
        if len(df):
            run.span_s = float(df["t_end"].max() - df["t_start"].min())
        if run.completed != run.trials:
            run.error = f"{run.completed} of {run.trials} trials completed"
    except Exception as exc:  # noqa: BLE001 - reported in the table; the other runs go on
        run.call_s = time.perf_counter() - t0
        run.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return run


def warm_up_hyperdial(engine: str, cluster: Any, n: int, tmp: str) -> None:
    """Imports on every worker (the default sampler's GP modules too), first connections: not recorded."""
    for variant in ("auto", "random"):
        w = run_hyperdial(Run("warmup", engine, "hyperdial", variant, n, 3 * n, 0.05), cluster, tmp)
        if w.error:
            print(f"  warm-up {engine}/{variant} failed: {w.error}", file=sys.stderr, flush=True)


def warm_up_tune(engine: str, n: int, tmp: str) -> None:
    w = run_tune(Run("warmup", engine, "tune", "reuse", n, n, 0.05), tmp)
    if w.error:
        print(f"  warm-up Ray Tune failed: {w.error}", file=sys.stderr, flush=True)


def _print_run(r: Run) -> None:
    parts = [(f"  {r.section:10s} {r.engine:4s} N={r.workers} {r.label:42s} trials={r.trials:<3} "
              f"call={_f(r.call_s, 2)} s loop={_f(r.wall_s, 2)} s span={_f(r.span_s, 2)} s")]
    if r.section == "efficiency":
        parts.append(f"efficiency: loop {_f(r.efficiency, 3)}, call {_f(r.call_efficiency, 3)}, "
                     f"span {_f(r.span_efficiency, 3)}")
    else:
        parts.append(f"cost: loop {_f(r.cost_ms)}, call {_f(r.call_cost_ms)}, span {_f(r.span_cost_ms)} ms; "
                     f"submit->result-T {_f(r.direct_ms)} worker-T {_f(r.worker_extra_ms)} ask {_f(r.ask_ms)} "
                     f"sampler {_f(r.sampler_ms)} ms")
    parts.append(f"load={_load(r)}")
    if r.error:
        parts.append(f"ERROR {r.error}")
    print(" ".join(parts), flush=True)


# -- the two sections ---------------------------------------------------------------------
# On Ray, hyperdial's runs come before Ray Tune's: Tune's actors take worker processes, and Ray
# then retires the idle task workers, so hyperdial's next tasks would wait for new processes
# (seconds each on a loaded machine), a cost of sharing the instance, not of either library.
def section_cost(args: argparse.Namespace, tmp: str) -> list[Run]:
    runs: list[Run] = []
    n, m, t = 2, args.overhead_trials, args.overhead_seconds
    for engine in args.engines:
        cls = DaskCluster if engine == "dask" else RayCluster
        with cls(n, tmp) as cluster:
            print(f"  {engine}: {n} workers up in {cluster.start_s:.1f} s", flush=True)
            if args.samplers:
                warm_up_hyperdial(engine, cluster, n, tmp)
            for rep in range(args.repeats):  # samplers interleaved
                for variant in args.samplers:
                    runs.append(run_hyperdial(Run("cost", engine, "hyperdial", variant, n, m, t, rep), cluster, tmp))
                    _print_run(runs[-1])
            tune_modes = args.tune_modes if engine == "ray" else []
            if tune_modes:
                warm_up_tune(engine, n, tmp)
            for rep in range(args.repeats):
                for mode in tune_modes:
                    if mode == "default" and rep >= args.tune_default_repeats:
                        continue
                    trials = m if mode == "reuse" else min(m, args.tune_default_trials)
                    runs.append(run_tune(Run("cost", engine, "tune", mode, n, trials, t, rep), tmp))
                    _print_run(runs[-1])
    return runs


def section_efficiency(args: argparse.Namespace, tmp: str) -> list[Run]:
    runs: list[Run] = []
    t = args.trial_seconds
    for n in args.workers:
        trials = args.trials_per_worker * n
        for engine in args.efficiency_engines:
            cls = DaskCluster if engine == "dask" else RayCluster
            with cls(n, tmp) as cluster:
                print(f"  {engine}: {n} workers up in {cluster.start_s:.1f} s", flush=True)
                if args.samplers:
                    warm_up_hyperdial(engine, cluster, n, tmp)
                for variant in args.samplers:
                    runs.append(run_hyperdial(Run("efficiency", engine, "hyperdial", variant, n, trials, t), cluster,
                                              tmp))
                    _print_run(runs[-1])
                tune_modes = args.efficiency_tune_modes if engine == "ray" else []
                if tune_modes:
                    warm_up_tune(engine, n, tmp)
                for mode in tune_modes:
                    runs.append(run_tune(Run("efficiency", engine, "tune", mode, n, trials, t), tmp))
                    _print_run(runs[-1])
    return runs


# -- reporting ------------------------------------------------------------------------------
def _load(r: Run) -> str:
    return "-" if r.loadavg is None else f"{r.loadavg[0]:.2f}"


def _f(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _groups(runs: list[Run]) -> dict[tuple[str, str, str], list[Run]]:
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for r in runs:
        groups.setdefault((r.engine, r.library, r.variant), []).append(r)
    return groups


def _median_runs(runs: list[Run]) -> list[tuple[Run, list[Run]]]:
    """Per (engine, library, variant): the run with the median cost, and all its runs."""
    out = []
    for rs in _groups(runs).values():
        ok = sorted((r for r in rs if r.sort_cost_ms is not None), key=lambda r: r.sort_cost_ms or 0.0)
        out.append((ok[(len(ok) - 1) // 2] if ok else rs[0], rs))
    return out


def cost_table(runs: list[Run]) -> str:
    lines = [
        ("| engine | library, sampler | trials | runs | call s | loop s | **cost ms/trial (loop)** | "
         "cost, whole call | cost, span | submit->result - T | worker - T | driver ask | sampler | "
         f"**loop cost - sampler** | <= {GOAL_COST_MS:.0f} ms? | load avg (1 min) |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r, rs in _median_runs(runs):
        costs = sorted(c for c in (x.sort_cost_ms for x in rs) if c is not None)
        spread = f" ({costs[0]:.1f}-{costs[-1]:.1f})" if len(costs) > 1 else ""
        loop = f"**{_f(r.cost_ms)}**{spread}" if r.cost_ms is not None else "-"
        call = _f(r.call_cost_ms) + (spread if r.cost_ms is None else "")
        goal = "-" if r.beyond_sampler_ms is None or r.library != "hyperdial" else (
            "yes" if r.beyond_sampler_ms <= GOAL_COST_MS else "**no**")
        beyond = "-" if r.library != "hyperdial" else f"**{_f(r.beyond_sampler_ms)}**"
        note = f" error: {r.error}" if r.error else ""
        lines.append(
            f"| {r.engine} | {r.label}{note} | {r.trials} | {len(rs)} | {_f(r.call_s, 2)} | {_f(r.wall_s, 2)} | "
            f"{loop} | {call} | {_f(r.span_cost_ms)} | {_f(r.direct_ms)} | {_f(r.worker_extra_ms)} | "
            f"{_f(r.ask_ms)} | {_f(r.sampler_ms)} | {beyond} | {goal} | {_load(r)} |"
        )
    return "\n".join(lines)


def cost_ratios(runs: list[Run]) -> list[dict[str, Any]]:
    """hyperdial / Ray Tune, per trial, on the whole call and on the span (the measures both have)."""
    med = {(r.engine, r.library, r.variant): r for r, _ in _median_runs(runs)}
    out = []
    for mode in TUNE_MODES:
        tune_run = med.get(("ray", "tune", mode))
        if tune_run is None or not tune_run.call_cost_ms:
            continue
        for (engine, lib, variant), r in med.items():
            if lib != "hyperdial" or r.call_cost_ms is None:
                continue
            row: dict[str, Any] = {"hyperdial": f"{engine}, {SAMPLER_LABELS[variant]}", "tune": TUNE_LABELS[mode]}
            for what in ("call_cost_ms", "span_cost_ms"):
                a, b = getattr(r, what), getattr(tune_run, what)
                row[what] = {"hyperdial": a, "tune": b, "ratio": a / b if a is not None and b else None}
            out.append(row)
    return out


def ratio_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    lines = [("| hyperdial (engine, sampler) | vs Ray Tune | whole call: hyperdial / Tune ms | ratio "
              "| span: hyperdial / Tune ms | ratio |"),
             "|---|---|---:|---:|---:|---:|"]
    for row in rows:
        cells = [row["hyperdial"], row["tune"]]
        for what in ("call_cost_ms", "span_cost_ms"):
            c = row[what]
            cells += [f"{_f(c['hyperdial'])} / {_f(c['tune'])}", _f(c["ratio"], 3)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def efficiency_table(runs: list[Run]) -> str:
    lines = [
        ("| engine | library, sampler | workers | trials x s | ideal s | call s | loop s | **efficiency (loop)** "
         "| efficiency, whole call | efficiency, span | cost ms/trial (loop; call) | load avg (1 min) |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(runs, key=lambda r: (r.workers, r.engine, r.library, r.variant)):
        note = f" error: {r.error}" if r.error else ""
        eff = "-" if r.efficiency is None else f"**{r.efficiency:.3f}**"
        flag = ""
        if r.workers >= 8 and r.efficiency is not None:
            flag = "" if r.efficiency >= GOAL_EFFICIENCY else f" (< {GOAL_EFFICIENCY})"
        lines.append(
            f"| {r.engine} | {r.label}{note} | {r.workers} | {r.trials} x {r.seconds:g} | {r.ideal_s:.1f} | "
            f"{_f(r.call_s, 2)} | {_f(r.wall_s, 2)} | {eff}{flag} | {_f(r.call_efficiency, 3)} | "
            f"{_f(r.span_efficiency, 3)} | {_f(r.cost_ms)}; {_f(r.call_cost_ms)} | {_load(r)} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }
    for mod in ("hyperdial", "distributed", "ray", "sqlalchemy", "numpy", "scipy"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing library is reported as None
            info[mod] = None
    try:
        from ray import tune  # noqa: F401

        info["ray_tune"] = True
    except Exception as exc:  # noqa: BLE001 - Tune rows are skipped with this reason
        info["ray_tune"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return info


# -- profile ----------------------------------------------------------------------------------
def profile_driver(args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    """cProfile of the driver's main thread: one Dask run, default sampler, n_jobs=2, for --profile seconds."""
    prof = cProfile.Profile()
    payload: list[int] = []
    with DaskCluster(2, tmp) as cluster:
        warm_up_hyperdial("dask", cluster, 2, tmp)
        r = run_hyperdial(Run("profile", "dask", "hyperdial", "auto", 2, 0, args.overhead_seconds), cluster, tmp,
                          profile=prof, timeout=args.profile, payload=payload)
    _print_run(r)
    if payload:
        k = max(1, len(payload) // 10)
        print(f"task arguments, pickled (bytes; the sampler travels with every task): first {payload[:3]}, "
              f"mean of the first {k} {statistics.fmean(payload[:k]):.0f}, of the last {k} "
              f"{statistics.fmean(payload[-k:]):.0f}, after {len(payload)} trials")
    ask_s = r.per_trial.get("ask_s", [])
    if ask_s:
        k = max(1, len(ask_s) // 10)
        print(f"driver study.ask, ms: mean {1e3 * statistics.fmean(ask_s):.1f}, first {k} trials "
              f"{1e3 * statistics.fmean(ask_s[:k]):.1f}, last {k} {1e3 * statistics.fmean(ask_s[-k:]):.1f}")
    path = os.path.splitext(args.out)[0] + "-profile.pstats"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    prof.dump_stats(path)
    out: dict[str, Any] = {"run": r.to_json(), "pstats": path, "payload_bytes": payload}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(30)
        out[key] = buf.getvalue()
        print(f"\n-- driver, main thread, top 30 by {key} --")
        print(buf.getvalue())
    print(f"wrote {path}")
    return out


# -- main -------------------------------------------------------------------------------------
def _csv(text: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if allowed is not None:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {list(allowed)}")
    return items


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", type=lambda s: _csv(s, ("cost", "efficiency")), default=["cost", "efficiency"])
    p.add_argument("--engines", type=lambda s: _csv(s, ENGINES), default=list(ENGINES),
                   help="engines for the per-trial cost (default dask,ray)")
    p.add_argument("--efficiency-engines", type=lambda s: _csv(s, ENGINES), default=list(ENGINES),
                   help="engines for the parallel efficiency (default dask,ray)")
    p.add_argument("--samplers", type=lambda s: _csv(s, SAMPLERS), default=list(SAMPLERS),
                   help="hyperdial samplers: random,auto (default both)")
    p.add_argument("--tune-modes", type=lambda s: _csv(s, TUNE_MODES), default=list(TUNE_MODES),
                   help="Ray Tune in the per-trial cost: reuse,default ('' for none; default both)")
    p.add_argument("--efficiency-tune-modes", type=lambda s: _csv(s, TUNE_MODES), default=["reuse"],
                   help="Ray Tune in the efficiency runs (default reuse: a new actor per trial is slow)")
    p.add_argument("--overhead-trials", type=int, default=40, help="M, trials per cost run (default 40)")
    p.add_argument("--overhead-seconds", type=float, default=0.25, help="T, sleep per trial (default 0.25)")
    p.add_argument("--repeats", type=int, default=3, help="cost runs per configuration, interleaved (default 3)")
    p.add_argument("--tune-default-trials", type=int, default=12,
                   help="trials of Ray Tune's default mode in the cost section (default 12: ~5 s per trial)")
    p.add_argument("--tune-default-repeats", type=int, default=1, help="repeats of Tune's default mode (default 1)")
    p.add_argument("--workers", type=lambda s: [int(x) for x in _csv(s)], default=[2, 4, 8],
                   help="worker counts for the efficiency runs (default 2,4,8)")
    p.add_argument("--trials-per-worker", type=int, default=6, help="efficiency: trials = this x workers (default 6)")
    p.add_argument("--trial-seconds", type=float, default=1.0, help="efficiency: sleep per trial (default 1.0)")
    p.add_argument("--quick", action="store_true",
                   help="smaller defaults: M=16, one repeat, workers 2,4, 4 trials per worker, Tune default 6 trials")
    p.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                   help="instead of the benchmark: cProfile the driver of one Dask run (default sampler) this long")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON results (default benchmarks/results/remote.json)")
    if "--quick" in (sys.argv[1:] if argv is None else argv):  # smaller defaults; explicit options still win
        p.set_defaults(overhead_trials=16, repeats=1, workers=[2, 4], trials_per_worker=4, tune_default_trials=6)
    args = p.parse_args(argv)

    import hyperdial as hd

    hd.set_verbosity(logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    print(f"args: {vars(args)}", flush=True)
    if info["ray_tune"] is not True:
        print(f"Ray Tune unavailable, its rows are skipped: {info['ray_tune']}", file=sys.stderr)
        args.tune_modes, args.efficiency_tune_modes = [], []

    tmp = tempfile.mkdtemp(prefix="hd-bench-remote-")
    started = time.perf_counter()
    result: dict[str, Any] = {"benchmark": "remote trials: per-trial cost and parallel efficiency", "machine": info,
                              "args": vars(args)}
    try:
        if args.profile:
            result["profile"] = profile_driver(args, tmp)
            args.out = os.path.splitext(args.out)[0] + "-profile.json"
            cost: list[Run] = []
            eff: list[Run] = []
        else:
            cost = section_cost(args, tmp) if "cost" in args.sections else []
            eff = section_efficiency(args, tmp) if "efficiency" in args.sections else []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = time.perf_counter() - started

    if cost:
        table = cost_table(cost)
        ratios = cost_ratios(cost)
        print(f"\n## Per-trial cost: 2 workers, n_jobs=2, T={args.overhead_seconds:g} s; ms per trial; "
              f"the median run of {args.repeats} (range in brackets)\n\n"
              "cost = (wall - M*T/2) / (M/2) with wall = the trial loop (hyperdial: executor started -> closed), "
              "the whole optimize()/fit() call, or the span from the first objective's start to the last one's "
              "end; submit->result and worker times are means over trials, minus T; ask and sampler are driver "
              "time per trial.\n")
        print(table)
        if ratios:
            print("\nhyperdial cost per trial / Ray Tune cost per trial (lower is better for hyperdial):\n")
            print(ratio_table(ratios))
        result.update(cost_markdown=table, ratios=ratios)
    if eff:
        table = efficiency_table(eff)
        print(f"\n## Parallel efficiency: {args.trials_per_worker} x N trials of {args.trial_seconds:g} s, n_jobs=N\n")
        print(table)
        result["efficiency_markdown"] = table
    print(f"\ntotal wall time {total:.0f} s; load average at the start {info['loadavg_at_start']}, "
          f"at the end {os.getloadavg()}")
    result.update(total_seconds=total, loadavg_at_end=os.getloadavg(), runs=[r.to_json() for r in cost + eff])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")
    return 1 if any(r.error for r in cost + eff) else 0


if __name__ == "__main__":
    sys.exit(main())
