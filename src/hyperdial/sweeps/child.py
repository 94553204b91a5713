"""What a program run by a sweep agent calls: `hyperdial.report(loss=0.41, step=3)`.

The agent names a file in `$HYPERDIAL_REPORT_FILE`; each call appends one JSON line to it,
which the agent reads while the program runs (intermediate values feed the pruner; the
last value of each metric is the trial's result). No study, storage or network is needed
in the child. Outside an agent the call prints the line a program could print itself,
`hyperdial: {"loss": 0.41, "step": 3}`, which an agent reads from stdout just the same.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

REPORT_FILE = "HYPERDIAL_REPORT_FILE"
PREFIX = "hyperdial:"


def report(step: int | None = None, **metrics: Any) -> None:
    """Report metrics (and optionally the step) of the running trial to the sweep agent.

    >>> report(loss=0.41, step=3)  # outside an agent: printed as a stdout report line
    hyperdial: {"loss": 0.41, "step": 3}
    """
    from hyperdial.exceptions import invalid

    if not metrics:
        raise invalid("metrics", "must name at least one metric, e.g. report(loss=0.41)", metrics)
    if step is not None and (not isinstance(step, int) or isinstance(step, bool) or step < 0):
        raise invalid("step", "must be an integer >= 0", step)
    data: dict[str, Any] = {}
    for name, value in metrics.items():
        if hasattr(value, "item"):  # numpy and torch scalars
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)  # JSON has no NaN; the agent records the trial as FAIL showing it
        data[name] = value
    if step is not None:
        data["step"] = step
    line = json.dumps(data, default=str)
    path = os.environ.get(REPORT_FILE)
    if not path:
        print(f"{PREFIX} {line}", flush=True)
        return
    with open(path, "a", encoding="utf-8") as f:  # one write per line: the agent never sees half a line
        f.write(line + "\n")
        f.flush()


def parse_line(line: str) -> dict[str, Any] | None:
    """The metrics of a stdout line `hyperdial: {...}`, or None for any other line.

    >>> parse_line('hyperdial: {"loss": 0.5, "step": 2}')
    {'loss': 0.5, 'step': 2}
    >>> parse_line("epoch 2 loss 0.5") is None
    True
    """
    text = line.strip()
    if not text.startswith(PREFIX):
        return None
    try:
        data = json.loads(text[len(PREFIX):].strip())
    except ValueError:
        print(f"hyperdial: ignored a report line that is not JSON: {text[:200]!r}", file=sys.stderr)
        return None
    return data if isinstance(data, dict) else None
