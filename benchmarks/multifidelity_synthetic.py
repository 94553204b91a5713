"""The default study's multi-fidelity mode on synthetic learning curves: a check beside lcbench.

`Auto` picks its GP's prior mean for pruned studies (`pruned_prior_quantile`) on YAHPO lcbench
(benchmarks/pruners.py). This script measures the same choice on curves built from the synthetic test
functions of benchmarks/bench_problems.py, so the trade-off is on record:

    loss(x, t) = f(x) + 2 (f_med - f_opt) exp(-rate(x) t) + noise,   t = 1 .. R (R = 27 steps),

with rate(x) = 0.15 + 0.45 u0 set by the first coordinate (u0 = x0 scaled to [0, 1]), like a learning
rate: slow learners look worse early than they end, so early steps rank configurations imperfectly.
f_med is the median of f over 1,000 random points, f_opt the known optimum; the noise has sd
0.02 (f_med - f_opt). Each run is a default study (`create_study`: Auto + the automatic pruner)
except for `Auto(pruned_prior_quantile=q)`, driven until it has used 30 full runs' worth of steps.
Reported: normalised regret (best final loss of a COMPLETE trial - f_opt) / (f_med - f_opt) after
6, 10, 20 and 30 full-run equivalents, mean over seeds (it can dip below 0 through the noise).

    python benchmarks/multifidelity_synthetic.py --seeds 8 --quantiles 0.5,1.0   # about 10 min with 2 processes
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import logging
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_problems import SYNTHETIC

STEPS = 27
BUDGETS = (6, 10, 20, 30)
PROBLEMS = ("branin", "hartmann6", "ackley10", "rosenbrock10", "styblinski_tang8")


def reference(name: str) -> tuple[float, float]:
    """(f_opt, median of f over 1,000 random points)."""
    fn, bounds, _, f_opt = SYNTHETIC[name]
    rng = np.random.default_rng(123)
    lo, hi = np.array(bounds).T
    return float(f_opt), float(np.median([fn(lo + (hi - lo) * rng.random(len(bounds))) for _ in range(1000)]))


def run(args: tuple[float, str, int]) -> tuple[float, str, int, list[float]]:
    quantile, name, seed = args
    import hyperdial as hd

    logging.getLogger("hyperdial").setLevel(logging.WARNING)
    fn, bounds, _, _ = SYNTHETIC[name]
    f_opt, f_med = reference(name)
    scale = f_med - f_opt
    study = hd.create_study(sampler=hd.samplers.Auto(seed=seed, pruned_prior_quantile=quantile))
    noise = np.random.default_rng(seed + 1000)
    used, best, trace = 0, math.inf, []
    while used < BUDGETS[-1] * STEPS:
        trial = study.ask()
        x = np.array([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)])
        f = fn(x)
        rate = 0.15 + 0.45 * (x[0] - bounds[0][0]) / (bounds[0][1] - bounds[0][0])
        for step in range(1, STEPS + 1):
            used += 1
            loss = f + 2.0 * scale * math.exp(-rate * step) + 0.02 * scale * noise.standard_normal()
            trial.report(loss, step)
            if trial.should_prune():
                study.tell(trial, state=hd.TrialState.PRUNED)
                break
        else:
            study.tell(trial, loss)
            best = min(best, loss)
        trace.append((used, (best - f_opt) / scale))
    regrets = []
    for b in BUDGETS:
        seen = [r for u, r in trace if u <= b * STEPS]
        regrets.append(min(1.0, seen[-1]) if seen else 1.0)
    return quantile, name, seed, regrets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--quantiles", default="0.5,1.0", help="values of Auto(pruned_prior_quantile=...) to compare")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results" / "multifidelity-synthetic.json"))
    args = ap.parse_args()
    quantiles = [float(q) for q in args.quantiles.split(",")]
    specs = [(q, p, s) for q in quantiles for p in PROBLEMS for s in range(args.seeds)]
    results: dict[float, dict[str, list[list[float]]]] = {q: {p: [] for p in PROBLEMS} for q in quantiles}
    with ProcessPoolExecutor(args.jobs) as ex:
        for q, p, _, regrets in ex.map(run, specs):
            results[q][p].append(regrets)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"command": sys.argv, "results": {str(q): r for q, r in results.items()}}))
    print(f"Normalised regret, mean of {args.seeds} seeds, at {'/'.join(map(str, BUDGETS))} full-run equivalents\n")
    print("| pruned_prior_quantile | problem | " + " | ".join(f"@{b}" for b in BUDGETS) + " |")
    print("|---:|---|" + "---:|" * len(BUDGETS))
    for q in quantiles:
        for p in (*PROBLEMS, "mean"):
            rows = np.array(results[q][p]) if p != "mean" else np.array([np.mean(results[q][k], axis=0) for k in PROBLEMS])
            print(f"| {q:g} | {p} | " + " | ".join(f"{v:.3f}" for v in rows.mean(axis=0)) + " |")


if __name__ == "__main__":
    main()
