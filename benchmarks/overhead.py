"""Framework overhead per trial (ask -> tell): hyperdial side by side with Optuna.

One trial, the same for both libraries: a Random sampler (seed 0), no pruner,
`trial = study.ask()`, five `suggest_float` (one with log=True), one
`suggest_categorical` with three choices, then `study.tell(trial, value)` with a
cheap value computed from the parameters. hyperdial's declarative variant,
`study.ask(space)` (every parameter set in one storage write), is a separate row.

Each (library, pattern, storage, size) run uses a fresh storage or study and is
stopped by a wall-clock cap (`--max-seconds`); a capped run reports how many
trials it reached and the means over those trials, and is marked as capped.
Nothing is extrapolated.

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
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/hyperdial_bench"
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "overhead.json")
STORAGES = ("memory", "sqlite", "postgresql")
LIBRARIES = ("hyperdial", "optuna")
PATTERNS = ("suggest", "space")  # "space" = hyperdial's study.ask(space); Optuna has only "suggest"
TAIL = 500  # "last 500 trials"
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
    loadavg_before: tuple[float, float, float] | None = None  # os.getloadavg(): other work on the machine
    loadavg_after: tuple[float, float, float] | None = None
    times: list[float] = field(default_factory=list, repr=False)  # seconds per trial (not written to JSON)

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


def _loop(times: list[float], n: int, deadline: float, one_trial: Callable[[], None]) -> bool:
    """Run up to n trials, timing each; True if the wall-clock cap stopped the loop."""
    clock = time.perf_counter
    for _ in range(n):
        if clock() >= deadline:
            return True
        t0 = clock()
        one_trial()
        times.append(clock() - t0)
    return False


def _hd_space(hd: Any) -> dict[str, Any]:
    return {
        "x0": hd.Float(-5.0, 5.0),
        "x1": hd.Float(-5.0, 5.0),
        "x2": hd.Float(-5.0, 5.0),
        "x3": hd.Float(-5.0, 5.0),
        "lr": hd.Float(1e-5, 1e-1, log=True),
        "optimizer": hd.Categorical(list(CHOICES)),
    }


def run_hyperdial(url: str | None, n: int, max_seconds: float, pattern: str, times: list[float]) -> tuple[bool, float, float]:
    import hyperdial as hd

    t0 = time.perf_counter()
    name = f"bench-overhead-{uuid.uuid4().hex[:12]}"
    study = hd.create_study(
        study_name=name, storage=url, sampler=hd.samplers.Random(seed=0), pruner=hd.pruners.Nop()
    )
    setup = time.perf_counter() - t0
    space = _hd_space(hd)

    def suggest_trial() -> None:
        trial = study.ask()
        x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        opt = trial.suggest_categorical("optimizer", list(CHOICES))
        study.tell(trial, _value(x, lr, opt))

    def space_trial() -> None:
        trial = study.ask(space)
        p = trial.params
        study.tell(trial, _value([p["x0"], p["x1"], p["x2"], p["x3"]], p["lr"], p["optimizer"]))

    try:
        capped = _loop(times, n, time.perf_counter() + max_seconds, suggest_trial if pattern == "suggest" else space_trial)
    finally:
        t1 = time.perf_counter()
        if url is not None and url.startswith("postgresql"):
            hd.delete_study(study_name=name, storage=study.storage)
        db = getattr(study.storage, "db", None)
        if db is not None:
            db.dispose()
        teardown = time.perf_counter() - t1
    return capped, setup, teardown


def run_optuna(url: str | None, n: int, max_seconds: float, pattern: str, times: list[float]) -> tuple[bool, float, float]:
    import optuna

    assert pattern == "suggest"
    t0 = time.perf_counter()
    name = f"bench-overhead-{uuid.uuid4().hex[:12]}"
    study = optuna.create_study(
        study_name=name,
        storage=url,  # a URL string: Optuna's default RDBStorage (behind its _CachedStorage)
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.NopPruner(),
    )
    setup = time.perf_counter() - t0

    def suggest_trial() -> None:
        trial = study.ask()
        x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        opt = trial.suggest_categorical("optimizer", list(CHOICES))
        study.tell(trial, _value(x, lr, opt))

    try:
        capped = _loop(times, n, time.perf_counter() + max_seconds, suggest_trial)
    finally:
        t1 = time.perf_counter()
        storage = study._storage
        if url is not None and url.startswith("postgresql"):
            optuna.delete_study(study_name=name, storage=storage)
        engine = getattr(getattr(storage, "_backend", storage), "engine", None)
        if engine is not None:
            engine.dispose()
        teardown = time.perf_counter() - t1
    return capped, setup, teardown


RUNNERS = {"hyperdial": run_hyperdial, "optuna": run_optuna}


def measure(library: str, pattern: str, storage: str, size: int, max_seconds: float, pg_url: str) -> Run:
    run = Run(library, pattern, storage, size)
    tmp = tempfile.mkdtemp(prefix="hd-bench-") if storage == "sqlite" else None
    url = {"memory": None, "sqlite": f"sqlite:///{tmp}/{library}.db", "postgresql": pg_url}[storage]
    gc.collect()
    run.loadavg_before = os.getloadavg()
    try:
        run.capped, run.setup_s, run.teardown_s = RUNNERS[library](url, size, max_seconds, pattern, run.times)
    except Exception as exc:  # report and go on with the other configurations
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    run.loadavg_after = os.getloadavg()
    run.summarise()
    return run


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
    }
    for mod in ("hyperdial", "optuna", "sqlalchemy", "psycopg"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
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
        except Exception as exc:
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
    if r.capped:
        return f"**capped at {r.n_done:,} trials** ({r.seconds:.0f} s)"
    return ""


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


def markdown(runs: list[Run], info: dict[str, Any]) -> str:
    lines = [
        "| storage | trials asked | library, pattern | trials run | mean ms/trial | last 500 ms/trial | note |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.storage} | {r.size:,} | {LABELS[(r.library, r.pattern)]} | {r.n_done:,} | "
            f"{_ms(r.mean_ms)} | {_ms(r.last_ms)} | {_note(r)} |"
        )
    rows = ratios(runs)
    if rows:
        lines += [
            "",
            "Optuna ms/trial ÷ hyperdial ms/trial, over the same trial numbers (when a run was capped, "
            "both sides are taken over the first N trials the shorter run reached; \"last 500\" = trials N-500..N):",
            "",
            "| storage | trials | N compared | vs hyperdial suggest_*: mean | last 500 | "
            "vs hyperdial ask(space): mean | last 500 |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in rows:
            s, d = row.get("suggest"), row.get("space")
            n = (s or d or {}).get("trials_compared")
            cap = " (capped)" if n is not None and n < row["size"] else ""
            lines.append(
                f"| {row['storage']} | {row['size']:,} | {n:,}{cap} | "
                f"{s['label'][0] if s else '-'} | {s['label'][1] if s else '-'} | "
                f"{d['label'][0] if d else '-'} | {d['label'][1] if d else '-'} |"
                if n is not None
                else f"| {row['storage']} | {row['size']:,} | - | - | - | - | - |"
            )
    return "\n".join(lines)


def _csv(text: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if allowed is not None:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {list(allowed)}")
    return items


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=lambda s: [int(x) for x in _csv(s)], default=[1000, 10000],
                   help="trials per run, comma-separated (default 1000,10000)")
    p.add_argument("--storages", type=lambda s: _csv(s, STORAGES), default=list(STORAGES),
                   help="memory,sqlite,postgresql (default all)")
    p.add_argument("--libraries", type=lambda s: _csv(s, LIBRARIES), default=list(LIBRARIES),
                   help="hyperdial,optuna (default both)")
    p.add_argument("--patterns", type=lambda s: _csv(s, PATTERNS), default=list(PATTERNS),
                   help="suggest,space: 'space' is hyperdial's study.ask(space) (default both)")
    p.add_argument("--max-seconds", type=float, default=120.0,
                   help="wall-clock cap per (library, pattern, storage, size) run (default 120)")
    p.add_argument("--warmup", type=int, default=30,
                   help="unrecorded trials per (library, pattern, storage) before the first measured run (default 30)")
    p.add_argument("--pg-url", default=os.environ.get("HYPERDIAL_BENCH_PG_URL", DEFAULT_PG_URL),
                   help=f"SQLAlchemy URL of a PostgreSQL database (default {DEFAULT_PG_URL})")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON results (default benchmarks/results/overhead.json)")
    args = p.parse_args(argv)

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

    combos = [(lib, pat) for lib in args.libraries for pat in PATTERNS if pat in args.patterns
              and (lib, pat) in LABELS]
    runs: list[Run] = []
    started = time.perf_counter()
    for storage in args.storages:
        for lib, pat in combos:  # warm-up: imports, statement caches, first connections
            if args.warmup > 0:
                w = measure(lib, pat, storage, args.warmup, args.max_seconds, args.pg_url)
                if w.error:
                    print(f"  warm-up {lib}/{pat}/{storage} failed: {w.error}", file=sys.stderr)
        for size in args.sizes:
            for lib, pat in combos:  # the libraries one after the other, same machine state
                r = measure(lib, pat, storage, size, args.max_seconds, args.pg_url)
                runs.append(r)
                print(
                    f"  {storage:10s} {size:>6} {LABELS[(lib, pat)]:38s} n={r.n_done:<6} "
                    f"mean={_ms(r.mean_ms)} ms  last{TAIL}={_ms(r.last_ms)} ms  {_note(r)}",
                    flush=True,
                )
    total = time.perf_counter() - started

    table = markdown(runs, info)
    print()
    print(table)
    print(f"\ntotal wall time {total:.0f} s; load average at the end {os.getloadavg()}")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    result = {
        "benchmark": "overhead per trial, ask -> tell",
        "machine": info,
        "args": {**vars(args), "tail": TAIL},
        "total_seconds": total,
        "loadavg_at_end": os.getloadavg(),
        "runs": [{k: v for k, v in asdict(r).items() if k != "times"} for r in runs],
        "ratios": ratios(runs),
        "markdown": table,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")
    return 1 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
