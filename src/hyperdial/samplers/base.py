"""The sampler protocol, and helpers every sampler shares.

A sampler has one required method, `sample(history, trial, space)`, returning a
value for each parameter of `space` it chooses to set. The study calls it:
- once at trial start with the joint space of the history (parameters every
  COMPLETE trial shared), unless the sampler sets `joint_sampling = False`;
- then once for each parameter the objective asks for that the first call did
  not cover, with a one-entry space.
Optional, with their defaults in `hyperdial._plugins` (the one place the study and
the wrapping samplers read them): `joint_sampling` (True), `after_trial(history,
trial)` after each trial this process finished (nothing), `is_exhausted(history)`
to let a finite sampler (a grid) end the study (False).
Samplers keep no state in the storage: they recompute it from the history.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import zlib
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hyperdial._validation import Int, check
from hyperdial.history import History
from hyperdial.space import Distribution
from hyperdial.trial import FrozenTrial


@runtime_checkable
class Sampler(Protocol):
    def sample(self, history: History, trial: FrozenTrial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        """Values for (some of) the parameters of `space` for `trial`."""


class PicklableLock:
    """Mixin for samplers guarded by `self._lock`: pickling (to ship a sampler to a process
    pool, Dask or Ray worker) drops the lock and the copy makes a new one."""

    _lock: threading.Lock

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def check_seed(seed: Any) -> int:
    """Validate `seed=`; None draws a fresh one, so unseeded samplers still differ per process."""
    if seed is None:
        return secrets.randbits(63)
    return int(check("seed", seed, Int(low=0), None))


def trial_rng(seed: int, number: int, name: str | None = None) -> np.random.Generator:
    """A generator for one trial (and optionally one parameter).

    Deriving it from (seed, trial number, parameter name) instead of a shared
    stream makes seeded runs reproducible whatever the order of `suggest` calls,
    threads or processes, and keeps parallel workers from drawing the same values.
    """
    key = [seed, number] if name is None else [seed, number, zlib.crc32(name.encode())]
    return np.random.default_rng(key)


def trial_uniform(seed: int, number: int, name: str) -> float:
    """One uniform number in [0, 1) for (seed, trial number, parameter name).

    The same derivation as `trial_rng` gives, at a fraction of the cost of building a
    numpy generator (which dominated random search's per-trial time).
    """
    digest = hashlib.blake2b(f"{seed}:{number}:{name}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "little") >> 11) * (1.0 / (1 << 53))


def study_fingerprint(history: History) -> tuple[int, Any] | None:
    """Tells studies apart, so a sampler object reused for another study does not reuse its cache."""
    first = min(history.trials, key=lambda t: t.number, default=None)
    return None if first is None else (first.trial_id, first.datetime_start)
