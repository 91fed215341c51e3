"""Erasure reaches the disk and breaks every link (issue 16, findings 1 and 2).

A real `streamlit run app.py` server holds the database open and has written the customer's
answers; `python -m survey customer erase` runs as its own process beside it. Afterwards none of
the customer's identifying values is in any table, in the SQLite main file, in its WAL, in any
PostgreSQL row version (dead ones included, read from the heap pages), or in an export written
afterwards; and no row leads from the kept answers back to the customer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from survey.collection import collect
from survey.people import privacy
from survey.people.access import Actor
from survey.storage import db, models, queries
from survey.storage.filters import Filters
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish, version_definition
from survey.exports import write_csv
from tests.collection.test_api_concurrency import Server, prepare_database
from tests.conftest import ROOT, SAMPLE_SURVEYS, fresh_database_url

CLI = Actor.command_line()
NAME, EMAIL, PHONE, REF = "Zebulon Quistgaard", "zq.erasure@example.org", "+44 20 7946 0999", "CQ-777X"
IDENTIFIERS = (NAME, EMAIL, PHONE, REF, "+442079460999")
TOKEN = "tok-erasure-0123456789abcdef"


def stored_values(engine) -> list[str]:
    """Every value of every table, as text."""
    found = []
    with engine.connect() as connection:
        for table in models.Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                found += [json.dumps(v) if isinstance(v, (dict, list)) else str(v) for v in row if v is not None]
    return found


def traces(texts) -> list[str]:
    return [t for t in texts for i in IDENTIFIERS if i.lower() in t.lower()]


def file_traces(url: str) -> dict[str, list[str]]:
    """The identifiers found in the bytes of the SQLite main file, its WAL and its shared-memory file."""
    main = Path(url.removeprefix("sqlite:///"))
    found = {}
    for path in (main, main.with_name(main.name + "-wal"), main.with_name(main.name + "-shm")):
        if path.exists():
            content = path.read_bytes().lower()
            found[path.name] = [i for i in IDENTIFIERS if i.lower().encode() in content]
    return found


def dead_row_traces(engine) -> list[str]:
    """PostgreSQL: the identifiers found in any row version, live or dead, of every table, read
    from the heap pages themselves (pageinspect: what a file copy of the tables would hold)."""
    found = []
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        block = int(connection.exec_driver_sql("SELECT current_setting('block_size')").scalar_one())
        for table in (t.name for t in models.Base.metadata.sorted_tables):
            pages = connection.exec_driver_sql(f"SELECT pg_relation_size('{table}')").scalar_one() // block
            for page in range(pages):
                for (data,) in connection.exec_driver_sql(
                        f"SELECT t_data FROM heap_page_items(get_raw_page('{table}', {page}))"):
                    if data is not None:
                        found += [f"{table}: {i}" for i in IDENTIFIERS if i.lower().encode() in bytes(data).lower()]
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path):
    """A database with the sample surveys, the customer and their invitation, and a server on it."""
    backend = fresh_database_url(request.param, tmp_path)
    url = next(backend)
    key = prepare_database(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as session:
        customer = models.Customer(external_ref=REF, name=NAME, email=EMAIL, phone=PHONE, consent_to_contact=True,
                                   region="North", tier="Gold", attributes={"note": f"key account of {NAME}"})
        session.add(customer)
        session.flush()
        survey_id = session.scalar(select(models.Survey.id).where(models.Survey.slug == "post-support"))
        session.add(models.Invitation(token=TOKEN, survey_id=survey_id, customer_id=customer.id))
    server = Server(url, key).start()
    try:
        yield server, engine
    finally:
        server.stop()
        engine.dispose()
        backend.close()


def test_erasure_beside_a_running_server_leaves_no_value_in_tables_files_or_later_exports(served, tmp_path):
    server, engine = served
    status, body = server.submit({"idempotency_key": "erasure-1", "token": TOKEN, "answers": {
        "csat": 1, "effort": 1, "resolved": "no", "comment": f"I am {NAME}, mail {EMAIL} or call {PHONE}"}})
    assert status == 201, body
    kept_id = body["response_id"]
    assert len(traces(stored_values(engine))) >= 5  # the test would see them if they stayed
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        assert any(file_traces(server.url).values())
    else:
        assert dead_row_traces(engine)

    env = {**os.environ, "SURVEY_DATABASE_URL": server.url}
    erased = subprocess.run([sys.executable, "-m", "survey", "customer", "erase", REF], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert erased.returncode == 0, erased.stderr
    assert "warning" not in erased.stderr

    assert traces(stored_values(engine)) == []
    if sqlite:
        assert file_traces(server.url) == {name: [] for name in file_traces(server.url)}
    else:  # the old row versions an UPDATE leaves behind were vacuumed away
        assert dead_row_traces(engine) == []
    # the server, still running, keeps working; and nothing it writes brings the values back
    status, _ = server.submit({"idempotency_key": "erasure-2", "answers": {"csat": 5, "effort": 7}})
    assert status == 201
    if sqlite:
        assert not any(file_traces(server.url).values())

    rows = list(queries.iter_responses(engine, CLI, Filters("post-support"), ("csat", "comment")))
    export = tmp_path / "responses.csv"
    write_csv(export, [f"c{i}" for i in range(len(rows[0]))], rows)
    (tmp_path / "d").mkdir()
    digests = subprocess.run([sys.executable, "-m", "survey", "followup", "digest", "--out", str(tmp_path / "d")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert digests.returncode == 0, digests.stderr
    written = export.read_text(encoding="utf-8-sig") + "".join(
        p.read_bytes().decode("latin-1") for p in (tmp_path / "d").glob("*") if p.is_file())
    assert "I am [erased], mail [erased] or call [erased]" in written  # the kept answer is exported...
    assert traces([written]) == []  # ...without them
    with engine.connect() as connection:
        kept = connection.execute(select(models.Response.customer_id).where(models.Response.id == kept_id)).one()
    assert kept.customer_id is None


# Finding 2 of issue 16: kept answers stayed linked to the erased customer through follow_up_cases and case_flags.
def rows_naming_the_response(connection, response_id: int) -> dict[str, int]:
    """For every column anywhere that refers to responses.id (found from the schema, so a new one is
    covered), the rows naming `response_id`; answers are the response itself and are left out."""
    found = {}
    for table in models.Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "responses" for fk in column.foreign_keys) and table.name != "answers":
                count = connection.execute(select(table).where(column == response_id)).all()
                found[f"{table.name}.{column.name}"] = len(count)
    return found


def test_no_row_leads_from_a_kept_answer_back_to_the_erased_customer(engine):
    with db.session_scope(engine) as session:
        version = publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
        customer = models.Customer(external_ref=REF, name=NAME, email=EMAIL, phone=PHONE, consent_to_contact=True)
        session.add(customer)
        session.flush()
        customer_id = customer.id
        stored = collect.submit(session, version, version_definition(version),
                                {"csat": 1, "effort": 1, "resolved": "no", "comment": "slow"},
                                idempotency_key="k-1", channel="web", customer_id=customer.id)
    with engine.connect() as connection:
        before = rows_naming_the_response(connection, stored.response_id)
    assert {"follow_up_cases.response_id", "case_flags.response_id"} <= set(before)
    assert before["follow_up_cases.response_id"] == 1 and before["case_flags.response_id"] >= 1  # a case was opened

    done = privacy.erase_customer(engine, CLI, REF)
    assert done.responses_unlinked == 1
    with engine.connect() as connection:
        after = rows_naming_the_response(connection, stored.response_id)
        response = connection.execute(select(models.Response).where(models.Response.id == stored.response_id)).one()
        answer_customers = connection.execute(select(models.Answer.customer_id)
                                              .where(models.Answer.response_id == stored.response_id)).scalars().all()
        cases = connection.execute(select(models.FollowUpCase.customer_id)).scalars().all()
    assert after == {name: 0 for name in before}
    assert response.customer_id is None and response.invitation_id is None
    assert set(answer_customers) == {None}
    assert cases == [customer_id]  # the case stays (for the field manager's figures), linked to no answer
