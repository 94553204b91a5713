"""Where trials run: threads (default), local processes, a Dask or a Ray cluster.

`study.optimize(objective, n_jobs=N, executor=...)` with `executor="thread"`,
`"process"`, any `concurrent.futures.Executor`, `hd.executors.Dask(...)` or
`hd.executors.Ray(...)`. Anything but threads runs trials in other processes,
which share the study through its storage URL.
"""

from hyperdial.executors.dask import Dask
from hyperdial.executors.gpus import available_gpus
from hyperdial.executors.ray import Ray

__all__ = ["Dask", "Ray", "available_gpus"]
