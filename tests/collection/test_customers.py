"""Customer CSV import: all rows or none, every fault named by row and column."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from survey.storage import db, models
from survey.collection.csvfiles import ImportProblem
from survey.collection.customers import import_customers
from tests.conftest import ROOT

SHIPPED = ROOT / "sample_data" / "csv" / "customers.csv"


def count_customers(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(models.Customer)).scalar_one()


def test_shipped_customers_import_with_types_and_free_attributes(engine):
    with db.session_scope(engine) as session:
        summary = import_customers(session, SHIPPED)
    assert (summary.created, summary.updated) == (12, 0)
    with db.session_scope(engine) as session:
        harbour = session.scalar(select(models.Customer).where(models.Customer.external_ref == "C900001"))
        assert harbour.annual_value == 184000.0
        assert harbour.tenure_start == date(2016, 3, 1)
        assert harbour.consent_to_contact is True
        assert harbour.attributes == {"account_size": "large"}
        cobalt = session.scalar(select(models.Customer).where(models.Customer.external_ref == "C900003"))
        assert cobalt.consent_to_contact is False


def test_a_file_with_any_bad_row_writes_nothing_and_names_every_fault(engine, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "external_ref,name,consent_to_contact,annual_value,tenure_start,field_manager_email\n"
        "C1,Good Co,yes,100,2020-01-01,\n"
        "C2,,maybe,-5,2020-13-01,nobody@example.com\n"
        "C1,Again,no,1,,\n")
    with pytest.raises(ImportProblem) as caught:
        with db.session_scope(engine) as session:
            import_customers(session, path)
    assert caught.value.problems == [
        "customers.csv: row 3, column 'name': a value is required",
        "customers.csv: row 3, column 'consent_to_contact': 'maybe' is not yes/no",
        "customers.csv: row 3, column 'annual_value': '-5' must be a number of at least 0",
        "customers.csv: row 3, column 'tenure_start': '2020-13-01' is not a date (YYYY-MM-DD)",
        "customers.csv: row 3, column 'field_manager_email': no user with email 'nobody@example.com'",
        "customers.csv: row 4, column 'external_ref': 'C1' appears more than once in the file",
    ]
    assert count_customers(engine) == 0


def test_missing_required_columns_are_named(engine, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("ref,full_name\nC1,X\n")
    with pytest.raises(ImportProblem, match=r"c.csv: missing column\(s\): external_ref, name"):
        with db.session_scope(engine) as session:
            import_customers(session, path)


def test_a_non_utf8_file_is_refused_clearly(engine, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("external_ref,name\nC1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ImportProblem, match="latin.csv: the file is not UTF-8 text"):
        with db.session_scope(engine) as session:
            import_customers(session, path)
    assert count_customers(engine) == 0


def import_text(engine, tmp_path, text: str, name: str = "customers.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with db.session_scope(engine) as session:
        return import_customers(session, path)


def refused(engine, tmp_path, text: str) -> list[str]:
    """The problems of a refused import; the database must hold no customer afterwards."""
    with pytest.raises(ImportProblem) as caught:
        import_text(engine, tmp_path, text)
    assert count_customers(engine) == 0
    return caught.value.problems


# Finding 3 of issue 16: `1e999`, `inf` and `Infinity` were stored as +inf, and the Loyalty and value
# page then failed for every user.
@pytest.mark.parametrize("value", ["1e999", "inf", "Infinity", "-inf", "nan", "1e16"])
def test_an_annual_value_that_is_not_a_finite_number_in_range_is_refused(engine, tmp_path, value):
    problems = refused(engine, tmp_path, f"external_ref,name,annual_value\nC1,Good Co,10\nC2,Big Co,{value}\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"customers.csv: row 3, column 'annual_value': '{value}' ")


# Finding 4 of issue 16: "all rows or none" accepted malformed rows.
def test_an_unclosed_quote_is_refused_naming_its_row_instead_of_swallowing_the_rows_after_it(engine, tmp_path):
    problems = refused(engine, tmp_path, 'external_ref,name\nC1,"Good Co\nC2,Second\nC3,Third\n')
    assert len(problems) == 1 and problems[0].startswith("customers.csv: row 2 (lines 2-4): not a valid CSV row")


def test_a_stray_quote_inside_a_cell_is_refused(engine, tmp_path):
    problems = refused(engine, tmp_path, 'external_ref,name\nC1,Good Co\nC2,"Second" Co\n')
    assert len(problems) == 1 and problems[0].startswith("customers.csv: row 3 (line 3): not a valid CSV row")


def test_a_row_with_more_or_fewer_cells_than_the_header_is_refused(engine, tmp_path):
    problems = refused(engine, tmp_path, "external_ref,name,region\nC1,Good Co,North\nC2,Extra,South,Gold\nC3,Short\n")
    assert problems == [
        "customers.csv: row 3, column 'column 4': 4 cells, but the header names 3 columns (read as comma-separated)",
        "customers.csv: row 4, column 'region': 2 cells, but the header names 3 columns (read as comma-separated)",
    ]


def test_a_duplicated_or_empty_header_name_is_refused(engine, tmp_path):
    problems = refused(engine, tmp_path, "external_ref,name,region,,region\nC1,Good Co,North,,South\n")
    assert problems == [
        "customers.csv: row 1, column 4: the header names no column here (read as comma-separated); "
        "every column needs a name",
        "customers.csv: row 1, column 5: the header names 'region' again (first in column 3); "
        "each column may appear once",
    ]


@pytest.mark.parametrize("delimiter, name", [(";", "semicolon"), ("\t", "tab"), (",", "comma")])
def test_the_delimiter_is_detected_and_stated(engine, tmp_path, delimiter, name):
    rows = [["external_ref", "name", "annual_value"], ["C1", "Dupont, Fils & Cie", "12.5"], ["C2", "Two", ""]]
    text = "".join(delimiter.join(f'"{c}"' if "," in c else c for c in row) + "\n" for row in rows)
    summary = import_text(engine, tmp_path, text)
    assert (summary.created, summary.delimiter) == (2, delimiter)
    with engine.connect() as connection:
        names = connection.execute(select(models.Customer.name, models.Customer.annual_value)
                                   .order_by(models.Customer.external_ref)).all()
    assert [tuple(n) for n in names] == [("Dupont, Fils & Cie", 12.5), ("Two", None)]


def test_a_header_read_with_the_wrong_delimiter_says_how_it_was_read(engine, tmp_path):
    problems = refused(engine, tmp_path, "external_ref|name\nC1|X\n")
    assert problems == ["customers.csv: missing column(s): external_ref, name "
                        "(read as comma-separated, the header names: external_ref|name)"]


# Finding 6 of issue 16: a NUL was stored on SQLite and refused on PostgreSQL as "a database problem".
@pytest.mark.parametrize("column", ["name", "region", "account_size"])
def test_a_nul_character_is_refused_by_row_and_column_on_every_backend(engine, tmp_path, column):
    header = "external_ref,name,region,account_size"
    cells = {"name": "Good Co", "region": "North", "account_size": "large"}
    cells[column] = "bad\x00value"
    problems = refused(engine, tmp_path, f"{header}\nC0,Fine,South,small\nC1,{cells['name']},{cells['region']},"
                                         f"{cells['account_size']}\n")
    assert problems == [f"customers.csv: row 3, column '{column}': contains a NUL character (U+0000), "
                        "which cannot be stored"]


# Finding 7 of issue 16: any text was accepted as an email.
@pytest.mark.parametrize("email", ["not an email", "a@b", "two@@example.com", "x@example..com", "@example.com"])
def test_an_email_that_is_not_an_address_is_refused(engine, tmp_path, email):
    problems = refused(engine, tmp_path, f"external_ref,name,email\nC1,Good Co,ok@example.com\nC2,Bad Co,{email}\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"customers.csv: row 3, column 'email': {email!r} is not an email address")
