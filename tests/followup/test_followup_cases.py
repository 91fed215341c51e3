"""Cases from stored responses: who gets one, de-duplication, priority, due dates, owners, and the
hooks in submission and CSV import (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from survey.storage import db, models
from survey.followup import cases as cases_module
from survey.followup.cases import flag_responses, flag_survey
from survey.followup.settings import parse_settings
from tests.followup_data import GOOD, RELATIONSHIP, SUPPORT, answer, build, cases, flags, utc

NOW = utc(2026, 5, 1, 10)  # a Friday


@pytest.fixture
def world(engine, monkeypatch):
    monkeypatch.setattr(cases_module, "utc_now", lambda: NOW)
    return build(engine)


def test_a_detractor_gets_a_case_owned_by_their_field_manager(engine, world):
    response = answer(engine, RELATIONSHIP, {**GOOD, "recommend": 6, "comment": "ok"}, NOW, world.customers["EMIL"])
    [case] = cases(engine)
    assert (case.customer_id, case.owner_id, case.status, case.response_id) == (
        world.customers["EMIL"], world.fm_a.user_id, "open", response)
    assert flags(engine) == [(response, "nps_detractor", "recommend", 6.0)]
    assert (case.flagged_question, case.flagged_score) == ("recommend", 6.0)


@pytest.mark.parametrize("who", ["CARL", None])  # CARL did not consent; None: no customer at all
def test_no_case_for_a_non_consenting_or_unidentified_respondent(engine, world, who):
    customer = world.customers[who] if who else None
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 0}, NOW, customer)
    assert cases(engine) == [] and flags(engine) == []


def test_no_case_for_an_anonymous_survey(engine, world):
    from dataclasses import replace

    from survey.definitions.definition import load_yaml
    from survey.definitions.publishing import publish
    from tests.conftest import SAMPLE_SURVEYS

    anonymous = replace(load_yaml(SAMPLE_SURVEYS / "post_support.yaml"), slug="anon-support", anonymous=True)
    with db.session_scope(engine) as session:
        publish(session, anonymous)
    answer(engine, "anon-support", {"csat": 1, "effort": 1}, NOW, world.customers["ANNA"])
    assert cases(engine) == []


def test_a_second_low_response_joins_the_open_case(engine, world):
    anna = world.customers["ANNA"]
    first = answer(engine, SUPPORT, {"csat": 2, "effort": 5, "comment": "meh"}, NOW, anna)
    second = answer(engine, SUPPORT, {"csat": 1, "effort": 2}, NOW + timedelta(days=1), anna)
    [case] = cases(engine)
    # the second: CSAT 1 and CES 2 are low, effort fell 5 -> 2 (3 points), and there is no comment
    assert [f[0] for f in flags(engine, case.id)] == [first] + [second] * 4
    assert set(case.reasons["rules"]) == {"csat_bottom", "ces_bottom", "score_drop", "silent_dissatisfied"}
    with engine.connect() as connection:
        notes = connection.execute(select(models.CaseEvent.note).order_by(models.CaseEvent.id)).scalars().all()
    assert notes == [f"opened for response {first}: csat_bottom",
                     f"response {second} added: ces_bottom, csat_bottom, score_drop, silent_dissatisfied"]
    # another survey is another case
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 3, "comment": "x"}, NOW, anna)
    assert len(cases(engine)) == 2


def test_the_database_refuses_a_second_open_case(engine, world):
    from sqlalchemy.exc import IntegrityError

    answer(engine, SUPPORT, {"csat": 1, "effort": 5, "comment": "x"}, NOW, world.customers["BERT"])
    [case] = cases(engine)
    with pytest.raises(IntegrityError):
        with db.session_scope(engine) as session:
            session.add(models.FollowUpCase(customer_id=case.customer_id, survey_id=case.survey_id, status="contacted",
                                            priority=3, reasons={}))
    assert len(cases(engine)) == 1


# Priority, hand-worked with the shipped rules (base 3; -1 each for a severe score, a high-value
# customer, and a low score within 90 days of an earlier one; clamped to 1-4):
@pytest.mark.parametrize("ref, answers, priority, due", [
    # ANNA: NPS 0 is severe (0/10 <= 0.2) and she is Gold with 250,000: 3 - 1 - 1 = 1 -> due 24 h later
    ("ANNA", {**GOOD, "recommend": 0, "comment": "x"}, 1, utc(2026, 5, 2, 10)),
    # BERT: NPS 6 (0.6 of the scale, not severe), Bronze, 5,000: 3 -> 3 working days: Mon, Tue, Wed
    ("BERT", {**GOOD, "recommend": 6, "comment": "x"}, 3, utc(2026, 5, 6, 10)),
    # EMIL: a good score with a negative comment only: base + 1 = 4 -> 3 working days
    ("EMIL", {**GOOD, "comment": "Support is slow"}, 4, utc(2026, 5, 6, 10)),
    # BERT: NPS 2 (0.2: severe): 3 - 1 = 2 -> 3 working days (only priority 1 is due within 24 h)
    ("BERT", {**GOOD, "recommend": 2, "comment": "x"}, 2, utc(2026, 5, 6, 10)),
])
def test_priority_and_due_date(engine, world, ref, answers, priority, due):
    answer(engine, RELATIONSHIP, answers, NOW, world.customers[ref])
    [case] = cases(engine)
    assert (case.priority, case.due_at.replace(tzinfo=None)) == (priority, due.replace(tzinfo=None))


def test_a_second_low_score_within_90_days_escalates_and_long_tenure_is_captive(engine, world):
    bert, anna = world.customers["BERT"], world.customers["ANNA"]
    # BERT, NPS 5 on 1 March (priority 3), resolved; NPS 5 again on 1 May (61 days later): 3 - 1 = 2
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 5, "comment": "x"}, utc(2026, 3, 1), bert)
    with db.session_scope(engine) as session:
        first = session.scalar(select(models.FollowUpCase))
        first.status = "resolved"
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 5, "comment": "x"}, NOW, bert)
    second = cases(engine)[-1]
    assert (second.priority, second.reasons["repeat"]) == (2, True)
    assert second.reasons["captive_not_loyal"] is False  # customer since June 2025
    # ANNA, customer since 2015 (over 5 years), NPS 5: captive, not loyal
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 5, "comment": "x"}, NOW, anna)
    assert cases(engine)[-1].reasons["captive_not_loyal"] is True


def test_low_score_after_more_than_90_days_is_no_repeat(engine, world):
    bert = world.customers["BERT"]
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 5, "comment": "x"}, utc(2026, 1, 1), bert)
    with db.session_scope(engine) as session:
        session.scalar(select(models.FollowUpCase)).status = "declined"
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 5, "comment": "x"}, NOW, bert)  # 120 days later
    assert (cases(engine)[-1].priority, cases(engine)[-1].reasons["repeat"]) == (3, False)


def test_a_drop_is_measured_against_the_customers_previous_answer(engine, world):
    emil = world.customers["EMIL"]
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 10, "comment": "great"}, utc(2026, 4, 1), emil)
    assert cases(engine) == []
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 7, "comment": "fine"}, NOW, emil)
    assert [f[1:] for f in flags(engine)] == [("score_drop", "recommend", 7.0)]


def test_without_a_field_manager_the_region_default_owner_from_the_file_gets_the_case(engine, world, tmp_path,
                                                                                     monkeypatch):
    answer(engine, SUPPORT, {"csat": 1, "effort": 5, "comment": "x"}, NOW, world.customers["DORA"])
    assert cases(engine)[0].owner_id is None  # no owner for East in the shipped file: unassigned
    copy = tmp_path / "rules.yaml"
    copy.write_text("region_owners: {East: b@x.example}\n", encoding="utf-8")
    monkeypatch.setenv("SURVEY_FOLLOWUP_SETTINGS", str(copy))
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 1, "comment": "x"}, NOW, world.customers["DORA"])
    assert cases(engine)[-1].owner_id == world.fm_b.user_id


def test_flagging_again_changes_nothing(engine, world):
    answer(engine, SUPPORT, {"csat": 1, "effort": 1}, NOW, world.customers["ANNA"])
    before = (cases(engine)[0].id, flags(engine))
    with db.session_scope(engine) as session:
        summary = flag_survey(session)
    assert summary.flagged == 0
    assert (cases(engine)[0].id, flags(engine)) == before


def test_a_failing_rules_file_never_fails_the_submission(engine, world, tmp_path, monkeypatch, caplog):
    broken = tmp_path / "rules.yaml"
    broken.write_text("rules: {nps_detractor: {max_score: six}}\n", encoding="utf-8")
    monkeypatch.setenv("SURVEY_FOLLOWUP_SETTINGS", str(broken))
    response = answer(engine, RELATIONSHIP, {**GOOD, "recommend": 0}, NOW, world.customers["ANNA"])
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.Response)).scalar_one() == 1
    assert cases(engine) == []
    assert "follow-up flagging failed" in caplog.text
    monkeypatch.delenv("SURVEY_FOLLOWUP_SETTINGS")
    with db.session_scope(engine) as session:  # the operator runs `followup flag` afterwards
        assert flag_responses(session, [response]).opened == 1


def test_imported_responses_are_flagged_too(engine, world, tmp_path):
    from survey.collection.response_import import import_responses

    path = tmp_path / "answers.csv"
    path.write_text("customer_ref,submitted_at,channel,csat,effort,comment\n"
                    "ANNA,2026-04-30 09:00,phone,1,6,\n"
                    "CARL,2026-04-30 09:00,phone,1,6,\n"
                    "EMIL,2026-04-30 09:00,phone,5,7,Great\n", encoding="utf-8")
    with db.session_scope(engine) as session:
        assert import_responses(session, path, survey_slug=SUPPORT).stored == 3
    assert [c.customer_id for c in cases(engine)] == [world.customers["ANNA"]]  # CARL did not consent
    with db.session_scope(engine) as session:  # importing again stores and flags nothing new
        assert import_responses(session, path, survey_slug=SUPPORT).stored == 0
    assert len(cases(engine)) == 1


def test_a_disabled_rule_flags_nothing(engine, world):
    quiet = parse_settings({"rules": {name: {"enabled": False} for name in
                                      ("nps_detractor", "index_item_low", "silent_dissatisfied", "score_drop",
                                       "negative_comment", "csat_bottom", "ces_bottom")}})
    from survey.followup.cases import FlagSummary

    response = answer(engine, SUPPORT, {"csat": 5, "effort": 7, "comment": "great"}, NOW, world.customers["ANNA"])
    with db.session_scope(engine) as session:
        assert flag_responses(session, [response], quiet) == FlagSummary(1, 0, 0, 0)
    assert date(2026, 5, 1).weekday() == 4  # NOW is a Friday, as the due dates above assume
