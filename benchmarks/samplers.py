"""Sampler quality: hyperdial's samplers side by side with Optuna 5's.

Every (problem, sampler, seed) is one run: a fresh in-memory study driven by
ask/tell to the problem's largest budget (200 trials for the cheap problems, 100
for the scikit-learn ones), recording the best value so far after each trial and
the time spent outside the objective (ask + the `suggest_*` calls + tell: the
sampler's and the framework's time). The scores are read at 25, 50, 100 and 200
trials from that one run. Runs are independent and spread over a process pool;
every run is single-threaded (OMP/BLAS/torch limited to one thread).

Scores (see `sampler_report.py`): normalised regret (best - f_opt) / (f_ref - f_opt)
with f_ref the median of 1,000 (sklearn: 100) random configurations of the
problem and f_opt the known optimum, or for the problems without one the best value
ever seen in the results file; the average rank of the samplers per
problem x seed x budget; and milliseconds per trial outside the objective.

Reproduce (see docs/benchmarks.md, "Sampler quality", for the numbers):

    pip install -e '.[bench]' && pip install coco-experiment torch
    bash benchmarks/setup_yahpo.sh                      # optional: the YAHPO Gym problems
    python benchmarks/samplers.py --quick               # a smoke run, about 2 minutes
    python benchmarks/samplers.py                       # everything: hours (resumable)
    python benchmarks/samplers.py --problems synthetic --samplers hd:TPE,optuna:TPE --seeds 5 --budget 100
    python benchmarks/samplers.py --report-only --write-docs
    # the real-ML group's tuning / reporting split (sklearn_problems.py; docs/benchmarks.md's headline):
    python benchmarks/samplers.py --problems reporting --samplers hd:Auto,hd:TPE,hd:Random,optuna:TPE-grouped,optuna:TPE \
        --seeds 5 --budget 50 --workers 2 --out benchmarks/results/sklearn-reporting.json
    # the YAHPO Gym group's tuning / reporting split (yahpo_problems.py; docs/benchmarks.md, "YAHPO Gym scenarios"):
    python benchmarks/samplers.py --check-yahpo-split       # the instance rule, recomputed from YAHPO's statistics
    python benchmarks/samplers.py --problems yahpo-reporting --samplers hd:Auto,hd:TPE,hd:GP,hd:Random,optuna:TPE-grouped,optuna:TPE \
        --seeds 10 --budget 50 --workers 1 --out benchmarks/results/yahpo-reporting.json
    # split over cores (one results file each), then combined into the default file:
    python benchmarks/samplers.py --samplers optuna --workers 1 --out benchmarks/results/a.json
    python benchmarks/samplers.py --samplers hd --workers 1 --out benchmarks/results/b.json
    python benchmarks/samplers.py --merge benchmarks/results/a.json,benchmarks/results/b.json --report-only

Results go to benchmarks/results/samplers.json (git-ignored). Runs already there
are skipped, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # before numpy is imported: one thread per run (inherited by the workers)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse
import datetime as _dt
import importlib.util
import json
import logging
import math
import platform
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_problems as bp
import sampler_report as report

DEFAULT_OUT = HERE / "results" / "samplers.json"
QUICK_OUT = HERE / "results" / "samplers-quick.json"
BUDGETS = (25, 50, 100, 200)
REF_SEED = 20240601  # seeds the random sample behind f_ref (hyperdial's Random sampler)

# name -> (library, attribute, note). hyperdial's are looked up lazily: a sampler that
# has not landed yet is skipped with a note instead of breaking the harness.
SAMPLERS: dict[str, tuple[str, str, str]] = {
    "hd:Auto": ("hyperdial", "Auto", "hyperdial's default"),
    "hd:TPE": ("hyperdial", "TPE", ""),
    "hd:GP": ("hyperdial", "GP", ""),
    "hd:CMAES": ("hyperdial", "CMAES", ""),
    "hd:QMC": ("hyperdial", "QMC", "scrambled Sobol"),
    "hd:Random": ("hyperdial", "Random", ""),
    "optuna:TPE": ("optuna", "TPESampler", "Optuna 5's default: multivariate, constant liar"),
    "optuna:TPE-grouped": ("optuna", "TPESampler", ("multivariate=True, group=True: what Optuna recommends for "
                           "conditional spaces (hyperdial's TPE models each group too)")),
    "optuna:GP": ("optuna", "GPSampler", "needs torch"),
    "optuna:CMAES": ("optuna", "CmaEsSampler", ""),
    "optuna:Random": ("optuna", "RandomSampler", ""),
}
QUICK = {
    "problems": "branin,hartmann6,bbob_f15_d5,svc_cancer,yahpo_xgb_16",
    "seeds": 2,
    "budget": 25,
}


# -- samplers ------------------------------------------------------------------------
def resolve_sampler(name: str) -> tuple[Callable[[int], Any] | None, str]:
    """(factory seed -> sampler, '') or (None, why it is not available)."""
    if name not in SAMPLERS:
        return None, f"unknown sampler (known: {', '.join(SAMPLERS)})"
    lib, attr, _ = SAMPLERS[name]
    if lib == "hyperdial":
        import hyperdial as hd

        cls = getattr(hd.samplers, attr, None)
        if cls is None:
            return None, f"hyperdial.samplers.{attr} does not exist yet"
        return (lambda seed: cls(seed=seed)), ""
    if importlib.util.find_spec("optuna") is None:
        return None, "optuna is not installed"
    if attr == "GPSampler" and importlib.util.find_spec("torch") is None:
        return None, "Optuna's GPSampler needs torch (pip install torch)"
    import optuna

    ocls = getattr(optuna.samplers, attr)
    if name == "optuna:TPE-grouped":
        return (lambda seed: ocls(seed=seed, multivariate=True, group=True)), ""
    return (lambda seed: ocls(seed=seed)), ""


def select_samplers(spec: str) -> list[str]:
    names: list[str] = []
    for tok in [t.strip() for t in spec.split(",") if t.strip()]:
        if tok == "all":
            names.extend(SAMPLERS)
        elif tok in ("hd", "optuna"):
            names.extend(n for n in SAMPLERS if n.startswith(tok + ":"))
        else:
            names.append(tok)
    return list(dict.fromkeys(names))


# -- one run, in a worker process ----------------------------------------------------
def _init_worker() -> None:
    warnings.filterwarnings("ignore")
    import hyperdial as hd

    hd.set_verbosity(logging.ERROR)
    if importlib.util.find_spec("optuna") is not None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def _study(sampler_name: str, sampler: Any) -> Any:
    if sampler_name.startswith("hd:"):
        import hyperdial as hd

        return hd.create_study(sampler=sampler, pruner=hd.pruners.Nop())
    import optuna

    return optuna.create_study(sampler=sampler, pruner=optuna.pruners.NopPruner())


def _limit_torch() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def run_one(problem_name: str, sampler_name: str, seed: int, budget: int) -> dict[str, Any]:
    """Optimise one problem with one sampler; the curve of best values and the time outside the objective."""
    record: dict[str, Any] = {"kind": "run", "problem": problem_name, "sampler": sampler_name, "seed": seed,
                              "budget": budget}
    t_start = time.perf_counter()
    try:
        problem = bp.get_problem(problem_name)
        record["group"] = problem.group
        record["f_opt"] = problem.known_opt()[0] if problem.known_opt else None
        factory, why = resolve_sampler(sampler_name)
        if factory is None:
            raise RuntimeError(why)
        study = _study(sampler_name, factory(seed))
        _limit_torch()
        clock = time.perf_counter
        best = math.inf
        curve: list[float | None] = []
        overhead: list[float] = []
        objective_s = 0.0
        for _ in range(budget):
            t0 = clock()
            trial = study.ask()
            params = problem.suggest(trial)
            t1 = clock()
            value = float(problem.evaluate(params))
            t2 = clock()
            if math.isfinite(value):
                study.tell(trial, value)
                best = min(best, value)
            else:  # does not happen with these problems; keep the loop honest if it does
                study.tell(trial, None)
            t3 = clock()
            _limit_torch()
            objective_s += t2 - t1
            overhead.append(round((t1 - t0) + (t3 - t2), 7))
            curve.append(float(f"{best:.12g}") if math.isfinite(best) else None)
        record.update(best=curve, overhead=overhead, objective_s=round(objective_s, 4), error=None)
        log = getattr(study.sampler, "choice_log", None)
        if sampler_name == "hd:Auto" and log is not None:  # what Auto ran: [(from trial, algorithm), ...]
            record["auto"] = [[int(n), str(algo)] for n, algo, _ in log]
    except Exception:  # noqa: BLE001 - a failed run is recorded (and redone next time), the others go on
        record["error"] = traceback.format_exc(limit=8)
    record["wall_s"] = round(time.perf_counter() - t_start, 3)
    record["loadavg"] = list(os.getloadavg())
    record["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
    return record


def reference(problem_name: str, n: int) -> dict[str, Any]:
    """f_ref: the median value of n random configurations (hyperdial's Random sampler, fixed seed)."""
    import numpy as np

    record: dict[str, Any] = {"kind": "ref", "problem": problem_name, "n": n, "seed": REF_SEED}
    t_start = time.perf_counter()
    try:
        import hyperdial as hd

        problem = bp.get_problem(problem_name)
        study = hd.create_study(sampler=hd.samplers.Random(seed=REF_SEED), pruner=hd.pruners.Nop())
        values = []
        for _ in range(n):
            trial = study.ask()
            v = float(problem.evaluate(problem.suggest(trial)))
            study.tell(trial, v)
            values.append(v)
        arr = np.asarray(values)
        record.update(
            group=problem.group,
            median=float(np.median(arr)),
            min=float(arr.min()),
            max=float(arr.max()),
            f_opt=problem.known_opt()[0] if problem.known_opt else None,
            error=None,
        )
    except Exception:  # noqa: BLE001 - recorded, redone next time
        record["error"] = traceback.format_exc(limit=8)
    record["wall_s"] = round(time.perf_counter() - t_start, 3)
    return record


def _cost(task: tuple[str, tuple[Any, ...]]) -> float:
    """A rough relative duration, for scheduling only."""
    kind, args = task
    if kind == "ref":
        return math.inf
    problem, sampler, _, budget = args
    weight = {"GP": 30.0, "Auto": 10.0, "TPE": 3.0}.get(sampler.split(":")[1], 1.0)
    return budget * weight * (5.0 if bp.get_problem(problem).group == "sklearn" else 1.0)


def _task(kind: str, *args: Any) -> dict[str, Any]:
    return run_one(*args) if kind == "run" else reference(*args)


# -- results file ----------------------------------------------------------------------
def run_key(problem: str, sampler: str, seed: int) -> str:
    return f"{problem}|{sampler}|{seed}"


def load_results(path: Path) -> dict[str, Any]:
    if path.exists():
        with open(path) as fh:
            data: dict[str, Any] = json.load(fh)
        data.setdefault("runs", {})
        data.setdefault("references", {})
        return data
    return {"format": 1, "runs": {}, "references": {}}


def merge_results(into: dict[str, Any], other: dict[str, Any]) -> None:
    """Copy other's runs and references into `into`; of two runs with one key, the one finished later wins.

    References are computed from a fixed seed, so both files hold the same ones (the larger sample is kept).
    """
    for key, run in other["runs"].items():
        mine = into["runs"].get(key)
        if mine is None or mine.get("error") or (not run.get("error") and run.get("finished", "") > mine.get("finished", "")):
            into["runs"][key] = run
    for name, ref in other["references"].items():
        mine = into["references"].get(name)
        if mine is None or mine.get("error") or ref.get("n", 0) > mine.get("n", 0):
            into["references"][name] = ref


def save_results(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh, separators=(",", ":"))
    os.replace(tmp, path)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    mem = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
        with open("/proc/meminfo") as fh:
            kb = int(next(ln.split()[1] for ln in fh if ln.startswith("MemTotal")))
            mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = {}
    for mod in ("hyperdial", "optuna", "numpy", "scipy", "torch", "sklearn", "cocoex"):
        try:
            versions[mod] = str(__import__(mod).__version__)
        except Exception:  # noqa: BLE001 - an optional library that is missing or broken
            versions[mod] = "-"
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(terse=True),
        "python": platform.python_version(), "versions": versions,
    }


# -- driver ---------------------------------------------------------------------------
def _parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Sampler quality: hyperdial vs Optuna 5 (see the module docstring).")
    ap.add_argument("--problems", default=None, help="comma list of problems or groups (%s) or 'all'" % ", ".join(bp.GROUPS))
    ap.add_argument("--samplers", default=None, help="comma list of samplers, 'hd', 'optuna' or 'all' (default)")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds, 0..N-1 (default 5)")
    ap.add_argument("--budget", type=int, default=None, help="cap on trials per run (default: each problem's, 200 or 100)")
    ap.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    ap.add_argument("--quick", action="store_true", help="smoke run: %s" % QUICK)
    ap.add_argument("--out", type=Path, default=None, help=f"results JSON (default {DEFAULT_OUT.relative_to(HERE.parent)})")
    ap.add_argument("--rerun", default="", help="comma list of samplers (or 'all') whose stored runs are redone")
    ap.add_argument("--report-only", action="store_true", help="run nothing; report what the results file holds")
    ap.add_argument("--merge", default="", help="comma list of results files (e.g. from runs split across machines "
                    "or cores with --out) whose runs and references are copied into --out first; newer runs win")
    ap.add_argument("--per-problem", action="store_true", help="also print a table per problem")
    ap.add_argument("--by-scenario", action="store_true", help="also print the YAHPO problems' scores per scenario")
    ap.add_argument("--write-docs", action="store_true", help="replace the 'Sampler quality' section of docs/benchmarks.md")
    ap.add_argument("--docs-note", default="", help="a sentence put at the top of the docs section (e.g. 'partial run')")
    ap.add_argument("--list", action="store_true", help="list problems and samplers with their availability")
    ap.add_argument("--check-yahpo", action="store_true",
                    help="the YAHPO instances' surrogate ranges under random configurations vs YAHPO's statistics")
    ap.add_argument("--check-yahpo-split", action="store_true",
                    help="recompute the YAHPO instance split from YAHPO's statistics file and compare; no runs")
    return ap.parse_args()


def _list() -> None:
    print("problems:")
    for name in bp.PROBLEMS:
        p = bp.get_problem(name)
        why = p.unavailable()
        print(f"  {name:18s} {p.group:9s} {p.max_budget:4d}  {p.description}" + (f"  [unavailable: {why}]" if why else ""))
    print("samplers:")
    for name, (_, _, note) in SAMPLERS.items():
        _, why = resolve_sampler(name)
        print(f"  {name:14s} {note}" + (f"  [unavailable: {why}]" if why else ""))


def _check_yahpo(n: int = 1000) -> None:
    """Each YAHPO instance's surrogate range under random configurations next to its statistics file's range."""
    import numpy as np

    import hyperdial as hd

    why = bp._yahpo_missing()
    if why:
        sys.exit(why)
    hd.set_verbosity(logging.ERROR)
    client = bp.yahpo_client()
    print(f"{n} random configurations per instance at full fidelity (hyperdial Random, seed {REF_SEED}); target range "
          "in the sample vs in YAHPO's statistics file (the real runs); share of the sample outside that range")
    print("| problem | split | target | sample min | median | sample max | statistics min | statistics max | outside |")
    print("|---|---|---|---|---|---|---|---|---|")
    labels = bp.split_labels()
    for name in bp.yp.SPLITS["yahpo-tuning"] + bp.yp.SPLITS["yahpo-reporting"]:
        scenario, inst = bp.yp.parts(name)
        study = hd.create_study(sampler=hd.samplers.Random(seed=REF_SEED), pruner=hd.pruners.Nop())
        xs = []
        for _ in range(n):
            trial = study.ask()
            r = client.evaluate(scenario.name, inst, bp.yp.config_for(scenario, inst, scenario.suggest(trial)))
            xs.append(r[scenario.target])
            study.tell(trial, -r[scenario.target] if scenario.maximise else r[scenario.target])
        lo = bp.yp.statistic(scenario.name, inst, scenario.target, "min")
        hi = bp.yp.statistic(scenario.name, inst, scenario.target, "max")
        arr = np.asarray(xs)
        print(f"| {name} | {labels[name]} | {scenario.target} | {arr.min():.4f} | {np.median(arr):.4f} | {arr.max():.4f} | "
              f"{lo:.4f} | {hi:.4f} | {np.mean((arr < lo) | (arr > hi)):.1%} |")


def _check_yahpo_split() -> int:
    """Recompute the YAHPO instances and their split from the statistics file; 1 if the declared ones differ."""
    yp = bp.yp
    tuning, reporting = yp.split_instances(yp.read_statistics())
    for label, got, declared in (("TUNING", tuning, yp.TUNING), ("REPORTING", reporting, yp.REPORTING)):
        for key in yp.SCENARIOS:
            print(f"{label:9s} {yp.SCENARIOS[key].name:12s} {','.join(got[key])}")
        if got != declared:
            print(f"yahpo_problems.{label} does not follow its rule: declared {declared}", file=sys.stderr)
            return 1
    return 0


def main() -> int:
    args = _parse()
    if args.list:
        _list()
        return 0
    if args.check_yahpo:
        _check_yahpo()
        return 0
    if args.check_yahpo_split:
        return _check_yahpo_split()
    if args.quick:
        args.problems = args.problems or QUICK["problems"]
        args.seeds = args.seeds or QUICK["seeds"]
        args.budget = args.budget or QUICK["budget"]
        args.out = args.out or QUICK_OUT
    args.problems = args.problems or "all"
    args.samplers = args.samplers or "all"
    args.seeds = 5 if args.seeds is None else args.seeds
    args.out = args.out or DEFAULT_OUT
    cap = args.budget or max(BUDGETS)

    problems = []
    for name in bp.select_problems(args.problems):
        why = bp.get_problem(name).unavailable()
        if why:
            print(f"note: skipping problem {name}: {why}")
        else:
            problems.append(name)
    samplers, missing = [], {}
    for name in select_samplers(args.samplers):
        factory, why = resolve_sampler(name)
        if factory is None:
            print(f"note: skipping sampler {name}: {why}")
            missing[name] = why
        else:
            samplers.append(name)

    data = load_results(args.out)
    for extra in [Path(f) for f in args.merge.split(",") if f.strip()]:
        merge_results(data, load_results(extra))
    if args.merge:
        save_results(args.out, data)
    data["machine"] = machine()
    todo: list[tuple[str, tuple[Any, ...]]] = []
    rerun = set(select_samplers(args.rerun)) if args.rerun else set()
    if not args.report_only:
        for name in problems:
            p = bp.get_problem(name)
            ref = data["references"].get(name)
            if ref is None or ref.get("error") or ref.get("n", 0) < p.n_ref:
                todo.append(("ref", (name, p.n_ref)))
        for name in problems:
            budget = min(bp.get_problem(name).max_budget, cap)
            for sampler in samplers:
                for seed in range(args.seeds):
                    old = data["runs"].get(run_key(name, sampler, seed))
                    if old is None or old.get("error") or old.get("budget", 0) < budget or sampler in rerun:
                        todo.append(("run", (name, sampler, seed, budget)))
        todo.sort(key=_cost, reverse=True)  # references first, then the longest runs, so the pool ends together
        done = len(problems) * len(samplers) * args.seeds - sum(t[0] == "run" for t in todo)
        print(f"{len(problems)} problems x {len(samplers)} samplers x {args.seeds} seeds (budget cap {cap}): "
              f"{done} runs already in {args.out}, {len(todo)} tasks to do with {args.workers} workers")
        _run_pool(todo, data, args)

    # report the selected samplers that have results for these problems (a run may predate a sampler's arrival)
    have = {r["sampler"] for r in data["runs"].values() if r["problem"] in problems and not r.get("error")}
    for name in select_samplers(args.samplers):
        if name not in have and name not in missing:
            missing[name] = f"no results in {args.out.name} yet"
    samplers = [name for name in select_samplers(args.samplers) if name in have]
    command = "python benchmarks/samplers.py " + " ".join(shlex.quote(a) for a in _run_args(sys.argv[1:]))
    splits = bp.split_labels()
    text = report.render(data, problems=problems, samplers=samplers, seeds=args.seeds, budgets=BUDGETS,
                         missing=missing, per_problem=args.per_problem, splits=splits)
    print(text)
    if args.by_scenario:
        print("\n" + _yahpo_by_scenario(data, problems, samplers, args.seeds))
    capped = _yahpo_capped(data, [p for p in problems if p.startswith("yahpo_")], samplers, args.seeds, cap)
    if capped:
        print("\n" + capped)
    if args.write_docs:
        path = HERE.parent / "docs" / "benchmarks.md"
        report.write_docs(path, data, text=report.render(data, problems=problems, samplers=samplers, seeds=args.seeds,
                                                        budgets=BUDGETS, missing=missing, per_problem=False, splits=splits),
                          command=command, note=args.docs_note, problems=problems, samplers=samplers, seeds=args.seeds)
        print(f"wrote the 'Sampler quality' section of {path}")
    return 0


def _yahpo_by_scenario(data: dict[str, Any], problems: list[str], samplers: list[str], seeds: int) -> str:
    """One line per YAHPO scenario and sampler: regret ± se and the paired difference to the reference TPE."""
    dupes = report.same_as_auto(data, problems, samplers, seeds, max(BUDGETS))
    shown = [s for s in samplers if s not in dupes]
    ref = next((r for r in report.REFERENCES if r in shown), None)
    lines = ["| scenario | sampler | " + " | ".join(f"regret@{b}" for b in (25, 50))
             + "".join(f" | vs {ref} @{b}" for b in (25, 50) if ref) + " |", "|---|---|---|---|" + "---|---|" * bool(ref)]
    for sc in bp.yp.SCENARIOS.values():
        mine = [p for p in problems if p.startswith("yahpo_") and bp.yp.parts(p)[0] is sc]
        if not mine:
            continue
        scores = report.Scores(data, mine, shown, seeds, (25, 50))
        for g in scores.groups:
            for s in shown:
                cells = [report._pm(scores.group_mean(scores.regret, g, b, s), scores.group_se(g, b, s)) for b in (25, 50)]
                for b in (25, 50) if ref else ():
                    v = scores.versus(g, b, s, ref) if ref and s != ref else None
                    cells.append("-" if v is None else f"{v[0]:.2f}x ({v[1]:+.3f} ± {v[2]:.3f}, {report.verdict(v[1], v[2])})")
                lines.append(f"| {sc.name} ({len(mine)}) | {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _yahpo_capped(data: dict[str, Any], problems: list[str], samplers: list[str], seeds: int, budget: int) -> str:
    """Per sampler: runs whose best value reached the clip at the best real run (yahpo_problems.value_of)."""
    if not problems:
        return ""
    cells = []
    for s in samplers:
        runs = [r for p in problems for k in range(seeds)
                if (r := data["runs"].get(run_key(p, s, k))) and not r.get("error") and r.get("best")]
        hit = sum(1 for r in runs if r["best"][min(budget, len(r["best"])) - 1] <= bp.yp.best_possible(r["problem"]) + 1e-12)
        cells.append(f"`{s}` {hit}/{len(runs)}")
    return ("Runs whose best value reached the best real run in YAHPO's statistics file (where the target is "
            f"clipped; the surrogate predicted that or better) within {budget} trials: " + ", ".join(cells) + ".")


def _run_args(argv: list[str]) -> list[str]:
    """The command line without the reporting-only flags: what reruns the numbers."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--docs-note":
            skip = True
        elif a.split("=")[0] not in ("--docs-note", "--write-docs", "--report-only", "--per-problem", "--by-scenario"):
            out.append(a)
    return out


def _run_pool(todo: list[tuple[str, tuple[Any, ...]]], data: dict[str, Any], args: argparse.Namespace) -> None:
    if not todo:
        return
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.workers), initializer=_init_worker) as pool:
        futures: dict[Future[dict[str, Any]], tuple[str, tuple[Any, ...]]] = {
            pool.submit(_task, kind, *targs): (kind, targs) for kind, targs in todo
        }
        for i, fut in enumerate(as_completed(futures), 1):
            kind = futures[fut][0]
            rec = fut.result()
            if kind == "ref":
                data["references"][rec["problem"]] = rec
                what = f"f_ref {rec['problem']}"
            else:
                data["runs"][run_key(rec["problem"], rec["sampler"], rec["seed"])] = rec
                what = f"{rec['problem']} {rec['sampler']} seed {rec['seed']}"
            save_results(args.out, data)
            status = "ERROR " + rec["error"].strip().splitlines()[-1] if rec.get("error") else "ok"
            print(f"[{i}/{len(todo)} {time.perf_counter() - t0:7.0f}s] {what}: {rec['wall_s']:.1f}s {status}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
