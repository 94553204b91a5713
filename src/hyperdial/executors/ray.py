"""Run trials on a Ray cluster: `study.optimize(f, n_jobs=8, executor=hd.executors.Ray())`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from hyperdial._imports import optional_import


class _RayExecutor(Executor):
    """concurrent.futures view of Ray tasks (Ray has no Executor of its own)."""

    def __init__(self, ray: Any, gpus_per_trial: int) -> None:
        self._ray = ray
        self._remote: dict[Callable[..., Any], Any] = {}
        self._gpus = gpus_per_trial
        self._refs: list[Any] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        remote = self._remote.get(fn)
        if remote is None:
            # max_retries=0: a trial must not silently run twice; hyperdial's own retries
            # (heartbeats + max_retries) decide what reruns.
            remote = self._ray.remote(max_retries=0, num_gpus=self._gpus)(fn)
            self._remote[fn] = remote
        ref = remote.remote(*args, **kwargs)
        self._refs.append(ref)
        future: Future[Any] = ref.future()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for ref in self._refs:  # cancelling the concurrent future does not stop a Ray task
                with contextlib.suppress(Exception):  # already finished
                    self._ray.cancel(ref, force=True)
        self._refs.clear()


class Ray:
    """A Ray cluster as the place where trials run.

    `address`: None starts (or joins) a local Ray instance; ``"auto"`` or
    ``"ray://host:10001"`` joins a cluster. With `gpus_per_trial`, Ray places each
    trial on a node with free GPUs and sets its CUDA_VISIBLE_DEVICES. Without
    `n_jobs`, as many trials run at once as the cluster has CPUs (GPUs // k with
    `gpus_per_trial=k`) when the call starts.

    >>> import hyperdial as hd
    >>> hd.executors.Ray(address="auto").address
    'auto'
    """

    def __init__(self, address: str | None = None, **init_kwargs: Any) -> None:
        self.address = address
        self.init_kwargs = init_kwargs
        self._started = False

    def start(self, n_jobs: int | None, gpus_per_trial: int) -> Executor:
        ray = optional_import("ray", extra="ray", purpose="the Ray executor")
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False, **self.init_kwargs}
            if self.address is None and n_jobs is not None:  # else Ray takes every CPU
                kwargs.setdefault("num_cpus", max(n_jobs, 1))
            ray.init(address=self.address, **kwargs)
            self._started = True
        return _RayExecutor(ray, gpus_per_trial)

    def capacity(self, gpus_per_trial: int) -> int:
        """Trials the cluster can run at once now: its CPUs (a task takes one), or with
        `gpus_per_trial=k` its GPUs // k (fewer if it has fewer CPUs)."""
        import ray

        resources = ray.cluster_resources()
        cpus = int(resources.get("CPU", 1))
        if gpus_per_trial:  # each task also takes one CPU
            return min(cpus, int(resources.get("GPU", 0) // gpus_per_trial))
        return cpus

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False
