"""Reading CSV files for imports: every row checked before anything is written.

A file is read whole and each row parsed into typed values; every fault is collected with its row
number (the header is row 1) so the user can fix the file in one pass. Callers write only when
there is no fault, so an import never stops half way.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from survey import messages

MAX_PROBLEMS_SHOWN = 20
TRUE_WORDS = {"1", "true", "yes", "y"}
FALSE_WORDS = {"0", "false", "no", "n", ""}


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
    """The rows of a CSV file with their spreadsheet row numbers (data starts at row 2)."""

    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]


def read_rows(path: str | Path, required: Iterable[str]) -> CsvRows:
    """Read a UTF-8 CSV (a spreadsheet's BOM is accepted); ImportProblem when unreadable or incomplete."""
    path = Path(path)
    source = path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = tuple((name or "").strip() for name in (reader.fieldnames or ()))
            rows = tuple(
                (number, {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None})
                for number, row in enumerate(reader, start=2))
    except OSError as error:
        raise ImportProblem([messages.CANNOT_READ.format(source=source, problem=error.strerror)]) from None
    except UnicodeDecodeError:
        raise ImportProblem([messages.NOT_UTF8.format(source=source)]) from None
    except csv.Error as error:
        raise ImportProblem([f"{source}: not a valid CSV file: {error}"]) from None
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportProblem([messages.CSV_MISSING_COLUMNS.format(source=source, columns=", ".join(missing))])
    if not rows:
        raise ImportProblem([messages.CSV_EMPTY.format(source=source)])
    return CsvRows(source, columns, rows)


class RowParser:
    """Parses the cells of one file, collecting a message per bad cell instead of stopping."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []
        self.faults: list[RowFault] = []

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

    def number(self, row: int, column: str, raw: str, minimum: float | None = None) -> float | None:
        if not raw:
            return None
        value = self.convert(row, column, raw, float, "a number")
        if value is not None and (value != value or (minimum is not None and value < minimum)):
            self.fail(row, column, f"{raw!r} must be a number of at least {minimum}")
            return None
        return value

    def day(self, row: int, column: str, raw: str) -> date | None:
        if not raw:
            return None
        return self.convert(row, column, raw, date.fromisoformat, "a date (YYYY-MM-DD)")

    def raise_if_any(self) -> None:
        if self.problems:
            raise ImportProblem(self.problems, self.faults)
