"""Write terminator_reference.json: shared studies and what Optuna 5.0.0's Terminator decides on them.

tests/test_stopping.py compares `hd.stopping.RegretBound` with these numbers, so the comparison
runs where torch (which Optuna's regret bound needs) is not installed. Regenerate with

    PYTHONPATH=src python tests/data/make_terminator_reference.py

Studies: a 2-d quadratic (minimise), each trial's value the mean of 5 noisy "fold" scores
reported with `report_cv_scores`, sampled by hyperdial's TPE (seed 0), for fold noise 0.01 /
0.3 / 1.0 and 20 / 40 / 80 trials.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import hyperdial as hd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))

from terminator_peer import optuna_estimate


def make_study(noise_sd: float, n: int, seed: int = 0) -> hd.Study:
    rng = np.random.default_rng(seed)
    study = hd.create_study(sampler=hd.samplers.TPE(seed=seed))

    def objective(trial: hd.Trial) -> float:
        x, y = trial.suggest_float("x", -3, 3), trial.suggest_float("y", -3, 3)
        folds = (x - 1) ** 2 + (y + 0.5) ** 2 + noise_sd * rng.standard_normal(5)
        hd.stopping.report_cv_scores(trial, folds)
        return float(np.mean(folds))

    study.optimize(objective, n_trials=n, show_progress_bar=False)
    return study


def main() -> None:
    hd.set_verbosity("WARNING")
    cases = []
    for noise_sd in (0.01, 0.3, 1.0):
        for n in (20, 40, 80):
            study = make_study(noise_sd, n)
            bound, noise, stop = optuna_estimate(study.trials, "minimize")
            cases.append({
                "noise_sd": noise_sd, "n_trials": n,
                "trials": [{"x": t.params["x"], "y": t.params["y"], "value": t.value,
                            "folds": t.system_attrs[hd.stopping.CV_SCORES]} for t in study.trials],
                "optuna": {"bound": bound, "noise": noise, "should_stop": stop},
            })
    (HERE / "terminator_reference.json").write_text(json.dumps({"optuna": "5.0.0", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
