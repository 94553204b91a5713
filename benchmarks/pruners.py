"""Pruner quality: hyperdial's pruners and default study side by side with Optuna 5's sampler x pruner combinations.

Tasks (benchmarks/pruners_tasks.py):
  digits      scikit-learn's `MLPClassifier` on the digits data (fixed stratified 2/3 - 1/3 split),
              one `partial_fit` per epoch, up to 30 epochs; validation accuracy reported at step e.
  lcbench     YAHPO Gym's lcbench surrogate (Zimmer et al. 2021: MLPs on OpenML tasks, 52 epochs,
              validation accuracy), one surrogate request per epoch through benchmarks/yahpo_server.py
              (needs `bash benchmarks/setup_yahpo.sh` and the surrogate data; see bench_problems.py).
  lcbench-mo  the same surrogate, two objectives: maximise validation accuracy, minimise `time` (the
              surrogate's training seconds so far); [accuracy, time] is reported every epoch.

Pruners, the same settings on both sides (r = 1 epoch, R = 30 or 52, eta = 3):
  nop        hd.pruners.Nop()                                     optuna NopPruner()
  median     hd.pruners.Median()                                  optuna MedianPruner()
  asha       hd.pruners.ASHA(min_resource=1, max_resource=R)      optuna SuccessiveHalvingPruner(min_resource=1,
                                                                      reduction_factor=3)
  hyperband  hd.pruners.Hyperband(min_resource=1, max_resource=R)  optuna HyperbandPruner(1, R, 3)
  hyperband_bracket  the same Hyperband, hyperdial's TPE wrapped in samplers.PerBracket (each bracket
             modelled apart, as Optuna's TPESampler does with its HyperbandPruner); hyperdial TPE only
  default    create_study() picks it (hyperdial: Median for one objective, ASHA() for several)
Samplers: hyperdial `random`, `tpe`, and `default` = `hd.create_study(direction=..., seed=seed)` with NO
sampler and NO pruner (Auto + the automatic pruner: what a user gets; whatever Auto does on the day of the
run); Optuna `random`, `tpe`, `cmaes`, `gp` (RandomSampler, TPESampler, CmaEsSampler, GPSampler, seeded)
and, for two objectives, `default` (optuna.create_study(directions=...) without a sampler).

Each (task, library, sampler, pruner, seed) run is a fresh in-memory study driven by ask/tell until it
has consumed `--budget` full-run equivalents (30 x R epochs by default; the last trial is finished).
After each trial it records the epochs consumed and the best validation accuracy of a fully trained
(COMPLETE) trial so far: the anytime curve; with two objectives, the COMPLETE trials' (accuracy, time)
and when they finished, for the hypervolume at any budget. Optuna cannot report intermediate values in
multi-objective studies (optuna#3450), so its two-objective runs are unpruned only.

Reproduce (the numbers in docs/benchmarks.md, "Pruners"; --jobs 1 on a shared machine):

    python benchmarks/pruners.py                          # digits: Random/TPE x 4 pruners, both libraries
    python benchmarks/pruners.py --task lcbench --jobs 1  # 5 instances, all combinations, 5 seeds
    python benchmarks/pruners.py --task lcbench-mo --jobs 1
    python benchmarks/pruners.py --task lcbench --merge --libraries hyperdial --samplers default
    python benchmarks/pruners.py --task lcbench-mo --merge --libraries hyperdial --samplers default
    python benchmarks/pruners.py --task lcbench --report-only
    python benchmarks/pruners.py --quick                  # smoke test: 2 seeds, budget 10, random sampler

The lcbench commands above run the TUNING split (the 5 instances the defaults were chosen on: in-sample).
The held-out REPORTING split (pruners_tasks.py states the rule; `--check-split` recomputes it) has a results
file of its own, benchmarks/results/pruners-lcbench-reporting.json; the headline of docs/benchmarks.md:

    R="--task lcbench --instances reporting --jobs 2 --merge --no-plot --seeds 10"
    for F in 0 10; do       # seeds 0-9, then 10-19
      python benchmarks/pruners.py $R --first-seed $F --libraries hyperdial --samplers default,random --pruners nop,default
      python benchmarks/pruners.py $R --first-seed $F --libraries optuna --samplers random --pruners asha
      python benchmarks/pruners.py $R --first-seed $F --libraries optuna --samplers tpe --pruners median,nop
      python benchmarks/pruners.py $R --first-seed $F --libraries optuna --samplers gp --pruners nop   # needs torch
    done
    python benchmarks/pruners.py --task lcbench --instances reporting --report-only --no-plot

`--merge` keeps the runs already saved and replaces only those run again (so the two `default`
commands above redo just hyperdial's default rows). Results: benchmarks/results/pruners[-TASK].json
(git-ignored); plots docs/img/pruners_TASK*.png; markdown tables on stdout.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported: one thread per run

import argparse
import json
import platform
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pruners_report as rep
from pruners_tasks import (
    EPOCHS,
    LIB_SAMPLERS,
    LIBRARIES,
    PRUNERS,
    REPORTING,
    SAMPLERS,
    TUNING,
    lcbench_reference,
    make_study,
    reporting_instances,
    resolve_instances,
    train_digits,
    train_lcbench,
)

TASKS = ("digits", "lcbench", "lcbench-mo")
OUT = {
    "digits": HERE / "results" / "pruners.json",
    "lcbench": HERE / "results" / "pruners-lcbench.json",
    "lcbench-mo": HERE / "results" / "pruners-lcbench-mo.json",
}
IMG = HERE.parent / "docs" / "img"
# 189906 / 126025: early epochs predict the final accuracy well / poorly; the other three are explained
# in docs/benchmarks.md (non-degenerate curves, spread of early-final rank agreement). They are the TUNING
# split (pruners_tasks.py): every default was chosen on them, so their numbers are in-sample; the
# held-out REPORTING split is `--instances reporting`.
LCBENCH_INSTANCES = ",".join(TUNING)
MO_INSTANCES = "168908,167201,189905"  # the clearest accuracy-vs-time trade-offs among random configs (docs)
# Optuna's GPSampler with MedianPruner / HyperbandPruner: measured 127 s and 75 s per run on lcbench/126025
# (619 and 226 trials, ~0.2-0.3 s per trial), ~50 min per pruner over 5 instances x 5 seeds on the one
# free core: left out unless --gp-all. With SuccessiveHalving it finishes fewer than the 10 COMPLETE trials
# GPSampler needs before it leaves random sampling, so that row is cheap (and random search in effect).
GP_PRUNERS = ("nop", "asha")
DEFAULTS: dict[str, dict[str, str]] = {
    "digits": {"libraries": "hyperdial,optuna", "samplers": "random,tpe", "pruners": "nop,median,asha,hyperband"},
    "lcbench": {
        "libraries": "hyperdial,optuna", "samplers": "default,random,tpe,cmaes,gp",
        "pruners": "nop,median,asha,hyperband",
    },
    "lcbench-mo": {"libraries": "hyperdial,optuna", "samplers": "default,random", "pruners": "nop,asha,default"},
}


def specs_for(task: str, instances: list[str], libraries: list[str], samplers: list[str], pruners: list[str],
              seeds: int, epochs: int, budget: float, gp_all: bool = False, first_seed: int = 0
              ) -> list[dict[str, Any]]:
    """Every (task, library, sampler, pruner, seed) the options ask for that makes sense."""
    tasks = ["digits"] if task == "digits" else [f"{task}/{i}" for i in instances]
    mo = task == "lcbench-mo"
    out = []
    for t in tasks:
        for smp in samplers:
            for lib in libraries:
                if smp not in LIB_SAMPLERS[lib]:
                    continue
                for prn in pruners:
                    if not _makes_sense(lib, smp, prn, mo) or (smp == "gp" and prn not in GP_PRUNERS and not gp_all):
                        continue
                    for seed in range(first_seed, first_seed + seeds):
                        out.append({"task": t, "library": lib, "sampler": smp, "pruner": prn, "seed": seed,
                                    "epochs": epochs, "budget": budget, "objectives": 2 if mo else 1})
    return out


def _makes_sense(library: str, sampler: str, pruner: str, mo: bool) -> bool:
    if pruner == "hyperband_bracket":
        # hyperdial's TPE modelling each Hyperband bracket apart (samplers.PerBracket); Optuna's TPE
        # always does with its HyperbandPruner, so its "hyperband" row is already that
        return library == "hyperdial" and sampler == "tpe"
    if library == "hyperdial" and sampler == "default" and not mo:
        return pruner == "default"  # the default study: no sampler, no pruner; one row
    if pruner == "default":
        # hyperdial's automatic pruner with its default sampler, and with Random (the pruner alone)
        return library == "hyperdial" and (sampler == "default" or (sampler == "random" and not mo))
    if library == "optuna" and mo:
        return pruner == "nop"  # Optuna cannot report in multi-objective studies (optuna#3450)
    # single objective: Optuna's default is TPE + Median, already a row
    return not (library == "optuna" and sampler == "default")


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """One run up to the epoch budget; returns its trace."""
    library, seed, epochs = spec["library"], spec["seed"], spec["epochs"]
    budget, objectives = spec["budget"] * epochs, spec["objectives"]
    study, label, plabel, pruned_exc = make_study(library, spec["sampler"], spec["pruner"], seed, epochs, objectives)
    task, _, instance = spec["task"].partition("/")
    if library == "hyperdial":
        import hyperdial as hd

        pruned_state, complete_state = hd.TrialState.PRUNED, hd.TrialState.COMPLETE
    else:
        import optuna

        pruned_state, complete_state = optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE
    spent = [0]
    trace: list[tuple[int, float | None]] = []  # (epochs consumed, best fully trained score so far)
    points: list[tuple[int, float, float]] = []  # two objectives: (epochs consumed, accuracy, time) per COMPLETE
    best: float | None = None
    n_complete = 0
    start = time.perf_counter()
    while spent[0] < budget:
        trial = study.ask()
        try:
            if task == "digits":
                value: Any = train_digits(trial, seed, epochs, pruned_exc, spent)
            else:
                value = train_lcbench(trial, instance, epochs, pruned_exc, spent, objectives=objectives,
                                      can_report=library == "hyperdial" or objectives == 1)
        except pruned_exc:
            study.tell(trial, state=pruned_state)
        else:
            study.tell(trial, value, state=complete_state)
            n_complete += 1
            if objectives == 1:
                best = value if best is None else max(best, value)
            else:
                points.append((spent[0], value[0], value[1]))
        trace.append((spent[0], best))
    out = {
        **spec, "sampler_label": label, "pruner_label": plabel, "n_trials": len(trace), "n_complete": n_complete,
        "epochs_consumed": spent[0], "best": best, "trace": trace, "seconds": time.perf_counter() - start,
    }
    if objectives > 1:
        out["points"] = points
    log = getattr(study.sampler, "choice_log", None)
    if log:  # hyperdial's Auto: which algorithm ran from which trial on
        out["auto_choices"] = [[n, name] for n, name, _ in log]
        out["auto_trials"] = dict(Counter(_auto_algorithm(log, t) for t in range(len(trace))))
    return out


def _auto_algorithm(log: list[tuple[int, str, str]], number: int) -> str:
    name = log[0][1]
    for n, algo, _ in log:
        if n <= number:
            name = algo
    return name


def _print(r: dict[str, Any]) -> None:
    extra = f" auto {r['auto_trials']}" if "auto_trials" in r else ""
    print(
        f"{r['task']:18} {r['library']:9} {r['sampler_label']:14} {r['pruner_label']:18} seed {r['seed']}: "
        f"{r['n_trials']:4} trials, {r['n_complete']:3} complete, {r['epochs_consumed']:5} epochs, "
        f"best {r['best']}, {r['seconds']:.1f} s{extra}",
        file=sys.stderr, flush=True,
    )


def references(task: str, results: list[dict[str, Any]], saved: dict[str, Any]) -> dict[str, Any]:
    """Per lcbench instance: the fixed references from 200 random full runs (computed once, then saved)."""
    refs = dict(saved)
    if task == "digits":
        return refs
    for inst in sorted({r["task"].split("/")[-1] for r in results}):
        if inst not in refs:
            refs[inst] = lcbench_reference(inst, EPOCHS[task])
    return refs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--task", choices=TASKS, default="digits")
    p.add_argument("--instances", help=(
        f"lcbench: 'tuning' ({LCBENCH_INSTANCES}: the default), 'reporting' ({','.join(REPORTING)}: held out), "
        f"or OpenML task ids ID,ID (mo default {MO_INSTANCES})"))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed+seeds-1 (default 0)")
    p.add_argument("--check-split", action="store_true",
                   help="recompute the REPORTING split from YAHPO's statistics file and compare; no runs")
    p.add_argument("--budget", type=float, default=30, help="full-run equivalents per run (default 30)")
    p.add_argument("--epochs", type=int, help="epochs of a full run (default: digits 30, lcbench 52)")
    p.add_argument("--libraries", help="comma-separated (default hyperdial,optuna)")
    p.add_argument("--samplers", help=f"comma-separated, of {','.join(SAMPLERS)} (default per task)")
    p.add_argument("--pruners", help=f"comma-separated, of {','.join(PRUNERS)} (default per task)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--quick", action="store_true", help="2 seeds, budget 10, random sampler only")
    p.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/pruners[-TASK].json)")
    p.add_argument("--report-only", action="store_true", help="tables and plots from --out, no runs")
    p.add_argument("--merge", action="store_true", help="keep the runs already in --out, replacing those run again")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--gp-all", action="store_true", help="Optuna's GPSampler with every pruner (slow: see GP_PRUNERS)")
    args = p.parse_args(argv)
    if args.check_split:
        got = reporting_instances()
        print(f"TUNING    {','.join(TUNING)}\nREPORTING {','.join(got)}")
        if got != REPORTING:
            print(f"pruners_tasks.REPORTING {','.join(REPORTING)} does not follow its rule", file=sys.stderr)
            return 1
        return 0
    d = DEFAULTS[args.task]
    libraries = (args.libraries or d["libraries"]).split(",")
    samplers = (args.samplers or ("random" if args.quick else d["samplers"])).split(",")
    pruners = (args.pruners or d["pruners"]).split(",")
    if args.quick:
        args.seeds, args.budget = 2, 10
    for name, got, known in (("library", libraries, LIBRARIES), ("sampler", samplers, SAMPLERS),
                             ("pruner", pruners, PRUNERS)):
        if bad := [x for x in got if x not in known]:
            p.error(f"unknown {name} {bad}; known: {', '.join(known)}")
    if "default" in samplers and args.task != "lcbench-mo" and "default" not in pruners:
        pruners = [*pruners, "default"]
    # the held-out split gets a results file of its own, so it is never pooled with the tuning runs
    out = args.out or (OUT[args.task].with_name("pruners-lcbench-reporting.json")
                       if args.task == "lcbench" and args.instances == "reporting" else OUT[args.task])
    epochs = args.epochs or EPOCHS[args.task]
    instances = resolve_instances(args.instances, MO_INSTANCES if args.task == "lcbench-mo" else LCBENCH_INSTANCES)
    saved = json.loads(out.read_text()) if out.exists() and (args.report_only or args.merge) else {}

    if args.report_only:
        results = saved["runs"]
    else:
        specs = specs_for(args.task, instances, libraries, samplers, pruners, args.seeds, epochs, args.budget,
                          args.gp_all, args.first_seed)
        if not specs:
            p.error("no run matches these options")
        start = time.perf_counter()
        key = ("task", "library", "sampler", "pruner", "seed")
        again = {tuple(s[k] for k in key) for s in specs}
        results = [r for r in saved.get("runs", []) if tuple(r[k] for k in key) not in again]
        print(f"{len(specs)} runs ({len(results)} kept from {out.name})", file=sys.stderr, flush=True)

        def save(wall: float) -> None:
            out.parent.mkdir(parents=True, exist_ok=True)
            cmd = " ".join(["python", "benchmarks/pruners.py", *(sys.argv[1:] if argv is None else argv)])
            out.write_text(json.dumps({
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                "python": platform.python_version(),
                "commands": [*saved.get("commands", []), {"command": cmd, "runs": len(specs), "wall_seconds": wall}],
                "refs": saved.get("refs", {}),
                "runs": results,
            }))

        if args.jobs == 1:
            done = map(run, specs)
        else:
            pool = ProcessPoolExecutor(max_workers=args.jobs)
            done = pool.map(run, specs)
        for i, r in enumerate(done):
            results.append(r)
            _print(r)
            if i % 20 == 19:
                save(time.perf_counter() - start)  # a long run interrupted keeps what it finished
        save(time.perf_counter() - start)
        print(f"wall time {time.perf_counter() - start:.0f} s", file=sys.stderr)

    if args.task != "digits":
        refs = references(args.task, results, saved.get("refs", {}))
        if refs != saved.get("refs") and not args.report_only:
            data = json.loads(out.read_text())
            data["refs"] = refs
            out.write_text(json.dumps(data))
    if args.task == "lcbench-mo":
        print(rep.mo_table(results, refs))
        if not args.no_plot:
            rep.plot_mo(results, refs, IMG / "pruners_lcbench_mo.png")
        return 0
    print(rep.report(results))
    if args.task == "lcbench":
        print("\n### all combinations, across instances\n")
        print(rep.summary(results, refs))
        print("\n### hyperdial default vs the best Optuna combination\n")
        print(rep.default_vs_optuna(results, refs))
        print("\n### means ± standard errors, paired verdicts (the held-out split's headline tables)\n")
        print(rep.heldout(results, refs))
        print("\n### per instance: hyperdial default vs the tuning split's best Optuna combination\n")
        print(rep.heldout_cells(results, refs))
        print("\n### epochs to unpruned random search's final score: automatic pruner vs unpruned search\n")
        print(rep.heldout_speedups(results))
    if not args.no_plot and out.name == "pruners-lcbench-reporting.json":  # the held-out split: its own image
        rep.plot_default(results, IMG / "pruners_lcbench_reporting_default.png")
    elif not args.no_plot:
        rep.plot(results, IMG / f"pruners_{args.task}.png")
        if args.task == "lcbench":
            rep.plot_default(results, IMG / "pruners_lcbench_default.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
