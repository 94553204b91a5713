"""Config-file sweeps: tune any program (any language) from a YAML file.

Two formats, told apart by their keys: W&B sweep files, accepted unchanged
(`wandb_format.py`), and hyperdial's native format (`native_format.py`, recognised by
its `study` key). An agent (`agent.py`) runs each trial as a child process
(`runner.py`), which reports through stdout lines `hyperdial: {"loss": 0.4, "step": 3}`
or `hyperdial.report(loss=0.4, step=3)` (`child.py`). Reading the file needs PyYAML:
`pip install 'hyperdial[sweeps]'`. See docs/sweeps.md.

>>> import hyperdial.sweeps as sw
>>> spec = sw.read_sweep('''
... method: random
... metric: {name: loss}
... program: train.py
... parameters:
...   lr: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}
... ''')
>>> spec.format, spec.method, spec.space()["lr"]
('wandb', 'WandbRandom', Float(low=1e-05, high=0.1, log=True, step=None))
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from hyperdial.sweeps.errors import SweepFileError

if TYPE_CHECKING:
    from hyperdial.sweeps.spec import Metric, Parameter, SweepSpec

__all__ = ["Metric", "Parameter", "SweepFileError", "SweepSpec", "load_sweep", "read_sweep"]


def __getattr__(name: str) -> Any:
    # `import hyperdial` imports this package (for `hyperdial.report`): the rest loads when used.
    if name in ("Metric", "Parameter", "SweepSpec"):
        from hyperdial.sweeps import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'hyperdial.sweeps' has no attribute {name!r}")


def read_sweep(text: str, *, source: str = "<sweep file>") -> SweepSpec:
    """Parse and validate a sweep file's text (W&B or native format); errors name key path and line."""
    from hyperdial.sweeps._yaml import read_text
    from hyperdial.sweeps.native_format import read_native
    from hyperdial.sweeps.wandb_format import read_wandb

    data = read_text(text, source=source)
    if not isinstance(data, dict):
        raise SweepFileError(f"{source}: must be a mapping of keys (method, parameters, ...), got {data!r}")
    if "study" in data:
        return read_native(data, source=source, text_=text)
    stem = os.path.splitext(os.path.basename(source))[0] if not source.startswith("<") else "sweep"
    return read_wandb(data, source=source, text_=text, stem=stem or "sweep")


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read and validate the sweep file at `path`."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise SweepFileError(f"cannot read sweep file {path!r}: {exc.strerror}") from None
    return read_sweep(text, source=path)
