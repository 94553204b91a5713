"""hyperdial's stand-in for `wandb` inside the trials of a W&B sweep file.

A program written for a W&B sweep (`wandb.init()`, `wandb.config.lr`, `wandb.log({...})`)
runs unchanged under `hyperdial sweep`: for W&B-format files the agent puts this folder
first on the program's PYTHONPATH, so `import wandb` finds this module, offline. It gives:

- `wandb.init(config=..., ...)` -> a run; `wandb.config` / `run.config` hold the `config`
  given to `init`, overridden by the sweep's parameters (as under a W&B agent);
- `wandb.log(data, step=None, commit=True)`: each number logged is reported to the agent
  (`hyperdial.report`), so intermediate values feed the pruner; `run.summary` holds the
  last value of each key, or what the program sets there (reported at `finish`);
- `finish`, `define_metric`, `watch`, `login`, `save`, `alert`, `Settings` and the media
  types (`Table`, `Image`, `Histogram`, ...) accepted and ignored.

Anything else of W&B's API raises AttributeError naming this stand-in. Set
`HYPERDIAL_WANDB=real` in the agent's environment to let programs import the real `wandb`
package instead, offline, with what its runs log read by the agent (`../wandb_real`).
docs/sweeps.md, "Programs written for W&B".
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

__version__ = "0.0.0+hyperdial"


def _report(metrics: dict[str, Any], step: int | None) -> None:
    from hyperdial import report

    numbers = {k: v for k, v in metrics.items() if _is_number(v)}
    if numbers:
        report(step=step, **numbers)


def _is_number(v: Any) -> bool:
    if hasattr(v, "item") and not isinstance(v, (list, dict)):
        try:
            v = v.item()
        except (TypeError, ValueError):
            return False
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Config(Mapping[str, Any]):
    """`wandb.config`: attribute and item access; the sweep's values win over the program's defaults."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_locked", set())

    def _sweep(self, values: Mapping[str, Any]) -> None:
        self._items.update(values)
        self._locked.update(values)

    def update(self, values: Mapping[str, Any] | None = None, allow_val_change: bool = False, **kw: Any) -> None:
        for k, v in {**dict(values or {}), **kw}.items():
            if k not in self._locked:
                self._items[k] = v

    def setdefaults(self, values: Mapping[str, Any]) -> None:
        for k, v in values.items():
            self._items.setdefault(k, v)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self._locked:
            self._items[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


class Summary(dict[str, Any]):
    """`run.summary`: the last logged value per key; what the program sets is reported at `finish`."""

    def __init__(self) -> None:
        super().__init__()
        self.set_by_program: dict[str, Any] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.set_by_program[key] = value

    def update(self, *args: Any, **kw: Any) -> None:
        for k, v in dict(*args, **kw).items():
            self[k] = v


class Run:
    """What `wandb.init` returns: `config`, `summary`, `log`, `finish`, and W&B's identifiers."""

    def __init__(self, config: Config, name: str | None, project: str | None) -> None:
        self.config = config
        self.summary = Summary()
        self.step = 0
        self.id = os.environ.get("HYPERDIAL_TRIAL", "0")
        self.name = name or f"trial-{self.id}"
        self.project = project
        self.sweep_id = os.environ.get("HYPERDIAL_STUDY")
        self.finished = False

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        if step is not None:
            self.step = int(step)
        for k, v in data.items():
            dict.__setitem__(self.summary, k, v)
        _report(dict(data), self.step + 1)  # the count of logged rows, which W&B's hyperband counts
        if commit is not False:
            self.step += 1

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        if not self.finished and self.summary.set_by_program:
            _report(self.summary.set_by_program, None)
        self.finished = True

    def define_metric(self, *args: Any, **kw: Any) -> None:
        return None

    def watch(self, *args: Any, **kw: Any) -> None:
        return None

    def __enter__(self) -> Run:  # noqa: PYI034 - Run is final here
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


config = Config()
run: Run | None = None
summary: Summary = Summary()


def init(*args: Any, config: Mapping[str, Any] | None = None, project: str | None = None, name: str | None = None,
         **kw: Any) -> Run:
    """Start the (only) run of this trial; `config` gives defaults, the sweep's values win."""
    global run, summary
    if run is not None and not run.finished:
        return run
    module_config = globals()["config"]
    sweep = json.loads(os.environ.get("HYPERDIAL_CONFIG", "{}"))
    module_config._sweep(sweep)
    if config is not None:
        module_config.update(dict(config))
    run = Run(module_config, name, project)
    summary = run.summary
    atexit.register(run.finish)
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    if run is None:
        raise RuntimeError("You must call wandb.init() before wandb.log()")  # as W&B says
    run.log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    if run is not None:
        run.finish()


def define_metric(*args: Any, **kw: Any) -> None:
    return None


def watch(*args: Any, **kw: Any) -> None:
    return None


def login(*args: Any, **kw: Any) -> bool:
    return True


def save(*args: Any, **kw: Any) -> None:
    return None


def alert(*args: Any, **kw: Any) -> None:
    return None


class _Ignored:
    """Media and settings objects: built, never sent anywhere."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        self.args, self.kw = args, kw


Settings = Table = Image = Histogram = Audio = Video = Html = Object3D = Plotly = Artifact = _Ignored


def __getattr__(name: str) -> Any:
    raise AttributeError(f"hyperdial's stand-in for wandb has no {name!r}: under `hyperdial sweep` a W&B program "
                         "gets wandb.init, config, log, summary and finish (set HYPERDIAL_WANDB=real in the "
                         "agent's environment to use the real wandb package)")
