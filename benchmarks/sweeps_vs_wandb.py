"""The same W&B sweep file under W&B's own engine and under hyperdial's, side by side.

`sweeps_wandb/sweep.yaml` (method: bayes, metric val_loss, early_terminate: hyperband min_iter 3 eta 3,
run_cap 60) tunes `sweeps_wandb/train_mlp.py` (an MLP on digits, one epoch per step, 27 epochs). Engines:

  wandb:bayes   W&B's engine offline (the `sweeps` package on PyPI): `sweeps.next_run(config, runs)` proposes,
                `sweeps.stop_runs(config, runs)` after every epoch says which running run hyperband stops
  wandb:random  the same with `method: random` (a reference)
  hd:bayes      hyperdial reading the same file: `bayes` -> its default sampler (Auto), `early_terminate` ->
                its Hyperband pruner (docs/sweeps.md), through `study.ask` / `trial.report` / `should_prune`

Runs are sequential (one agent). The training runs in-process, so the times measured are the engines' own:
the time per proposal (next_run; ask + suggest) and per early-stopping decision (stop_runs; report +
should_prune). Compute is counted in epochs actually trained. Score: the best final val_loss among runs
trained to the end, after each run; reported at equal compute (the epochs every run of every engine reached)
and after all 60 runs. A run stopped early is recorded as W&B records it (`finished`, its history kept).

No setting is chosen here (every engine runs the file as written): seeds 0.. are all REPORTING, there is
no tuning split. W&B's `sweeps` needs numpy<2, so run it in a venv of its own where hyperdial also imports:

  OMP_NUM_THREADS=1 PYTHONPATH=src /work/venv-sweeps/bin/python benchmarks/sweeps_vs_wandb.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FILE = HERE / "sweeps_wandb" / "sweep.yaml"
sys.path.insert(0, str(HERE / "sweeps_wandb"))
import train_mlp

ENGINES = ("hd:bayes", "wandb:bayes", "wandb:random")
REPORTING_SEEDS = range(100)  # every seed is reporting: nothing is tuned here


def run_wandb(method: str, seed: int, n_runs: int) -> dict[str, Any]:
    import sweeps
    import yaml
    from sweeps.config import SweepConfig

    raw = yaml.safe_load(FILE.read_text())  # numbers written 1.0e-4: PyYAML (as `wandb sweep`) reads 1e-4 as text
    raw["method"] = method
    config = SweepConfig(raw)  # validates and fills W&B's defaults (metric.impute, ...)
    np.random.seed(seed)  # W&B's engine draws from the global generators
    random.seed(seed)
    runs: list[Any] = []
    trace, propose, decide = [], [], []
    for i in range(n_runs):
        t0 = time.perf_counter()
        suggestion = sweeps.next_run(config, runs)
        propose.append(time.perf_counter() - t0)
        values = {k: v["value"] for k, v in suggestion.config.items()}
        run = sweeps.SweepRun(name=f"run-{i}", state=sweeps.RunState.running, config=suggestion.config, history=[])
        runs.append(run)
        losses: list[float] = []
        for loss in train_mlp.epochs(values):
            losses.append(loss)
            run.history.append({"val_loss": loss})
            t0 = time.perf_counter()
            stop = sweeps.stop_runs(config, runs)
            decide.append(time.perf_counter() - t0)
            if any(r.name == run.name for r in stop):
                break
        run.state = sweeps.RunState.finished
        trace.append({"epochs": len(losses), "final": losses[-1] if len(losses) == train_mlp.EPOCHS else None})
    return {"trace": trace, "propose": propose, "decide": decide}


def run_hyperdial(seed: int, n_runs: int) -> dict[str, Any]:
    import hyperdial as hd
    from hyperdial.sweeps import load_sweep
    from hyperdial.sweeps.agent import sample_config

    hd.set_verbosity(logging.WARNING)
    spec = load_sweep(FILE)
    spec.seed = seed
    study = hd.create_study(directions=spec.directions, sampler=spec.make_sampler(), pruner=spec.make_pruner())
    trace, propose, decide = [], [], []
    for _ in range(n_runs):
        t0 = time.perf_counter()
        trial = study.ask()
        values = sample_config(trial, spec)
        propose.append(time.perf_counter() - t0)
        losses: list[float] = []
        pruned = False
        for step, loss in enumerate(train_mlp.epochs(values), 1):
            losses.append(loss)
            t0 = time.perf_counter()
            trial.report(loss, step=step)
            pruned = trial.should_prune()
            decide.append(time.perf_counter() - t0)
            if pruned:
                break
        if pruned:
            study.tell(trial, state=hd.TrialState.PRUNED)
        else:
            study.tell(trial, losses[-1])
        trace.append({"epochs": len(losses), "final": None if pruned else losses[-1]})
    return {"trace": trace, "propose": propose, "decide": decide, "sampler": repr(study.sampler)}


def best_at(trace: list[dict[str, Any]], budget: float) -> float:
    """The best final val_loss among runs finished within `budget` epochs of compute (inf: none yet)."""
    best, used = math.inf, 0
    for t in trace:
        used += t["epochs"]
        if used > budget:
            break
        if t["final"] is not None:
            best = min(best, t["final"])
    return best


def mean_se(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs, dtype=float)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else math.nan


def report(results: dict[str, dict[int, dict[str, Any]]]) -> str:
    seeds = sorted(set.intersection(*(set(r) for r in results.values())))
    total = {e: [sum(t["epochs"] for t in results[e][s]["trace"]) for s in seeds] for e in results}
    equal = min(min(v) for v in total.values())  # compute every run of every engine reached
    lines = [f"{len(seeds)} seeds; equal compute = {equal} epochs (the least any run used for its 60 runs)", "",
             (f"| engine | best val_loss @ {equal} epochs | best @ 60 runs | epochs for 60 runs | full runs | "
             "ms per proposal | ms per stop decision |"), "|---|---|---|---|---|---|---|"]
    for e, per in results.items():
        at_eq = mean_se([best_at(per[s]["trace"], equal) for s in seeds])
        at_all = mean_se([best_at(per[s]["trace"], math.inf) for s in seeds])
        ep = mean_se(total[e])
        full = mean_se([sum(t["final"] is not None for t in per[s]["trace"]) for s in seeds])
        prop = mean_se([1e3 * float(np.mean(per[s]["propose"])) for s in seeds])
        dec = mean_se([1e3 * float(np.mean(per[s]["decide"])) for s in seeds])
        lines.append(f"| {e} | {at_eq[0]:.4f} ± {at_eq[1]:.4f} | {at_all[0]:.4f} ± {at_all[1]:.4f} | "
                     f"{ep[0]:.0f} ± {ep[1]:.0f} | {full[0]:.1f} ± {full[1]:.1f} | {prop[0]:.2f} ± {prop[1]:.2f} | "
                     f"{dec[0]:.3f} ± {dec[1]:.3f} |")
    ref = "hd:bayes"
    lines += ["", (f"Paired by seed, {ref} vs each W&B engine (ratio of means; mean difference ± se; 'beats' only "
              "where the difference exceeds its se):"), ""]
    for e in results:
        if e == ref:
            continue
        for label, budget in ((f"best @ {equal} epochs", equal), ("best @ 60 runs", math.inf),
                              ("best @ equal compute per seed", None)):
            pairs = []
            for s in seeds:
                # None: per seed, the smaller of the two engines' totals, which both reached
                b_ = budget if budget is not None else min(sum(t["epochs"] for t in results[x][s]["trace"])
                                                          for x in (ref, e))
                pairs.append((best_at(results[ref][s]["trace"], b_), best_at(results[e][s]["trace"], b_)))
            a, b = [p[0] for p in pairs], [p[1] for p in pairs]
            d = mean_se([x - y for x, y in pairs])
            verdict = "beats" if -d[0] > d[1] else "behind" if d[0] > d[1] else "level"
            lines.append(f"- {label}: {ref} {np.mean(a):.4f} vs {e} {np.mean(b):.4f} = "
                         f"{np.mean(a) / np.mean(b):.2f}x ({d[0]:+.4f} ± {d[1]:.4f}, {verdict})")
        pa = [np.mean(results[ref][s]["propose"]) for s in seeds]
        pb = [np.mean(results[e][s]["propose"]) for s in seeds]
        lines.append(f"- time per proposal: {ref} / {e} = {np.mean(pa) / np.mean(pb):.3f}x")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--out", default="sweeps_vs_wandb.json", help="results file (extended, never overwritten)")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")  # the sweeps package's pydantic deprecation warnings
    out = Path(args.out)
    results: dict[str, dict[int, dict[str, Any]]] = {}
    if out.exists():
        for e, per in json.loads(out.read_text()).items():
            results[e] = {int(s): r for s, r in per.items()}
    if not args.report_only:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            assert seed in REPORTING_SEEDS
            for engine in args.engines.split(","):
                if seed in results.get(engine, {}):
                    continue
                t0 = time.time()
                if engine == "hd:bayes":
                    r = run_hyperdial(seed, args.runs)
                else:
                    r = run_wandb(engine.split(":")[1], seed, args.runs)
                results.setdefault(engine, {})[seed] = r
                out.write_text(json.dumps(results))
                print(f"seed {seed} {engine}: {time.time() - t0:.0f} s, "
                      f"{sum(t['epochs'] for t in r['trace'])} epochs, best {best_at(r['trace'], math.inf):.4f}",
                      flush=True)
    print(report(results))


if __name__ == "__main__":
    main()
