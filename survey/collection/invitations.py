"""Personal invitations: create them for a set of customers, export their links, send them by email.

An invitation is one unguessable token (`secrets.token_urlsafe`, 192 bits) per customer and
survey; the respondent opens `<SURVEY_PUBLIC_URL>/?t=<token>`. Creating invitations skips
customers who have not consented to be contacted, customers invited to the same survey within the
quiet period (`SURVEY_INVITATION_QUIET_DAYS`) and, for the email channel, customers without an
email address. Anonymous surveys never get invitations: a personal token would tie a person to
their answers.

Sending claims each invitation (`sent_at`, committed) just before its message goes out and
releases it when the message is refused, so a run that stops half way resumes where it stopped,
and running it again, even at the same time, sends nothing twice.

Example:
    >>> from survey.storage.db import make_engine, upgrade, session_scope
    >>> from survey.definitions.definition import loads_yaml
    >>> from survey.definitions.publishing import publish
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     _ = publish(session, loads_yaml("slug: s\\ntitle: S\\nquestions:\\n- {key: q, kind: nps, text: Q}"))
    ...     session.add(models.Customer(external_ref="C1", name="Ada", email="ada@example.com",
    ...                                 consent_to_contact=True))
    ...     session.add(models.Customer(external_ref="C2", name="Bob", email="bob@example.com"))
    ...     batch = create_invitations(session, "s")
    >>> batch.created, batch.skipped_no_consent
    (1, 1)
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Mapping, Sequence

from sqlalchemy import ColumnElement, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from survey import exports, messages, settings as settings_module
from survey.collection import mail
from survey.storage import models
from survey.storage.models import as_utc, utc_now
from survey.definitions.publishing import get_survey, latest_version

TOKEN_BYTES = 24  # 192 bits from secrets.token_urlsafe: 32 URL-safe characters
CHANNELS = ("email", "link")  # link: the personal link is handed out by other means (export)
FILTERS = ("region", "tier", "industry", "field_manager")  # field_manager: the field manager's email
EXPORT_COLUMNS = ("customer_ref", "name", "email", "language", "personal_link", "expires_at")


@dataclass(frozen=True)
class InvitationBatch:
    """What `create_invitations` did: counts of created and skipped customers, and the new ids."""

    created: int
    skipped_no_consent: int
    skipped_quiet_period: int
    skipped_no_email: int
    invitation_ids: tuple[int, ...]


@dataclass(frozen=True)
class Refusal:
    """An invitation the SMTP server did not accept; it stays unsent and is tried again next run."""

    invitation_id: int
    email: str
    reason: str


@dataclass(frozen=True)
class SendReport:
    """What `send_invitations` did. Skipped invitations stay unsent."""

    sent: int
    refused: tuple[Refusal, ...]
    skipped_no_consent: int  # consent withdrawn since the invitation was created
    skipped_no_email: int  # email address removed since the invitation was created


def personal_link(token: str, base_url: str) -> str:
    """The link a respondent opens: `<base_url>/?t=<token>`.

    Example:
        >>> personal_link("abc", "https://survey.example.com/")
        'https://survey.example.com/?t=abc'
    """
    return f"{base_url.rstrip('/')}/?t={token}"


def new_token() -> str:
    """A fresh unguessable invitation token (192 random bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def create_invitations(session: Session, survey_slug: str, filters: Mapping[str, str | Sequence[str]] | None = None,
                       channel: str = "email", now: datetime | None = None, quiet_days: int | None = None,
                       valid_days: int | None = None) -> InvitationBatch:
    """Create one invitation per eligible customer matching `filters` (all customers without filters).

    `filters` maps a segment field (region, tier, industry, field_manager) to one value or a list
    of values; customers match when each field holds one of its values. Skipped, in this order:
    customers without consent to be contacted; customers invited to this survey less than
    `quiet_days` before `now` (an invitation exactly `quiet_days` old no longer blocks); for the
    email channel, customers without an email address. Each invitation is in the customer's
    language (`attributes['language']`) when the survey has it, else in the survey's first
    language, and expires `valid_days` after `now`. `quiet_days` and `valid_days` default to the
    settings (`SURVEY_INVITATION_QUIET_DAYS`, `SURVEY_INVITATION_VALID_DAYS`).

    Raises LookupError for an unknown survey, ValueError for an anonymous or closed survey, an
    unknown channel or an unknown filter.
    """
    now = as_utc(now or utc_now())
    quiet_days = _days("quiet_days", settings_module.invitation_quiet_days() if quiet_days is None else quiet_days, 0)
    valid_days = _days("valid_days", settings_module.invitation_valid_days() if valid_days is None else valid_days, 1)
    if channel not in CHANNELS:
        raise ValueError(messages.INVITATION_UNKNOWN_CHANNEL.format(channel=channel, channels=", ".join(CHANNELS)))
    conditions = _filter_conditions(filters or {})
    survey = _invitable_survey(session, survey_slug)
    languages = _languages(session, survey_slug)

    recently_invited = exists().where(
        models.Invitation.customer_id == models.Customer.id,
        models.Invitation.survey_id == survey.id,
        models.Invitation.created_at > now - timedelta(days=quiet_days))
    query = (select(models.Customer.id, models.Customer.consent_to_contact, models.Customer.email,
                    models.Customer.attributes, recently_invited.label("recent"))
             .where(*conditions)
             .order_by(models.Customer.id))
    if "field_manager" in (filters or {}):
        query = query.join(models.User, models.Customer.field_manager_id == models.User.id)

    rows: list[dict[str, Any]] = []
    no_consent = quiet = no_email = 0
    expires_at = now + timedelta(days=valid_days)
    for customer_id, consent, email, attributes, recent in session.execute(query):
        if not consent:
            no_consent += 1
        elif recent:
            quiet += 1
        elif channel == "email" and not (email or "").strip():
            no_email += 1
        else:
            wanted = attributes.get("language") if isinstance(attributes, dict) else None
            rows.append({"token": new_token(), "survey_id": survey.id, "customer_id": customer_id,
                         "channel": channel, "language": wanted if wanted in languages else languages[0],
                         "created_at": now, "expires_at": expires_at})
    ids: tuple[int, ...] = ()
    if rows:
        ids = tuple(session.scalars(
            insert(models.Invitation).returning(models.Invitation.id, sort_by_parameter_order=True), rows))
    return InvitationBatch(created=len(ids), skipped_no_consent=no_consent, skipped_quiet_period=quiet,
                           skipped_no_email=no_email, invitation_ids=ids)


def export_invitations(session: Session, survey_slug: str, path: str | Path, *, base_url: str | None = None,
                       now: datetime | None = None) -> int:
    """Write the survey's open invitations (not answered, not expired) to a CSV; return how many.

    Columns: customer_ref, name, email, language, personal_link, expires_at (UTC, ISO 8601). The
    file is formula-injection safe and readable by its owner only: each link lets its holder
    answer as that customer. `base_url` defaults to `SURVEY_PUBLIC_URL`. Nothing is recorded.
    """
    base_url = base_url or settings_module.public_url()
    survey = get_survey(session, survey_slug)
    query = (select(models.Customer.external_ref, models.Customer.name, models.Customer.email,
                    models.Invitation.language, models.Invitation.token, models.Invitation.expires_at)
             .join(models.Customer, models.Invitation.customer_id == models.Customer.id)
             .where(models.Invitation.survey_id == survey.id, *_open_invitation(as_utc(now or utc_now())))
             .order_by(models.Invitation.id))
    rows = ((ref, name, email, language, personal_link(token, base_url), _iso(expires))
            for ref, name, email, language, token, expires in session.execute(query))
    return exports.write_csv(path, EXPORT_COLUMNS, rows, private=True)


def send_invitations(session: Session, survey_slug: str, settings: settings_module.Settings,
                     progress: bool = False, now: datetime | None = None) -> SendReport:
    """Email every unsent, unexpired, unanswered email invitation of the survey, one message each.

    The subject is the survey title in the invitation's language; the body (plain text, with an
    HTML alternative) carries the personal link and the expiry date. Each invitation is claimed
    (`sent_at` set and committed) just before its message goes out, and released again when the
    server refuses it or the connection fails, so a second run, even one running at the same time,
    sends only what the first did not. A process killed while a message is in flight may leave that
    one invitation marked sent without its message: never two messages to one customer, at most
    one lost per crash. A recipient the server refuses is reported and stays unsent.
    Customers who withdrew consent or lost their address since the invitation was created are
    skipped. The session is committed (also before sending, so no database lock is held while
    talking to the mail server).

    Raises ValueError when no SMTP server is configured and `mail.MailError` (naming host:port)
    when the server cannot be used; invitations sent before the failure stay marked as sent.
    """
    if settings.smtp is None:
        raise ValueError(messages.SMTP_NO_HOST)
    now = as_utc(now or utc_now())
    wording = survey_wording(session, survey_slug)
    survey = wording.survey
    pending = session.execute(
        select(models.Invitation.id, models.Invitation.token, models.Invitation.language,
               models.Invitation.expires_at, models.Customer.name, models.Customer.email,
               models.Customer.consent_to_contact)
        .join(models.Customer, models.Invitation.customer_id == models.Customer.id)
        .where(models.Invitation.survey_id == survey.id, models.Invitation.channel == "email",
               models.Invitation.sent_at.is_(None), *_open_invitation(now))
        .order_by(models.Invitation.id)).all()
    session.commit()

    sendable = [row for row in pending if row.consent_to_contact and (row.email or "").strip()]
    no_consent = sum(1 for row in pending if not row.consent_to_contact)
    no_email = len(pending) - len(sendable) - no_consent
    refused: list[Refusal] = []
    sent = 0
    bar: Any = _NoProgress()
    try:
        with mail.connect(settings.smtp) as connection:
            bar = _progress(len(sendable), progress and bool(sendable))
            for row in sendable:
                bar.update(1)
                if not _claim(session, row.id, now):
                    continue  # another run (started at the same time) has taken it
                try:
                    message = wording.email(row, settings, now)
                except ValueError as error:  # an address that cannot be written in a header
                    refused.append(Refusal(row.id, row.email, f"invalid address: {error}"))
                    _release(session, row.id)
                    continue
                try:
                    reason = mail.send(connection, message, settings.smtp)
                except BaseException:
                    _release(session, row.id)
                    raise
                if reason is None:
                    sent += 1
                else:
                    refused.append(Refusal(row.id, row.email, reason))
                    _release(session, row.id)
    finally:
        bar.close()
    return SendReport(sent=sent, refused=tuple(refused), skipped_no_consent=no_consent, skipped_no_email=no_email)


@dataclass(frozen=True)
class SurveyWording:
    """What an invitation or reminder email says of its survey: titles and intros by language."""

    survey: models.Survey
    titles: Mapping[str, str]
    intros: Mapping[str, str]
    first_language: str

    def language(self, row: Any) -> str:
        """The language of a pending invitation row's email."""
        return row.language or self.first_language

    def email(self, row: Any, settings: settings_module.Settings, now: datetime) -> EmailMessage:
        """The email of a pending invitation row (token, language, expires_at, name, email);
        ValueError when its address cannot be written in a header."""
        language = self.language(row)
        return invitation_email(
            sender=settings.smtp.sender, name=row.name, email=row.email.strip(),
            title=self.titles.get(language) or self.survey.title, intro=self.intros.get(language) or "",
            link=personal_link(row.token, settings.public_url), expires_at=row.expires_at, language=language, now=now)


def survey_wording(session: Session, survey_slug: str) -> SurveyWording:
    """The survey (LookupError when there is none) and its newest version's titles and intros."""
    survey = get_survey(session, survey_slug)
    definition = latest_version(session, survey_slug)
    data: Mapping[str, Any] = definition.definition if definition else {}
    return SurveyWording(survey, data.get("title") or {}, data.get("intro") or {},
                         (data.get("languages") or ["en"])[0])


def invitation_email(*, sender: str, name: str, email: str, title: str, intro: str, link: str,
                     expires_at: datetime | None, language: str, now: datetime) -> EmailMessage:
    """The invitation message: plain text in `language` (English wording when there is none), plus HTML.

    ValueError when `email` is not a valid address.
    """
    name = _one_line(name)
    title = _one_line(title)
    template = messages.INVITATION_EMAIL_TEXT.get(language) or messages.INVITATION_EMAIL_TEXT["en"]
    expires = as_utc(expires_at).date().isoformat() if expires_at else "-"
    intro_paragraph = f"{intro.strip()}\n\n" if intro and intro.strip() else ""
    text = template.format(name=name, title=title, intro=intro_paragraph, link=link, expires=expires)

    message = EmailMessage()
    message["Subject"] = title
    message["From"] = sender
    try:
        message["To"] = Address(display_name=name, addr_spec=email)
    except (ValueError, IndexError) as error:
        raise ValueError(f"{email!r}: {error}") from None
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(_html(text, link, language), subtype="html")
    message["Content-Language"] = language  # after the parts: making them moves Content-* headers down
    return message


def _html(text: str, link: str, language: str) -> str:
    """The plain text as escaped HTML paragraphs, the link paragraph as a link."""
    paragraphs = []
    for paragraph in text.strip().split("\n\n"):
        if paragraph.strip() == link:
            escaped = html.escape(link, quote=True)
            paragraphs.append(f'<p><a href="{escaped}">{escaped}</a></p>')
        else:
            paragraphs.append("<p>" + html.escape(paragraph).replace("\n", "<br>") + "</p>")
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(language, quote=True)}"><body>\n'
            + "\n".join(paragraphs) + "\n</body></html>\n")


def _claim(session: Session, invitation_id: int, now: datetime) -> bool:
    """Mark an invitation sent before sending it, and commit; False when it already was (another run
    took it). Two runs at once therefore never send the same invitation twice."""
    claimed = session.execute(update(models.Invitation).where(models.Invitation.id == invitation_id,
                                                              models.Invitation.sent_at.is_(None))
                              .values(sent_at=now)).rowcount
    session.commit()
    return claimed == 1


def _release(session: Session, invitation_id: int) -> None:
    """Undo a claim: the message was refused or could not be sent, so the next run tries again."""
    session.execute(update(models.Invitation).where(models.Invitation.id == invitation_id).values(sent_at=None))
    session.commit()


def _open_invitation(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Conditions for an invitation that can still be answered: not answered, not expired."""
    answered = exists().where(models.Response.invitation_id == models.Invitation.id)
    return (models.Invitation.responded_at.is_(None), ~answered,
            or_(models.Invitation.expires_at.is_(None), models.Invitation.expires_at > now))


def _invitable_survey(session: Session, slug: str) -> models.Survey:
    # The survey row is locked (PostgreSQL; SQLite's write lock already serialises) so that two
    # concurrent runs cannot both invite the same customer inside the quiet period.
    survey = get_survey(session, slug)
    survey = session.scalar(select(models.Survey).where(models.Survey.id == survey.id).with_for_update())
    if survey.anonymous:
        raise ValueError(messages.INVITATION_ANONYMOUS.format(slug=slug))
    if survey.status != "open":
        raise ValueError(messages.INVITATION_CLOSED.format(slug=slug))
    return survey


def _languages(session: Session, slug: str) -> tuple[str, ...]:
    version = latest_version(session, slug)
    if version is None:
        raise ValueError(messages.INVITATION_NOT_PUBLISHED.format(slug=slug))
    return tuple(version.definition.get("languages") or ("en",))


def _filter_conditions(filters: Mapping[str, str | Sequence[str]]) -> list[ColumnElement[bool]]:
    columns = {"region": models.Customer.region, "tier": models.Customer.tier,
               "industry": models.Customer.industry, "field_manager": models.User.email}
    conditions = []
    for key, raw in filters.items():
        if key not in columns:
            raise ValueError(messages.INVITATION_UNKNOWN_FILTER.format(key=key, known=", ".join(FILTERS)))
        values = [raw] if isinstance(raw, str) else list(raw)
        if not values:
            raise ValueError(messages.INVITATION_EMPTY_FILTER.format(key=key))
        conditions.append(columns[key].in_([str(value) for value in values]))
    return conditions


def _days(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(messages.INVITATION_BAD_DAYS.format(name=name, minimum=minimum, value=value))
    return value


def _iso(moment: datetime | None) -> str:
    return as_utc(moment).isoformat(timespec="seconds") if moment else ""


def _one_line(text: str | None) -> str:
    """Header-safe text: line breaks (which could inject headers) and runs of spaces become one space."""
    return " ".join((text or "").split())


class _NoProgress:
    def update(self, _n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, shown: bool) -> Any:
    if not shown:
        return _NoProgress()
    import sys

    from tqdm import tqdm

    return tqdm(total=total, unit=" emails", file=sys.stderr, desc="invitations")


__all__ = ["create_invitations", "export_invitations", "send_invitations", "personal_link", "new_token",
           "invitation_email", "InvitationBatch", "SendReport", "Refusal", "CHANNELS", "FILTERS", "EXPORT_COLUMNS"]
