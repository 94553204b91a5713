"""How long each plot kind takes on a 100,000-trial study, and how big its figure is.

    PYTHONPATH=src python tests/visualization/scale.py [N_TRIALS]

Builds N_TRIALS (default 100,000) FrozenTrials in memory (3 parameters, one log-scaled and one
categorical, 5 intermediate values, every tenth trial pruned, 2 objectives), then times
`data.compute` and `spec.figure_spec` per kind with the default max_points (2000) and prints
the size of the spec as JSON: what the dashboard sends to the browser. Storage time is not in
it (the dashboard loads trials its own way).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np

import hyperdial as hd
from hyperdial.visualization.data import KINDS, compute
from hyperdial.visualization.spec import figure_spec


def make_trials(n: int, seed: int = 0) -> list[hd.FrozenTrial]:
    rng = np.random.default_rng(seed)
    space = {"lr": hd.Float(1e-5, 1e-1, log=True), "layers": hd.Int(1, 8), "opt": hd.Categorical(["adam", "sgd"])}
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        lr, layers, opt = 10 ** rng.uniform(-5, -1), int(rng.integers(1, 9)), ["adam", "sgd"][i % 2]
        loss = (np.log10(lr) + 3) ** 2 + 0.1 * layers + rng.normal(0, 0.1)
        pruned = i % 10 == 9
        steps = {s: float(loss + 1.0 / (s + 1)) for s in range(2 if pruned else 5)}
        out.append(hd.FrozenTrial(
            number=i, state=hd.TrialState.PRUNED if pruned else hd.TrialState.COMPLETE,
            values=(float(loss), float(layers + rng.uniform())), params={"lr": lr, "layers": layers, "opt": opt},
            distributions=space, intermediate_values=steps, datetime_start=t0 + timedelta(seconds=i / 4),
            datetime_complete=t0 + timedelta(seconds=i / 4 + 1)))
    return out


def main(n: int) -> None:
    trials = make_trials(n)
    print(f"{n} trials; kind, compute CPU s, figure_spec CPU s, spec JSON kB, points drawn")
    for kind in KINDS:
        directions = ["minimize", "minimize"] if kind == "pareto" else ["minimize"]
        options = {"other": trials} if kind == "compare" else {}
        t = time.process_time()
        data = compute(kind, trials, directions, **options)
        mid = time.process_time()
        spec = figure_spec(kind, data)
        end = time.process_time()
        size = len(json.dumps(spec, allow_nan=False)) / 1000
        points = sum(len(tr.get("x") or tr.get("dimensions", [{}])[0].get("values", [])) for tr in spec["data"])
        print(f"{kind:20s} {mid - t:7.2f} {end - mid:7.3f} {size:9.0f} {points:9d}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
