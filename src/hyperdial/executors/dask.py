"""Run trials on a Dask cluster: `study.optimize(f, n_jobs=8, executor=hd.executors.Dask(address))`."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from hyperdial._imports import optional_import


class Dask:
    """A Dask cluster as the place where trials run.

    `address_or_client`: a scheduler address (``"tcp://10.0.0.5:8786"``), a
    `distributed.Client`, or None for a `LocalCluster` with one single-threaded
    worker process per job (per CPU without `n_jobs`), started for the `optimize`
    call and closed after it. Without `n_jobs`, as many trials run at once as the
    cluster has worker threads when the call starts (`capacity`).
    Trials run on the workers against the study's storage (SQLite on one machine,
    PostgreSQL across machines); the sampler runs in the driver. With
    `gpus_per_trial`, tasks ask for the Dask resource ``GPU`` (start workers with
    ``--resources GPU=<n>``).

    >>> import hyperdial as hd
    >>> hd.executors.Dask("tcp://127.0.0.1:8786").address
    'tcp://127.0.0.1:8786'
    """

    def __init__(self, address_or_client: Any = None) -> None:
        self.address = address_or_client if isinstance(address_or_client, str) else None
        self._given = address_or_client
        self._client: Any = None
        self._cluster: Any = None

    def start(self, n_jobs: int | None, gpus_per_trial: int) -> Executor:
        distributed = optional_import("distributed", extra="dask", purpose="the Dask executor")
        if self._given is None:
            self._cluster = distributed.LocalCluster(  # n_workers=None: one per CPU
                n_workers=n_jobs, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client = distributed.Client(self._cluster)
        elif isinstance(self._given, str):
            self._client = distributed.Client(self._given)
        else:
            self._client = self._given
        resources = {"GPU": gpus_per_trial} if gpus_per_trial else None
        # pure=False: without it Dask runs two calls with equal arguments once and shares the result,
        # so two trials with the same parameters would silently merge (docs/design-notes.md).
        executor: Executor = self._client.get_executor(pure=False, resources=resources)
        return executor

    def capacity(self, gpus_per_trial: int) -> int:
        """Trials the cluster can run at once now: its worker threads, or with `gpus_per_trial=k`
        the sum over workers of their ``GPU`` resource // k (0 when no worker has joined yet)."""
        try:
            workers = self._client.scheduler_info(n_workers=-1)["workers"].values()
        except TypeError:  # distributed before `n_workers=` listed every worker anyway
            workers = self._client.scheduler_info()["workers"].values()
        if gpus_per_trial:
            return sum(int(w.get("resources", {}).get("GPU", 0) // gpus_per_trial) for w in workers)
        return sum(int(w.get("nthreads", 1)) for w in workers)

    def close(self) -> None:
        if self._given is None or isinstance(self._given, str):
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        self._client = self._cluster = None
