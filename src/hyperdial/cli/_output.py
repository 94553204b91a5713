"""Rendering rows (lists of dicts) as an aligned table, CSV or JSON.

Rows keep native values (floats, datetimes, None); each format decides how to
show them: the table rounds for reading, CSV and JSON keep full precision.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO, Any

Row = Mapping[str, Any]


def plain(value: Any) -> Any:
    """A JSON-safe copy: datetimes as ISO 8601, non-finite floats as None, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def short(value: Any) -> str:
    """A cell of the human-readable table."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(short(v) for v in value) + "]"
    return str(value)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(plain(value), allow_nan=False)
    return value  # str(float) round-trips exactly; None becomes an empty cell


def write_table(rows: Sequence[Row], columns: Sequence[str], out: IO[str]) -> None:
    """Aligned plain text: numbers right-aligned, everything else left-aligned."""
    cells = [[short(row.get(c)) for c in columns] for row in rows]
    numeric = [
        all(isinstance(row.get(c), (int, float)) or row.get(c) is None for row in rows) and bool(rows)
        for c in columns
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    out.write(line(list(columns)) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write(line(r) + "\n")


def write_csv(rows: Sequence[Row], columns: Sequence[str], out: IO[str]) -> None:
    """RFC 4180 CSV through the `csv` module; missing cells are empty."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])


def write_json(data: Any, out: IO[str]) -> None:
    """Indented JSON without NaN or infinity; datetimes as ISO 8601 strings."""
    json.dump(plain(data), out, indent=2, allow_nan=False)
    out.write("\n")


def write_rows(rows: Sequence[Row], columns: Sequence[str], fmt: str, out: IO[str]) -> None:
    """Dispatch on `fmt` (table, csv or json); JSON keeps only the keys each row has."""
    if fmt == "json":
        write_json([{c: row[c] for c in columns if c in row} for row in rows], out)
    elif fmt == "csv":
        write_csv(rows, columns, out)
    else:
        write_table(rows, columns, out)
