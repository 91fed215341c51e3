"""Reading CSV files for imports, in one strict place: every row checked before anything is written.

A file is read whole, with the csv module in strict mode (a stray or unclosed quote is an error,
never a cell that swallows the following rows). The delimiter is detected from the header (comma,
semicolon or tab) and stated in the summary; the header must name every column once; every row
must have as many cells as the header (extra cells are never dropped silently); and no cell may
hold a NUL character, which PostgreSQL cannot store. Each row is then parsed into typed values,
every fault collected with its row number (the header is row 1) and column, so the user can fix
the file in one pass. Callers write only when there is no fault, so an import never stops half way.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from survey import messages

MAX_PROBLEMS_SHOWN = 20
TRUE_WORDS = {"1", "true", "yes", "y"}
FALSE_WORDS = {"0", "false", "no", "n", ""}
# The delimiters a spreadsheet writes: comma, semicolon (locales with a decimal comma) and tab.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class RowFault:
    """One fault of one cell, for row-by-row reports."""

    row: int
    column: str
    problem: str


class ImportProblem(ValueError):
    """A file that cannot be imported; `problems` lists each faulty row and column as text, and
    `faults` the same as (row, column, problem) where a row is at fault."""

    def __init__(self, problems: list[str], faults: list[RowFault] | None = None):
        self.problems = list(problems)
        self.faults = list(faults or [])
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more > 0 else [])))


@dataclass(frozen=True)
class CsvRows:
    """The rows of a CSV file with their spreadsheet row numbers (data starts at row 2).

    `faults` are the cells refused while reading (a row of the wrong width, a NUL character);
    their rows are not in `rows`, and a parser started with `RowParser(table)` reports them.
    """

    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]
    delimiter: str = ","
    faults: tuple[RowFault, ...] = ()

    @property
    def delimiter_name(self) -> str:
        """"comma", "semicolon" or "tab"."""
        return DELIMITERS[self.delimiter]


def detect_delimiter(header_line: str) -> str:
    r"""The delimiter of a CSV file from its first line: whichever of comma, semicolon and tab splits
    it into the most cells (comma when none splits it, as for a one-column file).

    >>> detect_delimiter("external_ref;name;email"), detect_delimiter("a,b"), detect_delimiter("a\tb")
    (';', ',', '\t')
    """
    best, best_count = ",", 1
    for delimiter in DELIMITERS:
        try:
            count = len(next(csv.reader([header_line], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _file_text(path: Path, source: str) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ImportProblem([messages.CANNOT_READ.format(source=source, problem=error.strerror)]) from None
    try:
        return raw.decode("utf-8-sig")  # a spreadsheet's byte-order mark is accepted
    except UnicodeDecodeError:
        raise ImportProblem([messages.NOT_UTF8.format(source=source)]) from None


def _header(source: str, cells: list[str], delimiter: str) -> tuple[str, ...]:
    columns = tuple(cell.strip() for cell in cells)
    problems, first_seen = [], {}
    for position, name in enumerate(columns, start=1):
        if "\x00" in name:
            problems.append(messages.CSV_HEADER_NUL.format(source=source, position=position))
        elif not name:
            problems.append(messages.CSV_HEADER_EMPTY.format(source=source, position=position,
                                                              delimiter=DELIMITERS[delimiter]))
        elif name in first_seen:
            problems.append(messages.CSV_HEADER_DUPLICATE.format(source=source, column=name,
                                                                 first=first_seen[name], position=position))
        first_seen.setdefault(name, position)
    if problems:
        raise ImportProblem(problems)
    return columns


def read_rows(path: str | Path, required: Iterable[str]) -> CsvRows:
    """Read a UTF-8 CSV strictly (see the module docstring); ImportProblem when it cannot be read
    as a table, naming the row (and line) at fault. Rows of the wrong width or with a NUL character
    are returned as `faults`, one per row and column, for the caller to report with its own."""
    path = Path(path)
    source = path.name
    text = _file_text(path, source)
    delimiter = detect_delimiter(text.partition("\n")[0].rstrip("\r"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    first_line = 1  # where the record being read starts (a quoted cell may span lines)
    try:
        for number, cells in enumerate(reader, start=1):
            records.append((number, cells))
            first_line = reader.line_num + 1
    except csv.Error as error:
        lines = f"line {first_line}" if reader.line_num <= first_line else f"lines {first_line}-{reader.line_num}"
        raise ImportProblem([messages.CSV_MALFORMED.format(source=source, row=len(records) + 1, lines=lines,
                                                           problem=error)]) from None
    if not records:
        raise ImportProblem([messages.CSV_EMPTY.format(source=source)])
    columns = _header(source, records[0][1], delimiter)
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportProblem([messages.CSV_MISSING_COLUMNS.format(
            source=source, columns=", ".join(missing), delimiter=DELIMITERS[delimiter],
            found=", ".join(columns))])
    rows, faults = [], []
    has_nul = "\x00" in text  # one scan of the file; cells are searched only when it holds one
    for number, cells in records[1:]:
        if not cells:
            continue  # a blank line (spreadsheets leave them at the end)
        if len(cells) != len(columns):
            column = f"column {len(columns) + 1}" if len(cells) > len(columns) else columns[len(cells)]
            faults.append(RowFault(number, column, messages.CSV_ROW_WIDTH.format(
                cells=len(cells), columns=len(columns), delimiter=DELIMITERS[delimiter])))
            continue
        row = {name: cell.strip() for name, cell in zip(columns, cells)}
        nul = [RowFault(number, name, messages.CSV_NUL) for name, cell in row.items() if "\x00" in cell] \
            if has_nul else []
        if nul:
            faults.extend(nul)
            continue
        rows.append((number, row))
    if not rows and not faults:
        raise ImportProblem([messages.CSV_EMPTY.format(source=source)])
    return CsvRows(source, columns, tuple(rows), delimiter, tuple(faults))


class RowParser:
    """Parses the cells of one file, collecting a message per bad cell instead of stopping."""

    def __init__(self, table: CsvRows | str):
        """A parser for `table`'s rows, starting with the faults found while reading it."""
        self.source = table if isinstance(table, str) else table.source
        self.problems: list[str] = []
        self.faults: list[RowFault] = []
        for fault in () if isinstance(table, str) else table.faults:
            self.fail(fault.row, fault.column, fault.problem)

    def fail(self, row: int, column: str, problem: str) -> None:
        self.faults.append(RowFault(row, column, problem))
        self.problems.append(messages.CSV_BAD_VALUE.format(source=self.source, row=row, column=column,
                                                          problem=problem))

    def convert(self, row: int, column: str, raw: str, convert: Callable[[str], object], expected: str):
        try:
            return convert(raw)
        except (TypeError, ValueError):
            self.fail(row, column, f"{raw!r} is not {expected}")
            return None

    def text(self, row: int, column: str, raw: str, required: bool = False, max_length: int = 300) -> str | None:
        if not raw:
            if required:
                self.fail(row, column, "a value is required")
            return None
        if len(raw) > max_length:
            self.fail(row, column, f"longer than {max_length} characters")
            return None
        return raw

    def boolean(self, row: int, column: str, raw: str) -> bool | None:
        word = raw.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        self.fail(row, column, f"{raw!r} is not yes/no")
        return None

    def number(self, row: int, column: str, raw: str, minimum: float | None = None,
               maximum: float | None = None) -> float | None:
        """A finite number within [minimum, maximum]: `1e999`, `inf` and `nan` are refused, since
        an infinite value stored once breaks every figure computed over it."""
        if not raw:
            return None
        value = self.convert(row, column, raw, float, "a number")
        if value is None:
            return None
        if not math.isfinite(value):
            self.fail(row, column, f"{raw!r} is not a finite number")
            return None
        if minimum is not None and value < minimum:
            self.fail(row, column, f"{raw!r} must be a number of at least {minimum:g}")
            return None
        if maximum is not None and value > maximum:
            self.fail(row, column, f"{raw!r} must be a number of at most {maximum:g}")
            return None
        return value

    def email(self, row: int, column: str, raw: str) -> str | None:
        """An email address checked for syntax only (no network look-up), kept as written."""
        if not raw:
            return None
        from email_validator import EmailNotValidError, validate_email

        try:
            validate_email(raw, check_deliverability=False)
        except EmailNotValidError as error:
            self.fail(row, column, f"{raw[:80]!r} is not an email address ({error})")
            return None
        return raw

    def day(self, row: int, column: str, raw: str) -> date | None:
        if not raw:
            return None
        return self.convert(row, column, raw, date.fromisoformat, "a date (YYYY-MM-DD)")

    def raise_if_any(self) -> None:
        if self.problems:
            raise ImportProblem(self.problems, self.faults)
