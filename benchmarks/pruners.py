"""Pruner quality: hyperdial's pruners side by side with Optuna 5's on an MLP trained epoch by epoch.

The task: scikit-learn's `MLPClassifier` on the digits data set (1,797 8x8 images,
a fixed stratified 2/3 - 1/3 train/validation split, standardised), trained one
epoch per `partial_fit` call for up to 30 epochs. After epoch e the validation
accuracy is reported at step e (1..30, the resource consumed), then the pruner is
asked. Search space: hidden units (16-128, log), activation (relu/tanh), solver
(adam/sgd with momentum 0.9), learning rate (1e-4-0.3, log), L2 alpha (1e-6-0.1,
log), batch size (32-256, log). The MLP's seed is (seed, trial number), so a
configuration trains the same way in both libraries.

Pruners, the same settings on both sides (r = 1 epoch, R = 30, eta = 3):
  nop        hd.pruners.Nop()                                optuna NopPruner()
  median     hd.pruners.Median()                             optuna MedianPruner()
  asha       hd.pruners.ASHA(min_resource=1, max_resource=30)  optuna SuccessiveHalvingPruner(min_resource=1,
                                                                   reduction_factor=3)
  hyperband  hd.pruners.Hyperband(min_resource=1, max_resource=30)  optuna HyperbandPruner(1, 30, 3)
Samplers: `random` (each library's Random, seeded) and `model` (Optuna's TPESampler
against hyperdial's best available model-based sampler: TPE, else Auto, else QMC;
the table says which ran).

Each (library, sampler, pruner, seed) run is a fresh in-memory study driven by
ask/tell until it has consumed `--budget` full-run equivalents (30 x 30 epochs by
default; the last trial is finished). After each trial it records the epochs
consumed so far and the best validation accuracy of a fully trained (30-epoch,
COMPLETE) trial so far: the anytime curve. From it: the best score at 6 (= 30/5),
10, 20 and 30 full-run equivalents, and the epochs a run needed to come within
noise of unpruned search (the mean best score of the `nop` runs of the same
library and sampler at 30 full-run equivalents, minus the standard deviation of
those runs across seeds, at least one validation image).

`--task lcbench`: the same protocol on YAHPO Gym's lcbench surrogate (Zimmer et al.
2021: MLPs on OpenML tasks, 52 epochs, validation accuracy), one surrogate request
per epoch through `benchmarks/yahpo_server.py` (needs `bash benchmarks/setup_yahpo.sh`
and the surrogate data; see `bench_problems.py`). Its space is lcbench's own
(batch size, learning rate, dropout, units, momentum, layers, weight decay).

Reproduce (the numbers in docs/benchmarks.md, "Pruners"):

    pip install -e '.[bench]' matplotlib
    python benchmarks/pruners.py                           # digits: 5 seeds, everything, 2 processes
    python benchmarks/pruners.py --quick                   # 2 seeds, budget 10, random sampler: ~2 minutes
    python benchmarks/pruners.py --libraries hyperdial --pruners nop,asha --samplers random --seeds 3
    python benchmarks/pruners.py --task lcbench            # instances 189906, 126025
    python benchmarks/pruners.py --report-only             # table + plot from the saved results

Writes benchmarks/results/pruners.json (lcbench: pruners-lcbench.json; git-ignored)
and docs/img/pruners_digits.png (pruners_lcbench.png), and prints markdown tables.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported: one thread per run

import argparse
import json
import logging
import math
import platform
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = {"digits": HERE / "results" / "pruners.json", "lcbench": HERE / "results" / "pruners-lcbench.json"}
PLOT = {t: HERE.parent / "docs" / "img" / f"pruners_{t}.png" for t in OUT}
EPOCHS = {"digits": 30, "lcbench": 52}
LCBENCH_INSTANCES = "189906,126025"
LIBRARIES = ("hyperdial", "optuna")
SAMPLERS = ("random", "model")
PRUNERS = ("nop", "median", "asha", "hyperband")
CHECKPOINTS = (6, 10, 20, 30)  # full-run equivalents; 6 = 30 / 5
OPTUNA_NAMES = {"nop": "NopPruner", "median": "MedianPruner", "asha": "SuccessiveHalving", "hyperband": "Hyperband"}
HD_NAMES = {"nop": "Nop", "median": "Median", "asha": "ASHA", "hyperband": "Hyperband"}

_DATA: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    global _DATA
    if _DATA is None:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        x, y = load_digits(return_X_y=True)
        xtr, xva, ytr, yva = train_test_split(x, y, test_size=1 / 3, random_state=0, stratify=y)
        scaler = StandardScaler().fit(xtr)
        _DATA = (scaler.transform(xtr), ytr, scaler.transform(xva), yva, np.unique(y))
    return _DATA


def train(trial: Any, seed: int, epochs: int, pruned: type[BaseException], spent: list[int]) -> float:
    """Suggest an MLP, train it epoch by epoch, report the validation accuracy, prune when told."""
    from sklearn.neural_network import MLPClassifier

    xtr, ytr, xva, yva, classes = _data()
    clf = MLPClassifier(
        hidden_layer_sizes=(trial.suggest_int("hidden", 16, 128, log=True),),
        activation=trial.suggest_categorical("activation", ["relu", "tanh"]),
        solver=trial.suggest_categorical("solver", ["adam", "sgd"]),
        learning_rate_init=trial.suggest_float("lr", 1e-4, 0.3, log=True),
        alpha=trial.suggest_float("alpha", 1e-6, 0.1, log=True),
        batch_size=trial.suggest_int("batch_size", 32, 256, log=True),
        momentum=0.9,
        random_state=seed * 100_003 + trial.number,
    )
    score = 0.0
    for epoch in range(1, epochs + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow in diverging runs
            clf.partial_fit(xtr, ytr, classes=classes)
            score = float(clf.score(xva, yva))
        spent[0] += 1
        trial.report(score, epoch)
        if trial.should_prune():
            raise pruned()
    return score


def train_lcbench(trial: Any, instance: str, epochs: int, pruned: type[BaseException], spent: list[int]) -> float:
    """YAHPO Gym's lcbench surrogate: one request per epoch, validation accuracy in [0, 1]."""
    sys.path.insert(0, str(HERE))
    import bench_problems as bp  # the YAHPO client, through benchmarks/yahpo_server.py

    config = {
        "OpenML_task_id": instance,
        "batch_size": trial.suggest_int("batch_size", 16, 512, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 0.1, log=True),
        "max_dropout": trial.suggest_float("max_dropout", 0.0, 1.0),
        "max_units": trial.suggest_int("max_units", 64, 1024, log=True),
        "momentum": trial.suggest_float("momentum", 0.1, 0.99),
        "num_layers": trial.suggest_int("num_layers", 1, 5),
        "weight_decay": trial.suggest_float("weight_decay", 1e-5, 0.1),
    }
    score = 0.0
    for epoch in range(1, epochs + 1):
        score = bp.yahpo_client().evaluate("lcbench", instance, {**config, "epoch": epoch})["val_accuracy"] / 100
        spent[0] += 1
        trial.report(score, epoch)
        if trial.should_prune():
            raise pruned()
    return score


def _hd_model_sampler(seed: int) -> tuple[Any, str]:
    import hyperdial as hd

    for name in ("TPE", "Auto", "QMC"):
        cls = getattr(hd.samplers, name, None)
        if cls is not None:
            return cls(seed=seed), name
    raise RuntimeError("no hyperdial sampler found")


def _study(library: str, sampler: str, pruner: str, seed: int, epochs: int) -> tuple[Any, str, Any]:
    """(study, sampler label, exception class for pruned trials)."""
    if library == "hyperdial":
        import hyperdial as hd

        logging.getLogger("hyperdial").setLevel(logging.WARNING)
        smp, label = (hd.samplers.Random(seed=seed), "Random") if sampler == "random" else _hd_model_sampler(seed)
        prn = {
            "nop": lambda: hd.pruners.Nop(),
            "median": lambda: hd.pruners.Median(),
            "asha": lambda: hd.pruners.ASHA(min_resource=1, max_resource=epochs, reduction_factor=3),
            "hyperband": lambda: hd.pruners.Hyperband(min_resource=1, max_resource=epochs, reduction_factor=3),
        }[pruner]()
        return hd.create_study(direction="maximize", sampler=smp, pruner=prn), label, hd.TrialPruned
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    osmp = optuna.samplers.RandomSampler(seed=seed) if sampler == "random" else optuna.samplers.TPESampler(seed=seed)
    oprn = {
        "nop": lambda: optuna.pruners.NopPruner(),
        "median": lambda: optuna.pruners.MedianPruner(),
        "asha": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        "hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs, reduction_factor=3),
    }[pruner]()
    label = "Random" if sampler == "random" else "TPE"
    return optuna.create_study(direction="maximize", sampler=osmp, pruner=oprn), label, optuna.TrialPruned


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """One (library, sampler, pruner, seed) run up to the epoch budget; returns its trace."""
    library, sampler, pruner, seed = spec["library"], spec["sampler"], spec["pruner"], spec["seed"]
    epochs, budget = spec["epochs"], spec["budget"] * spec["epochs"]
    study, label, pruned_exc = _study(library, sampler, pruner, seed, epochs)
    task, _, instance = spec["task"].partition("/")
    if library == "hyperdial":
        import hyperdial as hd

        pruned_state, complete_state = hd.TrialState.PRUNED, hd.TrialState.COMPLETE
    else:
        import optuna

        pruned_state, complete_state = optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE
    spent = [0]
    trace: list[tuple[int, float | None]] = []  # (epochs consumed, best fully trained score so far)
    best: float | None = None
    n_complete = 0
    start = time.perf_counter()
    while spent[0] < budget:
        trial = study.ask()
        try:
            if task == "lcbench":
                value = train_lcbench(trial, instance, epochs, pruned_exc, spent)
            else:
                value = train(trial, seed, epochs, pruned_exc, spent)
        except pruned_exc:
            study.tell(trial, state=pruned_state)
        else:
            study.tell(trial, value, state=complete_state)
            n_complete += 1
            best = value if best is None else max(best, value)
        trace.append((spent[0], best))
    return {
        **spec,
        "sampler_label": label,
        "n_trials": len(trace),
        "n_complete": n_complete,
        "epochs_consumed": spent[0],
        "best": best,
        "trace": trace,
        "seconds": time.perf_counter() - start,
    }


# -- report ---------------------------------------------------------------------------------
def best_at(trace: list[list[Any]], epochs: float) -> float | None:
    """Best fully trained score among the trials finished within `epochs` consumed."""
    out = None
    for spent, best in trace:
        if spent > epochs:
            break
        out = best
    return out


def epochs_to_reach(trace: list[list[Any]], target: float) -> int | None:
    for spent, best in trace:
        if best is not None and best >= target:
            return int(spent)
    return None


def _fmt(values: list[float | None], digits: int = 3) -> str:
    xs = [v for v in values if v is not None]
    if not xs:
        return "-"
    if len(xs) < len(values):
        return f"{statistics.mean(xs):.{digits}f} ({len(xs)}/{len(values)})"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.{digits}f} ± {sd:.{digits}f}"


def _task(r: dict[str, Any]) -> str:
    return str(r.get("task", "digits"))


def report(results: list[dict[str, Any]]) -> str:
    """One markdown table per task (an lcbench instance is a task)."""
    out = []
    tasks = sorted({_task(r) for r in results})
    for task in tasks:
        runs = [r for r in results if _task(r) == task]
        if len(tasks) > 1:
            out.append(f"\n**{task}** ({runs[0]['epochs']} epochs per full run)\n")
        out.append(_table(runs, task))
    return "\n".join(out)


def _table(results: list[dict[str, Any]], task: str) -> str:
    epochs = results[0]["epochs"]
    # "within noise": one validation image for digits, 0.1 accuracy point for lcbench's surrogate
    resolution = 1.0 / len(_data()[3]) if task == "digits" else 0.001
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["sampler"], r["library"], r["pruner"]), []).append(r)
    budget = min(r["budget"] for r in results)
    checkpoints = [c for c in CHECKPOINTS if c < budget] + [budget]
    lines = [
        "| sampler | library | pruner | trials | epochs consumed | "
        + " | ".join(f"best @{c:g}" for c in checkpoints)
        + " | epochs to match unpruned (median) | speed-up |",
        "|---|---|---|---:|---:|" + "---:|" * len(checkpoints) + "---:|---:|",
    ]
    for sampler in SAMPLERS:
        for library in LIBRARIES:
            nop = groups.get((sampler, library, "nop"), [])
            finals = [best_at(r["trace"], budget * epochs) for r in nop]
            finals_ok = [f for f in finals if f is not None]
            target = None
            if finals_ok:
                noise = statistics.stdev(finals_ok) if len(finals_ok) > 1 else 0.0
                target = statistics.mean(finals_ok) - max(noise, resolution)
            for pruner in PRUNERS:
                runs = groups.get((sampler, library, pruner))
                if not runs:
                    continue
                need = [epochs_to_reach(r["trace"], target) if target is not None else None for r in runs]
                reached = sorted(n for n in need if n is not None)
                if reached and len(reached) * 2 > len(runs):
                    median = float(np.median([n if n is not None else math.inf for n in need]))
                    need_s = f"{median:.0f} ({len(reached)}/{len(runs)} runs)"
                    speed = f"{budget * epochs / median:.1f}x" if math.isfinite(median) else "-"
                else:
                    need_s, speed = f"not reached ({len(reached)}/{len(runs)} runs)", "-"
                name = HD_NAMES[pruner] if library == "hyperdial" else OPTUNA_NAMES[pruner]
                lines.append(
                    f"| {runs[0]['sampler_label']} | {library} | {name} | "
                    f"{statistics.mean(r['n_trials'] for r in runs):.0f} | "
                    f"{statistics.mean(r['epochs_consumed'] for r in runs):.0f} | "
                    + " | ".join(_fmt([best_at(r["trace"], c * epochs) for r in runs]) for c in checkpoints)
                    + f" | {need_s} | {speed} |"
                )
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({_task(r) for r in results})
    samplers = [s for s in SAMPLERS if any(r["sampler"] == s for r in results)]
    fig, axes = plt.subplots(len(tasks), len(samplers), figsize=(6.5 * len(samplers), 4.4 * len(tasks)), squeeze=False)
    colors = {"nop": "black", "median": "tab:blue", "asha": "tab:red", "hyperband": "tab:green"}
    for row, task in zip(axes, tasks):
        for ax, sampler in zip(row, samplers):
            runs_here = [r for r in results if _task(r) == task and r["sampler"] == sampler]
            epochs = runs_here[0]["epochs"]
            grid = np.linspace(0.5, max(r["budget"] for r in runs_here), 120)
            labels = {lib: sorted({r["sampler_label"] for r in runs_here if r["library"] == lib}) for lib in LIBRARIES}
            low = 1.0
            for library in LIBRARIES:
                for pruner in PRUNERS:
                    runs = [r for r in runs_here if (r["library"], r["pruner"]) == (library, pruner)]
                    if not runs:
                        continue
                    curves = np.array(
                        [[_nan(best_at(r["trace"], g * epochs)) for g in grid] for r in runs], dtype=float
                    )
                    mean = curves.mean(axis=0)  # drawn once every seed has a fully trained trial
                    if np.isfinite(mean).any():
                        low = min(low, float(np.nanpercentile(mean, 3)))
                    name = HD_NAMES[pruner] if library == "hyperdial" else OPTUNA_NAMES[pruner]
                    ax.plot(
                        grid,
                        mean,
                        color=colors[pruner],
                        linestyle="-" if library == "hyperdial" else "--",
                        label=f"{library} {name}",
                    )
            title = f"hyperdial {'/'.join(labels['hyperdial'])} vs Optuna {'/'.join(labels['optuna'])}"
            ax.set_title(f"{task}: {title}", fontsize=10)
            ax.set_xscale("log")
            ax.set_xticks([1, 2, 3, 6, 10, 20, 30], ["1", "2", "3", "6", "10", "20", "30"])
            ax.set_xlabel(f"epochs consumed, in full runs ({epochs} epochs; log scale)")
            ax.set_ylabel("best accuracy, fully trained (mean of seeds)")
            top = max(float(np.nanmax([r["best"] or np.nan for r in runs_here])), low)
            ax.set_ylim(low - 0.1 * (top - low + 1e-3), top + 0.1 * (top - low + 1e-3))
            ax.grid(alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle("Pruners: best fully trained validation accuracy vs epochs consumed (solid hyperdial, dashed Optuna)")
    fig.tight_layout(rect=(0, 0.09 / len(tasks), 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", choices=sorted(OUT), default="digits")
    p.add_argument("--instances", default=LCBENCH_INSTANCES, help="lcbench: OpenML task ids (comma-separated)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budget", type=float, default=30, help="full-run equivalents per run (default 30)")
    p.add_argument("--epochs", type=int, help="epochs of a full run (default: digits 30, lcbench 52)")
    p.add_argument("--libraries", default=",".join(LIBRARIES))
    p.add_argument("--samplers", default=",".join(SAMPLERS))
    p.add_argument("--pruners", default=",".join(PRUNERS))
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--quick", action="store_true", help="2 seeds, budget 10, random sampler only")
    p.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/pruners[-lcbench].json)")
    p.add_argument("--plot", type=Path, help="PNG (default docs/img/pruners_<task>.png)")
    p.add_argument("--report-only", action="store_true", help="table and plot from --out, no runs")
    p.add_argument("--merge", action="store_true", help="keep the runs already in --out, replacing those run again")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.budget, args.samplers = 2, 10, "random"
    out, plot_path = args.out or OUT[args.task], args.plot or PLOT[args.task]
    epochs = args.epochs or EPOCHS[args.task]

    if args.report_only:
        results = json.loads(out.read_text())["runs"]
    else:
        tasks = ["digits"] if args.task == "digits" else [f"lcbench/{i}" for i in args.instances.split(",")]
        specs = [
            {
                "task": task,
                "library": lib,
                "sampler": smp,
                "pruner": prn,
                "seed": seed,
                "epochs": epochs,
                "budget": args.budget,
            }
            for task in tasks
            for smp in args.samplers.split(",")
            for lib in args.libraries.split(",")
            for prn in args.pruners.split(",")
            for seed in range(args.seeds)
        ]
        for s in specs:
            if s["library"] not in LIBRARIES or s["sampler"] not in SAMPLERS or s["pruner"] not in PRUNERS:
                p.error(f"unknown library, sampler or pruner in {s}")
        # the unpruned runs are the longest: start them first
        specs.sort(key=lambda s: s["pruner"] != "nop")
        start = time.perf_counter()
        results = []
        if args.merge and out.exists():
            key = ("task", "library", "sampler", "pruner", "seed")
            again = {tuple(s[k] for k in key) for s in specs}
            results = [r for r in json.loads(out.read_text())["runs"] if tuple(r[k] for k in key) not in again]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for r in pool.map(run, specs):
                results.append(r)
                print(
                    f"{r['task']:14} {r['library']:9} {r['sampler_label']:6} {r['pruner']:9} seed {r['seed']}: "
                    f"{r['n_trials']:4} trials, {r['epochs_consumed']:5} epochs, best {r['best']}, "
                    f"{r['seconds']:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                    "python": platform.python_version(),
                    "wall_seconds": time.perf_counter() - start,
                    "command": " ".join(["python", "benchmarks/pruners.py", *(sys.argv[1:] if argv is None else argv)]),
                    "runs": results,
                }
            )
        )
        print(f"wall time {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(report(results))
    plot(results, plot_path)
    print(f"\nplot: {plot_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
