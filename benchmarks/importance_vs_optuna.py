"""hyperdial's parameter importance next to Optuna 5's on the very same trials.

    PYTHONPATH=src python benchmarks/importance_vs_optuna.py

f = 10 x1 + x2 + 0 x3 + {0, 0.5, 3}[c] on 200 uniform trials; the closed-form variance
shares (what fANOVA estimates) are x1 0.822, c 0.170, x2 0.008, x3 0. Prints each method's
shares and time (the numbers in docs/design-notes.md, "Parameter importance").
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import optuna

import hyperdial as hd
from hyperdial.importance import evaluate


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")  # Optuna's experimental-feature warnings
    rng = np.random.default_rng(0)
    n = 200
    x, cats = rng.uniform(0, 1, (n, 3)), rng.integers(0, 3, n)
    y = 10 * x[:, 0] + x[:, 1] + 0 * x[:, 2] + np.array([0, 0.5, 3.0])[cats]
    space = {"x1": hd.Float(0, 1), "x2": hd.Float(0, 1), "x3": hd.Float(0, 1), "c": hd.Categorical(["a", "b", "c"])}
    trials = [
        hd.FrozenTrial(number=i, state=hd.TrialState.COMPLETE, values=(float(y[i]),), distributions=space,
                       params={"x1": x[i, 0], "x2": x[i, 1], "x3": x[i, 2], "c": "abc"[cats[i]]})
        for i in range(n)
    ]
    history = hd.History(("minimize",), trials)
    od = optuna.distributions
    ospace = {k: od.FloatDistribution(0, 1) for k in ("x1", "x2", "x3")}
    ospace["c"] = od.CategoricalDistribution(["a", "b", "c"])
    study = optuna.create_study()
    for t in trials:
        study.add_trial(optuna.trial.create_trial(params=t.params, distributions=ospace, value=t.values[0]))
    peers = {"ped-anova": optuna.importance.PedAnovaImportanceEvaluator(),
             "fanova": optuna.importance.FanovaImportanceEvaluator(seed=0)}
    for method, evaluator in peers.items():
        t0 = time.perf_counter()
        ours = evaluate(history, method=method)
        t1 = time.perf_counter()
        theirs = optuna.importance.get_param_importances(study, evaluator=evaluator)
        t2 = time.perf_counter()
        print(f"{method:9s} hyperdial {({k: round(v, 3) for k, v in ours.items()})}  {t1 - t0:.2f} s")
        print(f"{'':9s} optuna    {({k: round(float(v), 3) for k, v in theirs.items()})}  {t2 - t1:.2f} s")


if __name__ == "__main__":
    main()
