"""Writing exports that are safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and a leading tab or
carriage return can hide such a cell's start), so a customer named `=HYPERLINK("http://x")` would
become a live link in the export, the classic CSV injection. Every text cell that starts with one
of those characters gets a leading apostrophe, which spreadsheets show as plain text. Numbers,
dates and booleans are written as values and never escaped.

Files are UTF-8 with a byte-order mark (so spreadsheets read accents correctly; the CSV importers
accept it) and are written to a temporary file first, then renamed, so a failed export never
leaves a half-written file behind.

Example:
    >>> safe_cell('=HYPERLINK("http://x")'), safe_cell("-3"), safe_cell(-3), safe_cell(None)
    ('\\'=HYPERLINK("http://x")', "'-3", '-3', '')
"""

from __future__ import annotations

import csv
import os
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of one cell as a spreadsheet will show it, never as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_csv(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
              private: bool = False) -> int:
    """Write `columns` and `rows` to a formula-safe CSV at `path`; return the number of data rows.

    `private=True` makes the file readable by its owner only (for exports that hold personal
    links or contact details).
    """
    path = Path(path)
    width = len(columns)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # the mode passes through the umask; a private export is never readable by others, not even briefly
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    count = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8-sig") as stream:
            writer = csv.writer(stream)
            writer.writerow([safe_cell(name) for name in columns])
            for row in rows:
                if len(row) != width:
                    raise ValueError(f"row {count + 2} has {len(row)} cells, expected {width}")
                writer.writerow([safe_cell(cell) for cell in row])
                count += 1
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count
