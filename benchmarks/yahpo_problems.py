"""The YAHPO Gym half of the sampler benchmark's real-ML group: spaces, instances and their split.

Three surrogate scenarios (`../shared/benchdata/yahpo`, v1.0.2; see that folder's README), each evaluated at
full fidelity (train size 1, and for rbv2 the mean over its 10 replications), value minimised:

- `rbv2_xgboost` (`xgb`): XGBoost, 14 parameters; the booster (gblinear / gbtree / dart) switches the tree
  parameters and dart's two drop parameters on and off (the scenario's `config_space.json` conditions).
  Value 1 - accuracy.
- `rbv2_rpart` (`rpart`): a decision tree, 4 numeric parameters and a categorical imputation. 1 - accuracy.
- `iaml_glmnet` (`glmnet`): elastic net, alpha and log lambda (`s`). Value: mmce (misclassification rate).

The target is clipped to the instance's range in YAHPO's statistics file (within [0, 1]): what the real runs
never reached is the surrogate's extrapolation (`value_of`). 1,000 random configurations per instance stay inside
those ranges (`python benchmarks/samplers.py --check-yahpo`); an optimiser may not.

The instances and their TUNING / REPORTING split follow one rule, written here before any of these problems was
run (`split_instances`, recomputed by `python benchmarks/samplers.py --check-yahpo-split` and by the tests):

1. Eligible: the instance's ranges in YAHPO's `global_statistics/instance_target_statistics.csv` (the real runs
   the surrogate was fitted to) leave room to optimise and are believable. rbv2: best accuracy < 0.999 (a task
   solved to 100% leaves only ties), smallest logloss > 0.05 (near 0 or below is impossible on a real task: the
   README's rbv2_xgboost 1461 and 1590, also 12, 40499, 40923), accuracy spread max - min >= 0.05. glmnet: smallest
   mmce > 0.01 and spread >= 0.05. `EXCLUDED` names the instances the data README or an earlier surrogate screen
   flagged; each also fails the range rule, and stays out even if the statistics file changed.
2. `SEEN` (the four rbv2_xgboost instances of the benchmark's first version, seen while earlier defaults were
   chosen) go to TUNING.
3. The other eligible instances of a scenario, in the order of sha256("<scenario>/<instance>") (a fixed,
   arbitrary order: not by size, id or difficulty), fill REPORTING first, then TUNING, up to `N_PER_SPLIT` each.
   An OpenML task used by one scenario in one split is never used by another scenario in the other split (the
   scenarios are handled in `SCENARIOS` order), so no data set is tuned on in one model family and reported in
   another.

Defaults are chosen on TUNING only; the headline is REPORTING's.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

Params = dict[str, Any]
HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("YAHPO_DATA", HERE.parent.parent / "shared" / "benchdata" / "yahpo"))
STATISTICS = Path("global_statistics") / "instance_target_statistics.csv"


# -- spaces: define-by-run, the same code drives a hyperdial and an Optuna trial --------------------------
def xgboost_suggest(trial: Any) -> Params:
    """rbv2_xgboost's space (its config_space.json), booster-dependent, as define-by-run."""
    booster = trial.suggest_categorical("booster", ["gblinear", "gbtree", "dart"])
    p: Params = {
        "booster": booster,
        "nrounds": trial.suggest_int("nrounds", 7, 2981, log=True),
        "lambda": trial.suggest_float("lambda", math.exp(-7), math.exp(7), log=True),
        "alpha": trial.suggest_float("alpha", math.exp(-7), math.exp(7), log=True),
        "subsample": trial.suggest_float("subsample", 0.1, 1.0),
        "num.impute.selected.cpo": trial.suggest_categorical("impute", ["impute.mean", "impute.median", "impute.hist"]),
    }
    if booster in ("gbtree", "dart"):
        p["eta"] = trial.suggest_float("eta", math.exp(-7), 1.0, log=True)
        p["gamma"] = trial.suggest_float("gamma", math.exp(-10), math.exp(2), log=True)
        p["max_depth"] = trial.suggest_int("max_depth", 1, 15)
        p["min_child_weight"] = trial.suggest_float("min_child_weight", math.exp(1), math.exp(5), log=True)
        p["colsample_bytree"] = trial.suggest_float("colsample_bytree", 0.01, 1.0)
        p["colsample_bylevel"] = trial.suggest_float("colsample_bylevel", 0.01, 1.0)
    if booster == "dart":
        p["rate_drop"] = trial.suggest_float("rate_drop", 0.0, 1.0)
        p["skip_drop"] = trial.suggest_float("skip_drop", 0.0, 1.0)
    return p


def rpart_suggest(trial: Any) -> Params:
    """rbv2_rpart's space: complexity (log), depth, leaf and split sizes, imputation."""
    return {
        "cp": trial.suggest_float("cp", math.exp(-7), 1.0, log=True),
        "maxdepth": trial.suggest_int("maxdepth", 1, 30),
        "minbucket": trial.suggest_int("minbucket", 1, 100),
        "minsplit": trial.suggest_int("minsplit", 1, 100),
        "num.impute.selected.cpo": trial.suggest_categorical("impute", ["impute.mean", "impute.median", "impute.hist"]),
    }


def glmnet_suggest(trial: Any) -> Params:
    """iaml_glmnet's space: the elastic-net mixing alpha and the penalty s (log)."""
    return {"alpha": trial.suggest_float("alpha", 0.0, 1.0), "s": trial.suggest_float("s", 1e-4, 1000.0, log=True)}


@dataclass(frozen=True)
class Scenario:
    key: str  # the short name in problem names: yahpo_<key>_<instance>
    name: str  # YAHPO's scenario name
    suggest: Callable[[Any], Params]
    fidelity: tuple[tuple[str, float], ...]  # the full-fidelity settings sent with every configuration
    target: str  # the YAHPO target read
    maximise: bool  # value = 1 - target if maximised, else target; clipped to [0, 1] first
    describe: str


SCENARIOS: dict[str, Scenario] = {  # the order the split rule handles them in (smallest pool first)
    "glmnet": Scenario("glmnet", "iaml_glmnet", glmnet_suggest, (("trainsize", 1.0),), "mmce", False,
                       "elastic net (alpha, log s)"),
    "xgb": Scenario("xgb", "rbv2_xgboost", xgboost_suggest, (("trainsize", 1.0), ("repl", 10)), "acc", True,
                    "XGBoost, booster-conditional (14 parameters)"),
    "rpart": Scenario("rpart", "rbv2_rpart", rpart_suggest, (("trainsize", 1.0), ("repl", 10)), "acc", True,
                      "decision tree (4 numeric parameters, a categorical)"),
}


def config_for(scenario: Scenario, instance: str, params: Params) -> Params:
    """What YAHPO is asked: the active parameters, the full fidelity and the task (nothing for inactive ones)."""
    return dict(params, **dict(scenario.fidelity), task_id=instance)


def value_of(scenario: Scenario, result: dict[str, float], observed: tuple[float, float] = (0.0, 1.0)) -> float:
    """The minimised value from YAHPO's answer, the target clipped to `observed` (within [0, 1]).

    The problems pass the instance's range in YAHPO's statistics file (`target_range`): a surrogate
    can predict what the real runs it was fitted to never reached (rbv2_xgboost 1461's logloss below
    zero), and an optimiser that finds such a spot has found the surrogate's error, not a better model.
    """
    lo, hi = max(0.0, observed[0]), min(1.0, observed[1])
    x = min(hi, max(lo, float(result[scenario.target])))
    return 1.0 - x if scenario.maximise else x


def target_range(scenario: Scenario, instance: str) -> tuple[float, float]:
    """The instance's [min, max] of the scenario's target in YAHPO's statistics file."""
    return (statistic(scenario.name, instance, scenario.target, "min"),
            statistic(scenario.name, instance, scenario.target, "max"))


def best_possible(name: str) -> float:
    """The value at the clip on the good side: the best real run in YAHPO's statistics file."""
    scenario, instance = parts(name)
    lo, hi = target_range(scenario, instance)
    return 1.0 - min(1.0, hi) if scenario.maximise else max(0.0, lo)


# -- the instance rule (see the module docstring) -------------------------------------------------------
SEEN = {"xgb": ("16", "1501", "41143", "1487")}
EXCLUDED = {"xgb": ("1461", "1590", "12", "40499", "40923")}  # data README; the earlier --check-yahpo screen
N_PER_SPLIT = {"glmnet": 2, "xgb": 8, "rpart": 4}
ACC_MAX_BELOW, LOGLOSS_MIN_ABOVE, MMCE_MIN_ABOVE, MIN_SPREAD = 0.999, 0.05, 0.01, 0.05

# The rule's output on YAHPO 1.0.2's statistics file, declared before any run (the tests and
# `samplers.py --check-yahpo-split` recompute it).
TUNING = {
    "glmnet": ("40981", "1489"),
    "xgb": ("16", "1501", "41143", "1487", "1489", "307", "1485", "40994"),
    "rpart": ("1485", "40981", "1486", "1462"),
}
REPORTING = {
    "glmnet": ("1067", "41146"),
    "xgb": ("1515", "23", "40978", "377", "15", "41146", "1464", "6332"),
    "rpart": ("40966", "375", "18", "41169"),
}


def read_statistics(path: Path | None = None) -> dict[tuple[str, str], dict[tuple[str, str], float]]:
    """(scenario, instance) -> {(metric, 'min' | 'max'): value} from YAHPO's statistics file."""
    out: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    with open(path or DATA / STATISTICS, newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault((row["scenario"], row["instance"]), {})[(row["metric"], row["statistic"])] = float(row["value"])
    return out


def eligible(scenario: Scenario, stats: dict[tuple[str, str], float]) -> bool:
    """Rule 1: the instance's recorded ranges leave room to optimise and are believable."""
    if scenario.target == "acc":
        lo, hi = stats[("acc", "min")], stats[("acc", "max")]
        return hi < ACC_MAX_BELOW and stats[("logloss", "min")] > LOGLOSS_MIN_ABOVE and hi - lo >= MIN_SPREAD
    lo, hi = stats[("mmce", "min")], stats[("mmce", "max")]
    return lo > MMCE_MIN_ABOVE and hi - lo >= MIN_SPREAD


def _order(scenario: Scenario, instance: str) -> str:
    return hashlib.sha256(f"{scenario.name}/{instance}".encode()).hexdigest()


def split_instances(
    stats: dict[tuple[str, str], dict[tuple[str, str], float]],
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(TUNING, REPORTING), scenario key -> instances, by the rule of the module docstring."""
    tuning: dict[str, tuple[str, ...]] = {}
    reporting: dict[str, tuple[str, ...]] = {}
    side: dict[str, str] = {i: "tuning" for seen in SEEN.values() for i in seen}  # OpenML task -> its split
    for key, sc in SCENARIOS.items():
        n = N_PER_SPLIT[key]
        seen = SEEN.get(key, ())
        pool = sorted((i for (name, i), st in stats.items()
                       if name == sc.name and i not in seen and i not in EXCLUDED.get(key, ()) and eligible(sc, st)),
                      key=lambda i: _order(sc, i))
        rep = [i for i in pool if side.get(i, "reporting") == "reporting"][:n]
        tun = list(seen) + [i for i in pool if i not in rep and side.get(i, "tuning") == "tuning"][: n - len(seen)]
        for i in rep:
            side[i] = "reporting"
        for i in tun:
            side[i] = "tuning"
        tuning[key], reporting[key] = tuple(tun), tuple(rep)
    return tuning, reporting


def problem_name(key: str, instance: str) -> str:
    return f"yahpo_{key}_{instance}"


def problem_names(split: dict[str, tuple[str, ...]]) -> list[str]:
    return [problem_name(key, i) for key in SCENARIOS for i in split.get(key, ())]


SPLITS = {"yahpo-tuning": problem_names(TUNING), "yahpo-reporting": problem_names(REPORTING)}


def parts(name: str) -> tuple[Scenario, str]:
    """yahpo_<key>_<instance> -> (its scenario, the instance)."""
    _, key, instance = name.split("_", 2)
    return SCENARIOS[key], instance


@cache
def _statistics() -> dict[tuple[str, str], dict[tuple[str, str], float]]:
    return read_statistics()


def statistic(scenario: str, instance: str, metric: str, which: str) -> float:
    """One value of YAHPO's statistics file (read once per process)."""
    return _statistics()[(scenario, instance)][(metric, which)]
