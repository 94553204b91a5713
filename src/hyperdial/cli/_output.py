"""Rendering rows (lists of dicts) as an aligned table, CSV or JSON.

Rows keep native values (floats, datetimes, None); each format decides how to
show them: the table rounds for reading, CSV and JSON keep full precision.

Study names, parameter names and values come from a storage that other people
may write to, so nothing reaches a terminal raw: a name holding ESC or a newline
could retitle the window, move the cursor or fake rows. The table and the text
output show control characters as escapes (`escape`) and cap cell widths; JSON
escapes them by construction (`json.dumps` with `ensure_ascii`); CSV stays
byte-faithful when written to a file or a pipe (it is data for programs) and is
escaped only when stdout is a terminal.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO, Any

Row = Mapping[str, Any]

MAX_CELL = 40  # widest table cell; CSV and JSON carry full values
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(c: str) -> str:
    o = ord(c)
    return _NAMED.get(c) or (f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")


def escape(text: str) -> str:
    r"""`text` with every non-printable character (C0, DEL, C1, bidi overrides, line
    separators...) shown as a Python-style escape, so it cannot drive the terminal.

    Backslashes are left alone: names are rarely ambiguous, and paths stay readable.

    >>> print(escape("demo\x1b]0;pwned\x07\nfake row \u202e"))
    demo\x1b]0;pwned\x07\nfake row \u202e
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape_char(c) for c in text)


def clip(text: str, width: int = MAX_CELL) -> str:
    """At most `width` characters, the cut marked with '...'.

    >>> clip("x" * 50, 10)
    'xxxxxxx...'
    """
    return text if len(text) <= width else text[: width - 3] + "..."


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
    return escape(str(value))


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(plain(value), allow_nan=False)
    return value  # str(float) round-trips exactly; None becomes an empty cell


def write_table(rows: Sequence[Row], columns: Sequence[str], out: IO[str]) -> None:
    """Aligned plain text: numbers right-aligned, everything else left-aligned, cells escaped and clipped."""
    cells = [[clip(short(row.get(c))) for c in columns] for row in rows]
    numeric = [
        all(isinstance(row.get(c), (int, float)) or row.get(c) is None for row in rows) and bool(rows)
        for c in columns
    ]
    widths = [max([len(clip(escape(c)))] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    out.write(line([clip(escape(c)) for c in columns]) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write(line(r) + "\n")


def _is_terminal(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def write_csv(rows: Sequence[Row], columns: Sequence[str], out: IO[str]) -> None:
    """RFC 4180 CSV through the `csv` module; missing cells are empty.

    Faithful to the data in a file or pipe; on a terminal, text is escaped like the table's.
    """
    tty = _is_terminal(out)

    def cell(value: Any) -> Any:
        value = _csv_cell(value)
        return escape(value) if tty and isinstance(value, str) else value

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([escape(c) if tty else c for c in columns])
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])


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
