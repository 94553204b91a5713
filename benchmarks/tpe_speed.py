"""Time of one TPE suggestion at 1,000 finished trials: hyperdial's `TPE` next to Optuna's `TPESampler`.

Both samplers see the same 1,000 synthetic COMPLETE trials over the same 10
parameters (3 floats, 2 log floats, 1 stepped float, 1 int, 1 log int, 2
categoricals) and propose all 10 jointly:

- hyperdial: `TPE(seed=0).sample(history, trial, history.joint_space())`;
- Optuna: `TPESampler(seed=0, multivariate=True).sample_relative(study, trial, space)`
  (the call Optuna makes for the joint space at trial start), other arguments default.

Two patterns are timed, each call separately (median and 90th percentile in ms):
"same history" repeats the call for new trial numbers over one history (the
model is refitted every time; hyperdial's encoded observations are cached);
"growing history" adds one finished trial before each call, as a study does.

    python benchmarks/tpe_speed.py                    # 1,000 trials, 200 calls per pattern
    python benchmarks/tpe_speed.py --trials 5000 --calls 50
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time
from typing import Any

import numpy as np

import hyperdial as hd
from hyperdial.history import History
from hyperdial.samplers.tpe import TPE

SPACE: dict[str, Any] = {
    "f1": hd.Float(-5.0, 5.0),
    "f2": hd.Float(0.0, 1.0),
    "f3": hd.Float(-1.0, 3.0),
    "lr": hd.Float(1e-5, 1e-1, log=True),
    "wd": hd.Float(1e-6, 1e-2, log=True),
    "drop": hd.Float(0.0, 0.5, step=0.05),
    "layers": hd.Int(1, 8),
    "units": hd.Int(16, 1024, log=True),
    "opt": hd.Categorical(["adam", "sgd", "rmsprop"]),
    "act": hd.Categorical(["relu", "gelu", "tanh", "silu"]),
}


def synthetic_params(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    sampler = hd.samplers.Random(seed=seed)
    out = []
    for i in range(n):
        trial = hd.FrozenTrial(number=i, state=hd.TrialState.RUNNING)
        out.append(sampler.sample(History(("minimize",), ()), trial, SPACE))
    rng.shuffle(out)
    return out


def objective(p: dict[str, Any]) -> float:
    return (
        p["f1"] ** 2 + (p["f2"] - 0.3) ** 2 + math.sin(p["f3"]) + (math.log10(p["lr"]) + 3) ** 2
        + abs(math.log10(p["wd"]) + 4) + p["drop"] + (p["layers"] - 3) ** 2 / 8
        + abs(math.log2(p["units"]) - 8) / 4 + ["adam", "sgd", "rmsprop"].index(p["opt"]) + (p["act"] == "tanh")
    )


def _stats(times: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1e3 for t in times)
    return statistics.median(ms), ms[int(0.9 * (len(ms) - 1))]


def time_hyperdial(params: list[dict[str, Any]], n: int, calls: int) -> dict[str, tuple[float, float]]:
    trials = [
        hd.FrozenTrial(number=i, state=hd.TrialState.COMPLETE, values=(objective(p),), params=p,
                       distributions=dict(SPACE))
        for i, p in enumerate(params)
    ]
    out = {}
    sampler = TPE(seed=0)
    history = History(("minimize",), trials[:n])
    joint = history.joint_space()
    sampler.sample(history, hd.FrozenTrial(number=n, state=hd.TrialState.RUNNING), joint)  # warm the cache
    times = []
    for k in range(calls):
        trial = hd.FrozenTrial(number=n + 1 + k, state=hd.TrialState.RUNNING)
        t0 = time.perf_counter()
        sampler.sample(history, trial, joint)
        times.append(time.perf_counter() - t0)
    out["same history"] = _stats(times)

    sampler = TPE(seed=0)
    base = n - calls
    sampler.sample(History(("minimize",), trials[:base]), hd.FrozenTrial(number=base, state=hd.TrialState.RUNNING),
                   joint)
    times = []
    for k in range(calls):
        history = History(("minimize",), trials[: base + k + 1], joint_space=joint)
        trial = hd.FrozenTrial(number=base + k + 1, state=hd.TrialState.RUNNING)
        t0 = time.perf_counter()
        sampler.sample(history, trial, history.joint_space())
        times.append(time.perf_counter() - t0)
    out["growing history"] = _stats(times)
    return out


def time_optuna(params: list[dict[str, Any]], n: int, calls: int) -> dict[str, tuple[float, float]]:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dists: dict[str, Any] = {}
    for name, d in SPACE.items():
        if isinstance(d, hd.Categorical):
            dists[name] = CategoricalDistribution(list(d.choices))
        elif isinstance(d, hd.Int):
            dists[name] = IntDistribution(d.low, d.high, log=d.log, step=d.step)
        else:
            dists[name] = FloatDistribution(d.low, d.high, log=d.log, step=d.step)
    frozen = [optuna.trial.create_trial(params=p, distributions=dists, value=objective(p)) for p in params]
    out = {}
    for pattern in ("same history", "growing history"):
        sampler = optuna.samplers.TPESampler(seed=0, multivariate=True)
        study = optuna.create_study(sampler=sampler)
        start = n if pattern == "same history" else n - calls
        study.add_trials(frozen[:start])
        times = []
        for k in range(calls + 1):
            if pattern == "growing history" and k:
                study.add_trial(frozen[start + k - 1])
            trial = study.ask()
            ft = study._storage.get_trial(trial._trial_id)
            space = sampler.infer_relative_search_space(study, ft)
            t0 = time.perf_counter()
            sampler.sample_relative(study, ft, space)
            if k:  # the first call is a warm-up
                times.append(time.perf_counter() - t0)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)  # keep the COMPLETE set as constructed
        out[pattern] = _stats(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--no-optuna", action="store_true")
    args = parser.parse_args()
    params = synthetic_params(args.trials)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}")
    print(f"{args.trials} COMPLETE trials, 10 parameters, {args.calls} calls per pattern; ms per suggestion\n")
    ours = time_hyperdial(params, args.trials, args.calls)
    theirs = None if args.no_optuna else time_optuna(params, args.trials, args.calls)
    print("| pattern | hyperdial TPE median (p90) | Optuna TPESampler median (p90) | ratio |")
    print("|---|---|---|---|")
    for pattern, (med, p90) in ours.items():
        if theirs is None:
            print(f"| {pattern} | {med:.2f} ({p90:.2f}) | - | - |")
        else:
            omed, op90 = theirs[pattern]
            print(f"| {pattern} | {med:.2f} ({p90:.2f}) | {omed:.2f} ({op90:.2f}) | {omed / med:.1f}x faster |")


if __name__ == "__main__":
    main()
