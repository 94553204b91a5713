"""`Study.trials_dataframe`: one row per trial, Optuna's column names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperdial._imports import optional_import
from hyperdial.trial import FrozenTrial


def trials_dataframe(trials: Sequence[FrozenTrial], n_objectives: int) -> Any:
    """number, value (or values_0, values_1, ...), times, state, params_*, user_attrs_*."""
    pd = optional_import("pandas", extra="pandas", purpose="trials_dataframe()")
    rows = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number}
        if n_objectives > 1:
            for i in range(n_objectives):
                row[f"values_{i}"] = None if t.values is None else t.values[i]
        else:
            row["value"] = None if t.values is None else t.values[0]
        row.update(
            datetime_start=t.datetime_start,
            datetime_complete=t.datetime_complete,
            duration=t.duration,
            state=t.state.name,
        )
        row.update({f"params_{k}": v for k, v in t.params.items()})
        row.update({f"user_attrs_{k}": v for k, v in t.user_attrs.items()})
        rows.append(row)
    return pd.DataFrame(rows)
