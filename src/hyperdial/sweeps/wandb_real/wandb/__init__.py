"""Loaded as `wandb` inside a trial when `HYPERDIAL_WANDB=real`: imports the real `wandb` package
in its place and reports what its runs log to the sweep agent.

The agent puts this folder first on the program's PYTHONPATH, so a program's `import wandb`
runs this module first. It takes itself out of `sys.modules` and `sys.path`, imports the
installed `wandb` package, wraps two public methods of its run class, and leaves the real
package as `wandb` (the import statement returns what `sys.modules` holds once this module
has run), so the program sees W&B's own API, unchanged. The run works as under a W&B agent in
offline mode: the agent sets `WANDB_MODE=offline` (unless already set), points
`WANDB_SWEEP_PARAM_PATH` at the trial's parameters (so `wandb.config` holds the sweep's values
over the program's defaults, as W&B's agent does) and `WANDB_DIR` at the trial logs folder.

- `Run.log(data, step, commit)`: after W&B has logged the row, its numbers are appended as
  one JSON line to the agent's report file (`$HYPERDIAL_REPORT_FILE`) at step 1, 2, 3, ...
  (the count of committed rows, which W&B's hyperband counts), so they feed the pruner;
- `Run.finish()`: the numbers of `run.summary` (the last logged values, or what the program
  or `define_metric(summary=...)` put there: what W&B takes as a sweep run's metric) are
  reported again at the last step, which decides the trial's result without feeding the
  pruner twice.

Nothing here imports hyperdial: the program's interpreter needs only `wandb`.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
import sys
from typing import Any

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ROWS: dict[int, int] = {}  # id(run) -> rows committed so far (W&B's Run takes no new attributes)


def _report(data: dict[str, Any], step: int) -> None:
    path = os.environ.get("HYPERDIAL_REPORT_FILE")
    numbers = {}
    for key, value in data.items():
        if hasattr(value, "item") and not isinstance(value, (list, dict)):
            try:
                value = value.item()  # numpy and torch scalars
            except (TypeError, ValueError):
                continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers[key] = value if math.isfinite(value) else str(value)
    if not numbers or not path:
        return
    with open(path, "a", encoding="utf-8") as f:  # one write per line: the agent never sees half a line
        f.write(json.dumps({**numbers, "step": step}) + "\n")


def _hook(run_class: Any) -> None:
    log, finish = run_class.log, run_class.finish

    @functools.wraps(log)
    def logged(self: Any, data: Any, step: int | None = None, commit: bool | None = None, *args: Any,
               **kwargs: Any) -> Any:
        out = log(self, data, step, commit, *args, **kwargs)
        rows = _ROWS.get(id(self), 0) if step is None else int(step)
        if isinstance(data, dict):
            _report(data, rows + 1)
        if commit is not False:
            _ROWS[id(self)] = rows + 1
        return out

    @functools.wraps(finish)
    def finished(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            summary = {k: v for k, v in dict(self.summary).items() if not k.startswith("_")}
        except Exception:  # noqa: BLE001 - a summary that cannot be read leaves the logged rows as they are
            summary = {}
        _report(summary, max(_ROWS.get(id(self), 0), 1))
        return finish(self, *args, **kwargs)

    run_class.log, run_class.finish = logged, finished


def _load_real() -> Any:
    del sys.modules[__name__]
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    try:
        real = importlib.import_module("wandb")
    except ImportError as exc:
        raise ImportError("HYPERDIAL_WANDB=real, but the `wandb` package cannot be imported "
                          f"({exc}); install it (pip install wandb) or unset HYPERDIAL_WANDB to use hyperdial's "
                          "stand-in") from exc
    finally:
        sys.path[:] = saved
    from wandb.sdk.wandb_run import Run

    _hook(Run)
    return real


sys.modules[__name__] = _load_real()
