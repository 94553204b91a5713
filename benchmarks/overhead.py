"""Framework overhead per trial (ask -> tell): hyperdial side by side with Optuna.

One trial, the same for both libraries: a Random sampler (seed 0), no pruner,
`trial = study.ask()`, five `suggest_float` (one with log=True), one
`suggest_categorical` with three choices, then `study.tell(trial, value)` with a
cheap value computed from the parameters. hyperdial's declarative variant,
`study.ask(space)` (every parameter set in one storage write), is a separate row.

Each (library, pattern, storage, size) run uses a fresh storage or study and is
stopped by a wall-clock cap on its own trials (`--max-seconds`); a capped run
reports how many trials it reached and the means over those trials, and is
marked as capped. Nothing is extrapolated. The runs of one storage and size take
turns, `--chunk` trials each, in one process, so trial i of each library is
measured under the same machine state (a shared machine's bursts of load and
disk latency hit all of them alike). Per-trial CPU time of this process is
recorded next to wall time; the load average and the latency of one fdatasync
are printed, since both SQL storages' numbers depend on them.

Reproduce (about 10-15 minutes on 2 cores with the defaults):

    pip install -e '.[bench]'
    python benchmarks/overhead.py                       # all storages, 1,000 and 10,000 trials
    python benchmarks/overhead.py --storages sqlite --sizes 1000 --libraries hyperdial
    python benchmarks/overhead.py --pg-url postgresql+psycopg://user@host:5432/db

Prints the machine, a markdown table and the ratios; writes JSON to
`benchmarks/results/overhead.json` (git-ignored).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/hyperdial_bench"
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "overhead.json")
STORAGES = ("memory", "sqlite", "postgresql")
LIBRARIES = ("hyperdial", "optuna")
PATTERNS = ("suggest", "space")  # "space" = hyperdial's study.ask(space); Optuna has only "suggest"
TAIL = 500  # "last 500 trials"
# Diagnostic (--hd-sqlite-index): an index that lets SQLite find WAITING trials without scanning the study.
HD_SQLITE_INDEX = "CREATE INDEX ix_bench_study_state_number ON hd_trials (study_id, state, number)"
_options = {"hd_sqlite_index": False}
CHOICES = ("adam", "sgd", "rmsprop")
LABELS = {
    ("hyperdial", "suggest"): "hyperdial, suggest_*",
    ("hyperdial", "space"): "hyperdial, ask(space) (declarative)",
    ("optuna", "suggest"): "Optuna, suggest_*",
}


def _value(x: list[float], lr: float, opt: str) -> float:
    return sum(v * v for v in x) + math.log10(lr) ** 2 + CHOICES.index(opt)


# -- one run per library ---------------------------------------------------------------
@dataclass
class Run:
    library: str
    pattern: str
    storage: str
    size: int
    n_done: int = 0
    capped: bool = False
    seconds: float = 0.0  # sum of the per-trial times
    mean_ms: float | None = None
    last_ms: float | None = None  # mean of the last min(TAIL, n_done) trials
    first_ms: float | None = None  # mean of the first min(TAIL, n_done) trials
    block_ms: list[float] = field(default_factory=list)  # mean per block of TAIL trials, in order
    setup_s: float = 0.0  # storage + study creation, not in the per-trial numbers
    teardown_s: float = 0.0  # study deletion / cleanup, not in the per-trial numbers
    error: str | None = None
    remark: str = ""  # shown in the note column (e.g. a diagnostic that changed the setup)
    loadavg_before: tuple[float, float, float] | None = None  # os.getloadavg(): other work on the machine
    loadavg_after: tuple[float, float, float] | None = None
    cpu_mean_ms: float | None = None  # CPU time of this process per trial (a load-independent check)
    cpu_last_ms: float | None = None
    times: list[float] = field(default_factory=list, repr=False)  # seconds per trial (not written to JSON)
    cpu: list[float] = field(default_factory=list, repr=False)  # CPU seconds per trial (not written to JSON)

    def summarise(self) -> None:
        t = self.times
        self.n_done = len(t)
        if not t:
            return
        self.seconds = sum(t)
        self.mean_ms = 1e3 * self.seconds / len(t)
        k = min(TAIL, len(t))
        self.last_ms = 1e3 * sum(t[-k:]) / k
        self.first_ms = 1e3 * sum(t[:k]) / k
        self.block_ms = [1e3 * sum(t[i : i + TAIL]) / len(t[i : i + TAIL]) for i in range(0, len(t), TAIL)]
        if len(self.cpu) == len(t):
            self.cpu_mean_ms = 1e3 * sum(self.cpu) / len(t)
            self.cpu_last_ms = 1e3 * sum(self.cpu[-k:]) / k


def _hd_space(hd: Any) -> dict[str, Any]:
    return {
        "x0": hd.Float(-5.0, 5.0),
        "x1": hd.Float(-5.0, 5.0),
        "x2": hd.Float(-5.0, 5.0),
        "x3": hd.Float(-5.0, 5.0),
        "lr": hd.Float(1e-5, 1e-1, log=True),
        "optimizer": hd.Categorical(list(CHOICES)),
    }


class Runner:
    """One run: a fresh study in a fresh storage (`open`), trials in chunks (`step`), cleanup (`close`)."""

    def __init__(self, run: Run, url: str | None, max_seconds: float, tmp: str | None) -> None:
        self.run = run
        self.url = url
        self.max_seconds = max_seconds
        self.tmp = tmp
        self.name = f"bench-overhead-{uuid.uuid4().hex[:12]}"
        self.elapsed = 0.0  # wall time spent in this run's trials so far: what the cap applies to
        self.study: Any = None
        self.trial: Callable[[], None] | None = None

    @property
    def done(self) -> bool:
        return self.run.error is not None or self.run.capped or len(self.run.times) >= self.run.size

    def open(self) -> None:
        t0 = time.perf_counter()
        try:
            self._open()
        except Exception as exc:  # noqa: BLE001 - report it in the table and go on with the other runs
            self.run.error = f"{type(exc).__name__}: {exc}"
        self.run.setup_s = time.perf_counter() - t0

    def step(self, k: int) -> None:
        """Run up to k more trials, timing each; stop at the run's size or its wall-clock cap."""
        if self.done or self.trial is None:
            return
        one_trial, times, cpu = self.trial, self.run.times, self.run.cpu
        clock, cpu_clock = time.perf_counter, time.process_time
        try:
            for _ in range(min(k, self.run.size - len(times))):
                if self.elapsed >= self.max_seconds:
                    self.run.capped = True
                    return
                c0 = cpu_clock()
                t0 = clock()
                one_trial()
                dt = clock() - t0
                cpu.append(cpu_clock() - c0)
                times.append(dt)
                self.elapsed += dt
            if self.elapsed >= self.max_seconds and len(times) < self.run.size:
                self.run.capped = True
        except Exception as exc:  # noqa: BLE001 - report it in the table and go on with the other runs
            self.run.error = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        t0 = time.perf_counter()
        try:
            if self.study is not None:
                self._close()
        except Exception as exc:  # noqa: BLE001 - a failed cleanup is reported, not fatal
            self.run.error = self.run.error or f"cleanup: {type(exc).__name__}: {exc}"
        finally:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
        self.run.teardown_s = time.perf_counter() - t0
        self.run.summarise()

    def _open(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class HyperdialRunner(Runner):
    def _open(self) -> None:
        import hyperdial as hd

        study = self.study = hd.create_study(
            study_name=self.name, storage=self.url, sampler=hd.samplers.Random(seed=0), pruner=hd.pruners.Nop()
        )
        space = _hd_space(hd)
        if _options["hd_sqlite_index"] and self.url is not None and self.url.startswith("sqlite:///"):
            with sqlite3.connect(self.url[len("sqlite:///") :]) as conn:
                conn.execute(HD_SQLITE_INDEX)
            conn.close()
            self.run.remark = "diagnostic: extra index on hd_trials (study_id, state, number)"

        def suggest_trial() -> None:
            trial = study.ask()
            x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
            lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
            opt = trial.suggest_categorical("optimizer", list(CHOICES))
            study.tell(trial, _value(x, lr, opt))

        def space_trial() -> None:
            trial = study.ask(space)  # the declarative variant: all six parameters in one storage write
            p = trial.params
            study.tell(trial, _value([p["x0"], p["x1"], p["x2"], p["x3"]], p["lr"], p["optimizer"]))

        self.trial = suggest_trial if self.run.pattern == "suggest" else space_trial

    def _close(self) -> None:
        import hyperdial as hd

        if self.url is not None and self.url.startswith("postgresql"):
            hd.delete_study(study_name=self.name, storage=self.study.storage)
        db = getattr(self.study.storage, "db", None)
        if db is not None:
            db.dispose()


class OptunaRunner(Runner):
    def _open(self) -> None:
        import optuna

        study = self.study = optuna.create_study(
            study_name=self.name,
            storage=self.url,  # a URL string: Optuna's default RDBStorage (behind its _CachedStorage)
            sampler=optuna.samplers.RandomSampler(seed=0),
            pruner=optuna.pruners.NopPruner(),
        )

        def suggest_trial() -> None:
            trial = study.ask()
            x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
            lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
            opt = trial.suggest_categorical("optimizer", list(CHOICES))
            study.tell(trial, _value(x, lr, opt))

        self.trial = suggest_trial

    def _close(self) -> None:
        import optuna

        storage = self.study._storage
        if self.url is not None and self.url.startswith("postgresql"):
            optuna.delete_study(study_name=self.name, storage=storage)
        engine = getattr(getattr(storage, "_backend", storage), "engine", None)
        if engine is not None:
            engine.dispose()


def make_runner(library: str, pattern: str, storage: str, size: int, max_seconds: float, pg_url: str) -> Runner:
    run = Run(library, pattern, storage, size)
    tmp = tempfile.mkdtemp(prefix="hd-bench-") if storage == "sqlite" else None
    url = {"memory": None, "sqlite": f"sqlite:///{tmp}/{library}-{pattern}.db", "postgresql": pg_url}[storage]
    cls = HyperdialRunner if library == "hyperdial" else OptunaRunner
    return cls(run, url, max_seconds, tmp)


def measure_group(
    combos: list[tuple[str, str]], storage: str, size: int, max_seconds: float, pg_url: str, chunk: int
) -> list[Run]:
    """Run every (library, pattern) for one storage and size.

    With chunk > 0 the runs take turns, `chunk` trials each, so trial i of every
    library is measured at about the same moment: on a shared machine, a burst of
    other work then slows all of them instead of one. chunk = 0 runs them one after
    the other.
    """
    runners = [make_runner(lib, pat, storage, size, max_seconds, pg_url) for lib, pat in combos]
    for r in runners:
        r.open()
    gc.collect()
    for r in runners:
        r.run.loadavg_before = os.getloadavg()
    try:
        if chunk > 0:
            while not all(r.done for r in runners):
                for r in runners:
                    r.step(chunk)
        else:
            for r in runners:
                r.step(size)
    finally:
        for r in runners:
            r.run.loadavg_after = os.getloadavg()
            r.close()
    return [r.run for r in runners]


def fsync_probe(directory: str | None = None, n: int = 20) -> float:
    """Median ms of an 8 KiB write + fdatasync: what each durable commit waits for on this disk."""
    fd, path = tempfile.mkstemp(prefix="hd-bench-fsync-", dir=directory)
    try:
        lat = []
        for _ in range(n):
            os.pwrite(fd, b"\0" * 8192, 0)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            lat.append(time.perf_counter() - t0)
        return round(1e3 * sorted(lat)[n // 2], 3)
    finally:
        os.close(fd)
        os.unlink(path)


# -- machine facts ---------------------------------------------------------------------
def machine(pg_url: str | None) -> dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_at_start": os.getloadavg(),
        "fsync_ms_at_start": fsync_probe(),
    }
    for mod in ("hyperdial", "optuna", "sqlalchemy", "psycopg"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing library is reported as None
            info[mod] = None
    info["postgresql"] = None
    if pg_url:
        try:
            import sqlalchemy as sa

            engine = sa.create_engine(pg_url)
            with engine.connect() as conn:
                info["postgresql"] = conn.execute(sa.text("SHOW server_version")).scalar()
                info["postgresql_synchronous_commit"] = conn.execute(sa.text("SHOW synchronous_commit")).scalar()
            engine.dispose()
        except Exception as exc:  # noqa: BLE001 - no server: PostgreSQL is skipped with this reason
            info["postgresql_error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return info


# -- reporting -------------------------------------------------------------------------
def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _note(r: Run) -> str:
    if r.error:
        return f"error: {r.error.splitlines()[0][:80]}"
    notes = [f"**capped at {r.n_done:,} trials** ({r.seconds:.0f} s)"] if r.capped else []
    return "; ".join(notes + ([r.remark] if r.remark else []))


def _window_ms(r: Run, lo: int, hi: int) -> float | None:
    w = r.times[lo:hi]
    return 1e3 * sum(w) / len(w) if w else None


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    x = a / b
    return f"{x:.0f}x" if x >= 10 else f"{x:.1f}x"


def ratios(runs: list[Run]) -> list[dict[str, Any]]:
    """Optuna ÷ hyperdial over the same trial numbers (the first N both runs reached)."""
    out = []
    by = {(r.library, r.pattern, r.storage, r.size): r for r in runs}
    for (lib, pat, storage, size), opt in by.items():
        if lib != "optuna":
            continue
        row: dict[str, Any] = {"storage": storage, "size": size}
        for hpat in PATTERNS:
            hd_run = by.get(("hyperdial", hpat, storage, size))
            if hd_run is None or not hd_run.times or not opt.times:
                continue
            n = min(len(hd_run.times), len(opt.times))
            k = min(TAIL, n)
            mean = (_window_ms(opt, 0, n), _window_ms(hd_run, 0, n))
            last = (_window_ms(opt, n - k, n), _window_ms(hd_run, n - k, n))
            row[hpat] = {
                "trials_compared": n,
                "mean": mean[0] / mean[1] if mean[0] and mean[1] else None,
                "last": last[0] / last[1] if last[0] and last[1] else None,
                "label": (_ratio(*mean), _ratio(*last)),
            }
        out.append(row)
    return out


def markdown(runs: list[Run]) -> str:
    header = (
        "| storage | trials asked | library, pattern | trials run | mean ms/trial | last 500 ms/trial "
        "| CPU ms/trial: mean, last 500 | note |"
    )
    lines = [header, "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in runs:
        lines.append(
            f"| {r.storage} | {r.size:,} | {LABELS[(r.library, r.pattern)]} | {r.n_done:,} | "
            f"{_ms(r.mean_ms)} | {_ms(r.last_ms)} | {_ms(r.cpu_mean_ms)}, {_ms(r.cpu_last_ms)} | {_note(r)} |"
        )
    rows = ratios(runs)
    if not rows:
        return "\n".join(lines)
    lines += [
        "",
        (
            "Optuna ms/trial ÷ hyperdial ms/trial (wall clock), over the same trial numbers: when a run was "
            "capped, both sides are taken over the first N trials the shorter run reached, and "
            '"last 500" means trials N-500..N of both runs.'
        ),
        "",
        (
            "| storage | trials | N compared | vs hyperdial suggest_*: mean | last 500 "
            "| vs hyperdial ask(space): mean | last 500 |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        cells = [row["storage"], f"{row['size']:,}"]
        s, d = row.get("suggest"), row.get("space")
        n = (s or d or {}).get("trials_compared")
        cells.append("-" if n is None else f"{n:,}" + (" (capped)" if n < row["size"] else ""))
        for part in (s, d):
            cells += list(part["label"]) if part else ["-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _csv(text: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if allowed is not None:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {list(allowed)}")
    return items


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in _csv(s)],
        default=[1000, 10000],
        help="trials per run, comma-separated (default 1000,10000)",
    )
    p.add_argument(
        "--storages",
        type=lambda s: _csv(s, STORAGES),
        default=list(STORAGES),
        help="memory,sqlite,postgresql (default all)",
    )
    p.add_argument(
        "--libraries",
        type=lambda s: _csv(s, LIBRARIES),
        default=list(LIBRARIES),
        help="hyperdial,optuna (default both)",
    )
    p.add_argument(
        "--patterns",
        type=lambda s: _csv(s, PATTERNS),
        default=list(PATTERNS),
        help="suggest,space: 'space' is hyperdial's study.ask(space) (default both)",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=120.0,
        help="wall-clock cap per (library, pattern, storage, size) run (default 120)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=30,
        help="unrecorded trials per (library, pattern, storage) before the first measured run (default 30)",
    )
    p.add_argument(
        "--chunk",
        type=int,
        default=50,
        help="the runs of one storage and size take turns, this many trials each, so all see the same "
        "machine state; 0 runs them one after the other (default 50)",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("HYPERDIAL_BENCH_PG_URL", DEFAULT_PG_URL),
        help=f"SQLAlchemy URL of a PostgreSQL database (default {DEFAULT_PG_URL})",
    )
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON results (default benchmarks/results/overhead.json)")
    p.add_argument(
        "--hd-sqlite-index",
        action="store_true",
        help="diagnostic: add an index on hd_trials (study_id, state, number) to hyperdial's SQLite files "
        "before timing (shows what the WAITING-trial lookup in create_trial costs)",
    )
    args = p.parse_args(argv)
    _options["hd_sqlite_index"] = args.hd_sqlite_index

    import hyperdial as hd

    hd.set_verbosity(logging.WARNING)
    if "optuna" in args.libraries:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)

    info = machine(args.pg_url if "postgresql" in args.storages else None)
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    print(f"args: {vars(args)}", flush=True)
    if "postgresql" in args.storages and info.get("postgresql") is None:
        print(f"PostgreSQL unreachable, skipping it: {info.get('postgresql_error')}", file=sys.stderr)
        args.storages = [s for s in args.storages if s != "postgresql"]

    combos = [(lib, pat) for lib in args.libraries for pat in PATTERNS if pat in args.patterns and (lib, pat) in LABELS]
    runs: list[Run] = []
    started = time.perf_counter()
    for storage in args.storages:
        if args.warmup > 0:  # imports, statement caches, first connections: not recorded
            for w in measure_group(combos, storage, args.warmup, args.max_seconds, args.pg_url, args.chunk):
                if w.error:
                    print(f"  warm-up {w.library}/{w.pattern}/{storage} failed: {w.error}", file=sys.stderr)
        for size in args.sizes:
            for r in measure_group(combos, storage, size, args.max_seconds, args.pg_url, args.chunk):
                runs.append(r)
                print(
                    f"  {storage:10s} {size:>6} {LABELS[(r.library, r.pattern)]:38s} n={r.n_done:<6} "
                    f"mean={_ms(r.mean_ms)} ms  last{TAIL}={_ms(r.last_ms)} ms  "
                    f"cpu={_ms(r.cpu_mean_ms)}/{_ms(r.cpu_last_ms)} ms  {_note(r)}",
                    flush=True,
                )
            print(f"  (load average {os.getloadavg()}, fsync {fsync_probe()} ms)", flush=True)
    total = time.perf_counter() - started

    table = markdown(runs)
    print()
    print(table)
    print(f"\ntotal wall time {total:.0f} s; load average at the end {os.getloadavg()}, fsync {fsync_probe()} ms")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    result = {
        "benchmark": "overhead per trial, ask -> tell",
        "machine": info,
        "args": {**vars(args), "tail": TAIL},
        "total_seconds": total,
        "loadavg_at_end": os.getloadavg(),
        "fsync_ms_at_end": fsync_probe(),
        "runs": [{k: v for k, v in asdict(r).items() if k not in ("times", "cpu")} for r in runs],
        "ratios": ratios(runs),
        "markdown": table,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")
    return 1 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
