"""Response CSV import: the web form's rules per row, all rows or none, and a re-import stores nothing twice."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from survey.storage import db, models
from survey.collection.csvfiles import ImportProblem
from survey.collection.customers import import_customers
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from survey.collection.response_import import import_responses
from tests.conftest import ROOT, SAMPLE_SURVEYS

SHIPPED = ROOT / "sample_data" / "csv"


@pytest.fixture
def prepared(engine):
    with db.session_scope(engine) as session:
        for name in ("relationship_nps.yaml", "post_support.yaml"):
            publish(session, load_yaml(SAMPLE_SURVEYS / name))
        import_customers(session, SHIPPED / "customers.csv")
    return engine


def counts(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return tuple(connection.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (models.Response, models.Answer))


def test_shipped_responses_import_once_even_when_imported_twice(prepared):
    with db.session_scope(prepared) as session:
        first = import_responses(session, SHIPPED / "responses.csv")
    with db.session_scope(prepared) as session:
        second = import_responses(session, SHIPPED / "responses.csv")
    assert (first.stored, first.already_stored) == (7, 0)
    assert (second.stored, second.already_stored) == (0, 7)
    # by hand from the file: 5 relationship rows with 9 numeric answers each, 2 why_low answers
    # (recommend 6 and 3) and 3 comments; 2 support rows with csat, effort, resolved, plus one comment
    assert counts(prepared) == (7, 5 * 9 + 2 + 3 + 2 * 3 + 1)
    with prepared.connect() as connection:
        rows = connection.execute(select(models.Response.channel, models.Response.language)
                                  .order_by(models.Response.submitted_at)).all()
    assert [tuple(r) for r in rows][:4] == [("phone", "en"), ("phone", "en"), ("paper", "en"), ("phone", "fr")]


def test_any_bad_row_writes_nothing_and_every_fault_is_named(prepared, tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text(
        "survey,submitted_at,customer_ref,language,csat,effort,resolved\n"
        "post-support,2026-01-01T10:00,C900001,en,5,7,yes\n"
        "post-support,yesterday,C000000,de,9,,maybe\n"
        "nosuch,2026-01-01,,,,,\n")
    with pytest.raises(ImportProblem) as caught:
        with db.session_scope(prepared) as session:
            import_responses(session, path)
    assert caught.value.problems == [
        "answers.csv: row 3, column 'submitted_at': 'yesterday' is not a date and time (YYYY-MM-DD HH:MM)",
        "answers.csv: row 3, column 'customer_ref': no customer with external_ref 'C000000'",
        "answers.csv: row 3, column 'language': 'de' is not one of en",
        "answers.csv: row 3, column 'csat': 9 is outside the scale 1-5",
        "answers.csv: row 3, column 'effort': an answer is required",
        "answers.csv: row 3, column 'resolved': 'maybe' is not one of the choices (no, partly, yes)",
        "answers.csv: row 4, column 'survey': no published survey 'nosuch'",
    ]
    assert counts(prepared) == (0, 0)


def test_a_reused_key_with_other_answers_is_refused_and_nothing_is_written(prepared, tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("survey,submitted_at,idempotency_key,csat,effort\n"
                    "post-support,2026-01-01T10:00,kiosk-17,5,7\n")
    with db.session_scope(prepared) as session:
        import_responses(session, path)
    path.write_text("survey,submitted_at,idempotency_key,csat,effort\n"
                    "post-support,2026-01-02T10:00,kiosk-18,4,6\n"
                    "post-support,2026-01-01T10:00,kiosk-17,1,1\n")
    with pytest.raises(ImportProblem, match="row 3, column 'idempotency_key'"):
        with db.session_scope(prepared) as session:
            import_responses(session, path)
    assert counts(prepared) == (1, 2)


def test_skip_invalid_stores_the_good_rows_and_reports_the_bad(prepared, tmp_path):
    path = tmp_path / "kiosk.csv"
    path.write_text("submitted_at,csat,effort\n"
                    "2026-01-01T10:00,5,7\n"
                    "2026-01-01T10:05,0,7\n"
                    "2026-01-01T10:09,4,6\n")
    with db.session_scope(prepared) as session:
        summary = import_responses(session, path, survey_slug="post-support", skip_invalid=True)
    assert (summary.stored, summary.already_stored, summary.skipped) == (2, 0, 1)
    assert summary.problems == ("kiosk.csv: row 3, column 'csat': 0 is outside the scale 1-5",)
    assert counts(prepared) == (2, 4)


def test_an_invitation_token_links_the_customer_and_is_answered_once(prepared, tmp_path):
    with db.session_scope(prepared) as session:
        survey = session.scalar(select(models.Survey).where(models.Survey.slug == "post-support"))
        customer = session.scalar(select(models.Customer).where(models.Customer.external_ref == "C900004"))
        session.add(models.Invitation(token="tok-123", survey_id=survey.id, customer_id=customer.id))
    path = tmp_path / "phone.csv"
    path.write_text("submitted_at,token,csat,effort\n2026-02-01T10:00,tok-123,2,2\n")
    with db.session_scope(prepared) as session:
        assert import_responses(session, path, survey_slug="post-support").stored == 1
    with prepared.connect() as connection:
        response = connection.execute(select(models.Response.customer_id, models.Response.invitation_id)).one()
        invitation = connection.execute(select(models.Invitation.responded_at)).scalar_one()
    assert response.customer_id == customer.id and response.invitation_id is not None
    assert invitation is not None
    path.write_text("submitted_at,token,csat,effort\n2026-02-02T10:00,tok-123,5,7\n")
    with pytest.raises(ImportProblem, match="row 2, column 'token': the invitation was already answered on 2026-02-01"):
        with db.session_scope(prepared) as session:
            import_responses(session, path, survey_slug="post-support")


def test_a_file_for_another_survey_than_named_is_refused(prepared, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("survey,submitted_at,csat,effort\nrelationship-nps,2026-01-01T10:00,5,7\n")
    with pytest.raises(ImportProblem, match="row 2, column 'survey': 'relationship-nps' differs from the survey "
                                            "being imported \\('post-support'\\)"):
        with db.session_scope(prepared) as session:
            import_responses(session, path, survey_slug="post-support")


def test_an_anonymous_import_stores_nothing_that_leads_back_to_the_invitation(prepared, tmp_path):
    from dataclasses import replace

    from survey.collection.respondent import resolve_link

    anonymous = replace(load_yaml(SAMPLE_SURVEYS / "post_support.yaml"), slug="anon-kiosk", anonymous=True)
    with db.session_scope(prepared) as session:
        version = publish(session, anonymous)
        customer = session.scalar(select(models.Customer).where(models.Customer.external_ref == "C900004"))
        session.add(models.Invitation(token="tok-secret-123", survey_id=version.survey_id, customer_id=customer.id))
    path = tmp_path / "anon.csv"
    path.write_text("submitted_at,token,customer_ref,csat,effort\n2026-02-01T10:17:00,tok-secret-123,,2,2\n")
    with db.session_scope(prepared) as session:
        assert import_responses(session, path, survey_slug="anon-kiosk").stored == 1
    with prepared.connect() as connection:
        stored = connection.execute(select(models.Response.idempotency_key, models.Response.customer_id,
                                           models.Response.invitation_id)).one()
        answered = connection.execute(select(models.Invitation.responded_at)).scalar_one()
    assert stored.customer_id is None and stored.invitation_id is None
    for guess in ("tok-secret-123", "C900004"):  # the key cannot be recomputed from a token or customer
        assert hashlib.sha256(f"anon-kiosk|1|{guess}|".encode()).hexdigest() not in stored.idempotency_key
    assert "tok-secret-123" not in stored.idempotency_key
    assert (answered.hour, answered.minute) == (0, 0)  # the invitation is answered, to the day only
    with db.session_scope(prepared) as session:
        assert resolve_link(session, token="tok-secret-123").status == "already_answered"


@pytest.mark.parametrize("column, value, message", [
    ("channel", "a-very-long-channel-name-indeed", "'a-very-long-channel-name-indeed' must be lower-case letters, digits, - or _ (at most 20)"),
    ("idempotency_key", "k" * 201, "must be at most 200 characters of storable text"),
    ("comment", "nul\x00byte", "contains a NUL character (U+0000), which cannot be stored"),
    ("version", "\u00b2", "survey 'post-support' has no version '\u00b2'"),
])
def test_values_a_database_cannot_store_are_refused_by_row_and_column(prepared, tmp_path, column, value, message):
    path = tmp_path / "odd.csv"
    path.write_text(f"submitted_at,csat,effort,{column}\n2026-01-01T10:00,5,7,{value}\n", encoding="utf-8")
    with pytest.raises(ImportProblem) as caught:
        with db.session_scope(prepared) as session:
            import_responses(session, path, survey_slug="post-support")
    assert caught.value.problems == [f"odd.csv: row 2, column '{column}': {message}"]
    assert counts(prepared) == (0, 0)


def refused_import(engine, tmp_path, text: str) -> list[str]:
    path = tmp_path / "answers.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportProblem) as caught:
        with db.session_scope(engine) as session:
            import_responses(session, path, survey_slug="post-support")
    assert counts(engine) == (0, 0)
    return caught.value.problems


# Finding 4 of issue 16, for the responses importer: malformed rows were accepted.
def test_a_duplicated_column_is_refused_instead_of_taking_its_last_value(prepared, tmp_path):
    problems = refused_import(prepared, tmp_path, "submitted_at,csat,effort,csat\n2026-01-01T10:00,2,7,5\n")
    assert problems == ["answers.csv: row 1, column 4: the header names 'csat' again (first in column 2); "
                        "each column may appear once"]


def test_an_unclosed_quote_is_refused_instead_of_swallowing_the_next_rows(prepared, tmp_path):
    problems = refused_import(prepared, tmp_path,
                              'submitted_at,csat,effort,comment\n2026-01-01T10:00,2,7,"Slow\n'
                              "2026-01-02T10:00,5,7,Fine\n2026-01-03T10:00,4,6,Good\n")
    assert len(problems) == 1 and problems[0].startswith("answers.csv: row 2 (lines 2-4): not a valid CSV row")


def test_extra_cells_in_a_row_are_refused_not_dropped(prepared, tmp_path):
    problems = refused_import(prepared, tmp_path,
                              "submitted_at,csat,effort\n2026-01-01T10:00,5,7\n2026-01-02T10:00,2,7,oops\n")
    assert problems == ["answers.csv: row 3, column 'column 4': 4 cells, but the header names 3 columns "
                        "(read as comma-separated)"]


def test_skip_invalid_skips_a_row_of_the_wrong_width_and_stores_the_others(prepared, tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("submitted_at,csat,effort\n2026-01-01T10:00,5,7\n2026-01-02T10:00,2,7,oops\n")
    with db.session_scope(prepared) as session:
        summary = import_responses(session, path, survey_slug="post-support", skip_invalid=True)
    assert (summary.stored, summary.skipped) == (1, 1)
    assert [f.row for f in summary.faults] == [3]


def test_a_semicolon_separated_file_is_read_as_such_and_says_so(prepared, tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("submitted_at;csat;effort;comment\n2026-01-01T10:00;5;7;Quick, friendly\n")
    with db.session_scope(prepared) as session:
        summary = import_responses(session, path, survey_slug="post-support")
    assert (summary.stored, summary.delimiter) == (1, ";")
    with prepared.connect() as connection:
        comment = connection.scalar(select(models.Answer.text_value).where(models.Answer.question_key == "comment"))
    assert comment == "Quick, friendly"
