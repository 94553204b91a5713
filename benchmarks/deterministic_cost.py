"""What `optimize(deterministic=True)` costs in wall time: the same study with and without it.

Trials sleep a random duration (uniform in [0.05, 0.35] s, unseeded: completion order varies);
the sampler is TPE (seed 0). Deterministic runs wait, before proposing trial n, for the trials
up to n - n_jobs to finish, so a straggler holds up the next proposal. The two modes take
turns `--repeats` times; reported: mean wall time per mode, the ratio, and parallel
efficiency (sum of trial durations / (n_jobs x wall)).

    python benchmarks/deterministic_cost.py                  # 3 threads, 45 trials, 3 repeats
    python benchmarks/deterministic_cost.py --n-jobs 8 --trials 96
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time

import hyperdial as hd


def _objective(trial: hd.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    y = trial.suggest_float("y", -3, 3)
    time.sleep(random.uniform(0.05, 0.35))
    return (x - 1) ** 2 + (y + 1) ** 2


def _run(deterministic: bool, n_jobs: int, trials: int) -> tuple[float, float]:
    study = hd.create_study(storage=f"sqlite:///{tempfile.mkdtemp()}/d.db", sampler=hd.samplers.TPE(seed=0))
    t0 = time.perf_counter()
    study.optimize(_objective, n_trials=trials, n_jobs=n_jobs, deterministic=deterministic, show_progress_bar=False)
    wall = time.perf_counter() - t0
    busy = sum(t.duration for t in study.trials if t.duration is not None)  # seconds
    return wall, busy / (n_jobs * wall)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-jobs", type=int, default=3)
    p.add_argument("--trials", type=int, default=45)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    hd.set_verbosity(logging.WARNING)
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(args.repeats):
        for mode in (False, True):
            results[mode].append(_run(mode, args.n_jobs, args.trials))
    print(f"{args.trials} trials, {args.n_jobs} threads, {args.repeats} repeats, TPE")
    print("| mode | wall s (mean) | parallel efficiency |\n|---|---|---|")
    for mode, label in ((False, "default"), (True, "deterministic")):
        walls = [w for w, _ in results[mode]]
        print(f"| {label} | {statistics.fmean(walls):.2f} | {statistics.fmean(e for _, e in results[mode]):.2f} |")
    ratio = statistics.fmean(w for w, _ in results[True]) / statistics.fmean(w for w, _ in results[False])
    print(f"wall time ratio deterministic / default: {ratio:.2f}")


if __name__ == "__main__":
    main()
