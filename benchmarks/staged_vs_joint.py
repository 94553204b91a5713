"""Staged vs joint tuning at equal budget, on real models with hyperdial's presets.

Each problem is a preset (its space, defaults and priority) on a data set scikit-learn ships
(`sklearn_problems.load`, 3-fold CV error, fixed folds and model seeds):

- `svm_<data>`: `hd.presets.svm(n_features=...)` on `SVC` (3 parameters);
- `rf_<data>`: `hd.presets.random_forest()` on `RandomForestClassifier`, `n_estimators` narrowed to
  [10, 100] (log; default 100) to keep an evaluation under a second (6 parameters);
- `xgb_<data>`: `hd.presets.xgboost()` on `xgboost.XGBClassifier` with 50 boosting rounds (8 parameters);
- `rpart_<task>`: YAHPO Gym's rbv2_rpart surrogate (R's rpart on OpenML task <task>, 1 - accuracy, full
  training set; `bash benchmarks/setup_yahpo.sh`), 4 parameters on YAHPO's ranges. Defaults: `rpart.control`'s
  (cp = 0.01, minsplit = 20, minbucket = round(minsplit / 3) = 7, maxdepth = 30). Priority: cp, minbucket,
  maxdepth, minsplit, the PED-ANOVA ranking of 300 random configurations on each TUNING task (16 and 1501 agree);
  Probst, Boulesteix & Bischl (2019, "Tunability") rank these too, but their tables were not at hand to cite.

Methods, every study starting from the preset's defaults (trial 0):
- `joint`: `preset.tune(f, n_trials=N, staged=False)` with `Auto(seed)`: every parameter tuned from the start;
- `staged`: `preset.tune(f, n_trials=N, staged=True)`: `default_stages(d, N)` around `Auto(seed)`,
  run once with N = 25 and once with N = 50 (the stages depend on the budget);
- `optuna`: Optuna 5's `TPESampler(seed)` on the same space with the defaults enqueued first (the peer anchor).

Score: normalised regret r = (best - f*) / (f_default - f*) where f* is the best value any run of
any method found on that problem (so 0 = as good as anything found, 1 = no gain over the defaults);
reported at 25 and 50 trials, mean +- standard error over (problem, seed), and the paired difference
staged - joint.

The TUNING/REPORTING split below was declared before the first run. Whether `staged` becomes the
default of `Preset.tune` was decided on TUNING (rule: the paired staged - joint difference below zero by
more than its standard error at both 25 and 50 trials). TUNING met it; REPORTING, run afterwards as the
confirmation, did not (ahead at 25, behind by three standard errors at 50), so the default stays joint
(`staged=False`); see docs/benchmarks.md.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/staged_vs_joint.py --split reporting --seeds 3 \
        --out benchmarks/results/staged_vs_joint_reporting.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sklearn_problems as sp

import hyperdial as hd

DATASETS = ("iris", "wine", "cancer", "digits")
# Declared before any run: each preset and each data set in both halves.
TUNING = ("svm_iris", "svm_cancer", "rf_wine", "rf_digits", "xgb_iris", "xgb_cancer", "rpart_16", "rpart_1501")
REPORTING = ("svm_wine", "svm_digits", "rf_iris", "rf_cancer", "xgb_wine", "xgb_digits", "rpart_41143", "rpart_1487")
SPLITS = {"tuning": TUNING, "reporting": REPORTING}
BUDGETS = (25, 50)


RPART = hd.presets.Preset(
    name="rpart", version="bench",
    space={"cp": hd.Float(0.0009118819655545162, 1.0, log=True), "maxdepth": hd.Int(1, 30),
           "minbucket": hd.Int(1, 100), "minsplit": hd.Int(1, 100)},
    defaults={"cp": 0.01, "maxdepth": 30, "minbucket": 7, "minsplit": 20},
    priority=("cp", "minbucket", "maxdepth", "minsplit"),
    sources={k: "R rpart.control default; YAHPO rbv2_rpart range" for k in ("cp", "maxdepth", "minbucket", "minsplit")},
)


def preset_of(name: str) -> hd.presets.Preset:
    family, data = name.split("_", 1)
    if family == "rpart":
        return RPART
    if family == "svm":
        return hd.presets.svm(n_features=sp.load(data)[0].shape[1])
    if family == "rf":
        return hd.presets.random_forest().with_(n_estimators=hd.Int(10, 100, log=True))
    return hd.presets.xgboost()


def model_of(name: str, p: dict[str, Any]) -> Any:
    family, _ = name.split("_", 1)
    if family == "svm":
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        return make_pipeline(StandardScaler(), SVC(C=p["C"], gamma=p["gamma"], class_weight=p["class_weight"]))
    if family == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(random_state=0, n_jobs=1, **p)
    from xgboost import XGBClassifier

    q = dict(p)
    return XGBClassifier(n_estimators=50, learning_rate=q.pop("eta"), reg_lambda=q.pop("lambda"),
                         reg_alpha=q.pop("alpha"), tree_method="hist", n_jobs=1, random_state=0, **q)


@cache
def evaluate(name: str, key: str) -> float:
    """CV error of one configuration (memoised: the defaults trial is shared by every run)."""
    family, data = name.split("_", 1)
    if family == "rpart":
        import bench_problems as bp

        config = dict(json.loads(key), **{"num.impute.selected.cpo": "impute.mean", "trainsize": 1.0, "repl": 10,
                                          "task_id": data})
        return 1.0 - min(1.0, max(0.0, bp.yahpo_client().evaluate("rbv2_rpart", data, config)["acc"]))
    return sp.cv_error(model_of(name, json.loads(key)), data)


def objective(name: str) -> Any:
    return lambda config: evaluate(name, json.dumps(config, sort_keys=True))


def curve(values: list[float], n: int) -> list[float]:
    return [float(v) for v in np.minimum.accumulate(np.array(values[:n], dtype=float))]


def run_hd(name: str, seed: int, n: int, staged: bool) -> list[float]:
    study = hd.create_study(sampler=hd.samplers.Auto(seed=seed))
    preset_of(name).tune(objective(name), n_trials=n, study=study, staged=staged, show_progress_bar=False)
    return [t.value for t in study.trials]


def run_optuna(name: str, seed: int, n: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    preset = preset_of(name)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial(dict(preset.defaults))

    def obj(trial: Any) -> float:
        config = {}
        for k, d in preset.space.items():
            if isinstance(d, hd.Categorical):
                config[k] = trial.suggest_categorical(k, list(d.choices))
            elif isinstance(d, hd.Int):
                config[k] = trial.suggest_int(k, d.low, d.high, log=d.log, step=d.step)
            else:
                config[k] = trial.suggest_float(k, d.low, d.high, log=d.log, step=d.step)
        return objective(name)(config)

    study.optimize(obj, n_trials=n)
    return [t.value for t in study.trials]


def run_all(names: tuple[str, ...], seeds: int, out: Path | None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out.read_text()) if out is not None and out.exists() else {}
    for name in names:
        for seed in range(seeds):
            for method in ("joint", "staged25", "staged50", "optuna"):
                key = f"{name}/{method}/{seed}"
                if key in data:
                    continue
                t0 = time.perf_counter()
                if method == "joint":
                    values = run_hd(name, seed, 50, staged=False)
                elif method == "optuna":
                    values = run_optuna(name, seed, 50)
                else:
                    n = int(method[len("staged"):])
                    values = run_hd(name, seed, n, staged=True)
                data[key] = values
                print(f"{key}: best {min(values):.4f} in {time.perf_counter() - t0:.0f} s", flush=True)
                if out is not None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(json.dumps(data))
    return data


def report(data: dict[str, Any], names: tuple[str, ...], seeds: int) -> str:
    """Normalised regret at 25 and 50 trials per method, and staged - joint paired, mean +- SE."""
    rows: dict[tuple[str, int], list[float]] = {}
    for name in names:
        runs = {k: v for k, v in data.items() if k.startswith(name + "/")}
        if not runs:
            continue
        f_star = min(min(v) for v in runs.values())
        f_default = float(next(iter(runs.values()))[0])
        scale = f_default - f_star
        for seed in range(seeds):
            for n in BUDGETS:
                picks = {"joint": f"{name}/joint/{seed}", "staged": f"{name}/staged{n}/{seed}",
                         "optuna": f"{name}/optuna/{seed}"}
                if not all(k in data for k in picks.values()):
                    continue
                for method, key in picks.items():
                    best = curve(data[key], n)[-1]
                    r = (best - f_star) / scale if scale > 0 else 0.0
                    rows.setdefault((method, n), []).append(r)
    lines = ["| method | regret @25 | regret @50 |", "|---|---|---|"]

    def fmt(v: list[float]) -> str:
        a = np.array(v)
        return f"{a.mean():.3f} +- {a.std(ddof=1) / math.sqrt(len(a)):.3f} (n={len(a)})" if len(a) > 1 else "-"

    for method in ("joint", "staged", "optuna"):
        lines.append(f"| {method} | {fmt(rows.get((method, 25), []))} | {fmt(rows.get((method, 50), []))} |")
    diffs = {n: list(np.array(rows.get(("staged", n), [])) - np.array(rows.get(("joint", n), []))) for n in BUDGETS}
    lines.append(f"| staged - joint (paired) | {fmt(diffs[25])} | {fmt(diffs[50])} |")
    per = ["", "| problem | joint @25 | staged @25 | joint @50 | staged @50 |", "|---|---|---|---|---|"]
    for name in names:
        cells = []
        for n in BUDGETS:
            for method in ("joint", f"staged{n}"):
                vals = [curve(data[f"{name}/{method}/{s}"], n)[-1] for s in range(seeds)
                        if f"{name}/{method}/{s}" in data]
                cells.append(f"{np.mean(vals):.4f}" if vals else "-")
        per.append(f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
    return "\n".join(lines + per)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=sorted(SPLITS), default="tuning")
    ap.add_argument("--problems", default=None, help="comma list (default: the split's)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="JSON file of best-so-far curves (resumable)")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    logging.getLogger("hyperdial").setLevel(logging.WARNING)
    names = tuple(args.problems.split(",")) if args.problems else SPLITS[args.split]
    if args.report_only:
        data = json.loads(args.out.read_text())
    else:
        data = run_all(names, args.seeds, args.out)
    print(report(data, names, args.seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
