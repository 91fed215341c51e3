"""Bulk writes through the driver store exactly what SQLAlchemy's own insert stores, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import exc, select

from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from survey.storage import bulk, db, models
from tests.conftest import ROOT

SAMPLE = ROOT / "sample_data/surveys/relationship_nps.yaml"


def _survey_version(session) -> models.SurveyVersion:
    publish(session, load_yaml(SAMPLE))
    return session.scalars(select(models.SurveyVersion)).one()


def _response(version, key: str, moment: datetime) -> dict:
    return dict(idempotency_key=key, content_hash="h" * 64, survey_id=version.survey_id,
                survey_version_id=version.id, customer_id=None, invitation_id=None, channel="import",
                language="en", submitted_at=moment)


def test_rows_written_in_bulk_read_back_as_through_the_orm(engine):
    """Timestamps (one shared by many rows, as an answer's response time is), JSON, NULLs and
    text with tabs and newlines come back equal to what an ordinary Core insert stores."""
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone.utc)
    with db.session_scope(engine) as session:
        version = _survey_version(session)
        connection = session.connection()
        table = models.Response.__table__
        bulk.insert_rows(connection, table, [_response(version, "bulk-1", moment),
                                             _response(version, "bulk-2", moment + timedelta(days=1))])
        connection.execute(table.insert(), [_response(version, "core-1", moment)])
        ids = bulk.ids_by_key(connection, table, ["idempotency_key"], ["bulk-1", "bulk-2", "core-1", "missing"])
        answers = [dict(response_id=ids["bulk-1"], question_key=f"q{i}", numeric_value=None if i % 2 else i / 3,
                        text_value="tab\there\nline\\slash" if i % 2 else None, survey_id=version.survey_id,
                        submitted_at=moment, customer_id=None) for i in range(5)]
        bulk.insert_rows(connection, models.Answer.__table__, answers)
    assert set(ids) == {"bulk-1", "bulk-2", "core-1"}
    with db.session_scope(engine) as session:
        stored = {r.idempotency_key: r for r in session.scalars(select(models.Response))}
        assert models.as_utc(stored["bulk-1"].submitted_at) == moment == models.as_utc(stored["core-1"].submitted_at)
        assert models.as_utc(stored["bulk-2"].submitted_at) == moment + timedelta(days=1)
        assert stored["bulk-1"].id == ids["bulk-1"] and stored["bulk-1"].customer_id is None
        read = {a.question_key: a for a in session.scalars(select(models.Answer))}
        assert [(read[f"q{i}"].numeric_value, read[f"q{i}"].text_value) for i in range(5)] == [
            (a["numeric_value"], a["text_value"]) for a in answers]
        assert all(models.as_utc(a.submitted_at) == moment for a in read.values())
        # the database compares the bulk-written time with one bound by SQLAlchemy (same text form on SQLite)
        assert session.scalar(select(models.Response.idempotency_key)
                              .where(models.Response.submitted_at == moment, models.Response.idempotency_key == "bulk-1"))


def test_json_columns_and_two_column_keys(engine):
    moment = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)
    with db.session_scope(engine) as session:
        version = _survey_version(session)
        session.add(models.Customer(external_ref="C1", name="One", consent_to_contact=True))
        session.flush()
        customer_id = session.scalar(select(models.Customer.id))
        connection = session.connection()
        table = models.FollowUpCase.__table__
        bulk.insert_rows(connection, table, [dict(
            customer_id=customer_id, survey_id=version.survey_id, status="open", priority=2, due_at=None,
            reasons={"rules": ["low score"], "repeat": False}, last_flagged_at=moment, flagged_question="recommend",
            flagged_score=3.0, response_id=None, owner_id=None, created_at=moment)])
        ids = bulk.ids_by_key(connection, table, ["customer_id", "survey_id"], [(customer_id, version.survey_id)],
                              [table.c.status == "open"])
    with db.session_scope(engine) as session:
        case = session.get(models.FollowUpCase, ids[(customer_id, version.survey_id)])
        assert case.reasons == {"rules": ["low score"], "repeat": False}
        assert models.as_utc(case.created_at) == moment and case.due_at is None


def test_a_driver_error_is_raised_as_sqlalchemys(engine):
    """Callers catch SQLAlchemy's IntegrityError (a concurrent case, a reused key): the driver's
    own exception must arrive as that, and the savepoint leaves nothing written."""
    moment = datetime(2026, 1, 2, tzinfo=timezone.utc)
    with db.session_scope(engine) as session:
        version = _survey_version(session)
        bulk.insert_rows(session.connection(), models.Response.__table__, [_response(version, "k", moment)])
        with pytest.raises(exc.IntegrityError):
            with session.begin_nested():
                bulk.insert_rows(session.connection(), models.Response.__table__,
                                 [_response(version, "other", moment), _response(version, "k", moment)])
    with db.session_scope(engine) as session:
        assert session.scalars(select(models.Response.idempotency_key)).all() == ["k"]


def _answer_indexes(bind) -> dict[str, tuple]:
    """The answers' indexes as an engine (the committed schema) or a connection (its own) sees them."""
    from sqlalchemy import inspect

    return {index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
            for index in inspect(bind).get_indexes("answers")}


def test_a_bulk_load_builds_the_indexes_it_dropped_even_when_it_fails(engine):
    migrated = _answer_indexes(engine)
    assert "ix_answers_customer_history" in migrated
    with pytest.raises(RuntimeError):
        with bulk.indexes_built_afterwards(engine, models.Answer.__table__):
            assert _answer_indexes(engine) == {}  # the answers table has no unique index of its own
            raise RuntimeError("the load fails half-way")
    assert _answer_indexes(engine) == migrated


def test_indexes_a_killed_load_left_dropped_are_built_at_the_next_start(engine):
    from survey.bootstrap import prepare_database

    migrated = _answer_indexes(engine)
    with engine.begin() as connection:  # as a bulk load killed between its drop and its build leaves it
        for index in models.Answer.__table__.indexes:
            index.drop(connection)
    assert _answer_indexes(engine) == {}
    prepare_database(engine, with_demo_data=False, announce=lambda text: None)
    assert _answer_indexes(engine) == migrated
    assert bulk.restore_missing_indexes(engine) == []


def _index_sql(connection) -> list[tuple]:
    """The answers' indexes as SQLite stores them, in creation order (which its planner's ties follow)."""
    return list(connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'answers' ORDER BY rowid"))


def _answers(version, response_id: int, count: int) -> list[dict]:
    moment = datetime(2026, 5, 1, tzinfo=timezone.utc)
    return [dict(response_id=response_id, question_key=f"q{i}", numeric_value=float(i % 11), text_value=None,
                 survey_id=version.survey_id, submitted_at=moment, customer_id=1 + i % 2) for i in range(count)]


def test_a_write_outnumbering_the_stored_rows_builds_the_indexes_after_it_within_its_transaction(engine):
    """On SQLite the indexes are gone inside the block for this transaction only, come back in
    their order with planner statistics, and a rollback keeps them; into a larger table, or on
    PostgreSQL, the block leaves them alone."""
    migrated = _answer_indexes(engine)
    table = models.Answer.__table__
    with db.session_scope(engine) as session:
        version = _survey_version(session)
        bulk.insert_rows(session.connection(), models.Response.__table__,
                         [_response(version, "k", datetime(2026, 5, 1, tzinfo=timezone.utc))])
        response_id = session.scalar(select(models.Response.id))
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        with engine.connect() as connection:
            order = _index_sql(connection)
    with engine.connect() as connection, connection.begin():
        with bulk.indexes_built_after_writing(connection, table, rows=50):
            assert _answer_indexes(engine) == migrated  # other connections see the committed schema
            if sqlite:
                assert _index_sql(connection) == []
            bulk.insert_rows(connection, table, _answers(version, response_id, 50))
        if sqlite:
            assert _index_sql(connection) == order
            analysed = {name for (name,) in connection.exec_driver_sql(
                "SELECT idx FROM sqlite_stat1 WHERE tbl = 'answers'")}
            assert analysed == {name for name, _ in order}
    assert _answer_indexes(engine) == migrated
    with pytest.raises(RuntimeError):
        with engine.connect() as connection, connection.begin():
            with bulk.indexes_built_after_writing(connection, table, rows=1_000):
                bulk.insert_rows(connection, table, _answers(version, response_id, 10))
                raise RuntimeError("the import fails half-way")
    assert _answer_indexes(engine) == migrated
    with engine.connect() as connection, connection.begin():
        with bulk.indexes_built_after_writing(connection, table, rows=50):  # no more than the 50 stored
            assert _answer_indexes(connection) == migrated


def test_an_import_into_an_empty_answers_table_leaves_its_indexes_as_migrated(tmp_path):
    """The import's rebuild (`indexes_built_after_writing`) ends with the same indexes, in the same order."""
    from survey.collection.customers import import_customers
    from survey.collection.response_import import import_responses

    engine = db.make_engine(f"sqlite:///{tmp_path / 'import.db'}")
    db.upgrade(engine)
    with engine.connect() as connection:
        migrated = _index_sql(connection)
    with db.session_scope(engine) as session:
        publish(session, load_yaml(SAMPLE))
        import_customers(session, ROOT / "sample_data/csv/customers.csv")
        summary = import_responses(session, ROOT / "sample_data/csv/responses.csv", skip_invalid=True)
    assert summary.stored > 0
    with engine.connect() as connection:
        assert _index_sql(connection) == migrated


def test_demo_data_leaves_the_answers_and_responses_indexes_as_they_were(tmp_path):
    """Same indexes, same definitions, in the same order (SQLite's planner breaks ties by it; the
    order migrations leave varies from one database to the next, so compare with the same one)."""
    from survey import demo

    def index_sql(engine):
        with engine.connect() as connection:
            return list(connection.exec_driver_sql(
                "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('answers', 'responses') ORDER BY tbl_name, rowid"))

    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    db.upgrade(engine)
    migrated = index_sql(engine)
    demo.generate(engine, customers=50, responses=500, seed=3, progress=False)
    assert index_sql(engine) == migrated
    assert len([row for row in migrated if row[2] is not None]) == 8  # four each, beside the unique keys
