"""Reminders through a real SMTP server (aiosmtpd on 127.0.0.1): only to invitees who have not
answered and still consent, at most M times, each recorded; the response rate by round."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from survey import messages
from survey.collection.collect import submit
from survey.collection.invitations import send_invitations
from survey.collection.reminders import response_rate_by_round, send_reminders
from survey.definitions.definition import load_yaml
from survey.storage import db, models
from tests.collection.test_mail import NOW, SLUG, invite, settings_for, smtp_server  # noqa: F401 - a fixture
from tests.conftest import SAMPLE_SURVEYS

ANSWERS = {"recommend": 9, "satisfaction": 8, "expectations": 8, "ideal": 8}


@pytest.fixture
def smtp(smtp_server):
    return smtp_server  # the real SMTP server on 127.0.0.1 of the invitation tests


def answer(engine, ref: str, when) -> None:
    with db.session_scope(engine) as session:
        invitation = session.scalar(select(models.Invitation).join(models.Customer)
                                    .where(models.Customer.external_ref == ref))
        version = session.scalar(select(models.SurveyVersion))
        submit(session, version, load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml"), ANSWERS,
               idempotency_key=f"answer-{ref}", channel="email", customer_id=invitation.customer_id,
               invitation_id=invitation.id, submitted_at=when)


def remind(engine, port, days: float, after_days=7, max_reminders=2):
    with db.session_scope(engine) as session:
        return send_reminders(session, SLUG, settings_for(port), after_days=after_days,
                              max_reminders=max_reminders, now=NOW + timedelta(days=days))


def test_only_unanswered_consenting_invitees_are_reminded_at_most_max_times(engine, smtp):
    inbox, port = smtp
    invite(engine, {"external_ref": "ADA", "name": "Ada", "email": "ada@example.com"},
           {"external_ref": "BEA", "name": "Bea", "email": "bea@example.com"},
           {"external_ref": "CID", "name": "Cid", "email": "cid@example.com"},
           {"external_ref": "DOT", "name": "Dot", "email": "dot@example.com"})
    with db.session_scope(engine) as session:
        assert send_invitations(session, SLUG, settings_for(port), now=NOW).sent == 4
    inbox.messages.clear()
    answer(engine, "BEA", NOW + timedelta(days=1))
    with db.session_scope(engine) as session:  # Cid withdraws consent, Dot's address is removed
        session.execute(update(models.Customer).where(models.Customer.external_ref == "CID")
                        .values(consent_to_contact=False))
        session.execute(update(models.Customer).where(models.Customer.external_ref == "DOT").values(email=None))

    assert remind(engine, port, days=3).sent == 0  # the invitation is not a week old yet
    first = remind(engine, port, days=8)
    assert (first.sent, first.skipped_no_consent, first.skipped_no_email) == (1, 1, 1)
    assert [(to, message["Subject"]) for to, message in inbox.messages] == [
        (("ada@example.com",), "Reminder: How are we doing?")]
    assert remind(engine, port, days=10).sent == 0  # the last email (the reminder) is 2 days old
    assert remind(engine, port, days=16).sent == 1
    third = remind(engine, port, days=24)
    assert third.sent == 0 and third.at_most_reminded == 1  # at most --max 2
    assert [to for to, _ in inbox.messages] == [("ada@example.com",)] * 2
    with engine.connect() as connection:
        recorded = connection.execute(select(models.InvitationReminder.round, models.InvitationReminder.sent_at)
                                      .order_by(models.InvitationReminder.round)).all()
    assert [(r, models.as_utc(at)) for r, at in recorded] == [(1, NOW + timedelta(days=8)), (2, NOW + timedelta(days=16))]


def test_the_response_rate_by_round_counts_who_answered_after_which_email(engine, smtp):
    inbox, port = smtp
    invite(engine, *({"external_ref": ref, "name": ref, "email": f"{ref.lower()}@example.com"}
                     for ref in ("ADA", "BEA", "CID", "DOT")))
    with db.session_scope(engine) as session:
        send_invitations(session, SLUG, settings_for(port), now=NOW)
    answer(engine, "BEA", NOW + timedelta(days=2))  # after the invitation
    remind(engine, port, days=8)  # Ada, Cid and Dot reminded once
    answer(engine, "CID", NOW + timedelta(days=9))  # after reminder 1
    remind(engine, port, days=16)  # Ada and Dot reminded twice
    answer(engine, "ADA", NOW + timedelta(days=17))  # after reminder 2; Dot never answers
    table = response_rate_by_round(engine, SLUG)
    # by hand: 4 invited; 1 answered after the invitation, 1 after reminder 1, 1 after reminder 2
    assert table.to_dict("records") == [
        {"round": 0, "sent": 4, "answered": 1, "rate": 1 / 4},
        {"round": 1, "sent": 3, "answered": 1, "rate": 2 / 4},
        {"round": 2, "sent": 2, "answered": 1, "rate": 3 / 4}]


def test_bad_arguments_name_the_option_and_send_nothing(engine, smtp):
    inbox, port = smtp
    invite(engine, {"external_ref": "ADA", "name": "Ada", "email": "ada@example.com"})
    with pytest.raises(ValueError) as raised:
        remind(engine, port, days=8, after_days=0)
    assert str(raised.value) == messages.REMINDER_BAD_AFTER_DAYS.format(value=0)
    with pytest.raises(ValueError) as raised:
        remind(engine, port, days=8, max_reminders=0)
    assert str(raised.value) == messages.REMINDER_BAD_MAX.format(value=0)
    assert inbox.messages == []
