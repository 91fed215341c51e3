"""Reminders: one more email to invitees who have not answered, at most a set number of times.

An invitation gets reminder round n + 1 when its invitation email was sent, it has n < `max`
reminders, its last email (invitation or reminder) is at least `after_days` old, it is neither
answered nor expired, and its customer still consents to be contacted, is not erased and has an
email address. Those who answered, opted out (consent withdrawn) or lost their address are never
reminded. Each reminder is recorded (`invitation_reminders`: invitation, round, when) before
its message goes out and removed again when the server refuses it, so two runs at once never
send the same round twice (a unique key on invitation and round).

`response_rate_by_round` counts, per round (0: the invitation, 1: the first reminder, ...), how
many invitees got that email, how many answered after it (before the next), and the response
rate reached by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey import messages, settings as settings_module
from survey.collection import mail
from survey.collection.invitations import Refusal, _open_invitation, _progress, survey_wording
from survey.storage import models
from survey.storage.models import as_utc, utc_now

REMINDER_PREFIX = {"en": "Reminder", "fr": "Rappel", "de": "Erinnerung", "es": "Recordatorio"}


@dataclass(frozen=True)
class ReminderReport:
    """What `send_reminders` did: reminders sent, refused by the server, and invitees left out."""

    sent: int
    refused: tuple[Refusal, ...]
    skipped_no_consent: int
    skipped_no_email: int
    at_most_reminded: int  # already had `max` reminders


def _due(survey_id: int, after_days: int, max_reminders: int, now: datetime):
    r = models.InvitationReminder
    counts = (select(r.invitation_id, func.count().label("reminders"), func.max(r.sent_at).label("last"))
              .group_by(r.invitation_id).subquery())
    reminders = func.coalesce(counts.c.reminders, 0)
    last_email = func.coalesce(counts.c.last, models.Invitation.sent_at)
    cutoff = now - timedelta(days=after_days)
    return (select(models.Invitation.id, models.Invitation.token, models.Invitation.language,
                   models.Invitation.expires_at, models.Customer.name, models.Customer.email,
                   models.Customer.consent_to_contact, models.Customer.erased_at, reminders.label("reminders"))
            .join(models.Customer, models.Invitation.customer_id == models.Customer.id)
            .outerjoin(counts, counts.c.invitation_id == models.Invitation.id)
            .where(models.Invitation.survey_id == survey_id, models.Invitation.channel == "email",
                   models.Invitation.sent_at.is_not(None), last_email <= cutoff, *_open_invitation(now))
            .order_by(models.Invitation.id))


def send_reminders(session: Session, survey_slug: str, settings: settings_module.Settings, *, after_days: int,
                   max_reminders: int, now: datetime | None = None, progress: bool = False) -> ReminderReport:
    """Email a reminder to every invitee of the survey who is due one (see the module docstring).

    Raises ValueError naming `--after-days` or `--max` when below 1, or when no SMTP server is
    configured, and `mail.MailError` (naming host:port) when the server cannot be used; reminders
    sent before the failure stay recorded. The session is committed.
    """
    if after_days < 1:
        raise ValueError(messages.REMINDER_BAD_AFTER_DAYS.format(value=after_days))
    if max_reminders < 1:
        raise ValueError(messages.REMINDER_BAD_MAX.format(value=max_reminders))
    if settings.smtp is None:
        raise ValueError(messages.SMTP_NO_HOST)
    now = as_utc(now or utc_now())
    wording = survey_wording(session, survey_slug)
    candidates = session.execute(_due(wording.survey.id, after_days, max_reminders, now)).all()
    session.commit()  # no database lock held while talking to the mail server

    at_most = sum(1 for row in candidates if row.reminders >= max_reminders)
    open_rows = [row for row in candidates if row.reminders < max_reminders]
    no_consent = sum(1 for row in open_rows if not row.consent_to_contact or row.erased_at is not None)
    sendable = [row for row in open_rows if row.consent_to_contact and row.erased_at is None
                and (row.email or "").strip()]
    no_email = len(open_rows) - no_consent - len(sendable)
    refused: list[Refusal] = []
    sent = 0
    bar: Any = _progress(0, False)
    try:
        with mail.connect(settings.smtp) as connection:
            bar = _progress(len(sendable), progress and bool(sendable))
            for row in sendable:
                bar.update(1)
                reminder_id = _claim(session, row.id, row.reminders + 1, now)
                if reminder_id is None:
                    continue  # another run sent this round meanwhile
                try:
                    message = wording.email(row, settings, now)
                except ValueError as error:
                    refused.append(Refusal(row.id, row.email, f"invalid address: {error}"))
                    _release(session, reminder_id)
                    continue
                prefix = REMINDER_PREFIX.get(wording.language(row), REMINDER_PREFIX["en"])
                message.replace_header("Subject", f"{prefix}: {message['Subject']}")
                try:
                    reason = mail.send(connection, message, settings.smtp)
                except BaseException:
                    _release(session, reminder_id)
                    raise
                if reason is None:
                    sent += 1
                else:
                    refused.append(Refusal(row.id, row.email, reason))
                    _release(session, reminder_id)
    finally:
        bar.close()
    return ReminderReport(sent, tuple(refused), no_consent, no_email, at_most)


def _claim(session: Session, invitation_id: int, round_number: int, now: datetime) -> int | None:
    """Record reminder `round_number` before sending it, and commit; None when another run has."""
    try:
        reminder_id = session.execute(insert(models.InvitationReminder).values(
            invitation_id=invitation_id, round=round_number, sent_at=now).returning(models.InvitationReminder.id)
        ).scalar_one()
        session.commit()
        return reminder_id
    except IntegrityError:
        session.rollback()
        return None


def _release(session: Session, reminder_id: int) -> None:
    """Undo a claim: the reminder was not sent, so the next run tries that round again."""
    session.query(models.InvitationReminder).filter(models.InvitationReminder.id == reminder_id).delete()
    session.commit()


def response_rate_by_round(engine: Engine, survey_slug: str) -> pd.DataFrame:
    """Per round (0: the invitation email, 1: the first reminder, ...): `sent` (invitees who got
    that email), `answered` (of them, those who answered after it and before the next), and
    `rate` (everyone answered by the end of that round over every invitation sent). Counted in the
    database; empty when no invitation email was sent.
    """
    i, r = models.Invitation, models.InvitationReminder
    answered_at = func.coalesce(i.responded_at, select(func.min(models.Response.submitted_at))
                                .where(models.Response.invitation_id == i.id).correlate(i).scalar_subquery())
    reminders = select(func.count()).where(r.invitation_id == i.id).correlate(i).scalar_subquery()
    before_answer = (select(func.count()).where(r.invitation_id == i.id, r.sent_at < answered_at)
                     .correlate(i).scalar_subquery())
    query = (select(reminders.label("reminders"), answered_at.label("answered_at"), before_answer.label("before"))
             .join(models.Survey, i.survey_id == models.Survey.id)
             .where(models.Survey.slug == survey_slug, i.sent_at.is_not(None)))
    per_invitation = query.subquery()
    grouped = (select(per_invitation.c.reminders, per_invitation.c.before,
                      func.count().label("invitations"), func.count(per_invitation.c.answered_at).label("answered"))
               .group_by(per_invitation.c.reminders, per_invitation.c.before))
    with engine.connect() as connection:
        rows = connection.execute(grouped).all()
    total = sum(row.invitations for row in rows)
    if not total:
        return pd.DataFrame(columns=["round", "sent", "answered", "rate"])
    last_round = max(row.reminders for row in rows)
    table = []
    answered_so_far = 0
    for round_number in range(last_round + 1):
        sent = sum(row.invitations for row in rows if row.reminders >= round_number)
        answered = sum(row.answered for row in rows if row.answered and row.before == round_number)
        answered_so_far += answered
        table.append({"round": round_number, "sent": sent, "answered": answered, "rate": answered_so_far / total})
    return pd.DataFrame(table)


def round_label(round_number: int) -> str:
    """A round as people say it: "invitation", "reminder 1", ..."""
    return "invitation" if round_number == 0 else f"reminder {round_number}"

