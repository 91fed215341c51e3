"""Customer events: the CSV import and the API route store all rows or none, name every fault by row
(or field) and column, and store each event id once."""

from __future__ import annotations

import warnings
from datetime import date

import pytest
from sqlalchemy import func, select

from survey import cli
from survey.collection import api
from survey.collection.csvfiles import ImportProblem
from survey.collection.customers import import_customers
from survey.people.access import Actor
from survey.people.privacy import erase_customer
from survey.retention.events import import_events
from survey.storage import db, models
from tests.collection.test_api_concurrency import prepare_database
from tests.conftest import ROOT

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

SHIPPED = ROOT / "sample_data" / "csv" / "customer_events.csv"
CUSTOMERS = ROOT / "sample_data" / "csv" / "customers.csv"
TODAY = date(2026, 12, 1)
HEADER = "event_id,customer_ref,kind,date,value,reason,reason_text\n"


@pytest.fixture
def customers(engine):
    with db.session_scope(engine) as session:
        import_customers(session, CUSTOMERS)
    return engine


def count_events(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(models.CustomerEvent)).scalar_one()


def run_import(engine, path, **kwargs):
    with db.session_scope(engine) as session:
        return import_events(session, path, today=TODAY, **kwargs)


def test_the_shipped_file_imports_with_types_and_a_second_import_stores_nothing_again(customers):
    first = run_import(customers, SHIPPED)
    assert (first.created, first.unchanged) == (8, 0)
    again = run_import(customers, SHIPPED)
    assert (again.created, again.unchanged) == (0, 8)
    assert count_events(customers) == 8
    with db.session_scope(customers) as session:
        left = session.scalar(select(models.CustomerEvent).where(models.CustomerEvent.event_ref == "CAN-5001"))
        assert (left.kind, left.occurred_on, left.reason, left.value, left.source) == (
            "defection", date(2026, 4, 30), "service", None, "import")
        assert left.reason_text.startswith("Nobody called back")
        renewal = session.scalar(select(models.CustomerEvent).where(models.CustomerEvent.event_ref == "REN-2026-C900003"))
        assert renewal.value == 310000.0


@pytest.mark.parametrize("row, column, problem", [
    (",C900001,purchase,2026-01-01,1,,", "event_id", "a value is required"),
    ("E1,,purchase,2026-01-01,1,,", "customer_ref", "a value is required"),
    ("E1,NOBODY,purchase,2026-01-01,1,,", "customer_ref", "no customer with reference 'NOBODY' (import customers first)"),
    ("E1,C900001,refund,2026-01-01,1,,", "kind", "'refund' is not a kind of event (expected one of: purchase, renewal, defection)"),
    ("E1,C900001,,2026-01-01,1,,", "kind", "a value is required"),
    ("E1,C900001,purchase,,1,,", "date", "a value is required"),
    ("E1,C900001,purchase,2026-02-30,1,,", "date", "'2026-02-30' is not a date (YYYY-MM-DD)"),
    ("E1,C900001,purchase,2027-01-01,1,,", "date", "2027-01-01 is in the future"),
    ("E1,C900001,purchase,1850-01-01,1,,", "date", "1850-01-01 is before 1900-01-01"),
    ("E1,C900001,purchase,2026-01-01,ten,,", "value", "'ten' is not a number"),
    ("E1,C900001,purchase,2026-01-01,-1,,", "value", "'-1' must be a number of at least 0"),
    ("E1,C900001,purchase,2026-01-01,inf,,", "value", "'inf' is not a finite number"),
    ("E1,C900001,purchase,2026-01-01,1e16,,", "value", "'1e16' must be a number of at most 1e+15"),
    ("E1,C900001,purchase,2026-01-01,1,price,", "reason", "only a defection has a reason"),
    ("E1,C900001,renewal,2026-01-01,1,,cheaper", "reason_text", "only a defection has a reason text"),
    ("E1,C900001,defection,2026-01-01,,,", "reason", "a defection needs a reason (one of: price, product, service, "
                                                     "benefit, competitor, personal, other)"),
    ("E1,C900001,defection,2026-01-01,,weather,", "reason", "'weather' is not a reason for leaving (expected one of: "
                                                           "price, product, service, benefit, competitor, personal, other)"),
    ("E1,C900001,defection,2026-01-01,100,price,", "value", "a defection has no value (the value belongs to "
                                                           "purchases and renewals)"),
    ("E1,C900001,purchase,2026-01-01,1,,,extra", "column 8", "8 cells, but the header names 7 columns (read as "
                                                           "comma-separated)"),
    ("E1,C900001,purchase,2026-01-01,1,,a\x00b", "reason_text", "contains a NUL character (U+0000), which cannot be stored"),
])
def test_each_fault_is_named_by_row_and_column_and_nothing_is_written(customers, tmp_path, row, column, problem):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "GOOD-1,C900002,purchase,2026-01-01,5,,\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ImportProblem) as caught:
        run_import(customers, path)
    assert caught.value.problems == [f"events.csv: row 3, column {column!r}: {problem}"]
    assert [(f.row, f.column) for f in caught.value.faults] == [(3, column)]
    assert count_events(customers) == 0  # the good row 2 is not written either


def test_every_fault_of_a_file_is_listed_at_once(customers, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "E1,C900001,purchase,2026-01-01,5,,\n"
                    "E1,C900002,purchase,2026-01-02,5,,\n"
                    "E2,NOBODY,defection,2026-13-01,,,\n", encoding="utf-8")
    with pytest.raises(ImportProblem) as caught:
        run_import(customers, path)
    assert [(f.row, f.column) for f in caught.value.faults] == [
        (3, "event_id"), (4, "customer_ref"), (4, "date"), (4, "reason")]
    assert "first at row 2" in caught.value.problems[0]


def test_an_event_id_stored_with_other_content_is_a_fault_not_an_overwrite(customers, tmp_path):
    run_import(customers, SHIPPED)
    path = tmp_path / "changed.csv"
    path.write_text(HEADER + "ORD-10001,C900001,purchase,2026-01-14,99999,,\nNEW-1,C900001,purchase,2026-03-01,1,,\n")
    with pytest.raises(ImportProblem) as caught:
        run_import(customers, path)
    assert caught.value.problems == ["changed.csv: row 2, column 'event_id': event id 'ORD-10001' is already stored "
                                     "with other content; an event is never overwritten"]
    assert count_events(customers) == 8
    with db.session_scope(customers) as session:
        assert session.scalar(select(models.CustomerEvent.value).where(
            models.CustomerEvent.event_ref == "ORD-10001")) == 15200


def test_the_reasons_follow_the_setting_and_a_semicolon_file_is_read(customers, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_DEFECTION_REASONS", "Moved away, Closed down")
    path = tmp_path / "events.csv"
    path.write_text(HEADER.replace(",", ";") + "X1;C900001;defection;2026-05-01;;closed down;\n")
    summary = run_import(customers, path)
    assert (summary.created, summary.delimiter) == (1, ";")
    path.write_text(HEADER + "X2,C900001,defection,2026-05-01,,price,\n")
    with pytest.raises(ImportProblem, match="expected one of: moved away, closed down"):
        run_import(customers, path)


def test_missing_columns_are_named(customers, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event_id,customer,kind,date\nE1,C900001,purchase,2026-01-01\n")
    with pytest.raises(ImportProblem, match=r"missing column\(s\): customer_ref"):
        run_import(customers, path)


def test_the_cli_imports_then_reports_already_stored_and_names_faults(customers, database_url, monkeypatch, capsys,
                                                                       tmp_path):
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    assert cli.main(["events", "import", str(SHIPPED)]) == 0
    assert cli.main(["events", "import", str(SHIPPED)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["8 events stored, 0 already stored (read as comma-separated)",
                   "0 events stored, 8 already stored (read as comma-separated)"]
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Z1,C900001,gift,2026-01-01,,,\n")
    assert cli.main(["events", "import", str(bad)]) != 0
    assert "row 2, column 'kind'" in capsys.readouterr().err


def test_erasing_a_customer_removes_their_words_and_keeps_the_dated_events(customers):
    run_import(customers, SHIPPED)
    erase_customer(customers, Actor.command_line(), "C900004")
    with db.session_scope(customers) as session:
        left = session.scalar(select(models.CustomerEvent).where(models.CustomerEvent.event_ref == "CAN-5001"))
        assert left.reason_text is None and left.reason == "service" and left.occurred_on == date(2026, 4, 30)


# -- the API route ----------------------------------------------------------------------------------

PATH = "/api/v1/customer-events"


@pytest.fixture
def client(database_url):
    key = prepare_database(database_url)
    engine = db.make_engine(database_url)
    with db.session_scope(engine) as session:
        import_customers(session, CUSTOMERS)
    survey_api = api.SurveyApi(database_url)
    with TestClient(Starlette(routes=survey_api.routes())) as test_client:
        test_client.headers["X-API-Key"] = key
        test_client.engine = engine
        yield test_client
    survey_api.dispose()
    engine.dispose()


EVENT = {"event_id": "API-1", "customer_ref": "C900001", "kind": "purchase", "date": "2026-03-01", "value": 120.5}
LEFT = {"event_id": "API-2", "customer_ref": "C900002", "kind": "defection", "date": "2026-04-01",
        "reason": "service", "reason_text": "Waited a week for an answer."}


def test_posting_events_stores_them_once_and_a_retry_is_200_unchanged(client):
    first = client.post(PATH, json={"events": [EVENT, LEFT]})
    assert first.status_code == 201 and first.json() == {"created": 2, "unchanged": 0}
    again = client.post(PATH, json={"events": [EVENT, LEFT]})
    assert again.status_code == 200 and again.json() == {"created": 0, "unchanged": 2}
    assert count_events(client.engine) == 2
    with db.session_scope(client.engine) as session:
        assert session.scalar(select(models.CustomerEvent.source).where(models.CustomerEvent.event_ref == "API-1")) == "api"


def test_posted_faults_are_422_naming_each_field_and_nothing_is_stored(client):
    body = {"events": [EVENT, {**LEFT, "reason": "weather", "value": 5}, {**EVENT, "event_id": "API-3", "date": 20260301,
                                                                             "colour": "red"}, "not an event"]}
    response = client.post(PATH, json=body)
    assert response.status_code == 422
    fields = [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert fields == [("events[2].colour", "invalid_event"), ("events[3]", "invalid_event"),
                      ("events[1].value", "invalid_event"), ("events[1].reason", "invalid_event"),
                      ("events[2].date", "invalid_event")]
    assert "must be a string, got int" in response.json()["errors"][-1]["message"]
    assert count_events(client.engine) == 0


@pytest.mark.parametrize("body", [[], {"events": []}, {"events": {}}, {"events": [EVENT], "extra": 1},
                                  {"events": [{}] * 501}])
def test_a_body_of_the_wrong_shape_is_422_on_body(client, body):
    response = client.post(PATH, json=body)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body"


def test_the_same_event_id_with_other_content_is_422_and_the_first_stays(client):
    assert client.post(PATH, json={"events": [EVENT]}).status_code == 201
    response = client.post(PATH, json={"events": [{**EVENT, "value": 1}]})
    assert response.status_code == 422 and "already stored with other content" in response.json()["errors"][0]["message"]
    assert client.post(PATH, json={"events": [EVENT]}, headers={"X-API-Key": "sk_wrong"}).status_code == 401
    assert client.get(PATH).status_code == 405


def test_the_same_events_posted_at_once_are_stored_once(database_url):
    # Four requests race with the same two events: exactly one stores them, the others find them stored
    from concurrent.futures import ThreadPoolExecutor

    prepare_database(database_url)
    engine = db.make_engine(database_url)
    with db.session_scope(engine) as session:
        import_customers(session, CUSTOMERS)
    survey_api = api.SurveyApi(database_url)
    try:
        with ThreadPoolExecutor(4) as pool:
            summaries = list(pool.map(lambda _: survey_api.events_sync({"events": [EVENT, LEFT]}), range(4)))
    finally:
        survey_api.dispose()
    assert sorted(s.created for s in summaries) == [0, 0, 0, 2]
    assert sorted(s.unchanged for s in summaries) == [0, 2, 2, 2]
    assert count_events(engine) == 2
    engine.dispose()
