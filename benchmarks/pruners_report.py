"""Tables and plots of `benchmarks/pruners.py` from its saved runs (pure: no runs, no surrogate).

Single objective: per task, one row per (sampler, library, pruner) with the best fully trained
score at 6/10/20/30 full-run equivalents and the epochs needed to match unpruned search; across
lcbench instances, the mean normalised score and mean rank of every combination, and hyperdial's
default study against the best Optuna combination at each budget. Two objectives: hypervolume of
the COMPLETE trials' front against epochs consumed.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from pruners_tasks import HD_NAMES, LIBRARIES, OPTUNA_NAMES, PRUNERS, SAMPLERS

CHECKPOINTS = (6, 10, 20, 30)  # full-run equivalents; 6 = 30 / 5
MO_CHECKPOINTS = (10, 20, 30)
Key = tuple[str, str, str]  # (sampler, library, pruner)


def task_of(r: dict[str, Any]) -> str:
    return str(r.get("task", "digits"))


def sampler_of(r: dict[str, Any]) -> str:
    return "tpe" if r["sampler"] == "model" else str(r["sampler"])  # "model" in older result files


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


def mean_curve_epochs(runs: list[dict[str, Any]], target: float) -> float | None:
    """Epochs after which the mean over seeds of the anytime curve first reaches `target`.

    Less noisy than the median of each seed's epochs to reach it: one lucky early trial moves one
    seed's curve, not the mean. NaN (not reached) while any seed has no fully trained trial yet.
    """
    grid = np.unique(np.concatenate([np.array([s for s, _ in r["trace"]], dtype=float) for r in runs]))
    curves = []
    for r in runs:
        spent = np.array([s for s, _ in r["trace"]], dtype=float)
        best = np.array([math.nan if b is None else b for _, b in r["trace"]], dtype=float)
        i = np.searchsorted(spent, grid, side="right") - 1
        curves.append(np.where(i >= 0, best[np.maximum(i, 0)], math.nan))
    hit = np.nonzero(np.mean(curves, axis=0) >= target)[0]
    return float(grid[hit[0]]) if len(hit) else None


def _fmt(values: list[float | None], digits: int = 3) -> str:
    xs = [v for v in values if v is not None]
    if not xs:
        return "-"
    if len(xs) < len(values):
        return f"{statistics.mean(xs):.{digits}f} ({len(xs)}/{len(values)})"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.{digits}f} ± {sd:.{digits}f}"


def _mean(values: list[float | None]) -> float:
    """Mean over seeds; a seed without a fully trained trial yet counts as missing (NaN if all are)."""
    xs = [v for v in values if v is not None]
    return statistics.mean(xs) if len(xs) == len(values) and xs else math.nan


def label(key: Key, runs: list[dict[str, Any]]) -> str:
    _, library, pruner = key
    plabel = runs[0].get("pruner_label") or (HD_NAMES if library == "hyperdial" else OPTUNA_NAMES)[pruner]
    return f"{library} {runs[0]['sampler_label']} + {plabel}"


def groups(runs: list[dict[str, Any]]) -> dict[Key, list[dict[str, Any]]]:
    out: dict[Key, list[dict[str, Any]]] = {}
    for r in runs:
        out.setdefault((sampler_of(r), r["library"], r["pruner"]), []).append(r)
    order = {s: i for i, s in enumerate(SAMPLERS)}
    return dict(
        sorted(out.items(), key=lambda kv: (order[kv[0][0]], LIBRARIES.index(kv[0][1]), PRUNERS.index(kv[0][2])))
    )


# -- single objective: one table per task ----------------------------------------------------
def report(results: list[dict[str, Any]]) -> str:
    """One markdown table per task (an lcbench instance is a task)."""
    out = []
    tasks = sorted({task_of(r) for r in results})
    for task in tasks:
        runs = [r for r in results if task_of(r) == task]
        if len(tasks) > 1:
            out.append(f"\n**{task}** ({runs[0]['epochs']} epochs per full run)\n")
        out.append(table(runs, task))
    return "\n".join(out)


def _unpruned_target(nop: list[dict[str, Any]], budget: float, epochs: int, resolution: float) -> float | None:
    finals = [f for f in (best_at(r["trace"], budget * epochs) for r in nop) if f is not None]
    if not finals:
        return None
    noise = statistics.stdev(finals) if len(finals) > 1 else 0.0
    return statistics.mean(finals) - max(noise, resolution)


def table(results: list[dict[str, Any]], task: str) -> str:
    epochs = results[0]["epochs"]
    # "within noise": one validation image for digits (599 images), 0.1 accuracy point for lcbench's surrogate
    resolution = 1.0 / 599 if task == "digits" else 0.001
    by = groups(results)
    budget = min(r["budget"] for r in results)
    checkpoints = [c for c in CHECKPOINTS if c < budget] + [budget]
    lines = [
        "| sampler | library | pruner | trials | epochs consumed | "
        + " | ".join(f"best @{c:g}" for c in checkpoints)
        + " | epochs to match unpruned (median) | speed-up | speed-up (mean curve) |",
        "|---|---|---|---:|---:|" + "---:|" * len(checkpoints) + "---:|---:|---:|",
    ]
    for (sampler, library, pruner), runs in by.items():
        # the default study has no unpruned twin: it is measured against the same library's TPE + Nop
        ref_sampler = "tpe" if sampler == "default" else sampler
        target = _unpruned_target(by.get((ref_sampler, library, "nop"), []), budget, epochs, resolution)
        need = [epochs_to_reach(r["trace"], target) if target is not None else None for r in runs]
        reached = sorted(n for n in need if n is not None)
        if reached and len(reached) * 2 > len(runs):
            median = float(np.median([n if n is not None else math.inf for n in need]))
            need_s = f"{median:.0f} ({len(reached)}/{len(runs)} runs)"
            speed = f"{budget * epochs / median:.1f}x" if math.isfinite(median) else "-"
        elif target is None:
            need_s, speed = "-", "-"
        else:
            need_s, speed = f"not reached ({len(reached)}/{len(runs)} runs)", "-"
        at = mean_curve_epochs(runs, target) if target is not None else None
        mean_speed = f"{budget * epochs / at:.1f}x" if at else "-"
        plabel = runs[0].get("pruner_label") or (HD_NAMES if library == "hyperdial" else OPTUNA_NAMES)[pruner]
        lines.append(
            f"| {runs[0]['sampler_label']} | {library} | {plabel} | "
            f"{statistics.mean(r['n_trials'] for r in runs):.0f} | "
            f"{statistics.mean(r['epochs_consumed'] for r in runs):.0f} | "
            + " | ".join(_fmt([best_at(r["trace"], c * epochs) for r in runs]) for c in checkpoints)
            + f" | {need_s} | {speed} | {mean_speed} |"
        )
    return "\n".join(lines)


# -- single objective, across lcbench instances ---------------------------------------------
def _scores(results: list[dict[str, Any]]) -> tuple[list[str], dict[Key, dict[str, list[float]]], dict[Key, str]]:
    """Per combination and instance, the mean-over-seeds best score at each checkpoint."""
    tasks = sorted({task_of(r) for r in results})
    table_: dict[Key, dict[str, list[float]]] = {}
    names: dict[Key, str] = {}
    for task in tasks:
        runs = [r for r in results if task_of(r) == task]
        epochs = runs[0]["epochs"]
        for key, rs in groups(runs).items():
            names[key] = label(key, rs)
            table_.setdefault(key, {})[task] = [_mean([best_at(r["trace"], c * epochs) for r in rs]) for c in CHECKPOINTS]
    return tasks, table_, names


def normalise(score: float, ref: dict[str, float]) -> float:
    """0 = the median of 200 random configurations trained fully, 1 = the best of them."""
    return (score - ref["acc_median"]) / (ref["acc_best"] - ref["acc_median"])


def summary(results: list[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> str:
    """Every combination: mean normalised score and mean rank over the instances, at each budget."""
    tasks, scores, names = _scores(results)
    keys = [k for k in scores if all(t in scores[k] for t in tasks)]  # combinations run on every instance
    ranks: dict[Key, list[list[float]]] = {k: [] for k in keys}
    for t in tasks:
        cols = np.array([scores[k][t] for k in keys])  # combinations x checkpoints; NaN ranks last
        rk = np.column_stack([_ranks(-np.where(np.isnan(c), -np.inf, c)) for c in cols.T])
        for k, row in zip(keys, rk):
            ranks[k].append(list(row))
    lines = [
        (
            f"Mean over {len(tasks)} instances ({', '.join(t.split('/')[-1] for t in tasks)}); normalised score: "
            "0 = median, 1 = best of 200 random configurations trained fully; rank among the "
            f"{len(keys)} combinations (1 = best; ties share the mean rank).\n"
        ),
        "| combination | " + " | ".join(f"score @{c}" for c in CHECKPOINTS) + " | "
        + " | ".join(f"rank @{c}" for c in CHECKPOINTS) + " |",
        "|---|" + "---:|" * (2 * len(CHECKPOINTS)),
    ]
    for k in keys:
        norm = [[normalise(scores[k][t][j], refs[t.split("/")[-1]]) for t in tasks] for j in range(len(CHECKPOINTS))]
        rk = np.array(ranks[k]).mean(axis=0)
        lines.append(
            f"| {names[k]} | " + " | ".join(f"{np.mean(n):.2f}" for n in norm) + " | "
            + " | ".join(f"{x:.1f}" for x in rk) + " |"
        )
    return "\n".join(lines)


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):  # ties share the mean rank
        r[x == v] = r[x == v].mean()
    return r


def default_vs_optuna(results: list[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> str:
    """hyperdial's default study against the best Optuna combination at each budget."""
    tasks, scores, names = _scores(results)
    dkey = ("default", "hyperdial", "default")
    okeys = [k for k in scores if k[1] == "optuna" and all(t in scores[k] for t in tasks)]
    if dkey not in scores or not okeys:
        return "(no hyperdial default rows or no Optuna rows)"
    sds = _seed_sd(results)
    lines = [
        "| instance | " + " | ".join(f"@{c}: hyperdial default | @{c}: best Optuna" for c in CHECKPOINTS) + " |",
        "|---|" + "---:|---|" * len(CHECKPOINTS),
    ]
    wins = ties = losses = 0
    for t in tasks:
        cells = []
        for j, _ in enumerate(CHECKPOINTS):
            best = max(okeys, key=lambda k: _nan_low(scores[k][t][j]))
            d, o = scores[dkey][t][j], scores[best][t][j]
            # "within noise": less than the standard error of the difference of two 5-seed means apart
            se = math.hypot(sds.get((dkey, t, j), 0.0), sds.get((best, t, j), 0.0)) / math.sqrt(5)
            if d >= o:
                wins += 1
                mark = "**"
            elif o - d <= se:
                ties += 1
                mark = ""
            else:
                losses += 1
                mark = ""
            cells.append(f"{mark}{d:.3f}{mark} | {o:.3f} ({_short(names[best])})")
        lines.append(f"| {t.split('/')[-1]} | " + " | ".join(cells) + " |")
    # averaged: one Optuna combination per budget, the best by mean normalised score
    cells = []
    for j, _ in enumerate(CHECKPOINTS):
        norm = {k: float(np.mean([normalise(scores[k][t][j], refs[t.split("/")[-1]]) for t in tasks])) for k in [dkey, *okeys]}
        best = max(okeys, key=lambda k: _nan_low(norm[k]))
        mark = "**" if norm[dkey] >= norm[best] else ""
        cells.append(f"{mark}{norm[dkey]:.2f}{mark} | {norm[best]:.2f} ({_short(names[best])})")
    lines.append("| mean normalised score | " + " | ".join(cells) + " |")
    lines.append(
        f"\nhyperdial default at least as good as the best Optuna combination (picked per instance and budget, "
        f"in hindsight) in {wins} of {wins + ties + losses} cells (bold); behind by less than the standard error of the "
        f"difference in {ties}; behind by more in {losses}."
    )
    return "\n".join(lines)


def _short(name: str) -> str:
    return name.removeprefix("optuna ").removeprefix("hyperdial ")


def _nan_low(x: float) -> float:
    return -math.inf if math.isnan(x) else x


def _seed_sd(results: list[dict[str, Any]]) -> dict[tuple[Key, str, int], float]:
    out: dict[tuple[Key, str, int], float] = {}
    for task in {task_of(r) for r in results}:
        runs = [r for r in results if task_of(r) == task]
        for key, rs in groups(runs).items():
            for j, c in enumerate(CHECKPOINTS):
                xs = [x for x in (best_at(r["trace"], c * r["epochs"]) for r in rs) if x is not None]
                out[(key, task, j)] = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return out


# -- two objectives ---------------------------------------------------------------------------
def mo_box(ref: dict[str, Any]) -> tuple[float, float, float, float]:
    """(accuracy, time) of the reference point and of the ideal corner, from the 200 random full runs.

    The reference point is their MEDIAN accuracy and MEDIAN time, not their worst: lcbench has
    configurations that collapse to chance accuracy or take 30x the median time, and a reference at
    those extremes squeezes every sensible front into a corner (200 random runs alone would score
    0.99). The corner is their best accuracy and shortest time.
    """
    front = np.array(ref["front"])
    return (float(np.median(front[:, 0])), float(np.median(front[:, 1])), float(front[:, 0].max()),
            float(front[:, 1].min()))


def hv_at(run: dict[str, Any], epochs: float, ref: dict[str, Any]) -> float:
    """Hypervolume of the COMPLETE trials finished within `epochs`, in the unit box of `mo_box`
    (1 = a trial as accurate as the best and as fast as the fastest of 200 random full runs)."""
    from hyperdial.pareto import hypervolume

    pts = [(a, t) for spent, a, t in run["points"] if spent <= epochs]
    if not pts:
        return 0.0
    acc_ref, time_ref, acc_best, time_best = mo_box(ref)
    y = np.array([[(acc_best - a) / (acc_best - acc_ref), (t - time_best) / (time_ref - time_best)] for a, t in pts])
    y = y[(y < 1.0).all(axis=1)]  # points beyond the reference point add nothing
    return float(hypervolume(y, [1.0, 1.0])) if len(y) else 0.0


def mo_table(results: list[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> str:
    out = []
    for task in sorted({task_of(r) for r in results}):
        runs = [r for r in results if task_of(r) == task]
        ref, epochs = refs[task.split("/")[-1]], runs[0]["epochs"]
        rand_hv = hv_at({"points": [(0, a, t) for a, t in ref["front"]]}, 1, ref)
        acc_ref, time_ref, acc_best, time_best = mo_box(ref)
        out.append(
            f"\n**{task}**: reference point (accuracy {acc_ref:.3f}, {time_ref:.0f} s), ideal corner "
            f"({acc_best:.3f}, {time_best:.0f} s); hypervolume of all 200 random full runs: {rand_hv:.3f}\n"
        )
        out.append(
            "| sampler | library | pruner | trials | complete | "
            + " | ".join(f"HV @{c}" for c in MO_CHECKPOINTS) + " |"
        )
        out.append("|---|---|---|---:|---:|" + "---:|" * len(MO_CHECKPOINTS))
        for key, rs in groups(runs).items():
            out.append(
                f"| {rs[0]['sampler_label']} | {key[1]} | {rs[0].get('pruner_label', key[2])} | "
                f"{statistics.mean(r['n_trials'] for r in rs):.0f} | {statistics.mean(r['n_complete'] for r in rs):.0f} | "
                + " | ".join(_fmt([hv_at(r, c * epochs, ref) for r in rs]) for c in MO_CHECKPOINTS) + " |"
            )
    return "\n".join(out)


# -- plots --------------------------------------------------------------------------------------
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


COLORS = {"nop": "black", "median": "tab:blue", "asha": "tab:red", "hyperband": "tab:green", "default": "tab:purple"}


def _xaxis(ax: Any, epochs: int) -> None:
    ax.set_xscale("log")
    ax.set_xticks([1, 2, 3, 6, 10, 20, 30], ["1", "2", "3", "6", "10", "20", "30"])
    ax.set_xlabel(f"epochs consumed, in full runs ({epochs} epochs; log scale)", fontsize=8)
    ax.grid(alpha=0.3)


def _curve(runs: list[dict[str, Any]], grid: np.ndarray, epochs: int) -> np.ndarray:
    curves = np.array([[math.nan if (b := best_at(r["trace"], g * epochs)) is None else b for g in grid] for r in runs])
    return curves.mean(axis=0)  # drawn once every seed has a fully trained trial


def plot(results: list[dict[str, Any]], path: Path, samplers: tuple[str, ...] = ("random", "tpe")) -> None:
    """Per task (rows) and sampler (columns): each pruner, solid hyperdial, dashed Optuna."""
    plt = _plt()
    tasks = sorted({task_of(r) for r in results})
    samplers = tuple(s for s in samplers if any(sampler_of(r) == s for r in results))
    fig, axes = plt.subplots(len(tasks), len(samplers), figsize=(6.5 * len(samplers), 3.6 * len(tasks)), squeeze=False)
    for row, task in zip(axes, tasks):
        for ax, sampler in zip(row, samplers):
            here = [r for r in results if task_of(r) == task and sampler_of(r) == sampler]
            epochs = here[0]["epochs"]
            grid = np.linspace(0.5, max(r["budget"] for r in here), 120)
            low = 1.0
            for (_, library, pruner), runs in groups(here).items():
                mean = _curve(runs, grid, epochs)
                if np.isfinite(mean).any():
                    low = min(low, float(np.nanpercentile(mean, 3)))
                name = (HD_NAMES if library == "hyperdial" else OPTUNA_NAMES)[pruner]
                ax.plot(grid, mean, color=COLORS[pruner], linestyle="-" if library == "hyperdial" else "--",
                        label=f"{library} {name}")
            ax.set_title(f"{task}: {sampler} sampler (hyperdial vs Optuna)", fontsize=9)
            _xaxis(ax, epochs)
            ax.set_ylabel("best accuracy, fully trained", fontsize=8)
            top = max(float(np.nanmax([r["best"] or np.nan for r in here])), low)
            ax.set_ylim(low - 0.1 * (top - low + 1e-3), top + 0.1 * (top - low + 1e-3))
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle("Pruners: best fully trained validation accuracy vs epochs consumed (solid hyperdial, dashed Optuna)")
    fig.tight_layout(rect=(0, 0.07 / max(1, len(tasks) / 2), 1, 1 - 0.03 / len(tasks)))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_default(results: list[dict[str, Any]], path: Path, n_best: int = 3) -> None:
    """Per instance: hyperdial's default study, Optuna's default (TPE + Median) and its best combinations."""
    plt = _plt()
    tasks = sorted({task_of(r) for r in results})
    cols = min(3, len(tasks))
    nrows = math.ceil(len(tasks) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(5.5 * cols, 3.8 * nrows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        here = [r for r in results if task_of(r) == task]
        epochs = here[0]["epochs"]
        grid = np.linspace(0.5, max(r["budget"] for r in here), 120)
        by = groups(here)
        finals = {k: _mean([r["best"] for r in rs]) for k, rs in by.items() if k[1] == "optuna"}
        chosen = sorted(finals, key=lambda k: -_nan_low(finals[k]))[:n_best]
        if ("tpe", "optuna", "median") in by and ("tpe", "optuna", "median") not in chosen:
            chosen.append(("tpe", "optuna", "median"))
        if ("default", "hyperdial", "default") in by:
            chosen.insert(0, ("default", "hyperdial", "default"))
        for i, k in enumerate(chosen):
            mean = _curve(by[k], grid, epochs)
            style = {"color": "black", "linewidth": 2.2} if k[1] == "hyperdial" else {"linestyle": "--", "color": f"C{i}"}
            ax.plot(grid, mean, label=label(k, by[k]), **style)
        ax.set_title(task, fontsize=9)
        _xaxis(ax, epochs)
        ax.legend(fontsize=6.5, loc="lower right")
        vals = np.concatenate([_curve(by[k], grid, epochs) for k in chosen])
        lo, hi = np.nanpercentile(vals, 5), np.nanmax(vals)
        ax.set_ylim(lo - 0.05 * (hi - lo + 1e-3), hi + 0.05 * (hi - lo + 1e-3))
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.suptitle("hyperdial's default study vs Optuna's best sampler+pruner combinations (mean of seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_mo(results: list[dict[str, Any]], refs: dict[str, dict[str, Any]], path: Path) -> None:
    plt = _plt()
    tasks = sorted({task_of(r) for r in results})
    fig, axes = plt.subplots(1, len(tasks), figsize=(6.0 * len(tasks), 4.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        here = [r for r in results if task_of(r) == task]
        ref, epochs = refs[task.split("/")[-1]], here[0]["epochs"]
        grid = np.linspace(1, max(r["budget"] for r in here), 100)
        for i, (k, rs) in enumerate(groups(here).items()):
            mean = np.array([[hv_at(r, g * epochs, ref) for g in grid] for r in rs]).mean(axis=0)
            ax.plot(grid, mean, color=f"C{i}", linestyle="-" if k[1] == "hyperdial" else "--", label=label(k, rs))
        ax.set_title(f"{task}: accuracy vs training time", fontsize=9)
        _xaxis(ax, epochs)
        ax.set_ylabel("hypervolume of COMPLETE trials (normalised)", fontsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- the held-out (reporting) split: means with standard errors, paired verdicts, speed-ups ----------
DEFAULT_KEY: Key = ("default", "hyperdial", "default")
UNPRUNED_KEY: Key = ("random", "hyperdial", "nop")
AUTO_PRUNER_KEY: Key = ("random", "hyperdial", "default")  # the automatic pruner alone, with random search
OPTUNA_DEFAULT_KEY: Key = ("tpe", "optuna", "median")  # what optuna.create_study() gives
# Optuna's best combination per budget on the TUNING split (docs/benchmarks.md, "All combinations", in-sample):
# the comparators fixed before any reporting run, so none of them is picked in hindsight on the reported data
TUNING_BEST_OPTUNA: dict[int, Key] = {
    6: ("random", "optuna", "asha"), 10: ("random", "optuna", "asha"),
    20: ("gp", "optuna", "nop"), 30: ("gp", "optuna", "nop"),
}


def _norm_runs(results: list[dict[str, Any]], refs: dict[str, dict[str, Any]]
               ) -> tuple[dict[Key, dict[tuple[str, int], list[float]]], dict[Key, str]]:
    """Per combination, per (instance, seed): the normalised best score at each checkpoint (NaN: none yet)."""
    out: dict[Key, dict[tuple[str, int], list[float]]] = {}
    names: dict[Key, str] = {}
    for key, rs in groups(results).items():
        names[key] = label(key, rs)
        for r in rs:
            ref = refs[task_of(r).split("/")[-1]]
            vals = [best_at(r["trace"], c * r["epochs"]) for c in CHECKPOINTS]
            out.setdefault(key, {})[(task_of(r), r["seed"])] = [
                math.nan if v is None else normalise(v, ref) for v in vals
            ]
    return out, names


def _mean_se(xs: list[float]) -> tuple[float, float, int]:
    ys = [x for x in xs if not math.isnan(x)]
    if not ys:
        return math.nan, math.nan, 0
    se = statistics.stdev(ys) / math.sqrt(len(ys)) if len(ys) > 1 else math.nan
    return statistics.mean(ys), se, len(ys)


def _paired(a: dict[tuple[str, int], list[float]], b: dict[tuple[str, int], list[float]], j: int
            ) -> tuple[float, float, int]:
    """Mean of a - b over the (instance, seed) pairs both have, and its standard error."""
    return _mean_se([a[k][j] - b[k][j] for k in sorted(set(a) & set(b))])


def verdict(diff: float, se: float) -> str:
    """"beats" / "behind" only where the difference exceeds its standard error, else "level"."""
    if math.isnan(diff) or math.isnan(se):
        return "-"
    return "beats" if diff > se else "behind" if diff < -se else "level"


def heldout(results: list[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> str:
    """Mean normalised score ± standard error per combination, and the default study's paired verdicts."""
    norm, names = _norm_runs(results, refs)
    tasks = sorted({task_of(r) for r in results})
    seeds = sorted({r["seed"] for r in results})
    lines = [
        (f"{len(tasks)} instances ({', '.join(t.split('/')[-1] for t in tasks)}) x {len(seeds)} seeds; normalised "
        "score (0 = median, 1 = best of 200 random configurations trained fully), mean ± standard error over the "
        "runs (n = instances x seeds; a run without a fully trained trial yet is left out and counted).\n"),
        "| combination | runs | " + " | ".join(f"score @{c}" for c in CHECKPOINTS) + " |",
        "|---|---:|" + "---:|" * len(CHECKPOINTS),
    ]
    for key, cells in norm.items():
        row = []
        for j, _ in enumerate(CHECKPOINTS):
            m, se, n = _mean_se([v[j] for v in cells.values()])
            row.append(f"{m:.2f} ± {se:.2f}" + ("" if n == len(cells) else f" ({n}/{len(cells)})"))
        lines.append(f"| {names[key]} | {len(cells)} | " + " | ".join(row) + " |")
    if DEFAULT_KEY not in norm:
        return "\n".join(lines)
    d = norm[DEFAULT_KEY]
    okeys = [k for k in norm if k[1] == "optuna"]
    comps: list[tuple[str, list[Key | None]]] = [
        ("Optuna's best on the tuning split (fixed in advance)", [TUNING_BEST_OPTUNA.get(c) for c in CHECKPOINTS]),
    ]
    hindsight: list[Key | None] = []
    for j, _ in enumerate(CHECKPOINTS):  # the best Optuna mean on THIS split: picked in hindsight, stricter
        means = {k: _mean_se([v[j] for v in norm[k].values()])[0] for k in okeys}
        hindsight.append(max(okeys, key=lambda k: _nan_low(means[k])) if okeys else None)
    comps += [("best Optuna on this split (in hindsight)", hindsight),
              ("Optuna's default (TPE + MedianPruner)", [OPTUNA_DEFAULT_KEY] * len(CHECKPOINTS)),
              ("hyperdial Random + Nop (unpruned random search)", [UNPRUNED_KEY] * len(CHECKPOINTS)),
              ("hyperdial Random + automatic pruner", [AUTO_PRUNER_KEY] * len(CHECKPOINTS))]
    lines += [
        ("\nhyperdial default minus the comparator: paired by (instance, seed), mean ± standard error of the "
        "difference in normalised score; \"beats\"/\"behind\" only where the difference exceeds its standard "
        "error, else \"level\".\n"),
        "| hyperdial default vs | " + " | ".join(f"@{c}" for c in CHECKPOINTS) + " |",
        "|---|" + "---|" * len(CHECKPOINTS),
    ]
    for title, keys in comps:
        row = []
        for j, k in enumerate(keys):
            if k is None or k not in norm:
                row.append("-")
                continue
            diff, se, n = _paired(d, norm[k], j)
            who = f"{_short(names[k])}: " if title.startswith(("Optuna's best", "best Optuna")) else ""
            row.append(f"{who}{diff:+.2f} ± {se:.2f} **{verdict(diff, se)}**" + ("" if n == len(d) else f" (n={n})"))
        lines.append(f"| {title} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def heldout_cells(results: list[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> str:
    """Per instance and budget: mean best accuracy of the default and of the tuning split's best Optuna
    combination, and their paired difference over seeds (accuracy points) ± its standard error."""
    norm, names = _norm_runs(results, refs)
    if DEFAULT_KEY not in norm:
        return "(no hyperdial default runs)"
    acc: dict[Key, dict[tuple[str, int], list[float]]] = {}
    for key, rs in groups(results).items():
        for r in rs:
            acc.setdefault(key, {})[(task_of(r), r["seed"])] = [
                math.nan if (v := best_at(r["trace"], c * r["epochs"])) is None else 100 * v for c in CHECKPOINTS
            ]
    lines = [
        "| instance | " + " | ".join(f"@{c}: default | @{c}: {_short(names.get(TUNING_BEST_OPTUNA[c], '?'))}"
                                   for c in CHECKPOINTS) + " |",
        "|---|" + "---:|---:|" * len(CHECKPOINTS),
    ]
    tally: Counter[str] = Counter()
    for task in sorted({task_of(r) for r in results}):
        cells = []
        for j, c in enumerate(CHECKPOINTS):
            k = TUNING_BEST_OPTUNA[c]
            if k not in acc:
                cells.append("- | -")
                continue
            both = {s for s in acc[DEFAULT_KEY] if s[0] == task} & set(acc[k])  # the seeds both have
            a = {s: acc[DEFAULT_KEY][s] for s in both}
            b = {s: acc[k][s] for s in both}
            ma, mb = _mean_se([v[j] for v in a.values()])[0], _mean_se([v[j] for v in b.values()])[0]
            diff, se, _ = _paired(a, b, j)
            v = verdict(diff, se)
            tally[v] += 1
            mark = "**" if v == "beats" else ""
            cells.append(f"{mark}{ma:.1f}{mark} | {mb:.1f} ({diff:+.1f} ± {se:.1f}, {v})")
        lines.append(f"| {task.split('/')[-1]} | " + " | ".join(cells) + " |")
    lines.append(
        f"\nMean best validation accuracy (%) over seeds; in brackets the default minus the comparator, paired by "
        f"seed, ± standard error, in accuracy points. Cells: default beats {tally['beats']}, level {tally['level']}, "
        f"behind {tally['behind']}."
    )
    return "\n".join(lines)


def heldout_speedups(results: list[dict[str, Any]]) -> str:
    """Epochs to reach unpruned random search's final score within noise, as speed-ups over its full budget:
    the automatic pruner (with random search, and in the default study) next to unpruned random search's own."""
    keys = [(UNPRUNED_KEY, "unpruned Random + Nop (its own)"), (AUTO_PRUNER_KEY, "Random + automatic pruner"),
            (DEFAULT_KEY, "default study (Auto + automatic pruner)")]
    lines = [
        "| instance | target | " + " | ".join(t for _, t in keys)
        + " | Random + automatic pruner / unpruned | default study / unpruned |",
        "|---|---:|" + "---:|" * len(keys) + "---:|---:|",
    ]
    logs: dict[str, list[float]] = {t: [] for _, t in keys}
    ratios: dict[Key, list[float]] = {AUTO_PRUNER_KEY: [], DEFAULT_KEY: []}
    for task in sorted({task_of(r) for r in results}):
        by = groups([r for r in results if task_of(r) == task])
        if UNPRUNED_KEY not in by:
            continue
        epochs, budget = by[UNPRUNED_KEY][0]["epochs"], min(r["budget"] for r in by[UNPRUNED_KEY])
        target = _unpruned_target(by[UNPRUNED_KEY], budget, epochs, 0.001)
        cells, speed = [], {}
        for k, t in keys:
            at = mean_curve_epochs(by[k], target) if k in by and target is not None else None
            speed[k] = budget * epochs / at if at else math.nan
            if at:
                logs[t].append(math.log(speed[k]))
            cells.append(f"{speed[k]:.1f}x" if at else "not reached")
        for k, logs_k in ratios.items():
            ratio = speed[k] / speed[UNPRUNED_KEY]
            if not math.isnan(ratio):
                logs_k.append(math.log(ratio))
            cells.append("-" if math.isnan(ratio) else f"{ratio:.1f}x")
        lines.append(f"| {task.split('/')[-1]} | {target:.3f} | " + " | ".join(cells) + " |")
    geo = [f"{math.exp(statistics.mean(v)):.1f}x ({len(v)} reached)" if v else "-" for v in logs.values()]
    geo += [f"{math.exp(statistics.mean(v)):.1f}x" if v else "-" for v in ratios.values()]
    lines.append("| geometric mean | | " + " | ".join(geo) + " |")
    boot = _bootstrap_speedups(results, [k for k, _ in keys])
    if boot:
        lines.append("| bootstrap over seeds (sd of the geometric mean) | | "
                     + " | ".join(f"± {sd:.1f}" for sd in boot) + " |")
    lines.append(
        "\nSpeed-up = (30 full runs' epochs) / (epochs after which the mean over seeds of the anytime curve first "
        "reaches the target); target = unpruned random search's mean final score minus its spread across seeds "
        "(at least 0.1 accuracy point). Unpruned search's own column is how early its mean gets within noise of "
        "its final score: the automatic pruner's speed-up is worth only its ratio to that."
    )
    return "\n".join(lines)


def _bootstrap_speedups(results: list[dict[str, Any]], keys: list[Key], reps: int = 200, seed: int = 0
                        ) -> list[float]:
    """Standard deviation of each geometric-mean column of `heldout_speedups` (the speed-ups, then the two
    ratios to unpruned search) when each instance's seeds are resampled with replacement."""
    rng = np.random.default_rng(seed)
    by_task = {t: groups([r for r in results if task_of(r) == t]) for t in sorted({task_of(r) for r in results})}
    by_task = {t: by for t, by in by_task.items() if all(k in by for k in keys)}
    if not by_task:
        return []
    cols: list[list[float]] = [[] for _ in range(len(keys) + 2)]
    for _ in range(reps):
        logs: list[list[float]] = [[] for _ in cols]
        for by in by_task.values():
            pick = {k: [by[k][i] for i in rng.integers(0, len(by[k]), len(by[k]))] for k in keys}
            nop = pick[UNPRUNED_KEY]
            epochs, budget = nop[0]["epochs"], min(r["budget"] for r in nop)
            target = _unpruned_target(nop, budget, epochs, 0.001)
            if target is None:
                continue
            sp = []
            for k in keys:
                at = mean_curve_epochs(pick[k], target)
                sp.append(budget * epochs / at if at else math.nan)
            sp += [sp[keys.index(AUTO_PRUNER_KEY)] / sp[0], sp[keys.index(DEFAULT_KEY)] / sp[0]]
            for col, v in zip(logs, sp):
                if not math.isnan(v):
                    col.append(math.log(v))
        for col, lg in zip(cols, logs):
            if lg:
                col.append(math.exp(statistics.mean(lg)))
    return [statistics.stdev(c) if len(c) > 1 else math.nan for c in cols]
