"""Checkpoints and artifacts of trials (docs/checkpoints.md).

The trial's own methods do the work: `trial.save_checkpoint(path, step=...)`,
`trial.load_checkpoint()`, `trial.checkpoint_step`, `trial.upload_artifact(path)`; the study's
`study.artifacts` lists and fetches what its trials stored. This module adds what sits on top:

- `KeepCheckpoints(last=k, best=j)`: which checkpoints a trial keeps (`keep_checkpoints=` at
  `create_study` or at save time; an int k is `KeepCheckpoints(last=k)`).
- `save_state(trial, state, step=...)` / `load_state(trial)`: a dict of arrays, numbers, or a
  PyTorch state dict (nested dicts of tensors) as a checkpoint. With a torch tensor anywhere in it
  the state is written with `torch.save` (torch is imported only then); otherwise with NumPy's
  `.npz` (arrays) plus JSON (numbers, strings, lists, nested dicts), loaded with
  `allow_pickle=False`: no pickle is ever read for plain arrays.

>>> import numpy as np, hyperdial as hd
>>> from hyperdial.checkpoints import save_state, load_state
>>> study = hd.create_study()
>>> trial = study.ask()
>>> trial.report(0.5, step=3)
>>> save_state(trial, {"w": np.arange(3.0), "epoch": 3})
>>> state, step = load_state(trial)
>>> state["w"], state["epoch"], step
(array([0., 1., 2.]), 3, 3)
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperdial._validation import Int, check
from hyperdial.exceptions import invalid

if TYPE_CHECKING:
    from hyperdial.trial import Trial

__all__ = ["Artifact", "Checkpoint", "KeepCheckpoints", "load_state", "save_state"]


@dataclass(frozen=True)
class KeepCheckpoints:
    """Which of a trial's checkpoints stay in the store: the `last` most recent ones, plus the `best`
    ones by metric (each checkpoint's `metric=` given at save time, else the value the trial reported
    at its step; lower is better for `mode="min"`, the default follows the study's direction).
    The latest checkpoint is always kept, so a retry resumes from it: `last` >= 1.

    >>> KeepCheckpoints(last=2, best=1)
    KeepCheckpoints(last=2, best=1, mode=None)
    >>> KeepCheckpoints(last=0)
    Traceback (most recent call last):
    ...
    hyperdial.exceptions.InvalidParameterError: `last` must be an int >= 1, got last=0
    """

    last: int = 1
    best: int = 0
    mode: str | None = None

    def __post_init__(self) -> None:
        check("last", self.last, Int(low=1))
        check("best", self.best, Int(low=0))
        if self.mode not in (None, "min", "max"):
            raise invalid("mode", "must be 'min', 'max' or None (the study's direction)", self.mode)

    @classmethod
    def parse(cls, value: Any, name: str = "keep_checkpoints") -> KeepCheckpoints | None:
        """None (keep all), an int k (the last k), a KeepCheckpoints, or its stored dict."""
        if value is None or isinstance(value, KeepCheckpoints):
            return value
        if isinstance(value, Mapping):
            return cls(**value)
        check(name, value, Int(low=1), rule="must be None (keep all), an int >= 1 (the last k) or a KeepCheckpoints")
        return cls(last=int(value))

    def to_dict(self) -> dict[str, Any]:
        return {"last": self.last, "best": self.best, "mode": self.mode}

    def select(self, records: list[dict[str, Any]], maximize: bool) -> list[dict[str, Any]]:
        """The records to keep, in their original (saving) order."""
        keep = {id(r) for r in records[-self.last:]}
        if self.best:
            scored = [r for r in records if isinstance(r.get("metric"), (int, float)) and math.isfinite(r["metric"])]
            maximize = maximize if self.mode is None else self.mode == "max"
            scored.sort(key=lambda r: -r["metric"] if maximize else r["metric"])
            keep |= {id(r) for r in scored[:self.best]}
        return [r for r in records if id(r) in keep]


@dataclass(frozen=True)
class Checkpoint:
    """One recorded checkpoint: its trial, step, path in the store, size in bytes, checksum, time."""

    trial: int
    step: int
    path: str
    size: int
    sha256: str
    time: float
    metric: float | None = None

    @classmethod
    def from_record(cls, trial: int, rec: Mapping[str, Any]) -> Checkpoint:
        return cls(trial, int(rec["step"]), rec["path"], int(rec["size"]), rec["sha256"], float(rec["time"]),
                   rec.get("metric"))


@dataclass(frozen=True)
class Artifact:
    """One recorded artifact: its trial, name, path in the store, size in bytes, SHA-256, time."""

    trial: int
    name: str
    path: str
    size: int
    sha256: str
    time: float

    @classmethod
    def from_record(cls, trial: int, rec: Mapping[str, Any]) -> Artifact:
        return cls(trial, rec["name"], rec["path"], int(rec["size"]), rec["sha256"], float(rec["time"]))


# -- state dicts -------------------------------------------------------------------

_TORCH_FILE = "state.pt"
_NPZ_FILE = "arrays.npz"
_JSON_FILE = "state.json"


def _has_tensor(value: Any) -> bool:
    if type(value).__module__.startswith("torch"):
        return True
    if isinstance(value, Mapping):
        return any(_has_tensor(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    return False


def _split(state: Mapping[str, Any], prefix: str, arrays: dict[str, Any]) -> Any:
    """JSON for `state`, with each NumPy array replaced by {"__array__": key} and stored in `arrays`."""
    import numpy as np

    out: dict[str, Any] = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise invalid("state", "must have string keys", key)
        name = f"{prefix}{key}"
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise invalid("state", "arrays must not hold Python objects (no pickle)", name)
            arrays[f"a{len(arrays)}"] = value
            out[key] = {"__array__": f"a{len(arrays) - 1}"}
        elif isinstance(value, Mapping):
            out[key] = {"__dict__": _split(value, name + ".", arrays)}
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            try:
                json.dumps(value, allow_nan=True)
            except (TypeError, ValueError):
                raise invalid("state", "values must be arrays, dicts, or JSON (numbers, strings, lists)",
                              type(value).__name__, name=name) from None
            out[key] = value
    return out


def _join(spec: Mapping[str, Any], arrays: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if isinstance(value, Mapping) and set(value) == {"__array__"}:
            out[key] = arrays[value["__array__"]]
        elif isinstance(value, Mapping) and set(value) == {"__dict__"}:
            out[key] = _join(value["__dict__"], arrays)
        else:
            out[key] = value
    return out


def save_state(trial: Trial, state: Mapping[str, Any], *, step: int | None = None,
               metric: float | None = None, keep_checkpoints: Any = None) -> None:
    """Save a dict (NumPy arrays, numbers, nested dicts, or PyTorch tensors) as the trial's checkpoint.

    `step`, `metric` and `keep_checkpoints` are those of `trial.save_checkpoint`.
    """
    if not isinstance(state, Mapping):
        raise invalid("state", "must be a dict", type(state).__name__)
    with tempfile.TemporaryDirectory(prefix="hyperdial-state-") as tmp:
        if _has_tensor(state):
            from hyperdial._imports import optional_import

            torch = optional_import("torch", extra="torch", purpose="saving a state with torch tensors")
            torch.save(dict(state), Path(tmp) / _TORCH_FILE)
        else:
            import numpy as np

            arrays: dict[str, Any] = {}
            spec = _split(state, "", arrays)
            np.savez(Path(tmp) / _NPZ_FILE, **arrays)
            (Path(tmp) / _JSON_FILE).write_text(json.dumps(spec, allow_nan=True))
        trial.save_checkpoint(tmp, step=step, metric=metric, keep_checkpoints=keep_checkpoints)


def load_state(trial: Trial, *, map_location: Any = None) -> tuple[dict[str, Any], int] | None:
    """The state of the trial's latest checkpoint (or its predecessor's) and its step, or None.

    A torch checkpoint is read with `torch.load(weights_only=True, map_location=...)`; a NumPy
    one with `allow_pickle=False`.
    """
    path = trial.load_checkpoint()
    if path is None:
        return None
    step = trial.checkpoint_step
    assert step is not None  # set by load_checkpoint whenever it returns a path
    if (path / _TORCH_FILE).exists():
        from hyperdial._imports import optional_import

        torch = optional_import("torch", extra="torch", purpose="loading a state saved with torch tensors")
        return torch.load(path / _TORCH_FILE, map_location=map_location, weights_only=True), step
    if not (path / _JSON_FILE).exists():
        raise invalid("checkpoint", "was not written by save_state (no state.json or state.pt)", str(path))
    import numpy as np

    spec = json.loads((path / _JSON_FILE).read_text())
    with np.load(path / _NPZ_FILE, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return _join(spec, arrays), step
