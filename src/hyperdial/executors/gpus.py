"""GPU slots for trials that ask for `gpus_per_trial`: each gets its own CUDA_VISIBLE_DEVICES."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

from hyperdial.exceptions import invalid


def available_gpus() -> list[str]:
    """Device ids this process may use: CUDA_VISIBLE_DEVICES if set, else what nvidia-smi lists.

    >>> isinstance(available_gpus(), list)
    True
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


class GpuSlots:
    """Hands out disjoint groups of `per_trial` devices; at most len(devices) // per_trial at once."""

    def __init__(self, per_trial: int, devices: list[str] | None = None) -> None:
        self.devices = available_gpus() if devices is None else list(devices)
        if per_trial > len(self.devices):
            raise invalid(
                "gpus_per_trial", f"is more than the {len(self.devices)} GPU(s) visible here "
                f"({','.join(self.devices) or 'none'})", per_trial,
            )
        self.per_trial = per_trial
        self._free = list(self.devices)
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return len(self.devices) // self.per_trial

    def acquire(self) -> str | None:
        with self._lock:
            if len(self._free) < self.per_trial:
                return None
            group, self._free = self._free[: self.per_trial], self._free[self.per_trial :]
            return ",".join(group)

    def release(self, group: str) -> None:
        with self._lock:
            self._free.extend(group.split(","))
