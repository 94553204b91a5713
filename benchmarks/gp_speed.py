"""GP sampler speed and quality: hyperdial `GP` side by side with Optuna's `GPSampler`.

Speed, seconds per trial (ask -> objective -> tell; the objective is Hartmann-6,
so nearly all of it is the sampler):
- amortised over a whole run of `--trials` (default 200) trials, start-up trials,
  hyperparameter refits and all;
- at `--big` (default 1,000) trials: a study pre-filled with that many random
  trials of a synthetic 6-D function, then `--big-suggests` (default 3) more
  trials; the first pays the cold hyperparameter fit (no warm start yet).
Quality: the best Hartmann-6 value (minimum -3.32237) after 50 and 100 trials for
each of `--seeds` seeds (the seed-0 speed run counts as the first seed).

Both samplers use their defaults (10 start-up trials). On Hartmann-6, which of
its local minima a run settles in depends mostly on the 10 start-up points, so
by default both libraries start from the same 10 uniform random points per seed
(enqueued; the models take over at trial 10); `--own-starts` lets each draw its
own. Optuna's GPSampler needs torch (`pip install torch`; `greenlet` enables its
batched optimiser); without torch Optuna is skipped with a message.

Reproduce:

    python benchmarks/gp_speed.py                        # about 5-10 minutes on 2 cores
    python benchmarks/gp_speed.py --libraries hyperdial  # hyperdial only, about 1 minute
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

# Hartmann-6 (Dixon & Szego 1978), minimum -3.32237 at (0.2017, 0.1500, 0.4769, 0.2753, 0.3117, 0.6573).
_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
HARTMANN6_MIN = -3.32237
NAMES = [f"x{i}" for i in range(6)]


def hartmann6(x: np.ndarray) -> float:
    return float(-np.sum(_ALPHA * np.exp(-np.sum(_A * (x - _P) ** 2, axis=1))))


def _objective(trial: Any) -> float:
    return hartmann6(np.array([trial.suggest_float(n, 0.0, 1.0) for n in NAMES]))


def _synthetic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.random((n, 6))
    y = np.array([hartmann6(row) for row in x]) + 0.01 * rng.standard_normal(n)
    return x, y


def start_points(seed: int, n: int = 10) -> list[dict[str, float]]:
    rng = np.random.default_rng(1000 + seed)
    return [{name: float(v) for name, v in zip(NAMES, row)} for row in rng.random((n, 6))]


def run_hyperdial(seed: int, n_trials: int, starts: list[dict[str, float]] | None) -> tuple[float, list[float]]:
    import hyperdial as hd
    from hyperdial.samplers.gp import GP

    study = hd.create_study(sampler=GP(seed=seed))
    for params in starts or []:
        study.enqueue_trial(params)
    t0 = time.perf_counter()
    study.optimize(_objective, n_trials=n_trials, show_progress_bar=False)
    elapsed = time.perf_counter() - t0
    return elapsed / n_trials, [float(t.values[0]) for t in study.trials if t.values]


def big_hyperdial(n: int, k: int) -> list[float]:
    import hyperdial as hd
    from hyperdial.samplers.gp import GP

    x, y = _synthetic(np.random.default_rng(0), n)
    study = hd.create_study(sampler=GP(seed=0))
    dist = hd.Float(0.0, 1.0)
    study.add_trials(
        hd.FrozenTrial(number=i, state=hd.TrialState.COMPLETE, values=(float(y[i]),),
                       params={name: float(v) for name, v in zip(NAMES, x[i])}, distributions=dict.fromkeys(NAMES, dist))
        for i in range(n)
    )
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        study.optimize(_objective, n_trials=1, show_progress_bar=False)
        times.append(time.perf_counter() - t0)
    return times


def run_optuna(seed: int, n_trials: int, starts: list[dict[str, float]] | None) -> tuple[float, list[float]]:
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed))
    for params in starts or []:
        study.enqueue_trial(params)
    t0 = time.perf_counter()
    study.optimize(_objective, n_trials=n_trials)
    elapsed = time.perf_counter() - t0
    return elapsed / n_trials, [float(t.values[0]) for t in study.trials if t.values]


def big_optuna(n: int, k: int) -> list[float]:
    import optuna

    x, y = _synthetic(np.random.default_rng(0), n)
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=0))
    dist = optuna.distributions.FloatDistribution(0.0, 1.0)
    study.add_trials(
        optuna.trial.create_trial(params={name: float(v) for name, v in zip(NAMES, x[i])},
                                  distributions=dict.fromkeys(NAMES, dist), value=float(y[i]))
        for i in range(n)
    )
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        study.optimize(_objective, n_trials=1)
        times.append(time.perf_counter() - t0)
    return times


def _best_at(values: list[float], n: int) -> float:
    return min(values[:n])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--big-suggests", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--own-starts", action="store_true", help="each library draws its own start-up points")
    parser.add_argument("--libraries", nargs="+", default=["hyperdial", "optuna"], choices=["hyperdial", "optuna"])
    args = parser.parse_args(argv)
    logging.getLogger("hyperdial").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")  # Optuna's experimental-feature warnings

    Run = Callable[[int, int, "list[dict[str, float]] | None"], tuple[float, list[float]]]
    runners: dict[str, tuple[Run, Callable[[int, int], list[float]]]] = {}
    if "hyperdial" in args.libraries:
        runners["hyperdial GP"] = (run_hyperdial, big_hyperdial)
    if "optuna" in args.libraries:
        try:
            import optuna
            import torch  # noqa: F401 - GPSampler needs it

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            runners[f"Optuna {optuna.__version__} GPSampler"] = (run_optuna, big_optuna)
        except ImportError as exc:
            print(f"Optuna's GPSampler skipped: {exc} (pip install optuna torch)")

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    results: dict[str, dict[str, Any]] = {}
    for label, (run, big) in runners.items():
        def starts(seed: int) -> list[dict[str, float]] | None:
            return None if args.own_starts else start_points(seed)

        per_trial, values = run(0, max(args.trials, 100), starts(0))
        quality = [values]
        for seed in range(1, args.seeds):
            quality.append(run(seed, 100, starts(seed))[1])
        big_times = big(args.big, args.big_suggests)
        results[label] = {
            "amortised": per_trial,
            "big": big_times,
            "best50": [_best_at(v, 50) for v in quality],
            "best100": [_best_at(v, 100) for v in quality],
        }
        r = results[label]
        print(f"{label}: {per_trial:.3f} s/trial over {max(args.trials, 100)} trials; at {args.big} trials "
              f"{', '.join(f'{t:.2f}' for t in big_times)} s; best@50 {r['best50']}, best@100 {r['best100']}",
              file=sys.stderr)

    print(f"\n| sampler | s/trial, {args.trials} trials (amortised) | s/trial at {args.big} trials "
          f"(first, mean of rest) | best@50 (mean over {args.seeds} seeds) | best@100 |")
    print("|---|---|---|---|---|")
    for label, r in results.items():
        big_t = r["big"]
        rest = statistics.mean(big_t[1:]) if len(big_t) > 1 else float("nan")
        print(f"| {label} | {r['amortised']:.3f} | {big_t[0]:.2f}, {rest:.2f} | "
              f"{statistics.mean(r['best50']):.4f} ({', '.join(f'{v:.3f}' for v in r['best50'])}) | "
              f"{statistics.mean(r['best100']):.4f} ({', '.join(f'{v:.3f}' for v in r['best100'])}) |")
    print(f"(Hartmann-6 minimum: {HARTMANN6_MIN}; start-up points: "
          f"{'each library its own' if args.own_starts else 'the same 10 random points for both'})")
    if len(results) == 2:
        (a, ra), (b, rb) = results.items()
        print(f"\nspeed ratio {b} / {a}: amortised {rb['amortised'] / ra['amortised']:.1f}x, "
              f"at {args.big} trials (mean of all) {statistics.mean(rb['big']) / statistics.mean(ra['big']):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
