"""SQLAlchemy 2.0 typed models: the whole stored state of the toolkit.

Schema changes go through Alembic migrations in `survey/storage/migrations`; a test checks that these
models and the migrated schema agree.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from survey.storage import count_upkeep


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (stored as UTC everywhere)."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` as aware UTC; a naive time (SQLite returns them) is UTC already, as everything is stored."""
    if moment is None or moment.tzinfo is None:
        return None if moment is None else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# Named constraints so that migrations are reproducible on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class User(Base):
    """A person who signs in: admin, manager or field manager."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # admin | manager | field_manager
    region: Mapped[str | None] = mapped_column(String(100))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # escalation target
    password_hash: Mapped[str | None] = mapped_column(String(300))  # None: signs in by SSO only
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)  # since the last success
    locked_until: Mapped[datetime | None] = mapped_column()
    last_sign_in_at: Mapped[datetime | None] = mapped_column()
    disabled_at: Mapped[datetime | None] = mapped_column()  # a disabled user cannot sign in


class Customer(Base):
    """A customer of the company running the surveys; segment fields drive the dashboard."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    consent_to_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    tier: Mapped[str | None] = mapped_column(String(50))
    industry: Mapped[str | None] = mapped_column(String(100))
    annual_value: Mapped[float | None] = mapped_column(Float)
    tenure_start: Mapped[date | None] = mapped_column(Date)
    field_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    erased_at: Mapped[datetime | None] = mapped_column()  # personal data removed; the row stays for its cases

    field_manager: Mapped[User | None] = relationship()


class Survey(Base):
    """A survey over time; its wording lives in immutable versions."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    touchpoint: Mapped[str] = mapped_column(String(100), default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    versions: Mapped[list[SurveyVersion]] = relationship(
        back_populates="survey", order_by="SurveyVersion.number")


class SurveyVersion(Base):
    """A published definition. Never updated: a changed definition becomes the next version."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number", name="uq_survey_versions_survey_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utc_now)

    survey: Mapped[Survey] = relationship(back_populates="versions")


class Invitation(Base):
    """A personal invitation: one unguessable token per customer and survey."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(100), unique=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    responded_at: Mapped[datetime | None] = mapped_column()


class Response(Base):
    """One submitted questionnaire. Stored once per idempotency key, whatever the retries."""

    __tablename__ = "responses"
    # (survey_id, submitted_at) alone is the start of both: no index of its own (migration 0015)
    __table_args__ = (Index("ix_responses_survey_submitted_channel", "survey_id", "submitted_at", "channel"),
                      Index("ix_responses_survey_submitted_customer", "survey_id", "submitted_at", "customer_id",
                            "channel"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64))  # same key + other content = conflict
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)  # never for anonymous surveys
    # unique: one response per personal invitation, even under concurrent submissions
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(20))  # web | email | phone | kiosk | api | import
    language: Mapped[str] = mapped_column(String(10), default="en")
    submitted_at: Mapped[datetime] = mapped_column(default=utc_now)

    answers: Mapped[list[Answer]] = relationship(back_populates="response")


class Answer(Base):
    """One answer: a number for rated questions, text for text and choice questions.

    Matrix rows are stored as `question.attribute`; a multi-choice answer is one row per choice.
    `survey_id`, `submitted_at` and `customer_id` are copies of the response's, so that the
    dashboard's counts range-scan one index instead of joining every answer to its response
    (migration 0006). Every writer must fill them (the ORM does it for answers added through
    `Response.answers`, see `_copy_response_values`); the first two are NOT NULL so that a writer
    that forgets fails. A database trigger carries a change of the response's values over.
    """

    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_question_response_value", "question_key", "response_id", "numeric_value"),
                      Index("ix_answers_survey_question_submitted", "survey_id", "question_key", "submitted_at",
                            "numeric_value", "customer_id", "response_id"),
                      # follow-up flagging's look-ups: a customer's previous answer to a question, and
                      # low scores within a window, each one index seek (migration 0007)
                      Index("ix_answers_customer_history", "customer_id", "survey_id", "question_key",
                            "submitted_at", "response_id", "numeric_value",
                            sqlite_where=text("customer_id IS NOT NULL"),
                            postgresql_where=text("customer_id IS NOT NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), index=True)
    question_key: Mapped[str] = mapped_column(String(200))
    numeric_value: Mapped[float | None] = mapped_column(Float)
    text_value: Mapped[str | None] = mapped_column(Text)
    survey_id: Mapped[int] = mapped_column(Integer)  # copies of the response's (see above)
    submitted_at: Mapped[datetime] = mapped_column()
    customer_id: Mapped[int | None] = mapped_column(Integer)

    response: Mapped[Response] = relationship(back_populates="answers")


@event.listens_for(Answer, "before_insert")
def _copy_response_values(_mapper: Any, _connection: Any, answer: Answer) -> None:
    """An answer added through the ORM takes its response's survey, time and customer (see Answer)."""
    response = answer.response
    if response is not None and answer.survey_id is None:
        answer.survey_id = response.survey_id
        answer.submitted_at = response.submitted_at
        answer.customer_id = response.customer_id


class ScoreCount(Base):
    """Numeric answers per survey, question, month (UTC, 'YYYY-MM') and value: the dashboard's
    histograms without reading every answer. Kept by database triggers (`count_upkeep`)."""

    __tablename__ = "score_counts"

    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    value: Mapped[float] = mapped_column(Float, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ResponseCount(Base):
    """Responses per survey, month (UTC, 'YYYY-MM') and channel, kept like `ScoreCount`."""

    __tablename__ = "response_counts"

    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class IndexItem(Base):
    """A survey's satisfaction-index items in order (its newest version's `metric: index`
    questions), with their scale minimum and place value: what `IndexCount` packs."""

    __tablename__ = "index_items"
    __table_args__ = (UniqueConstraint("survey_id", "question_key", name="uq_index_items_survey_question"),)

    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_key: Mapped[str] = mapped_column(String(200))
    low: Mapped[int] = mapped_column(Integer)
    place: Mapped[int] = mapped_column(BigInteger)


class IndexCount(Base):
    """Responses answering every index item, per survey, month (of the first item's answer) and
    packed scores (see `count_upkeep`), kept like `ScoreCount`."""

    __tablename__ = "index_counts"

    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    packed: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class CountPause(Base):
    """A row here pauses the count triggers for the transaction that wrote it (no other sees it
    before it commits); the bulk writer counts what it wrote itself and removes the row."""

    __tablename__ = "count_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(100))


@event.listens_for(Base.metadata, "after_create")
def _install_count_upkeep(_metadata: Any, connection: Any, **_kwargs: Any) -> None:
    """A schema made from the models (not the migrations) keeps its counts too."""
    if not count_upkeep.installed(connection):
        count_upkeep.install(connection)


class ResponseDraft(Base):
    """Answers a personal-link respondent has given so far, kept until they submit."""

    __tablename__ = "response_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class ApiKey(Base):
    """A key for the JSON API. Only a hash is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # identifies the key in lists and logs
    key_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column()


OPEN_CASE_STATUSES = ("open", "contacted")  # a customer has at most one such case per survey


class FollowUpCase(Base):
    """A dissatisfied customer to call back: flagged by `survey.followup.rules`, worked by its owner.

    At most one open case (status open or contacted) per customer and survey, in the database itself:
    a new low response adds a `CaseFlag` to the open case instead of opening another.
    """

    __tablename__ = "follow_up_cases"
    __table_args__ = (
        Index("uq_follow_up_cases_one_open_per_customer_survey", "customer_id", "survey_id", unique=True,
              sqlite_where=text("status IN ('open', 'contacted')"),
              postgresql_where=text("status IN ('open', 'contacted')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"))  # the response that opened it
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    priority: Mapped[int] = mapped_column(Integer, default=3)  # 1 is the most urgent
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column()
    root_cause: Mapped[str | None] = mapped_column(String(100))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    compensation: Mapped[float | None] = mapped_column(Float)
    first_contacted_at: Mapped[datetime | None] = mapped_column()
    last_flagged_at: Mapped[datetime | None] = mapped_column()  # the newest low response added
    flagged_question: Mapped[str | None] = mapped_column(String(200))  # the score recovery is measured on
    flagged_score: Mapped[float | None] = mapped_column(Float)
    escalated_at: Mapped[datetime | None] = mapped_column()
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reinvited_at: Mapped[datetime | None] = mapped_column()  # re-invited to measure the recovery


class CaseFlag(Base):
    """Why a response was flagged: one row per rule that fired on it, linked to the case it opened or joined.

    Unique per (response, rule, question), so evaluating a response again never adds it twice.
    """

    __tablename__ = "case_flags"
    __table_args__ = (UniqueConstraint("response_id", "rule", "question_key", name="uq_case_flags_response_rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("follow_up_cases.id"), index=True)
    # NULL once the customer is erased: the flag no longer leads from a kept answer to them
    # found by the unique (response_id, rule, question_key): no index of its own (migration 0015)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"))
    rule: Mapped[str] = mapped_column(String(40))
    question_key: Mapped[str] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(300), default="")
    flagged_at: Mapped[datetime] = mapped_column(default=utc_now)


class CaseEvent(Base):
    """An entry in a case's history: append-only, never edited or deleted."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("follow_up_cases.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Who did what with personal data or accounts: append-only, and never holds personal data itself."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the command line
    actor: Mapped[str] = mapped_column(String(320))  # the user's email, or "command line"
    action: Mapped[str] = mapped_column(String(50))  # export | erase | retention | user.add | ...
    subject: Mapped[str] = mapped_column(String(300), default="")  # what, without personal data
    rows: Mapped[int | None] = mapped_column(Integer)  # how many rows were exported or changed


EVENT_KINDS = ("purchase", "renewal", "defection")


class CustomerEvent(Base):
    """Something a customer did: a purchase or renewal (with its value) or a defection (with a reason).

    `event_ref` is the sender's id of the event (the CRM's order or cancellation number), unique, so
    importing or posting the same event again stores it once; the same id with other content is a
    conflict (`content_hash`), never an overwrite.
    """

    __tablename__ = "customer_events"
    __table_args__ = (Index("ix_customer_events_customer_kind_day", "customer_id", "kind", "occurred_on"),
                      Index("ix_customer_events_kind_day", "kind", "occurred_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_ref: Mapped[str] = mapped_column(String(200), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))  # purchase | renewal | defection
    occurred_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)  # purchases and renewals
    reason: Mapped[str | None] = mapped_column(String(50))  # defections: one of the configured reasons
    reason_text: Mapped[str | None] = mapped_column(Text)  # the customer's own words
    source: Mapped[str] = mapped_column(String(20), default="import")  # import | api | demo
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Webhook(Base):
    """A receiver of event notifications (`survey.integrations`): a URL, the events it takes, its secret.

    The secret signs every delivery (HMAC-SHA256); it is shown once when the webhook is added and
    kept here in clear, as the server needs it to sign.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. ["response.created"]
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    disabled_at: Mapped[datetime | None] = mapped_column()  # a disabled webhook gets no new events


class WebhookDelivery(Base):
    """The outbox: one event for one webhook, written in the transaction of the change it announces.

    The delivery worker sends it until the receiver answers 2xx (status `delivered`) or the tries
    run out (`failed`); `locked_until` is the lease of the worker sending it now.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
                      Index("ix_webhook_deliveries_status_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(40))  # the same for every webhook told of the event
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column()


class InvitationReminder(Base):
    """A reminder sent for an unanswered invitation: round 1 is the first reminder."""

    __tablename__ = "invitation_reminders"
    __table_args__ = (UniqueConstraint("invitation_id", "round", name="uq_invitation_reminders_invitation_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(default=utc_now)


class UserSession(Base):
    """A signed-in browser: the cookie holds a random id, only its SHA-256 is stored here, so a leaked
    table does not sign anyone in. Revoked at sign-out; ignored once idle or old, when the user is
    disabled, or when their password changed (`password_stamp` no longer matches)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    password_stamp: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column()


class ImmutableRowError(RuntimeError):
    """Raised when code tries to change a row that must never change."""


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_immutable_rows(session: Session, flush_context: Any, instances: Any) -> None:
    """Published versions and case events are append-only: refuse updates and deletes in the ORM."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (SurveyVersion, CaseEvent, AuditEvent)) and (obj in session.deleted or session.is_modified(obj)):
            raise ImmutableRowError(
                f"{type(obj).__name__} {obj.id} is immutable; publish a new version or add a new event")
