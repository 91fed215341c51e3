"""Writing exports that are safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and a leading tab or
carriage return can hide such a cell's start), so a customer named `=HYPERLINK("http://x")` would
become a live link in the export, the classic CSV injection. Every text cell that starts with one
of those characters gets a leading apostrophe, which spreadsheets show as plain text. A spreadsheet
that opens a CSV with another delimiter than ours (`;` in many locales) splits `x;=1+1` into `x` and
`=1+1`, so a formula character after a `;` or `,` (and any blanks) gets the apostrophe too:
`x;'=1+1`. Numbers, dates and booleans are written as values and never escaped.

Files are UTF-8 with a byte-order mark (so spreadsheets read accents correctly; the CSV importers
accept it) and are written to a temporary file first, then renamed, so a failed export never
leaves a half-written file behind.

Example:
    >>> safe_cell('=HYPERLINK("http://x")'), safe_cell("-3"), safe_cell(-3), safe_cell(None)
    ('\\'=HYPERLINK("http://x")', "'-3", '-3', '')
    >>> safe_cell("x;=1+1"), safe_cell("a, @SUM(A1)")
    ("x;'=1+1", "a, '@SUM(A1)")
"""

from __future__ import annotations

import csv
import os
import re
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# a formula start after a delimiter another spreadsheet may split on; the blanks stay before the apostrophe
AFTER_DELIMITER = re.compile(r"(?<=[;,])(\s*)(?=[=+\-@])")


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
    text = AFTER_DELIMITER.sub(r"\1'", str(value))
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


def xlsx_cell(value: Any) -> Any:
    """One XLSX cell: numbers stay numbers (they can never be formulas); everything else, text
    included, goes through `safe_cell`, so no cell ever starts with `=`, `+`, `-`, `@`, tab or CR."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if value == value else None  # NaN: an empty cell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value))


def write_xlsx(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
               sheet: str = "export", private: bool = False,
               more_sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = ()) -> int:
    """Write `columns` and `rows` to a formula-safe XLSX workbook at `path`; return the number of data rows.

    Headers and text go through `safe_cell` (see `xlsx_cell`); the file is written to a temporary
    name and renamed, and is readable by its owner only with `private=True`. `more_sheets` adds
    sheets after the first, each (name, columns, rows), written with the same guard.
    """
    from openpyxl import Workbook

    path = Path(path)
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet[:31])
    worksheet.append([xlsx_cell(str(name)) for name in columns])
    count = 0
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row {count + 2} has {len(row)} cells, expected {len(columns)}")
        worksheet.append([xlsx_cell(cell) for cell in row])
        count += 1
    for name, headers, cells in more_sheets:
        extra = book.create_sheet(name[:31])
        extra.append([xlsx_cell(str(header)) for header in headers])
        for row in cells:
            extra.append([xlsx_cell(cell) for cell in row])
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            book.save(stream)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count
