"""Storage: migrations build the models' schema, published versions never change, keys stay unique."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from survey.storage import db, models
from survey.definitions.definition import Question, Scale, load_yaml, with_questions
from survey.definitions.publishing import latest_version, list_surveys, publish, version_definition
from tests.conftest import SAMPLE_SURVEYS


def test_migrating_an_empty_database_to_head_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, models.Base.metadata) == []
    assert set(inspect(engine).get_table_names()) >= {t for t in models.Base.metadata.tables}


def test_upgrading_twice_changes_nothing(engine):
    db.upgrade(engine)
    head = ScriptDirectory.from_config(db.alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar_one() == head
    newest_file = max((db.MIGRATIONS / "versions").glob("0*.py")).name
    assert newest_file.startswith(head + "_")  # one head, and it is the newest migration


def test_migrations_downgrade_to_empty_and_upgrade_again(engine):
    from alembic import command
    command.downgrade(db.alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert "responses" in inspect(engine).get_table_names()


def test_a_populated_database_migrates_from_0003_to_head_and_answers_get_their_copies(database_url):
    # Batch migrations rebuild SQLite tables by copy, drop and rename: with foreign keys on, dropping
    # `users` while a customer points at it failed (0004); and 0006 must fill existing answers' copies.
    engine = db.make_engine(database_url)
    db.upgrade(engine, "0003")
    rows = [
        "insert into users (id, email, name, role, is_demo, created_at) "
        "values (1, 'fm@example.com', 'FM', 'field_manager', false, '2026-01-01 00:00:00')",
        "insert into customers (id, external_ref, name, consent_to_contact, field_manager_id, attributes, created_at) "
        "values (1, 'C1', 'One', false, 1, '{}', '2026-01-01 00:00:00')",
        "insert into surveys (id, slug, title, touchpoint, anonymous, status, created_at) "
        "values (1, 's', 'S', '', false, 'open', '2026-01-01 00:00:00')",
        "insert into survey_versions (id, survey_id, number, definition, content_hash, published_at) "
        "values (1, 1, 1, '{}', 'h', '2026-01-01 00:00:00')",
        "insert into responses (id, idempotency_key, content_hash, survey_id, survey_version_id, customer_id, channel, "
        "language, submitted_at) values (1, 'k', 'h', 1, 1, 1, 'web', 'en', '2026-01-02 03:04:05')",
        "insert into answers (id, response_id, question_key, numeric_value) values (1, 1, 'recommend', 9)",
    ]
    try:
        with engine.begin() as connection:
            for statement in rows:
                connection.execute(text(statement))
        db.upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(text(
                "select count(*) from answers a join responses r on r.id = a.response_id where a.survey_id = r.survey_id "
                "and a.submitted_at = r.submitted_at and a.customer_id = r.customer_id")).scalar_one() == 1
            assert connection.execute(text("select field_manager_id from customers")).scalar_one() == 1
    finally:
        engine.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == db.SQLITE_BUSY_TIMEOUT_MS


def test_database_url_defaults_to_a_sqlite_file_and_follows_the_environment(monkeypatch):
    monkeypatch.delenv("SURVEY_DATABASE_URL", raising=False)
    assert db.database_url() == "sqlite:///survey.db"
    monkeypatch.setenv("SURVEY_DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1/x")
    assert db.database_url() == "postgresql+psycopg://u:p@127.0.0.1/x"


def _add_response(session, version, key):
    response = models.Response(idempotency_key=key, content_hash="h", survey_id=version.survey_id,
                               survey_version_id=version.id, channel="web")
    response.answers.append(models.Answer(question_key="recommend", numeric_value=9))
    session.add(response)
    session.flush()
    return response


def test_publishing_a_changed_survey_with_responses_creates_the_next_version(engine):
    original = load_yaml(SAMPLE_SURVEYS / "post_support.yaml")
    with db.session_scope(engine) as session:
        first = publish(session, original)
        _add_response(session, first, "k1")
    changed = with_questions(original, original.questions + (
        Question("speed", "rating", {"en": "How fast were we?"}, scale=Scale(1, 5, {"en": ("Slow", "Fast")})),))
    with db.session_scope(engine) as session:
        assert publish(session, original).number == 1  # unchanged: same version
        second = publish(session, changed)
        assert second.number == 2
    with db.session_scope(engine) as session:
        versions = session.scalars(select(models.SurveyVersion).order_by(models.SurveyVersion.number)).all()
        assert [v.number for v in versions] == [1, 2]
        assert version_definition(versions[0]) == original  # version 1 reads back exactly as published
        assert version_definition(versions[1]) == changed
        response = session.scalars(select(models.Response)).one()
        assert response.survey_version_id == versions[0].id
        assert latest_version(session, "post-support").number == 2
        [summary] = list_surveys(session)
        assert (summary.versions, summary.responses) == (2, 1)


def test_a_published_version_cannot_be_edited_through_the_orm(engine):
    with db.session_scope(engine) as session:
        version = publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
    with pytest.raises(models.ImmutableRowError):
        with db.session_scope(engine) as session:
            stored = session.get(models.SurveyVersion, version.id)
            stored.definition = {"slug": "tampered"}


@pytest.mark.parametrize("statement", [
    "UPDATE survey_versions SET content_hash = 'x'",
    "DELETE FROM survey_versions",
])
def test_a_published_version_cannot_be_changed_by_raw_sql(engine, statement):
    with db.session_scope(engine) as session:
        publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("select content_hash from survey_versions")).scalar_one() != "x"


def test_an_idempotency_key_is_stored_once_by_the_database(engine):
    with db.session_scope(engine) as session:
        version = publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
        _add_response(session, version, "same-key")
    with pytest.raises(IntegrityError):
        with db.session_scope(engine) as session:
            _add_response(session, version, "same-key")
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from responses")).scalar_one() == 1


def test_foreign_keys_are_enforced(engine):
    with pytest.raises(IntegrityError):
        with db.session_scope(engine) as session:
            session.add(models.Answer(response_id=12345, question_key="q", numeric_value=1, survey_id=1,
                                      submitted_at=models.utc_now()))


def test_anonymity_cannot_be_switched_once_a_survey_has_responses(engine):
    from dataclasses import replace

    from survey.definitions.definition import DefinitionError

    original = load_yaml(SAMPLE_SURVEYS / "post_support.yaml")
    with db.session_scope(engine) as session:
        version = publish(session, original)
        _add_response(session, version, "k1")
    with pytest.raises(DefinitionError, match="'post-support' has responses: whether it is anonymous cannot change"):
        with db.session_scope(engine) as session:
            publish(session, replace(original, anonymous=True))
    with engine.connect() as connection:
        assert connection.execute(select(models.Survey.anonymous)).scalar_one() is False


def test_a_survey_with_personal_invitations_cannot_become_anonymous(engine):
    from dataclasses import replace

    from survey.definitions.definition import DefinitionError

    original = load_yaml(SAMPLE_SURVEYS / "post_support.yaml")
    with db.session_scope(engine) as session:
        version = publish(session, original)
        customer = models.Customer(external_ref="C-1", name="Ann")
        session.add(customer)
        session.flush()
        session.add(models.Invitation(token="tok", survey_id=version.survey_id, customer_id=customer.id))
    with pytest.raises(DefinitionError, match="'post-support' has personal invitations: it cannot become anonymous"):
        with db.session_scope(engine) as session:
            publish(session, replace(original, anonymous=True))
    with engine.connect() as connection:
        assert connection.execute(select(models.Survey.anonymous)).scalar_one() is False


def test_postgresql_sessions_use_utc_and_errors_hide_parameters(engine):
    from sqlalchemy.exc import StatementError

    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            assert connection.execute(text("SHOW timezone")).scalar_one() == "UTC"
    with pytest.raises(StatementError) as caught:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE token = :t"), {"t": "SECRET-token-abc"})
    assert "SECRET-token-abc" not in str(caught.value)


def _reader_in_the_wal(path):
    """A second connection in the middle of a read transaction that uses the WAL."""
    import sqlite3

    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM customers").fetchone()
    return reader


def test_purging_retries_the_wal_checkpoint_while_a_reader_finishes(tmp_path):
    path = tmp_path / "purge.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        session.add(models.Customer(external_ref="P-1", name="Purged Person"))
    reader = _reader_in_the_wal(path)
    waits = []

    def wait(seconds):  # the reader finishes while the purge waits
        waits.append(seconds)
        reader.rollback()

    assert db.purge_deleted_content(engine, ["customers"], wait=wait) is True
    assert len(waits) == 1  # the first checkpoint found the reader, the second emptied the WAL
    assert (tmp_path / "purge.db-wal").stat().st_size == 0
    with db.session_scope(engine) as session:
        session.add(models.Customer(external_ref="P-2", name="Another"))
    stuck = _reader_in_the_wal(path)  # a reader that never finishes: the purge says it could not
    assert db.purge_deleted_content(engine, ["customers"], attempts=2, wait=lambda seconds: None) is False
    stuck.close()
    engine.dispose()


def test_migration_0009_clears_the_infinite_annual_values_earlier_imports_stored(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine, "0008")
    with engine.begin() as connection:
        for ref, value in (("inf", float("inf")), ("minus", float("-inf")), ("fine", 1200.5), ("none", None)):
            connection.execute(models.Customer.__table__.insert().values(external_ref=ref, name=ref, annual_value=value,
                                                                         attributes={}))
    db.upgrade(engine)
    with engine.connect() as connection:
        values = dict(connection.execute(select(models.Customer.external_ref, models.Customer.annual_value)).all())
    engine.dispose()
    assert values == {"inf": None, "minus": None, "fine": 1200.5, "none": None}
