"""Formula-injection safe CSV exports: what a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
import stat
from datetime import date, datetime, timezone

import pytest

from survey.exports import safe_cell, write_csv


@pytest.mark.parametrize("dangerous", [
    '=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=", "-",
])
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(dangerous):
    assert safe_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["Ada Lovelace", "a=b", "ada@example.com", " =1", "'quoted", "", "Zoë"])
def test_ordinary_text_is_written_unchanged(harmless):
    assert safe_cell(harmless) == harmless


def test_numbers_dates_and_missing_values_are_values_not_text():
    assert safe_cell(-3) == "-3"
    assert safe_cell(-0.5) == "-0.5"
    assert safe_cell(True) == "true"
    assert safe_cell(None) == ""
    assert safe_cell(date(2026, 3, 1)) == "2026-03-01"
    assert safe_cell(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)) == "2026-03-01T12:00:00+00:00"


def test_written_file_reads_back_with_escaped_cells_and_quoting_intact(tmp_path):
    path = tmp_path / "out.csv"
    count = write_csv(path, ["name", "note", "value"], [
        ['=HYPERLINK("http://x")', 'says "hi", twice\nthen leaves', -4],
        ["Zoë", "", None],
    ])
    assert count == 2
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets then read UTF-8 accents
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["name", "note", "value"],
                    ['\'=HYPERLINK("http://x")', 'says "hi", twice\nthen leaves', "-4"],
                    ["Zoë", "", ""]]


def test_header_cells_are_escaped_too(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ["=cmd"], [])
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["'=cmd"]


def test_private_export_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "links.csv"
    write_csv(path, ["link"], [["https://x/?t=secret"]], private=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_export_leaves_the_previous_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("previous\n")
    with pytest.raises(ValueError, match="row 3 has 1 cells, expected 2"):
        write_csv(path, ["a", "b"], [["1", "2"], ["only one"]])
    assert path.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


FORMULA_STARTS = ("=", "+", "-", "@")


def cells_a_spreadsheet_may_see(text: str) -> list[str]:
    """The cells of one exported text when a spreadsheet splits it again on `;` or `,`, with the
    blanks some spreadsheets trim on import taken off."""
    import re

    return [piece.strip() for piece in re.split(r"[;,]", text)]


# Finding 9 of issue 16: `x;=1+1` was exported as it is, and a spreadsheet splitting on `;` saw a formula.
@pytest.mark.parametrize("dangerous", ["x;=1+1", "x,=1+1", "a; -2+3", "a;\t@SUM(A1)", "ok,+1;=2", "=1;=2"])
def test_a_formula_after_a_semicolon_or_comma_is_neutralised_in_csv_and_xlsx(tmp_path, dangerous):
    from openpyxl import load_workbook

    from survey.exports import write_xlsx

    assert not any(piece.startswith(FORMULA_STARTS) for piece in cells_a_spreadsheet_may_see(safe_cell(dangerous)))
    write_csv(tmp_path / "out.csv", ["comment"], [[dangerous]])
    with open(tmp_path / "out.csv", newline="", encoding="utf-8-sig") as handle:
        (written,) = list(csv.reader(handle))[1]
    write_xlsx(tmp_path / "out.xlsx", ["comment"], [[dangerous]])
    cell = load_workbook(tmp_path / "out.xlsx").active["A2"]
    for text in (written, cell.value):
        assert not any(piece.startswith(FORMULA_STARTS) for piece in cells_a_spreadsheet_may_see(text))
        assert text.replace("'", "") == dangerous.replace("'", "")  # only apostrophes were added
    assert cell.data_type == "s"
