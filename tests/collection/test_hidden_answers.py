"""Every channel treats the answer to a hidden question the same way: dropped, and never required.

The channels: the rule book itself (`collect.clean_answers`), the respondent form
(`respondent.submit_form`), the JSON API (over HTTP, in process) and the CSV import. Each gets the
same answers, including one to a question its display condition hides; each must store the same
answers, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import warnings

from sqlalchemy import select

from survey.collection import api, apikeys, collect, respondent
from survey.collection.response_import import import_responses
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from survey.storage import db, models

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx versions
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

STAY = loads_yaml("""
slug: stay
title: Your stay
anonymous: true
questions:
  - {key: nights, kind: integer, text: "Nights?", required: true}
  - {key: spa, kind: single_choice, text: "Spa?", choices: ["yes", "no"]}
  - key: spa_rating
    kind: csat
    text: "How satisfied were you with the spa?"
    required: true
    show_if: "${spa} = 'yes' and ${nights} >= 2"
  - {key: why, kind: text, text: "Why?", show_if: "not(${spa_rating} >= 4)"}
""")
# spa_rating is hidden (one night only): its answer is dropped and, though required, not asked for;
# why is then shown (spa_rating is unanswered once dropped) and kept.
SENT = {"nights": 1, "spa": "yes", "spa_rating": 5, "why": "Too short"}
STORED = {"nights": 1, "spa": "yes", "why": "Too short"}


def stored_answers(engine, response_id: int) -> dict:
    with engine.connect() as connection:
        rows = connection.execute(select(models.Answer.question_key, models.Answer.numeric_value,
                                         models.Answer.text_value).where(models.Answer.response_id == response_id))
        return {key: text if text is not None else int(number) for key, number, text in rows}


def test_every_channel_drops_the_answer_to_a_hidden_question_alike(database_url, tmp_path):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        publish(session, STAY)
        key = apikeys.create_key(session, "tests").key
    stored: dict[str, dict] = {}

    # the rule book
    stored["rule book"] = collect.clean_answers(STAY, SENT)
    assert collect.validate_answers(STAY, SENT) == {}

    # the respondent form (an open link)
    with db.session_scope(engine) as session:
        link = respondent.resolve_link(session, slug="stay")
        result = respondent.submit_form(session, link, SENT, "en", "form-1")
    stored["respondent form"] = stored_answers(engine, result.response_id)

    # the JSON API
    survey_api = api.SurveyApi(database_url)
    try:
        with TestClient(Starlette(routes=survey_api.routes())) as client:
            response = client.post("/api/v1/surveys/stay/responses", headers={"X-API-Key": key},
                                   json={"idempotency_key": "api-1", "answers": SENT})
            assert response.status_code == 201, response.text
            stored["JSON API"] = stored_answers(engine, response.json()["response_id"])
    finally:
        survey_api.dispose()

    # the CSV import
    csv_path = tmp_path / "answers.csv"
    csv_path.write_text("survey,submitted_at,idempotency_key,nights,spa,spa_rating,why\n"
                        "stay,2026-09-02T10:15:00,csv-1,1,yes,5,Too short\n", encoding="utf-8")
    with db.session_scope(engine) as session:
        summary = import_responses(session, csv_path)
    assert summary.stored == 1
    with engine.connect() as connection:
        csv_response = connection.execute(select(models.Response.id)
                                          .where(models.Response.idempotency_key == "csv-1")).scalar_one()
    stored["CSV import"] = stored_answers(engine, csv_response)
    engine.dispose()

    assert stored == {channel: STORED for channel in ("rule book", "respondent form", "JSON API", "CSV import")}


def test_a_shown_required_question_is_required_on_every_channel_alike():
    answers = {"nights": 3, "spa": "yes"}  # spa_rating is now shown, and required
    assert collect.validate_answers(STAY, answers) == {"spa_rating": "an answer is required"}
    assert [problem["question"] for problem in api._rule_problems(STAY, answers, set())] == ["spa_rating"]


VISIT = loads_yaml("""
slug: visit
title: Your visit
anonymous: true
questions:
  - {key: welcome, kind: note, text: "Thank you for visiting"}
  - {key: guests, kind: integer, text: "How many were you?"}
  - {key: spend, kind: decimal, text: "How much did you spend?"}
  - {key: day, kind: date, text: "Which day?"}
  - {key: at, kind: time, text: "At what time?"}
""")


def test_integer_decimal_date_and_time_answers_store_alike_on_every_channel_and_reach_the_responses(
        database_url, tmp_path):
    from survey.people.access import Actor
    from survey.storage import queries
    from survey.storage.filters import Filters

    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        publish(session, VISIT)
        key = apikeys.create_key(session, "tests").key
    expected = {"guests": 3, "spend": 42.5, "day": "2026-09-02", "at": "14:30"}
    with db.session_scope(engine) as session:
        link = respondent.resolve_link(session, slug="visit")
        respondent.submit_form(session, link, {"guests": 3, "spend": 42.5, "day": "2026-09-02", "at": "14:30:00"},
                               "en", "form-1")
    survey_api = api.SurveyApi(database_url)
    try:
        with TestClient(Starlette(routes=survey_api.routes())) as client:
            ok = client.post("/api/v1/surveys/visit/responses", headers={"X-API-Key": key},
                             json={"idempotency_key": "api-1", "answers": expected})
            assert ok.status_code == 201, ok.text
            wrong = client.post("/api/v1/surveys/visit/responses", headers={"X-API-Key": key},
                                json={"idempotency_key": "api-2", "answers": {
                                    "guests": 2.5, "spend": "lots", "day": "2026-02-30", "at": "25:00",
                                    "welcome": "hi"}})
            assert wrong.status_code == 422
            codes = {e["question"]: e["code"] for e in wrong.json()["errors"]}
            assert codes == {"guests": "not_integer", "spend": "not_number", "day": "not_date", "at": "not_time",
                             "welcome": "not_answerable"}
    finally:
        survey_api.dispose()
    csv_path = tmp_path / "answers.csv"
    csv_path.write_text("survey,submitted_at,idempotency_key,guests,spend,day,at\n"
                        "visit,2026-09-02T10:15:00,csv-1,3,42.5,2026-09-02,14:30\n", encoding="utf-8")
    with db.session_scope(engine) as session:
        assert import_responses(session, csv_path).stored == 1
    admin = Actor(user_id=None, email="admin@example.com", role="admin")
    keys = tuple(k for q in VISIT.questions for k in q.answer_keys)
    assert keys == ("guests", "spend", "day", "at")  # a note has no answer column
    page = queries.responses_page(engine, admin, Filters("visit"), keys)
    assert len(page) == 3
    assert [dict(zip(keys, row)) for row in page[list(keys)].itertuples(index=False)] == [expected] * 3
    exported = list(queries.iter_responses(engine, admin, Filters("visit"), keys))
    assert [row[-4:] for row in exported] == [tuple(expected.values())] * 3
    engine.dispose()
