"""Synchronous Hyperband with pause/resume: hyperdial's scheduler vs Ray Tune's HyperBandScheduler.

The same task, the same configurations in the same order, the same compute:

- Task: scikit-learn's MLPClassifier (64 hidden units, Adam) on the digits, one `partial_fit` pass per epoch,
  validation log-loss after each epoch, up to R = 27 epochs (fixed split and model seed: the curve is a
  function of the configuration). Parameters: lr (1e-4..1e-1, log), alpha (1e-6..1e-1, log), batch size
  (32, 64, 128, 256). The whole model is pickled into a directory and checkpointed after every epoch;
  a promoted (hyperdial) or resumed (Ray) trial loads it and continues at the next epoch.
- Schedule: Hyperband with min resource 1, R = 27, eta = 3, one full cycle: 49 configurations in brackets
  of 27, 12, 6 and 4. hyperdial: `hd.schedulers.Hyperband(max_resource=27, n_configs=49)`; Ray Tune:
  `HyperBandScheduler(time_attr="epoch", max_t=27, reduction_factor=3)` over a `grid_search` of the same
  49 configurations (`num_samples=1`). Both keep one checkpoint per trial.
  Ray Tune fills its brackets from the least aggressive to the most (its bracket s = 0, 1, 2, 3 in turn),
  the paper and hyperdial the other way round: hyperdial gets the list reordered so that every configuration
  is in the same bracket under both.
- Compute: 2 workers. hyperdial: `executor="process", n_jobs=2` on an SQLite study (checkpoints in the
  artifact store beside it); Ray: `ray.init(num_cpus=2)`, one CPU per trial (so 2 at a time),
  `reuse_actors=True`, results and checkpoints under a local `storage_path`. (Not `max_concurrent_trials=2`:
  with it, Ray 2.60's HyperBandScheduler never pauses or stops a trial, every configuration trains to R.)
- Measured: wall time of `study.optimize` and of `Tuner.fit` (Ray's start, `ray.init`, is timed apart and
  excluded: a warm Ray is the fairest comparison to a library call; it is shown separately); epochs trained;
  the best validation loss among configurations trained to R; the framework's time per epoch inside the
  training function: hyperdial's `trial.report` + `trial.save_checkpoint` + `trial.should_prune`, Ray's
  `tune.report(metrics, checkpoint=...)` (both after the model was pickled to a local directory, which is
  the user's code and identical), and the time each spends loading a checkpoint to resume.
- Rung rule: the paper (and hyperdial) promote floor(n_i / eta) from a rung, Ray Tune ceil(n_i / eta): Ray's
  12-configuration bracket sends 2 configurations to R instead of 1, and its 6-configuration bracket 2 as the
  paper does. The epoch counts below show what each trained.

Seeds (the 49 configurations drawn from numpy's RandomState(seed)) are all reporting; nothing is tuned here.

  OMP_NUM_THREADS=1 nice -n 10 PYTHONPATH=src python benchmarks/hyperband_pause.py --seeds 3 --out a.json
  OMP_NUM_THREADS=1 nice -n 10 PYTHONPATH=src python benchmarks/hyperband_pause.py --first-seed 3 --seeds 3 --merge a.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hyperband_task import MAX_EPOCHS, N_CONFIGS, ListSampler, configs_for, data, hd_objective, new_model, ray_trainable

ETA = 3


def run_hyperdial(configs: list[dict[str, Any]], workers: int, root: Path) -> dict[str, Any]:
    import hyperdial as hd

    hd.set_verbosity(logging.WARNING)
    # Ray Tune fills its brackets from the least aggressive (4 configurations trained to R) to the most (27
    # from 1 epoch), hyperdial in the paper's order, the other way round: the list is reordered so that each
    # configuration lands in the same bracket under both.
    ray_order = [(0, 4), (4, 10), (10, 22), (22, 49)]
    configs = [c for a, b in reversed(ray_order) for c in configs[a:b]]
    scheduler = hd.schedulers.Hyperband(min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=ETA,
                                        n_configs=N_CONFIGS, sampler=ListSampler(configs))
    study = hd.create_study(storage=f"sqlite:///{root}/hb.db", scheduler=scheduler, keep_checkpoints=1)
    t0 = time.perf_counter()
    study.optimize(hd_objective, n_trials=10_000, n_jobs=workers, executor="process", show_progress_bar=False)
    wall = time.perf_counter() - t0
    trials = [t for t in study.trials if "timing" in t.user_attrs]
    full = [t.value for t in trials
            if t.value is not None and t.state == hd.TrialState.COMPLETE and t.last_step == MAX_EPOCHS]
    epochs = sum(t.user_attrs["timing"][1] for t in trials)
    resumed = [t.user_attrs["timing"][2] for t in trials if "successor_of" in t.system_attrs]
    return {"wall": wall, "epochs": epochs, "trials": len(trials), "best": min(full), "n_full": len(full),
            "framework_per_epoch": sum(t.user_attrs["timing"][0] for t in trials) / epochs,
            "load_per_resume": statistics.mean(resumed) if resumed else 0.0}


# -- Ray Tune ---------------------------------------------------------------------------------------------------
def run_ray(configs: list[dict[str, Any]], workers: int, root: Path) -> dict[str, Any]:
    import ray
    from ray import tune
    from ray.tune.schedulers import HyperBandScheduler

    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
                 [str(HERE), str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")])}})
    ray_init = time.perf_counter() - t0
    try:
        tuner = tune.Tuner(
            tune.with_resources(ray_trainable, {"cpu": 1}),
            param_space={"cfg": tune.grid_search(configs)},
            tune_config=tune.TuneConfig(
                metric="loss", mode="min", num_samples=1, reuse_actors=True,
                scheduler=HyperBandScheduler(time_attr="epoch", max_t=MAX_EPOCHS, reduction_factor=ETA)),
            run_config=tune.RunConfig(storage_path=str(root / "ray"), name="hb", verbose=0,
                                      checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
        )
        t0 = time.perf_counter()
        grid = tuner.fit()
        wall = time.perf_counter() - t0
        frames: list[Any] = [grid[i].metrics_dataframe for i in range(len(grid))
                             if grid[i].metrics_dataframe is not None]
    finally:
        ray.shutdown()
    epochs = framework = 0.0
    full, loads = [], []
    for df in frames:
        # each run segment (first run, then each resumption) reports its own cumulative time
        for _, seg in df.groupby((df["trained"] == 1).cumsum()):
            last = seg.iloc[-1]
            epochs += float(last["trained"])
            framework += float(last["framework"])
            if bool(last["resumed"]):
                loads.append(float(last["load"]))
        if int(df["epoch"].max()) == MAX_EPOCHS:
            full.append(float(df.loc[df["epoch"] == MAX_EPOCHS, "loss"].iloc[-1]))
    return {"wall": wall, "ray_init": ray_init, "epochs": epochs, "trials": len(frames), "best": min(full),
            "n_full": len(full), "framework_per_epoch": framework / epochs if epochs else math.nan,
            "load_per_resume": statistics.mean(loads) if loads else 0.0}


# -- report -------------------------------------------------------------------------------------------------------
def _mean_se(xs: list[float]) -> tuple[float, float]:
    m = statistics.mean(xs)
    return m, (statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else math.nan)


def report(rows: list[dict[str, Any]]) -> str:
    out = [("| framework | wall (s) | epochs trained | configs trained to R | best val loss | "
            "framework ms/epoch (report + checkpoint) | ms to load a checkpoint |"), "|---|---|---|---|---|---|---|"]
    for name in ("hyperdial", "ray"):
        rs = [r[name] for r in rows]
        cells = [f"{m:.3g} ± {s:.2g}" for m, s in (
            _mean_se([r["wall"] for r in rs]), _mean_se([r["epochs"] for r in rs]), _mean_se([r["n_full"] for r in rs]),
            _mean_se([r["best"] for r in rs]), _mean_se([1000 * r["framework_per_epoch"] for r in rs]),
            _mean_se([1000 * r["load_per_resume"] for r in rs]))]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    ratio = _mean_se([r["hyperdial"]["wall"] / r["ray"]["wall"] for r in rows])
    diff = _mean_se([r["hyperdial"]["best"] - r["ray"]["best"] for r in rows])
    init = _mean_se([r["ray"]["ray_init"] for r in rows])
    out.append("")
    out.append(f"wall time hyperdial / Ray Tune: {ratio[0]:.2f}x ± {ratio[1]:.2f} (paired over {len(rows)} seeds); "
               f"best val loss hyperdial - Ray: {diff[0]:+.4f} ± {diff[1]:.4f}; ray.init (excluded): "
               f"{init[0]:.1f} ± {init[1]:.1f} s")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--merge", nargs="*", default=[], help="earlier --out files to report together with this run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None, help="write the raw results as JSON here")
    args = parser.parse_args()
    data()  # imports and data loading outside every timed region
    new_model(configs_for(0)[0])
    rows = [row for path in args.merge for row in json.loads(Path(path).read_text())]
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        configs = configs_for(seed)
        row: dict[str, Any] = {"seed": seed}
        # The machine's load drifts: which framework runs first alternates with the seed.
        order = [("hyperdial", run_hyperdial), ("ray", run_ray)]
        for name, run in order if seed % 2 == 0 else order[::-1]:
            with tempfile.TemporaryDirectory() as tmp:
                row[name] = run(configs, args.workers, Path(tmp))
            print(seed, name, json.dumps(row[name]), flush=True)
        rows.append(row)
    print(report(rows))
    if args.out:
        Path(args.out).write_text(json.dumps(rows[len(rows) - args.seeds:], indent=1))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
