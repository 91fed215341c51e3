"""Collection rules: one validation for every channel; each acknowledged response stored exactly once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from survey.storage import db, models
from survey.collection.collect import InvalidAnswers, SubmissionConflict, submit, validate_answers
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from tests.conftest import SAMPLE_SURVEYS

RELATIONSHIP = load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")
SUPPORT = load_yaml(SAMPLE_SURVEYS / "post_support.yaml")
GOOD = {"recommend": 4, "satisfaction": 5, "drivers": {"support": 3, "delivery": 8}, "why_low": "Late again"}


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def version(engine):
    with db.session_scope(engine) as session:
        return publish(session, RELATIONSHIP)


def test_validation_names_each_faulty_question():
    problems = validate_answers(SUPPORT, {"csat": 6, "effort": "easy", "resolved": "perhaps",
                                          "comment": "x" * 1001, "colour": "blue"})
    assert problems == {
        "colour": "no such question in this survey",
        "csat": "6 is outside the scale 1-5",
        "effort": "'easy' is not a whole number",
        "resolved": "'perhaps' is not one of the choices (no, partly, yes)",
        "comment": "longer than 1000 characters (1001)",
    }


def test_required_questions_count_only_when_shown():
    assert validate_answers(SUPPORT, {}) == {"csat": "an answer is required", "effort": "an answer is required"}
    # why_low is shown only for detractors, and is optional: promoters never need it
    assert validate_answers(RELATIONSHIP, {"recommend": 10, "satisfaction": 9}) == {}


def test_matrix_answers_are_accepted_nested_or_flat():
    flat = {"recommend": 9, "satisfaction": 9, "drivers.support": "7"}
    assert validate_answers(RELATIONSHIP, flat) == {}
    assert validate_answers(RELATIONSHIP, {**flat, "drivers.colour": 3}) == {
        "drivers": "unknown attribute(s): colour"}


def test_resubmitting_same_key_stores_once(engine, version):
    with db.session_scope(engine) as session:
        first = submit(session, version, RELATIONSHIP, GOOD, idempotency_key="k-1", channel="web")
    with db.session_scope(engine) as session:
        again = submit(session, version, RELATIONSHIP, GOOD, idempotency_key="k-1", channel="web")
    assert first.created and not again.created
    assert first.response_id == again.response_id
    assert count(engine, models.Response) == 1
    assert count(engine, models.Answer) == 5  # recommend, satisfaction, 2 matrix rows, why_low


def test_same_key_with_other_content_is_a_conflict_not_an_overwrite(engine, version):
    with db.session_scope(engine) as session:
        submit(session, version, RELATIONSHIP, GOOD, idempotency_key="k-1", channel="web")
    with pytest.raises(SubmissionConflict, match="'k-1' was already used"):
        with db.session_scope(engine) as session:
            submit(session, version, RELATIONSHIP, {**GOOD, "recommend": 10}, idempotency_key="k-1", channel="web")
    with engine.connect() as connection:
        stored = connection.execute(select(models.Answer.numeric_value)
                                    .where(models.Answer.question_key == "recommend")).scalar_one()
    assert stored == 4


def test_invalid_answers_store_nothing(engine, version):
    with pytest.raises(InvalidAnswers) as caught:
        with db.session_scope(engine) as session:
            submit(session, version, RELATIONSHIP, {"recommend": 12}, idempotency_key="k", channel="web")
    assert caught.value.problems == {"recommend": "12 is outside the scale 0-10",
                                     "satisfaction": "an answer is required"}
    assert count(engine, models.Response) == 0


def test_anonymous_surveys_store_no_link_to_a_person(engine):
    anonymous = SUPPORT.__class__(**{**vars(SUPPORT), "slug": "anon", "anonymous": True})
    with db.session_scope(engine) as session:
        customer = models.Customer(external_ref="C1", name="Someone")
        session.add(customer)
        session.flush()
        version = publish(session, anonymous)
        submit(session, version, anonymous, {"csat": 5, "effort": 7}, idempotency_key="a", channel="web",
               customer_id=customer.id)
    with engine.connect() as connection:
        assert connection.execute(select(models.Response.customer_id)).scalar_one() is None


def test_concurrent_double_submission_stores_once(engine, version):
    """Eight threads submit the same key at once (a double click seen by several workers)."""
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def worker():
        try:
            barrier.wait()
            with db.session_scope(engine) as session:
                outcomes.append(submit(session, version, RELATIONSHIP, GOOD, idempotency_key="race", channel="web"))
        except Exception as error:  # collected so the assertion shows it
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({o.response_id for o in outcomes}) == 1
    assert sum(o.created for o in outcomes) == 1
    assert count(engine, models.Response) == 1
