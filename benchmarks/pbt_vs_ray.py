"""PBT and PB2: hyperdial vs Ray Tune on the same task and compute.

    OMP_NUM_THREADS=1 PYTHONPATH=src nice -n 10 python benchmarks/pbt_vs_ray.py --seeds 3 \
        --out benchmarks/results/pbt_vs_ray.json

The task (`pbt_task.py`): a one-hidden-layer MLP on scikit-learn's digits, minibatch SGD with
momentum for `--epochs` epochs per member, learning rate (log scale, 1e-3..1) and momentum
(0..0.99) tuned and perturbed; the score is the validation log loss (minimised). Both
libraries run `--population` members, perturb every `--interval` epochs, with `--workers`
trials at once, quantile 0.25 and resample probability 0.25 (both libraries' defaults),
perturbation factors 0.8 / 1.2, a checkpoint (the weights and momentum buffers as .npz) at
every perturbation point only:

- hyperdial: `hd.schedulers.PBT` / `PB2`, a SQLite study in a temporary directory,
  `optimize(executor=pool, n_jobs=workers)` on a spawned `ProcessPoolExecutor` of `workers`
  processes, started once and warmed by a discarded run (as Ray's workers are),
  checkpoints through `hyperdial.checkpoints.save_state/load_state`.
- Ray Tune: `PopulationBasedTraining` / `PB2` (which needs GPy), a function trainable with
  `tune.report(..., checkpoint=...)` every epoch (a checkpoint every `interval` epochs),
  `reuse_actors=True` (Ray's default restarts an actor per trial: far slower here), one CPU
  per trial on `ray.init(num_cpus=workers)`. `ray.init` is started once, before the timed
  calls, and a discarded warm-up `fit()` runs first, so Ray's start-up is not counted
  (reported apart, as is hyperdial's pool start and warm-up); Ray PB2's bounds are linear
  (it has no log scale).

Per run: the best member's final validation loss, the wall time of the whole `optimize()` /
`Tuner.fit()` call, the compute time (training + evaluation, summed over every epoch of every
member, measured inside the objective), and the framework overhead per checkpoint:
(workers x wall - compute) / checkpoints, i.e. every second a worker was not training, per
perturbation point. Ratios hyperdial / Ray are per seed, then mean +- standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pbt_task as task

METHODS = ("hd-pbt", "hd-pb2", "ray-pbt", "ray-pb2")


# -- hyperdial ------------------------------------------------------------------------------
def hd_objective(trial: Any) -> float:
    """One segment of a member: resume, train until the scheduler pauses it (or the last epoch)."""
    import hyperdial as hd
    from hyperdial.checkpoints import load_state, save_state

    lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
    momentum = trial.suggest_float("momentum", 0.0, 0.99)
    loaded = load_state(trial)
    state = task.init_state() if loaded is None else loaded[0]
    task.data()  # loaded once per process, before the clock (as in the Ray trainable)
    compute = 0.0
    epochs = 0
    loss = math.inf
    try:
        for epoch in range(int(state["epoch"]) + 1, task.EPOCHS + 1):
            t0 = time.perf_counter()
            task.train_epoch(state, lr, momentum)
            loss, _ = task.evaluate(state)
            compute += time.perf_counter() - t0
            epochs += 1
            trial.report(loss, step=epoch)
            if epoch < task.EPOCHS and trial.should_prune():
                save_state(trial, state, step=epoch)
                raise hd.TrialPruned()
    finally:
        trial.set_user_attr("compute_s", compute)
        trial.set_user_attr("epochs", epochs)
    return loss


def run_hyperdial(method: str, seed: int, args: argparse.Namespace, tmp: str, pool: Any,
                  population: int | None = None) -> dict[str, Any]:
    import hyperdial as hd

    hd.set_verbosity(logging.WARNING)
    cls = hd.schedulers.PBT if method == "hd-pbt" else hd.schedulers.PB2
    scheduler = cls(population=population or args.population, interval=args.interval, quantile=0.25,
                    resample_probability=0.25, perturb=(0.8, 1.2), seed=seed)
    storage = f"sqlite:///{tmp}/{method}-{seed}-{time.time_ns()}.db"
    t0 = time.perf_counter()
    study = hd.create_study(study_name="pbt", storage=storage, direction="minimize", scheduler=scheduler)
    study.optimize(hd_objective, executor=pool, n_jobs=args.workers, show_progress_bar=False)
    wall = time.perf_counter() - t0
    trials = study.trials
    finals = [t.value for t in trials if t.state == hd.TrialState.COMPLETE and t.value is not None]
    segments = sum(1 for t in trials if t.state in (hd.TrialState.COMPLETE, hd.TrialState.PRUNED))
    return {"final": min(finals) if finals else None, "wall_s": wall, "members_done": len(finals),
            "compute_s": sum(float(t.user_attrs.get("compute_s", 0.0)) for t in trials),
            "epochs": sum(int(t.user_attrs.get("epochs", 0)) for t in trials),
            "checkpoints": sum(1 for t in trials if t.state == hd.TrialState.PRUNED), "segments": segments}


# -- Ray Tune -------------------------------------------------------------------------------
def tune_trainable(config: dict[str, Any]) -> None:
    from ray import tune

    ckpt = tune.get_checkpoint()
    if ckpt is None:
        state = task.init_state()
    else:
        with ckpt.as_directory() as d, np.load(os.path.join(d, "state.npz")) as npz:
            state = {k: npz[k] for k in npz.files}
    task.data()  # loaded once per process, before the clock (as in the hyperdial objective)
    interval = config["_interval"]
    while int(state["epoch"]) < task.EPOCHS:
        t0 = time.perf_counter()
        task.train_epoch(state, config["lr"], config["momentum"])
        loss, _ = task.evaluate(state)
        compute = time.perf_counter() - t0
        epoch = int(state["epoch"])
        checkpoint = epoch % interval == 0 and epoch < task.EPOCHS
        # Each epoch's compute goes to a log of the run (Ray's stored results can miss rows of
        # trials that PBT restarted, which would undercount Ray's compute).
        with open(config["_log"], "a") as log:
            log.write(f"{compute} {int(checkpoint)} {epoch} {loss}\n")
        metrics = {"val_loss": loss, "epoch": epoch}
        if checkpoint:
            with tempfile.TemporaryDirectory() as d:
                np.savez(os.path.join(d, "state.npz"), **state)
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(d))
        else:
            tune.report(metrics)


def run_ray(method: str, seed: int, args: argparse.Namespace, tmp: str, population: int | None = None) -> dict[str, Any]:
    from ray import tune

    random.seed(seed)
    np.random.seed(seed)
    for name in ("ray", "ray.tune", "ray.train"):  # Tune's per-result warnings would flood the output
        logging.getLogger(name).setLevel(logging.ERROR)
    population = population or args.population
    if method == "ray-pbt":
        from ray.tune.schedulers import PopulationBasedTraining

        scheduler: Any = PopulationBasedTraining(
            time_attr="epoch", perturbation_interval=args.interval, quantile_fraction=0.25,
            resample_probability=0.25, perturbation_factors=(1.2, 0.8),
            hyperparam_mutations={"lr": tune.loguniform(1e-3, 1.0), "momentum": tune.uniform(0.0, 0.99)})
    else:
        from ray.tune.schedulers.pb2 import PB2

        scheduler = PB2(time_attr="epoch", perturbation_interval=args.interval, quantile_fraction=0.25,
                        hyperparam_bounds={"lr": [1e-3, 1.0], "momentum": [0.0, 0.99]})
    log = os.path.join(tmp, f"{method}-{seed}-{time.time_ns()}.log")
    space = {"lr": tune.loguniform(1e-3, 1.0), "momentum": tune.uniform(0.0, 0.99), "_interval": args.interval,
             "_log": log}
    tuner = tune.Tuner(
        tune.with_resources(tune_trainable, {"cpu": 1}),
        param_space=space,
        tune_config=tune.TuneConfig(scheduler=scheduler, num_samples=population, metric="val_loss", mode="min",
                                    reuse_actors=True, max_concurrent_trials=args.workers),
        run_config=tune.RunConfig(storage_path=os.path.join(tmp, "ray"), name=f"{method}-{seed}-{time.time_ns()}",
                                  verbose=0, stop={"epoch": task.EPOCHS}),
    )
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = tuner.fit()
    wall = time.perf_counter() - t0
    rows = [line.split() for line in Path(log).read_text().splitlines()]
    finals = [float(r[3]) for r in rows if int(r[2]) == task.EPOCHS]
    return {"final": min(finals) if finals else None, "wall_s": wall, "members_done": len(finals),
            "compute_s": sum(float(r[0]) for r in rows), "checkpoints": sum(int(r[1]) for r in rows),
            "epochs": len(rows), "errors": grid.num_errors}


# -- the comparison -------------------------------------------------------------------------
def overhead_ms(r: dict[str, Any], workers: int) -> float | None:
    if not r.get("checkpoints"):
        return None
    return 1000.0 * (workers * r["wall_s"] - r["compute_s"]) / r["checkpoints"]


def ratio_stats(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return mean, se


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--population", type=int, default=8)
    p.add_argument("--interval", type=int, default=4)
    p.add_argument("--epochs", type=int, default=task.EPOCHS)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--out", default=None)
    args = p.parse_args()
    task.EPOCHS = args.epochs
    os.environ["PBT_TASK_EPOCHS"] = str(args.epochs)  # the workers import pbt_task afresh
    methods = args.methods.split(",")
    results: list[dict[str, Any]] = []
    pool = None
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        ray_start = pool_start = None
        if any(m.startswith("hd") for m in methods):
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            t0 = time.perf_counter()
            pool = stack.enter_context(ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")))
            run_hyperdial("hd-pbt", 0, args, tmp, pool, population=2)  # warm-up: worker start, imports (not recorded)
            pool_start = time.perf_counter() - t0
            print(f"process pool + warm-up run {pool_start:.1f} s", flush=True)
        if any(m.startswith("ray") for m in methods):
            import ray

            t0 = time.perf_counter()
            ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING, runtime_env={"env_vars": {"PBT_TASK_EPOCHS": str(args.epochs),
                                                                               "OMP_NUM_THREADS": "1"}})
            ray_start = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_ray("ray-pbt", 0, args, tmp, population=2)  # warm-up: worker start, imports (not recorded)
            print(f"ray.init {ray_start:.1f} s, warm-up fit {time.perf_counter() - t0:.1f} s", flush=True)
        for seed in range(args.seeds):
            for method in methods:
                if method.startswith("ray"):
                    r = run_ray(method, seed, args, tmp)
                else:
                    r = run_hyperdial(method, seed, args, tmp, pool)
                r.update(method=method, seed=seed, loadavg=os.getloadavg()[0],
                         overhead_ms_per_checkpoint=overhead_ms(r, args.workers))
                results.append(r)
                print(json.dumps(r), flush=True)
    summary = summarise(results, methods)
    print(json.dumps(summary, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"args": vars(args), "ray_init_s": ray_start,
                                              "hyperdial_pool_and_warm_up_s": pool_start, "runs": results,
                                              "summary": summary}, indent=2))


def summarise(results: list[dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in methods:
        rs = [r for r in results if r["method"] == m]
        out[m] = {k: ratio_stats([float(r[k]) for r in rs if r.get(k) is not None])
                  for k in ("final", "wall_s", "overhead_ms_per_checkpoint", "compute_s")
                  if any(r.get(k) is not None for r in rs)}
    for algo in ("pbt", "pb2"):
        a, b = f"hd-{algo}", f"ray-{algo}"
        if a in methods and b in methods:
            pairs = [(x, y) for x in results for y in results
                     if x["method"] == a and y["method"] == b and x["seed"] == y["seed"]]
            ratios: dict[str, Any] = {}
            for k in ("final", "wall_s", "overhead_ms_per_checkpoint"):
                vals = [x[k] / y[k] for x, y in pairs if x.get(k) and y.get(k)]
                if vals:
                    ratios[k] = ratio_stats(vals)
            out[f"{a} / {b}"] = ratios
    return out


if __name__ == "__main__":
    main()
