"""Agents as tasks on a Dask or Ray cluster: `executor:` in a native sweep file.

`hyperdial sweep FILE` submits `parallel` agent tasks to the cluster (`hd.executors.Dask` /
`hd.executors.Ray`, the executors `study.optimize` uses). Each task opens the study by its
storage URL, reads the sweep file stored with it (as `hyperdial agent` does) and runs an agent
on its worker, which starts the programs there, so the storage must be reachable from the
workers (SQLite on one machine, PostgreSQL across machines) and so must the program
(programs run in the `hyperdial sweep` command's working directory when the worker has it,
else in the worker's own). `--count N` is split among the agents.

Stopping: Ctrl-C or SIGTERM in `hyperdial sweep` sets the study attribute `sweep_stop`; each
remote agent watches it (every second) and stops as a local agent does: its running program
gets SIGTERM, then SIGKILL after the grace period, and its trial is recorded. A local cluster
(no address) is started with SIGINT ignored, which its processes inherit: a Ctrl-C typed in the
terminal reaches the whole process group, and workers that died of it would take their agents
(and the trials they run) with them; they stop through `sweep_stop` instead.

GPUs (`gpus_per_trial: k`): every program an agent starts sees that agent's group of k devices
in CUDA_VISIBLE_DEVICES (the trial records it as user attribute `gpus`). On a local Dask
cluster the groups are handed out here, from the devices this process sees; on a Dask cluster
with an address, agent tasks ask for the Dask resource `GPU=k` (start workers with
`--resources GPU=n` and, for several workers on one machine, their own CUDA_VISIBLE_DEVICES) and
take a group from what their worker process sees; on Ray each task asks for `num_gpus=k` and
Ray sets its CUDA_VISIBLE_DEVICES.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

import hyperdial as hd
from hyperdial.exceptions import invalid
from hyperdial.executors.gpus import GpuSlots
from hyperdial.executors.remote import storage_url_of
from hyperdial.sweeps.spec import SweepSpec

STOP_ATTR = "sweep_stop"  # study user attr: True asks every remote agent of the sweep to stop
WATCH_EVERY = 1.0  # seconds between a remote agent's looks at STOP_ATTR

_slots: dict[int, GpuSlots] = {}
_slots_lock = threading.Lock()


def absolute_storage(url: str) -> str:
    """A SQLite URL with a relative path made absolute, so workers started elsewhere find the same file.

    >>> absolute_storage("sqlite:////tmp/a.db"), absolute_storage("postgresql+psycopg://h/db")
    ('sqlite:////tmp/a.db', 'postgresql+psycopg://h/db')
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url[len(prefix):].startswith(":memory:"):
        return url
    path, sep, query = url[len(prefix):].partition("?")
    return prefix + os.path.abspath(path) + sep + query


@contextlib.contextmanager
def _sigint_ignored(local: bool) -> Iterator[None]:
    """SIGINT ignored while a local cluster starts, so that its processes inherit SIG_IGN (kept across
    exec; Python then installs no KeyboardInterrupt handler). A Ctrl-C typed meanwhile is lost."""
    if not local or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def split_count(count: int | None, agents: int) -> list[int | None]:
    """`--count N` shared among `agents` (the first ones take the remainder).

    >>> split_count(5, 2), split_count(None, 2)
    ([3, 2], [None, None])
    """
    if count is None:
        return [None] * agents
    return [count // agents + (1 if i < count % agents else 0) for i in range(agents)]


def _process_slots(per_trial: int) -> GpuSlots:
    """One set of GPU groups per worker process, shared by the agent tasks it runs at once."""
    with _slots_lock:
        if per_trial not in _slots:
            _slots[per_trial] = GpuSlots(per_trial)
        return _slots[per_trial]


def agent_task(storage: str, study_name: str, *, count: int | None, log_dir: str, grace: float, elapsed: float,
               devices: str | None, gpus_per_trial: int, cwd: str | None) -> str:
    """One agent, run on a cluster worker: the study and its sweep file come from the storage."""
    from hyperdial.sweeps.agent import Agent, Budget
    from hyperdial.sweeps.launch import join_sweep_study

    study, spec = join_sweep_study(study_name, storage)
    slots = None
    if devices is None and gpus_per_trial:
        slots = _process_slots(gpus_per_trial)
        devices = slots.acquire()
        if devices is None:
            raise invalid("gpus_per_trial", f"has no free group of devices on this worker (it sees "
                          f"{','.join(slots.devices)}, shared by its agents)", gpus_per_trial)
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(WATCH_EVERY):
            if study.user_attrs.get(STOP_ATTR):
                stop.set()

    watcher = threading.Thread(target=watch, name="hyperdial-sweep-stop", daemon=True)
    watcher.start()
    try:
        return Agent(study, spec, budget=Budget(count=count), stop=stop, log_dir=log_dir, grace=grace,
                     started_at=time.monotonic() - elapsed, devices=devices,
                     cwd=cwd if cwd is not None and os.path.isdir(cwd) else None).run()
    finally:
        stop.set()
        if slots is not None and devices is not None:
            slots.release(devices)


def run_cluster_agents(study: hd.Study, spec: SweepSpec, *, parallel: int, count: int | None, log_dir: str,
                       grace: float, started: float, progress: Callable[[bool], None] | None,
                       progress_every: float) -> str:
    """Run the sweep's agents as tasks on its cluster until they stop; returns why (as `run_agents`)."""
    storage = absolute_storage(storage_url_of(study))
    kind, address, k = spec.executor, spec.executor_address, spec.gpus_per_trial
    executor: Any = hd.executors.Dask(address) if kind == "dask" else hd.executors.Ray(address)
    groups: list[str | None] = [None] * parallel
    assign_here = bool(k) and kind == "dask" and address is None  # a local Dask cluster: groups from here
    if assign_here:
        slots = GpuSlots(k)
        parallel = min(parallel, slots.capacity)
        groups = [slots.acquire() for _ in range(parallel)]
    study.set_user_attr(STOP_ATTR, False)
    with _sigint_ignored(address is None):
        pool = executor.start(parallel, 0 if assign_here else k)
    interrupted = threading.Event()

    def on_sigterm(signum: int, frame: Any) -> None:
        interrupted.set()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        if k and not assign_here and executor.capacity(k) < 1:
            raise invalid("gpus_per_trial", f"needs workers with GPUs: the {kind} cluster has no free group of "
                          f"{k} (Dask: start workers with --resources GPU=n)", k)
        counts = split_count(count, parallel)
        futures: list[Future[str]] = [
            pool.submit(agent_task, storage, study.study_name, count=c, log_dir=os.path.abspath(log_dir),
                        grace=grace, elapsed=time.monotonic() - started, devices=g, gpus_per_trial=k,
                        cwd=os.getcwd())
            for c, g in zip(counts, groups) if c is None or c > 0
        ]
        pending = set(futures)
        while pending:
            try:
                _, pending = wait(pending, timeout=progress_every, return_when=FIRST_COMPLETED)
                if progress is not None:
                    progress(False)
                failed = [f for f in futures if f.done() and f.exception() is not None]
                if failed or interrupted.is_set():
                    study.set_user_attr(STOP_ATTR, True)
            except KeyboardInterrupt:
                interrupted.set()
                study.set_user_attr(STOP_ATTR, True)
        if progress is not None:
            progress(True)
        for f in futures:
            error = f.exception()
            if error is not None:
                raise error
        if interrupted.is_set():
            return "interrupted"
        reasons = [f.result() for f in futures]
        return reasons[0] if reasons else "stopped"
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        executor.close()
