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
