"""The respondent's links, drafts and submissions, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from survey.collection import collect, respondent
from survey.storage import db, models
from survey.definitions.definition import load_yaml, loads_yaml
from survey.definitions.publishing import publish
from tests.conftest import SAMPLE_SURVEYS

RELATIONSHIP = load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")
OPEN_FEEDBACK = loads_yaml("""
slug: open-feedback
title: Tell us
anonymous: true
thank_you: Thanks!
questions:
  - {key: csat, kind: csat, text: "How satisfied are you?", required: true}
  - key: liked
    kind: multi_choice
    text: What did you like?
    choices: [staff, prices, opening_hours]
""")
GOOD = {"recommend": 4, "satisfaction": 5, "drivers": {"support": 3, "delivery": 8}, "why_low": "Late again"}
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def add_invitation(engine, slug: str, token: str, **fields) -> int:
    with db.session_scope(engine) as session:
        survey_id = session.scalar(select(models.Survey.id).where(models.Survey.slug == slug))
        customer = models.Customer(external_ref=f"ref-{token}", name="Ann Example")
        session.add(customer)
        session.flush()
        invitation = models.Invitation(token=token, survey_id=survey_id, customer_id=customer.id, **fields)
        session.add(invitation)
        session.flush()
        return invitation.id


def resolve(engine, **link) -> respondent.Link:
    with db.session_scope(engine) as session:
        return respondent.resolve_link(session, now=NOW, **link)


def submit(engine, link, answers=GOOD, key="web-1", language="en") -> respondent.FormResult:
    with db.session_scope(engine) as session:
        return respondent.submit_form(session, link, answers, language, key)


@pytest.fixture
def published(engine):
    with db.session_scope(engine) as session:
        publish(session, RELATIONSHIP)
        publish(session, OPEN_FEEDBACK)
    return engine


@pytest.fixture
def invitation(published):
    """An open invitation to the relationship survey, in French; returns its id (token `tok-1`)."""
    return add_invitation(published, "relationship-nps", "tok-1", language="fr",
                          expires_at=NOW + timedelta(days=14))


# --- links ---------------------------------------------------------------------------------------


def test_personal_link_is_ok_with_the_invitations_customer_and_language(published, invitation):
    link = resolve(published, token="tok-1")
    assert link.status == "ok" and link.ok and link.personal
    assert link.survey == RELATIONSHIP
    assert link.invitation_id == invitation and link.customer_id is not None
    assert link.language == "fr"
    assert link.channel == "email"


def test_invitation_language_the_survey_does_not_offer_is_ignored(published):
    add_invitation(published, "relationship-nps", "tok-de", language="de")
    assert resolve(published, token="tok-de").language is None


@pytest.mark.parametrize("link", [{"token": "no-such-token"}, {"slug": "no-such-survey"}, {},
                                  {"token": "x" * 5000}, {"token": "  "}])
def test_unknown_links_say_unknown(published, link):
    found = resolve(published, **link)
    assert found.status == "unknown" and found.survey is None


def test_expired_invitation_says_expired_with_the_date(published):
    add_invitation(published, "relationship-nps", "tok-old", expires_at=NOW - timedelta(seconds=1))
    link = resolve(published, token="tok-old")
    assert link.status == "expired"
    assert link.expires_at == NOW - timedelta(seconds=1)


def test_closed_survey_says_closed_by_token_and_by_slug(published, invitation):
    with db.session_scope(published) as session:
        session.execute(update(models.Survey).values(status="closed"))
    assert resolve(published, token="tok-1").status == "closed"
    assert resolve(published, slug="open-feedback").status == "closed"


def test_answered_invitation_says_already_answered_even_after_closing(published, invitation):
    submit(published, resolve(published, token="tok-1"))
    with db.session_scope(published) as session:
        session.execute(update(models.Survey).values(status="closed"))
    link = resolve(published, token="tok-1")
    assert link.status == "already_answered"
    assert link.responded_at is not None and link.responded_at.tzinfo is not None


def test_personal_survey_opened_by_slug_needs_an_invitation(published):
    assert resolve(published, slug="relationship-nps").status == "not_open_link"


def test_anonymous_survey_opens_by_slug(published):
    link = resolve(published, slug="open-feedback")
    assert link.ok and not link.personal and link.survey == OPEN_FEEDBACK


def test_a_token_wins_over_a_slug(published, invitation):
    assert resolve(published, token="tok-1", slug="open-feedback").survey == RELATIONSHIP


# --- drafts --------------------------------------------------------------------------------------


def test_draft_round_trip_keeps_every_answer_json_safe(published, invitation):
    answers = {"recommend": 3, "drivers": {"support": 2, "billing": None}, "comment": "", "why_low": "Slow"}
    with db.session_scope(published) as session:
        assert respondent.save_draft(session, invitation, answers, "fr")
    with db.session_scope(published) as session:
        draft = respondent.load_draft(session, invitation)
    assert draft.answers == {"recommend": 3, "drivers": {"support": 2}, "why_low": "Slow"}
    assert draft.language == "fr"


def test_saving_a_draft_again_replaces_it(published, invitation):
    with db.session_scope(published) as session:
        respondent.save_draft(session, invitation, {"recommend": 3}, "fr")
    with db.session_scope(published) as session:
        respondent.save_draft(session, invitation, {"recommend": 9}, "en")
    with db.session_scope(published) as session:
        draft = respondent.load_draft(session, invitation)
    assert (draft.answers, draft.language) == ({"recommend": 9}, "en")
    assert count(published, models.ResponseDraft) == 1


def test_multi_choice_draft_is_a_list(published):
    invitation_id = add_invitation(published, "open-feedback", "tok-anon")
    with db.session_scope(published) as session:
        respondent.save_draft(session, invitation_id, {"liked": ("staff", "prices")}, None)
    with db.session_scope(published) as session:
        assert respondent.load_draft(session, invitation_id).answers == {"liked": ["staff", "prices"]}


def test_no_draft_is_kept_for_an_answered_invitation(published, invitation):
    submit(published, resolve(published, token="tok-1"))
    with db.session_scope(published) as session:
        assert not respondent.save_draft(session, invitation, {"recommend": 1}, "en")
    assert count(published, models.ResponseDraft) == 0


def test_restoring_drops_what_the_current_definition_no_longer_offers():
    restored = respondent.restorable_answers(RELATIONSHIP, {
        "recommend": 11, "satisfaction": "7", "drivers": {"support": 4, "colour": 2, "billing": 0},
        "comment": "x" * 2500, "gone": "question removed"})
    assert restored == {"satisfaction": 7, "drivers": {"support": 4}, "comment": "x" * 2000}
    assert respondent.restorable_answers(OPEN_FEEDBACK, {"liked": ["staff", "parking"]}) == {"liked": ["staff"]}


# --- submission ----------------------------------------------------------------------------------


def test_submit_stores_the_response_marks_the_invitation_and_removes_the_draft(published, invitation):
    with db.session_scope(published) as session:
        respondent.save_draft(session, invitation, {"recommend": 4}, "fr")
    result = submit(published, resolve(published, token="tok-1"), language="fr")
    assert result.status == "submitted" and result.created and result.responded_at is not None
    with db.session_scope(published) as session:
        response = session.get(models.Response, result.response_id)
        invitation_row = session.get(models.Invitation, invitation)
        assert (response.invitation_id, response.customer_id) == (invitation, invitation_row.customer_id)
        assert (response.channel, response.language) == ("email", "fr")
        assert invitation_row.responded_at is not None
    assert count(published, models.ResponseDraft) == 0


def test_second_submit_with_the_same_token_and_another_key_is_already_answered(published, invitation):
    link = resolve(published, token="tok-1")  # e.g. a second tab opened before the first submitted
    first = submit(published, link, key="web-a")
    second = submit(published, link, answers={**GOOD, "recommend": 10}, key="web-b")
    assert first.status == "submitted"
    assert second.status == "already_answered" and second.response_id is None
    assert second.responded_at == first.responded_at
    assert count(published, models.Response) == 1


def test_retrying_the_same_key_returns_the_stored_response(published, invitation):
    link = resolve(published, token="tok-1")
    first = submit(published, link, key="web-a")
    again = submit(published, link, key="web-a")
    assert (again.status, again.response_id, again.created) == ("submitted", first.response_id, False)
    assert count(published, models.Response) == 1


def test_a_response_from_another_channel_makes_the_form_say_already_answered(published, invitation):
    link = resolve(published, token="tok-1")
    with db.session_scope(published) as session:  # e.g. the JSON API, which does not mark the invitation
        version = session.get(models.SurveyVersion, link.version_id)
        collect.submit(session, version, RELATIONSHIP, GOOD, idempotency_key="api-1", channel="api",
                       customer_id=link.customer_id, invitation_id=invitation)
    result = submit(published, link, key="web-b")
    assert result.status == "already_answered" and result.responded_at is not None
    assert count(published, models.Response) == 1
    assert resolve(published, token="tok-1").status == "already_answered"


def test_concurrent_submits_on_one_token_store_one_response(published, invitation):
    link = resolve(published, token="tok-1")
    outcomes: list[str] = []
    first = db.sessions(published)()
    outcomes.append(respondent.submit_form(first, link, GOOD, "en", "web-a").status)  # holds the claim

    def second_tab():
        with db.session_scope(published) as session:
            outcomes.append(respondent.submit_form(session, link, {**GOOD, "recommend": 9}, "en", "web-b").status)

    thread = threading.Thread(target=second_tab)
    thread.start()
    time.sleep(0.5)  # let the second submission wait on the first one's claim
    first.commit()
    first.close()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert sorted(outcomes) == ["already_answered", "submitted"]
    assert count(published, models.Response) == 1


def test_invalid_answers_store_nothing_and_leave_the_invitation_open(published, invitation):
    link = resolve(published, token="tok-1")
    with pytest.raises(collect.InvalidAnswers) as raised:
        submit(published, link, answers={"recommend": 11})
    assert raised.value.problems == {"recommend": "11 is outside the scale 0-10",
                                     "satisfaction": "an answer is required"}
    assert count(published, models.Response) == 0
    assert resolve(published, token="tok-1").status == "ok"


def test_anonymous_open_link_stores_no_customer_or_invitation(published):
    result = submit(published, resolve(published, slug="open-feedback"), answers={"csat": 4, "liked": ["staff"]})
    with db.session_scope(published) as session:
        response = session.get(models.Response, result.response_id)
        assert (response.customer_id, response.invitation_id, response.channel) == (None, None, "web")
        assert "open-feedback" not in response.idempotency_key


def test_anonymous_survey_by_invitation_marks_only_the_day_and_links_nothing(published):
    invitation_id = add_invitation(published, "open-feedback", "tok-anon")
    link = resolve(published, token="tok-anon")
    result = submit(published, link, answers={"csat": 2}, key=respondent.new_idempotency_key())
    assert submit(published, link, answers={"csat": 5}, key="web-other").status == "already_answered"
    with db.session_scope(published) as session:
        response = session.get(models.Response, result.response_id)
        assert (response.customer_id, response.invitation_id) == (None, None)
        assert "tok-anon" not in response.idempotency_key
        responded_at = session.get(models.Invitation, invitation_id).responded_at
        assert (responded_at.hour, responded_at.minute, responded_at.second) == (0, 0, 0)
    assert count(published, models.Response) == 1


def test_submitting_through_a_link_that_is_not_ok_is_refused(published):
    with pytest.raises(ValueError, match="not_open_link"):
        submit(published, resolve(published, slug="relationship-nps"))


# --- wording -------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale, expected", [("fr-CA", "fr"), ("FR", "fr"), ("en_GB", "en"), ("de-DE", None),
                                              (None, None), ("", None)])
def test_browser_locale_picks_a_survey_language(locale, expected):
    assert respondent.browser_language(locale, ("en", "fr")) == expected


def test_phrases_fall_back_to_english_outside_the_catalogue():
    assert respondent.phrase("submit", "fr") == "Envoyer"
    assert respondent.phrase("submit", "de") == "Absenden"
    assert respondent.phrase("submit", "it") == "Submit"
    assert respondent.phrase("scale_ends", "fr", low_point=0, low="a", high_point=10, high="b") == "0 = a · 10 = b"
    problems = collect.validate_answers(RELATIONSHIP, {"recommend": 11})
    assert respondent.problem_text(problems["satisfaction"], "fr") == "Une réponse est obligatoire."
    assert respondent.problem_text(problems["satisfaction"], "de") == "Eine Antwort ist erforderlich."
    assert respondent.problem_text(problems["satisfaction"], "it") == "an answer is required"
    # the rule book's detail is English: a catalogued language gets its phrase for the code instead
    assert respondent.problem_text(problems["recommend"], "fr") == "Choisissez un point de l'échelle."
    assert respondent.problem_text(problems["recommend"], "it") == "11 is outside the scale 0-10"


def test_piped_answers_show_in_the_wording_with_choice_labels():
    survey = loads_yaml("""
slug: pipe
title: Pipe
questions:
  - {key: name, kind: text, text: "Your name?"}
  - {key: likes, kind: multi_choice, text: "Liked?", choices: [{value: spa, label: The spa}, {value: bar, label: The bar}]}
  - {key: why, kind: text, text: "${name}, why did you like ${likes}?"}
""")
    text = survey.question("why").text["en"]
    assert respondent.piped(text, survey, {"name": "Ann", "likes": ["spa", "bar"]}, "en") == (
        "Ann, why did you like The spa, The bar?")
    assert respondent.piped(text, survey, {}, "en") == "..., why did you like ...?"
