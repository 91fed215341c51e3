"""The import page: an uploaded CSV is checked row by row; a bad file stores nothing and says why."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey.storage import db, models
from survey.collection.customers import import_customers
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from tests.conftest import ROOT, SAMPLE_SURVEYS, signed_in_page

SHIPPED = ROOT / "sample_data" / "csv"


@pytest.fixture
def page(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:  # a published survey: the app adds no demo data
        for name in ("relationship_nps.yaml", "post_support.yaml"):
            publish(session, load_yaml(SAMPLE_SURVEYS / name))
        import_customers(session, SHIPPED / "customers.csv")
    app = signed_in_page("import_answers")
    app.run()
    return app, engine


def responses(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(models.Response)).scalar_one()


def test_uploading_the_shipped_file_stores_each_response_once(page):
    app, engine = page
    content = (SHIPPED / "responses.csv").read_bytes()
    app.file_uploader[0].set_value(("responses.csv", content, "text/csv")).run()
    app.button[0].click().run()
    assert not app.exception
    assert app.success[0].value == "7 responses stored, 0 already stored (read as comma-separated)."
    app.button[0].click().run()
    assert app.success[0].value == "0 responses stored, 7 already stored (read as comma-separated)."
    assert responses(engine) == 7


def test_a_bad_upload_stores_nothing_and_lists_row_column_and_problem(page):
    app, engine = page
    bad = b"submitted_at,csat,effort\n2026-01-01T10:00,5,7\n2026-01-01T10:05,9,7\n"
    app.selectbox[0].set_value("post-support")
    app.file_uploader[0].set_value(("kiosk.csv", bad, "text/csv")).run()
    app.button[0].click().run()
    assert app.error[0].value == "Nothing was imported: 1 problem(s) in the file."
    report = app.dataframe[0].value
    assert report.to_dict("records") == [{"row": 3, "column": "csat", "problem": "9 is outside the scale 1-5"}]
    assert responses(engine) == 0


def test_a_semicolon_separated_upload_is_read_as_such_and_the_page_says_so(page):
    app, engine = page
    content = b"submitted_at;csat;effort;comment\n2026-01-01T10:00;5;7;Quick, friendly\n"
    app.selectbox[0].set_value("post-support")
    app.file_uploader[0].set_value(("kiosk.csv", content, "text/csv")).run()
    app.button[0].click().run()
    assert app.success[0].value == "1 responses stored, 0 already stored (read as semicolon-separated)."
    assert responses(engine) == 1


def test_a_malformed_upload_names_its_row_and_stores_nothing(page):
    app, engine = page
    bad = b'submitted_at,csat,effort,comment\n2026-01-01T10:00,2,7,"Slow\n2026-01-02T10:00,5,7,Fine\n'
    app.selectbox[0].set_value("post-support")
    app.file_uploader[0].set_value(("kiosk.csv", bad, "text/csv")).run()
    app.button[0].click().run()
    assert app.error[0].value == "Nothing was imported: 1 problem(s) in the file."
    assert app.text[0].value.startswith("kiosk.csv: row 2 (lines 2-3): not a valid CSV row")
    assert responses(engine) == 0


def test_the_page_offers_the_shipped_sample_file(page):
    app, _ = page
    buttons = [b for b in app.get("download_button") if "sample" in b.proto.label]
    assert len(buttons) == 1 and buttons[0].proto.label == "Download a sample file (CSV)"
