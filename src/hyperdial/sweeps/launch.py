"""Starting a sweep: the study made (or resumed) from a file, agents run in threads, Ctrl-C handled.

`hyperdial sweep FILE` calls `open_sweep_study` then `run_agents`; `hyperdial agent STUDY`
calls `join_sweep_study` (the file is stored with the study) then `run_agents`.
"""

from __future__ import annotations

import signal
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import hyperdial as hd
from hyperdial.executors.gpus import GpuSlots
from hyperdial.sweeps import read_sweep
from hyperdial.sweeps.agent import DEFAULT_LOG_DIR, SWEEP_ATTR, Agent, Budget
from hyperdial.sweeps.errors import SweepFileError
from hyperdial.sweeps.spec import SweepSpec


def read_stored(study: hd.Study) -> SweepSpec | None:
    """The sweep file stored with a study (None if it has none), read without repeating its warnings."""
    stored = study.user_attrs.get(SWEEP_ATTR)
    if not isinstance(stored, dict) or "file" not in stored:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shown when the file was first run
        return read_sweep(stored["file"], source=str(stored.get("source", "the stored sweep file")))


def open_sweep_study(spec: SweepSpec, storage: str) -> hd.Study:
    """Create the study the file names, or resume it; the file is stored with it (user attr `sweep`)."""
    study = hd.create_study(study_name=spec.study, storage=storage, directions=spec.directions,
                            sampler=spec.make_sampler(), pruner=spec.make_pruner(), load_if_exists=True)
    old = read_stored(study)
    if old is not None and (old.directions != spec.directions or old.space() != spec.space()):
        raise SweepFileError(f"{spec.source}: study {spec.study!r} exists with another space or metrics; "
                             "give the sweep another name, or delete the study")
    study.set_user_attr(SWEEP_ATTR, {"file": spec.text, "source": spec.source, "format": spec.format})
    for key, value in spec.attrs.items():
        study.set_user_attr(key, value)
    if spec.defaults and not study.trials:
        study.enqueue_trial(spec.defaults)
    return study


def join_sweep_study(study_name: str, storage: str) -> tuple[hd.Study, SweepSpec]:
    """Open a sweep's study from its storage alone: the sweep file comes from the study."""
    spec = read_stored(hd.load_study(study_name=study_name, storage=storage))
    if spec is None:
        raise SweepFileError(f"study {study_name!r} was not made by `hyperdial sweep`: it stores no sweep file")
    study = hd.load_study(study_name=study_name, storage=storage, sampler=spec.make_sampler(),
                          pruner=spec.make_pruner())
    return study, spec


def counts(study: hd.Study) -> dict[str, int]:
    out = {s.name: 0 for s in hd.TrialState}
    for t in study.trials:
        out[t.state.name] += 1
    return out


def run_agents(
    study: hd.Study,
    spec: SweepSpec,
    *,
    parallel: int | None = None,
    count: int | None = None,
    log_dir: str = DEFAULT_LOG_DIR,
    grace: float = 10.0,
    progress: Callable[[bool], None] | None = None,
    progress_every: float = 1.0,
) -> str:
    """Run `parallel` agents (threads, one child each; tasks on a cluster with the file's `executor`,
    `hyperdial.sweeps.cluster`) until the budget ends; returns why they stopped. With
    `gpus_per_trial: k` each agent keeps its own group of k devices (CUDA_VISIBLE_DEVICES of its
    programs); there are then at most (devices seen) // k agents.

    Ctrl-C (or SIGTERM) stops them: running children get SIGTERM, then SIGKILL after `grace`
    seconds, and their trials are recorded as FAIL, so nothing is left RUNNING. `progress(final)`
    is called every `progress_every` seconds from this thread.
    """
    started = time.monotonic()
    parallel = parallel or spec.parallel
    if spec.executor is not None:
        from hyperdial.sweeps.cluster import run_cluster_agents

        return run_cluster_agents(study, spec, parallel=parallel, count=count, log_dir=log_dir, grace=grace,
                                  started=started, progress=progress, progress_every=progress_every)
    groups: list[str | None] = [None] * parallel
    if spec.gpus_per_trial:  # each agent keeps one group of devices for all its programs
        slots = GpuSlots(spec.gpus_per_trial)
        parallel = min(parallel, slots.capacity)
        groups = [slots.acquire() for _ in range(parallel)]
    stop = threading.Event()
    budget = Budget(count=count)
    reasons: list[str] = []
    errors: list[BaseException] = []

    def work(devices: str | None) -> None:
        try:
            reasons.append(Agent(study, spec, budget=budget, stop=stop, log_dir=log_dir, grace=grace,
                                 started_at=started, devices=devices).run())
        except BaseException as exc:  # noqa: BLE001 - recorded by the agent; stop the others, raise below
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, args=(groups[i],), name=f"hyperdial-agent-{i}", daemon=True)
               for i in range(parallel)]
    interrupted = threading.Event()

    def on_sigterm(signum: int, frame: Any) -> None:
        interrupted.set()
        stop.set()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            try:
                for t in threads:
                    t.join(timeout=progress_every / len(threads))
                if progress is not None:
                    progress(False)
            except KeyboardInterrupt:
                interrupted.set()
                stop.set()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if progress is not None:
        progress(True)
    if errors:
        raise errors[0]
    if interrupted.is_set():
        return "interrupted"
    return reasons[0] if reasons else "stopped"


def summary(study: hd.Study, spec: SweepSpec, *, reason: str, storage: str, log_dir: str) -> str:
    """The closing lines of `hyperdial sweep`: best, counts by state, logs, what to run next."""
    c = counts(study)
    lines = [f"sweep {study.study_name!r} stopped: {reason}",
             "trials: " + ", ".join(f"{n} {k.lower()}" for k, n in c.items() if n)]
    complete = [t for t in study.trials if t.state == hd.TrialState.COMPLETE]
    def params_of(t: hd.FrozenTrial) -> str:  # as the program got them (list values, not their positions)
        shown = {p.name: p.program_value(t.params[p.name]) for p in spec.parameters if p.name in t.params}
        return ", ".join(f"{k}={v!r}" for k, v in sorted(shown.items()))

    if complete and len(spec.metrics) == 1:
        best = study.best_trial
        lines.append(f"best {spec.metrics[0].name}: {best.value:.6g} (trial {best.number})")
        lines.append("best parameters: " + params_of(best))
    elif complete:
        front = sorted(study.best_trials, key=lambda t: t.number)
        lines.append(f"Pareto front: {len(front)} trial(s)" + (", the first 10:" if len(front) > 10 else ":"))
        for t in front[:10]:
            values = ", ".join(f"{m.name}={v:.6g}" for m, v in zip(spec.metrics, t.values or ()))
            lines.append(f"  trial {t.number}: {values}; {params_of(t)}")
    else:
        lines.append("no trial completed")
    where = f" --storage {storage}" if storage else ""
    lines.append(f"logs: {log_dir}/ (hyperdial logs {study.study_name} TRIAL{where})")
    lines.append(f"next: hyperdial trials {study.study_name}{where}   |   hyperdial best {study.study_name}{where}")
    lines.append(f"more agents: hyperdial agent {study.study_name}{where}")
    return "\n".join(lines)


def progress_line(study: hd.Study, started: float) -> str:
    c = counts(study)
    done = c["COMPLETE"] + c["PRUNED"] + c["FAIL"]
    best: Any = "-"
    if len(study.directions) == 1 and any(t.state == hd.TrialState.COMPLETE for t in study.trials):
        best = f"{study.best_value:.6g}"
    elapsed = int(time.monotonic() - started)
    return (f"{done} done ({c['COMPLETE']} complete, {c['PRUNED']} pruned, {c['FAIL']} failed), "
            f"{c['RUNNING']} running | best {best} | {elapsed // 60:02d}:{elapsed % 60:02d}")
