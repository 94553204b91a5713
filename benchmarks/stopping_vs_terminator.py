"""When would each stopping rule have ended the search? hd.stopping.RegretBound vs Optuna's Terminator.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/stopping_vs_terminator.py --split reporting \
        --seeds 3 --budget 50 --out benchmarks/results/stopping_reporting.json

On the scikit-learn problems of `sklearn_problems.py` (1 - 3-fold CV accuracy / R^2, minimised),
one search per (problem, seed) with hyperdial's default sampler (Auto) runs the full budget, each
trial reporting its three fold errors (`hd.stopping.report_cv_scores`). Then BOTH rules judge the
SAME trials after every trial from the 20th on (their shared `min_trials`), each with its own
defaults (top half of the trials, delta 0.1, the CV error of the best trial as the noise):
hyperdial's `RegretBound` and Optuna 5.0.0's `Terminator` (`RegretBoundEvaluator` +
`CrossValidationErrorEvaluator`, via `terminator_peer.py`; needs torch). Recorded per run and
rule: the trial at which it would stop (the budget if never), the best value there and at the
full budget (the loss from stopping), the regret of both against the best value any run of that
problem found, and the seconds per check.

No default of the rule was chosen on these problems: min_trials, top_trials_ratio and delta are
the paper's and Optuna's. The headline is the REPORTING split; `--split tuning` runs the other half.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import sklearn_problems as sp
from terminator_peer import optuna_estimate

import hyperdial as hd

RULES = ("hyperdial", "optuna")


def fold_errors(name: str, params: dict[str, Any]) -> list[float] | None:
    """1 - score of each of the 3 folds `sp.cv_error` averages (None if the fit diverged)."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    family, dataset = sp.parts(name)
    regression = dataset in sp.REGRESSION
    X, y = sp.load(dataset)
    cv = (KFold if regression else StratifiedKFold)(3, shuffle=True, random_state=0)
    model = sp.MODEL[family](params, regression)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        try:
            scores = cross_val_score(model, X, y, cv=cv, scoring="r2" if regression else "accuracy")
        except ValueError:
            return None
    if not np.all(np.isfinite(scores)):
        return None
    return [float(1.0 - s) for s in scores]


def search(name: str, seed: int, budget: int) -> hd.Study:
    suggest = sp.suggest_for(name)
    study = hd.create_study(sampler=hd.samplers.Auto(seed=seed))

    def objective(trial: hd.Trial) -> float:
        folds = fold_errors(name, suggest(trial))
        if folds is None:
            return sp.DIVERGED
        hd.stopping.report_cv_scores(trial, folds)
        return float(np.mean(folds))

    study.optimize(objective, n_trials=budget, show_progress_bar=False)
    return study


def judge(study: hd.Study, min_trials: int, seed: int) -> dict[str, Any]:
    trials = [t for t in study.trials if t.state == hd.TrialState.COMPLETE]
    out: dict[str, Any] = {r: {"checks": []} for r in RULES}
    rule = hd.stopping.RegretBound(min_trials=min_trials, seed=seed)
    for k in range(min_trials, len(trials) + 1):
        prefix = trials[:k]
        t0 = time.perf_counter()
        est = rule.estimate(hd.History(("minimize",), prefix))
        t1 = time.perf_counter()
        bound, noise, stop = optuna_estimate(prefix, "minimize", seed=seed)
        t2 = time.perf_counter()
        out["hyperdial"]["checks"].append([k, est.bound, est.noise, est.should_stop, t1 - t0])
        out["optuna"]["checks"].append([k, bound, noise, stop, t2 - t1])
    return out


def run(split: str, seeds: int, budget: int, min_trials: int, out: Path) -> list[dict[str, Any]]:
    hd.set_verbosity("WARNING")
    rows: list[dict[str, Any]] = json.loads(out.read_text()) if out.exists() else []
    done = {(r["problem"], r["seed"]) for r in rows}
    for name in sp.SPLITS[split]:
        for seed in range(seeds):
            if (name, seed) in done:
                continue
            t0 = time.perf_counter()
            study = search(name, seed, budget)
            values = [t.value for t in study.trials if t.state == hd.TrialState.COMPLETE]
            row = {"problem": name, "seed": seed, "split": split, "budget": budget, "values": values,
                   **judge(study, min_trials, seed)}
            rows.append(row)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(rows))
            print(f"{name} seed {seed}: {time.perf_counter() - t0:.0f}s; stop at "
                  + ", ".join(f"{r} {stop_trial(row, r)}" for r in RULES), flush=True)
    return rows


def stop_trial(row: dict[str, Any], rule: str) -> int:
    return next((c[0] for c in row[rule]["checks"] if c[3]), len(row["values"]))


def _mean_se(xs: list[float]) -> str:
    if not xs:
        return "-"
    se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else 0.0
    return f"{statistics.fmean(xs):.4g} +- {se:.2g}"


def report(rows: list[dict[str, Any]]) -> str:
    best_known: dict[str, float] = {}
    for r in rows:
        best_known[r["problem"]] = min(best_known.get(r["problem"], math.inf), min(r["values"]))
    lines = [("| rule | runs stopped | trials used (of budget) | loss from stopping (best@stop - best@budget) | "
             "loss <= noise at stop | regret @stop | regret @budget | seconds per check |"),
             "|---|---|---|---|---|---|---|---|"]
    per_rule: dict[str, dict[str, list[float]]] = {}
    for rule in RULES:
        used, loss, safe, reg_stop, reg_full, cost = [], [], [], [], [], []
        stopped = 0
        for r in rows:
            k = stop_trial(r, rule)
            values = r["values"]
            best_k, best_full = min(values[:k]), min(values)
            stopped += k < len(values)
            used.append(k / len(values))
            loss.append(best_k - best_full)
            check = next((c for c in r[rule]["checks"] if c[0] == k), None)
            if k < len(values) and check is not None:
                safe.append(float(best_k - best_full <= check[2]))
            reg_stop.append(best_k - best_known[r["problem"]])
            reg_full.append(best_full - best_known[r["problem"]])
            cost += [c[4] for c in r[rule]["checks"]]
        per_rule[rule] = {"used": used, "loss": loss}
        lines.append(f"| {rule} | {stopped}/{len(rows)} | {_mean_se(used)} | {_mean_se(loss)} | "
                     f"{_mean_se(safe)} | {_mean_se(reg_stop)} | {_mean_se(reg_full)} | {_mean_se(cost)} |")
    diff_used = [a - b for a, b in zip(per_rule["hyperdial"]["used"], per_rule["optuna"]["used"])]
    diff_loss = [a - b for a, b in zip(per_rule["hyperdial"]["loss"], per_rule["optuna"]["loss"])]
    agree = [float(stop_trial(r, "hyperdial") == stop_trial(r, "optuna")) for r in rows]
    decisions = [float(a[3] == b[3]) for r in rows for a, b in zip(r["hyperdial"]["checks"], r["optuna"]["checks"])]
    lines += ["", (f"Paired, hyperdial - optuna, per run: trials used {_mean_se(diff_used)} of the budget; "
                   f"loss {_mean_se(diff_loss)}. Same stopping trial in {_mean_se(agree)} of runs; "
                   f"same decision at {_mean_se(decisions)} of the {len(decisions)} checks.")]
    lines += ["", "| problem | seed | hyperdial stops at | optuna stops at | best@budget |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['problem']} | {r['seed']} | {stop_trial(r, 'hyperdial')} | {stop_trial(r, 'optuna')} | "
                     f"{min(r['values']):.4f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=sorted(sp.SPLITS), default="reporting")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--min-trials", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/stopping_reporting.json"))
    ap.add_argument("--report-only", action="store_true", help="print the tables of --out without running")
    args = ap.parse_args()
    rows = json.loads(args.out.read_text()) if args.report_only else run(
        args.split, args.seeds, args.budget, args.min_trials, args.out)
    print(report(rows))


if __name__ == "__main__":
    main()
