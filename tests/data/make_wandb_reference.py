"""Write wandb_reference.json: what W&B's own engine (the `sweeps` package on PyPI) says about sweep files.

Run it in a virtual environment with `pip install sweeps==0.3.0` (it pins numpy<2, so it is not
in the test extra; the tests read the JSON this writes):

    python -m venv /tmp/venv-sweeps && /tmp/venv-sweeps/bin/pip install sweeps==0.3.0 pyyaml
    /tmp/venv-sweeps/bin/python tests/data/make_wandb_reference.py

For each case of CASES it records whether W&B's schema accepts the configuration
(`sweeps.schema_violations_from_proposed_config`), and for each distribution of DRAWS, N values
drawn by W&B's random search (`sweeps.next_runs`), which tests/test_sweeps_wandb.py compares
with hyperdial's draws.
"""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import numpy as np

N = 1000

# One parameter per distribution, as W&B's docs spell them.
DRAWS = {
    "constant": {"value": 7},
    "categorical": {"values": ["a", "b", "c"]},
    "categorical_w_probabilities": {"values": [1, 2, 3], "probabilities": [0.2, 0.5, 0.3]},
    "int_uniform": {"distribution": "int_uniform", "min": -3, "max": 9},
    "uniform": {"distribution": "uniform", "min": -1.5, "max": 2.5},
    "inferred_int": {"min": 2, "max": 6},
    "inferred_float": {"min": 0.0, "max": 1},
    "q_uniform": {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
    "q_uniform_int": {"distribution": "q_uniform", "min": 0, "max": 100, "q": 10},
    "log_uniform": {"distribution": "log_uniform", "min": -9.2, "max": -2.3},
    "log_uniform_values": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
    "q_log_uniform": {"distribution": "q_log_uniform", "min": 0.0, "max": 6.0, "q": 1},
    "q_log_uniform_values": {"distribution": "q_log_uniform_values", "min": 16, "max": 512, "q": 8},
    "inv_log_uniform": {"distribution": "inv_log_uniform", "min": 1.0, "max": 5.0},
    "inv_log_uniform_values": {"distribution": "inv_log_uniform_values", "min": 0.01, "max": 10.0},
    "normal": {"distribution": "normal", "mu": 3.0, "sigma": 0.5},
    "q_normal": {"distribution": "q_normal", "mu": 10.0, "sigma": 4.0, "q": 2},
    "log_normal": {"distribution": "log_normal", "mu": -2.0, "sigma": 0.7},
    "q_log_normal": {"distribution": "q_log_normal", "mu": 3.0, "sigma": 0.5, "q": 0.5},
    "beta": {"distribution": "beta", "a": 2.0, "b": 5.0},
    "q_beta": {"distribution": "q_beta", "a": 0.5, "b": 0.5, "q": 0.1},
    "nested": {"parameters": {"lr": {"distribution": "log_uniform_values", "min": 0.001, "max": 0.1},
                              "opt": {"values": ["adam", "sgd"]}}},
}

M = {"metric": {"name": "loss", "goal": "minimize"}}
# (name, configuration): accepted or not is what W&B's schema says, recorded below.
CASES = [
    ("minimal", {"method": "random", **M, "parameters": {"x": {"min": 0.0, "max": 1.0}}}),
    ("unknown top key", {"method": "random", **M, "parameters": {"x": {"min": 0, "max": 1}}, "epochs": 3}),
    ("unknown method", {"method": "hyperopt", **M, "parameters": {"x": {"min": 0, "max": 1}}}),
    ("unknown distribution", {"method": "random", **M, "parameters": {"x": {"distribution": "cauchy"}}}),
    ("foreign key in distribution", {"method": "random", **M,
                                     "parameters": {"x": {"distribution": "normal", "mu": 0, "min": 1}}}),
    ("min >= max", {"method": "random", **M, "parameters": {"x": {"min": 2.0, "max": 1.0}}}),
    ("int_uniform with floats", {"method": "random", **M,
                                 "parameters": {"x": {"distribution": "int_uniform", "min": 0.5, "max": 3}}}),
    ("values not a list", {"method": "random", **M, "parameters": {"x": {"values": 3}}}),
    ("empty values", {"method": "random", **M, "parameters": {"x": {"values": []}}}),
    ("log_uniform_values min 0", {"method": "random", **M, "parameters": {
        "x": {"distribution": "log_uniform_values", "min": 0, "max": 1}}}),
    ("negative sigma", {"method": "random", **M, "parameters": {
        "x": {"distribution": "normal", "mu": 0, "sigma": -1}}}),
    ("q zero", {"method": "random", **M, "parameters": {
        "x": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0}}}),
    ("metric without name", {"method": "random", "metric": {"goal": "minimize"},
                             "parameters": {"x": {"min": 0, "max": 1}}}),
    ("bad goal", {"method": "random", "metric": {"name": "loss", "goal": "up"},
                  "parameters": {"x": {"min": 0, "max": 1}}}),
    ("unknown metric key", {"method": "random", "metric": {"name": "loss", "window": 3},
                            "parameters": {"x": {"min": 0, "max": 1}}}),
    ("hyperband min_iter", {"method": "bayes", **M, "parameters": {"x": {"min": 0, "max": 1}},
                            "early_terminate": {"type": "hyperband", "min_iter": 3}}),
    ("hyperband max_iter s", {"method": "bayes", **M, "parameters": {"x": {"min": 0, "max": 1}},
                              "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 2, "eta": 3}}),
    ("hyperband no iters", {"method": "bayes", **M, "parameters": {"x": {"min": 0, "max": 1}},
                            "early_terminate": {"type": "hyperband", "eta": 3}}),
    ("early_terminate unknown type", {"method": "bayes", **M, "parameters": {"x": {"min": 0, "max": 1}},
                                      "early_terminate": {"type": "median", "min_iter": 3}}),
    ("run_cap zero", {"method": "random", **M, "parameters": {"x": {"min": 0, "max": 1}}, "run_cap": 0}),
    ("bad parameter name", {"method": "random", **M, "parameters": {"1x": {"min": 0, "max": 1}}}),
    ("nested", {"method": "random", **M, "parameters": {"opt": {"parameters": {"lr": {"min": 0.1, "max": 1.0}}}}}),
    ("nested with extra key", {"method": "random", **M, "parameters": {
        "opt": {"parameters": {"lr": {"min": 0.1, "max": 1.0}}, "values": [1]}}}),
    ("every service key", {"method": "grid", **M, "parameters": {"x": {"values": [1, 2]}}, "entity": "me",
                           "project": "p", "name": "n", "description": "d", "program": "train.py",
                           "command": ["${env}", "${interpreter}", "${program}", "${args}"],
                           "controller": {"type": "local"}, "run_cap": 5}),
    ("probabilities not summing to 1", {"method": "random", **M, "parameters": {
        "x": {"values": [1, 2], "probabilities": [0.5, 0.6]}}}),
]


PPF_AT = [0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]


def _plain(v: object) -> object:
    v = v.item() if hasattr(v, "item") else v
    return v.tolist() if hasattr(v, "tolist") else v


def main() -> None:
    import sweeps
    from sweeps.config import schema_violations_from_proposed_config

    warnings.simplefilter("ignore")
    out: dict = {"sweeps_version": getattr(sweeps, "__version__", "0.3.0"), "n": N, "cases": [], "draws": {}}
    for name, config in CASES:
        try:
            violations = schema_violations_from_proposed_config(config)
        except Exception as exc:  # noqa: BLE001 - W&B raising is W&B rejecting
            violations = [f"{type(exc).__name__}: {exc}"]
        if not violations:  # the schema passes; W&B's engine may still refuse (min >= max, probabilities)
            try:
                sweeps.next_run(dict(config, method="random"), [])
            except Exception as exc:  # noqa: BLE001
                violations = [f"{type(exc).__name__}: {exc}"]
        out["cases"].append({"name": name, "config": config, "accepted": not violations,
                             "violations": [str(v) for v in violations]})
    random.seed(0)
    np.random.seed(0)
    for name, spec in DRAWS.items():
        config = {"method": "random", **M, "parameters": {"p": spec}}
        runs = sweeps.next_runs(config, [], n=N)
        values = [r.config["p"]["value"] for r in runs]
        out["draws"][name] = {"spec": spec, "values": [v if not isinstance(v, float) else float(f"{v:.12g}")
                                                       for v in (x.item() if hasattr(x, "item") else x
                                                                 for x in values)]}
    from sweeps.params import HyperParameter

    for name, spec in DRAWS.items():  # W&B's quantile function on a grid: what random search applies to U(0, 1)
        if "parameters" in spec or "value" in spec:
            continue
        hp = HyperParameter("p", spec)
        out["draws"][name]["ppf"] = [[u, _plain(hp.ppf(u))] for u in PPF_AT]
    path = Path(__file__).with_name("wandb_reference.json")
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
