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
- Compute: 2 workers. hyperdial: `executor="process", n_jobs=2` on an SQLite study (checkpoints in the
  artifact store beside it); Ray: `ray.init(num_cpus=2)`, one CPU per trial, `reuse_actors=True`,
  `max_concurrent_trials=2`, results and checkpoints under a local `storage_path`.
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

  OMP_NUM_THREADS=1 nice -n 10 PYTHONPATH=src python benchmarks/hyperband_pause.py --seeds 3
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import pickle
import statistics
import tempfile
import time
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MAX_EPOCHS = 27
ETA = 3
N_CONFIGS = 49  # one Hyperband cycle for R = 27, eta = 3: 27 + 12 + 6 + 4


# -- the task (identical under both frameworks) ------------------------------------------------------------
@lru_cache(maxsize=1)
def data() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_val), y_train, y_val


def new_model(cfg: dict[str, Any]) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(64,), learning_rate_init=float(cfg["lr"]), alpha=float(cfg["alpha"]),
                         batch_size=int(cfg["batch_size"]), random_state=0)


def train_epoch(model: Any) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss

    x_train, x_val, y_train, y_val = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(x_train, y_train, classes=np.arange(10))
    loss = float(log_loss(y_val, model.predict_proba(x_val), labels=np.arange(10)))
    return loss if math.isfinite(loss) else 10.0


def configs_for(seed: int) -> list[dict[str, Any]]:
    rng = np.random.RandomState(seed)
    return [{"lr": float(10 ** rng.uniform(-4, -1)), "alpha": float(10 ** rng.uniform(-6, -1)),
             "batch_size": int(rng.choice([32, 64, 128, 256]))} for _ in range(N_CONFIGS)]


# -- hyperdial -------------------------------------------------------------------------------------------------
class ListSampler:
    """Hands the k-th new configuration the k-th entry of a list (promotions keep their parameters)."""

    joint_sampling = False

    def __init__(self, configs: list[dict[str, Any]]) -> None:
        self.configs = configs

    def sample(self, history: Any, trial: Any, space: dict[str, Any]) -> dict[str, Any]:
        k = sum(1 for t in history.trials if t.number < trial.number
                and "successor_of" not in t.system_attrs and "retry_of" not in t.system_attrs)
        return {name: self.configs[k % len(self.configs)][name] for name in space}


def hd_objective(trial: Any) -> float:
    import hyperdial as hd

    cfg = {"lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
           "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
           "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256])}
    t0 = time.perf_counter()
    path = trial.load_checkpoint()
    start = 0
    if path is not None:
        with open(path / "model.pkl", "rb") as f:
            model = pickle.load(f)
        start = trial.checkpoint_step
    else:
        model = new_model(cfg)
    load = time.perf_counter() - t0
    framework = 0.0
    loss = math.nan
    with tempfile.TemporaryDirectory() as tmp:
        for epoch in range(start + 1, MAX_EPOCHS + 1):
            loss = train_epoch(model)
            with open(Path(tmp) / "model.pkl", "wb") as f:
                pickle.dump(model, f)
            t0 = time.perf_counter()
            trial.report(loss, step=epoch)
            trial.save_checkpoint(tmp, step=epoch)
            stop = trial.should_prune()
            framework += time.perf_counter() - t0
            if stop:
                trial.set_user_attr("timing", [framework, epoch - start, load])
                raise hd.TrialPruned()
    trial.set_user_attr("timing", [framework, MAX_EPOCHS - start, load])
    return loss


def run_hyperdial(configs: list[dict[str, Any]], workers: int, root: Path) -> dict[str, Any]:
    import hyperdial as hd

    hd.set_verbosity(logging.WARNING)
    scheduler = hd.schedulers.Hyperband(min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=ETA,
                                        n_configs=N_CONFIGS, sampler=ListSampler(configs))
    study = hd.create_study(storage=f"sqlite:///{root}/hb.db", scheduler=scheduler, keep_checkpoints=1)
    t0 = time.perf_counter()
    study.optimize(hd_objective, n_trials=10_000, n_jobs=workers, executor="process", show_progress_bar=False)
    wall = time.perf_counter() - t0
    trials = [t for t in study.trials if "timing" in t.user_attrs]
    full = [t.value for t in trials if t.state == hd.TrialState.COMPLETE and t.last_step == MAX_EPOCHS]
    epochs = sum(t.user_attrs["timing"][1] for t in trials)
    resumed = [t.user_attrs["timing"][2] for t in trials if "successor_of" in t.system_attrs]
    return {"wall": wall, "epochs": epochs, "trials": len(trials), "best": min(full), "n_full": len(full),
            "framework_per_epoch": sum(t.user_attrs["timing"][0] for t in trials) / epochs,
            "load_per_resume": statistics.mean(resumed) if resumed else 0.0}


# -- Ray Tune ---------------------------------------------------------------------------------------------------
def ray_trainable(config: dict[str, Any]) -> None:
    from ray import tune

    cfg = config["cfg"]
    t0 = time.perf_counter()
    checkpoint = tune.get_checkpoint()
    start = 0
    if checkpoint is not None:
        with checkpoint.as_directory() as d, open(Path(d) / "model.pkl", "rb") as f:
            model, start = pickle.load(f)
    else:
        model = new_model(cfg)
    load = time.perf_counter() - t0
    framework = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for epoch in range(start + 1, MAX_EPOCHS + 1):
            loss = train_epoch(model)
            with open(Path(tmp) / "model.pkl", "wb") as f:
                pickle.dump((model, epoch), f)
            t0 = time.perf_counter()
            tune.report({"loss": loss, "epoch": epoch, "framework": framework, "trained": epoch - start,
                         "load": load, "resumed": start > 0},
                        checkpoint=tune.Checkpoint.from_directory(tmp))
            framework += time.perf_counter() - t0


def run_ray(configs: list[dict[str, Any]], workers: int, root: Path) -> dict[str, Any]:
    import ray
    from ray import tune
    from ray.tune.schedulers import HyperBandScheduler

    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    ray_init = time.perf_counter() - t0
    try:
        tuner = tune.Tuner(
            tune.with_resources(ray_trainable, {"cpu": 1}),
            param_space={"cfg": tune.grid_search(configs)},
            tune_config=tune.TuneConfig(
                metric="loss", mode="min", num_samples=1, reuse_actors=True, max_concurrent_trials=workers,
                scheduler=HyperBandScheduler(time_attr="epoch", max_t=MAX_EPOCHS, reduction_factor=ETA)),
            run_config=tune.RunConfig(storage_path=str(root / "ray"), name="hb", verbose=0,
                                      checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
        )
        t0 = time.perf_counter()
        grid = tuner.fit()
        wall = time.perf_counter() - t0
        frames = [r.metrics_dataframe for r in grid if r.metrics_dataframe is not None]
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
    out = ["| framework | wall (s) | epochs trained | configs trained to R | best val loss | "
           "framework ms/epoch (report + checkpoint) | ms to load a checkpoint |", "|---|---|---|---|---|---|---|"]
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
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None, help="write the raw results as JSON here")
    args = parser.parse_args()
    data()  # imports and data loading outside every timed region
    new_model(configs_for(0)[0])
    rows = []
    for seed in range(args.seeds):
        configs = configs_for(seed)
        row: dict[str, Any] = {"seed": seed}
        for name, run in (("hyperdial", run_hyperdial), ("ray", run_ray)):
            with tempfile.TemporaryDirectory() as tmp:
                row[name] = run(configs, args.workers, Path(tmp))
            print(seed, name, json.dumps(row[name]), flush=True)
        rows.append(row)
    print(report(rows))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
