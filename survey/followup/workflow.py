"""Working a case: status changes, reassignment, notes, escalation and re-invitation, each an event.

Statuses: open -> contacted -> resolved, or unreachable / declined (from open or contacted).
Resolved, unreachable and declined are final. Resolving needs a root cause from the rules file's
list and a resolution note; a compensation amount is optional. Every change adds a `CaseEvent`
(who, when, from, to, note), which can never be edited or deleted (the ORM and database triggers
refuse). Bad input raises `CaseChangeError` naming the field and changes nothing; a case outside
the actor's scope raises `AccessDenied`, whether it exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from math import isfinite

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.integrations import outbox
from survey.storage import models
from survey.people.access import REASSIGN_CASES, WORK_CASES, AccessDenied, Actor, require
from survey.collection.collect import storable_text
from survey.followup.queries import case_scope
from survey.followup.settings import FollowUpSettings, load_settings
from survey.storage.models import OPEN_CASE_STATUSES, utc_now

STATUSES = ("open", "contacted", "resolved", "unreachable", "declined")
CLOSED = ("resolved", "unreachable", "declined")
TRANSITIONS = {
    "open": ("contacted", "resolved", "unreachable", "declined"),
    "contacted": ("resolved", "unreachable", "declined"),
    "resolved": (), "unreachable": (), "declined": (),
}
REACHED = ("contacted", "resolved", "declined")  # the customer was spoken to
MAX_NOTE = 4_000


class CaseChangeError(ValueError):
    """A change that cannot be made; the message names the field at fault."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def scoped_case(session: Session, actor: Actor, case_id: int, action: str = WORK_CASES) -> models.FollowUpCase:
    """The case when `actor` may `action` it; AccessDenied otherwise (also when there is no such case)."""
    require(actor, action)
    case = session.scalar(select(models.FollowUpCase).where(models.FollowUpCase.id == case_id, case_scope(actor)))
    if case is None:
        raise AccessDenied(f"case {case_id} is not among the cases you may see")
    return case


def _note(note: str | None, required: bool = False, field: str = "note") -> str:
    text = (note or "").strip()
    if required and not text:
        raise CaseChangeError(field, "is required")
    if len(text) > MAX_NOTE:
        raise CaseChangeError(field, f"is longer than {MAX_NOTE} characters ({len(text)})")
    if not storable_text(text):
        raise CaseChangeError(field, "contains a NUL character or a lone surrogate")
    return text


def change_status(session: Session, actor: Actor, case_id: int, to: str, note: str = "", *,
                  root_cause: str | None = None, compensation: float | None = None,
                  now: datetime | None = None, settings: FollowUpSettings | None = None) -> models.FollowUpCase:
    """Move a case to status `to` with a note, as `actor`; see the module docstring for the rules."""
    case = scoped_case(session, actor, case_id)
    apply_status(session, actor, case, to, note, root_cause=root_cause, compensation=compensation, now=now,
                 settings=settings)
    session.flush()
    return case


@dataclass(frozen=True)
class CheckedChange:
    """A status change that `check_change` found allowed, with its note and resolution cleaned."""

    to: str
    note: str
    root_cause: str | None
    compensation: float | None


def check_change(actor: Actor, status: str, to: str, note: str = "", *, root_cause: str | None = None,
                 compensation: float | None = None, settings: FollowUpSettings | None = None) -> CheckedChange:
    """Check that `actor` may move a case that is `status` to `to` with this note and resolution;
    CaseChangeError naming the field when not. Changes nothing (see the module docstring)."""
    require(actor, WORK_CASES)
    if to not in STATUSES:
        raise CaseChangeError("status", f"{to!r} is not a status (expected one of: {', '.join(STATUSES)})")
    if to not in TRANSITIONS[status]:
        allowed = ", ".join(TRANSITIONS[status]) or "none: the case is closed"
        raise CaseChangeError("status", f"a case that is {status} cannot become {to} (allowed: {allowed})")
    text = _note(note)
    if to == "resolved":
        settings = settings or load_settings()
        if not root_cause:
            raise CaseChangeError("root_cause", f"is required to resolve (one of: {', '.join(settings.root_causes)})")
        if root_cause not in settings.root_causes:
            raise CaseChangeError("root_cause", f"{root_cause!r} is not in the list ({', '.join(settings.root_causes)})")
        text = _note(note, required=True, field="resolution note")
        if compensation is not None:
            try:
                compensation = float(compensation)
            except (TypeError, ValueError):
                raise CaseChangeError("compensation", f"{compensation!r} is not a number") from None
            if not isfinite(compensation) or compensation < 0:
                raise CaseChangeError("compensation", f"must be zero or more, got {compensation:g}")
    elif root_cause is not None or compensation is not None:
        raise CaseChangeError("root_cause" if root_cause is not None else "compensation",
                              "only a resolution has a root cause or a compensation")
    return CheckedChange(to, text, root_cause, compensation)


def apply_status(session: Session, actor: Actor, case: models.FollowUpCase, to: str, note: str = "", *,
                 root_cause: str | None = None, compensation: float | None = None,
                 now: datetime | None = None, settings: FollowUpSettings | None = None,
                 announce: bool = True) -> None:
    """`change_status` for a case the caller already holds within `actor`'s scope; the change is
    written at the session's next flush. A resolution is announced to the webhooks that take
    `case.resolved`, in the same transaction, unless `announce` is False."""
    change = check_change(actor, case.status, to, note, root_cause=root_cause, compensation=compensation,
                          settings=settings)
    now = now or utc_now()
    before = case.status
    case.status = to
    if to in REACHED and case.first_contacted_at is None:
        case.first_contacted_at = now
    if to in CLOSED:
        case.closed_at = now
    if to == "resolved":
        case.root_cause, case.resolution_note, case.compensation = change.root_cause, change.note, change.compensation
    session.add(models.CaseEvent(case_id=case.id, actor_id=actor.user_id, at=now, from_status=before, to_status=to,
                                 note=change.note or None))
    if to == "resolved" and announce:
        outbox.case_resolved(session, case)


def add_note(session: Session, actor: Actor, case_id: int, note: str, now: datetime | None = None) -> None:
    """Add a note to a case's history without changing its status."""
    case = scoped_case(session, actor, case_id)
    text = _note(note, required=True)
    session.add(models.CaseEvent(case_id=case.id, actor_id=actor.user_id, at=now or utc_now(),
                                 from_status=case.status, to_status=case.status, note=text))
    session.flush()


def reassign(session: Session, actor: Actor, case_id: int, owner_email: str, note: str = "",
             now: datetime | None = None) -> models.FollowUpCase:
    """Give a case to another user (admins and managers only)."""
    case = scoped_case(session, actor, case_id, REASSIGN_CASES)
    owner = session.scalar(select(models.User).where(models.User.email == (owner_email or "").strip()))
    if owner is None or owner.disabled_at is not None:
        raise CaseChangeError("owner", f"no active user with the email {owner_email!r}")
    if case.status not in OPEN_CASE_STATUSES:
        raise CaseChangeError("owner", f"a {case.status} case is closed and keeps its owner")
    text = _note(note)
    previous = session.get(models.User, case.owner_id) if case.owner_id else None
    case.owner_id = owner.id
    session.add(models.CaseEvent(
        case_id=case.id, actor_id=actor.user_id, at=now or utc_now(), from_status=case.status,
        to_status=case.status,
        note=f"reassigned from {previous.email if previous else 'nobody'} to {owner.email}" + (f": {text}" if text else "")))
    session.flush()
    return case


@dataclass(frozen=True)
class Escalation:
    case_id: int
    manager_email: str | None
    hours_overdue: float


def escalate_overdue(session: Session, actor: Actor, now: datetime | None = None,
                     settings: FollowUpSettings | None = None) -> list[Escalation]:
    """Escalate open cases more than `escalate_after_hours` past due to their owner's manager (once each)."""
    require(actor, REASSIGN_CASES)
    settings = settings or load_settings()
    now = now or utc_now()
    limit = now - timedelta(hours=settings.escalate_after_hours)
    cases = session.scalars(select(models.FollowUpCase).where(
        models.FollowUpCase.status.in_(OPEN_CASE_STATUSES), models.FollowUpCase.due_at < limit,
        models.FollowUpCase.escalated_at.is_(None), case_scope(actor)).order_by(models.FollowUpCase.id)).all()
    done = []
    for case in cases:
        owner = session.get(models.User, case.owner_id) if case.owner_id else None
        manager = session.get(models.User, owner.manager_id) if owner and owner.manager_id else None
        due = case.due_at if case.due_at.tzinfo else case.due_at.replace(tzinfo=timezone.utc)
        hours = (now - due).total_seconds() / 3600
        case.escalated_at = now
        case.escalated_to_id = manager.id if manager else None
        target = manager.email if manager else "nobody (the owner has no manager on record)"
        session.add(models.CaseEvent(case_id=case.id, actor_id=actor.user_id, at=now, from_status=case.status,
                                     to_status=case.status, note=f"escalated to {target}: {hours:.0f} hours overdue"))
        done.append(Escalation(case.id, manager.email if manager else None, hours))
    session.flush()
    return done


def reinvite_recovered(session: Session, actor: Actor, now: datetime | None = None,
                       settings: FollowUpSettings | None = None) -> int:
    """Invite again, to the same survey, customers whose case was resolved `reinvite_after_days` ago or more
    (once per case; only consenting customers and open, identified surveys). Returns the invitations made."""
    from survey import settings as survey_settings
    from survey.collection.invitations import new_token

    require(actor, REASSIGN_CASES)
    settings = settings or load_settings()
    now = now or utc_now()
    valid_days = survey_settings.invitation_valid_days()
    c, case_table, s = models.Customer, models.FollowUpCase, models.Survey
    rows = session.execute(
        select(case_table, c.attributes, s.id)
        .join(c, c.id == case_table.customer_id).join(s, s.id == case_table.survey_id)
        .where(case_table.status == "resolved", case_table.reinvited_at.is_(None),
               case_table.closed_at <= now - timedelta(days=settings.reinvite_after_days),
               c.consent_to_contact.is_(True), c.erased_at.is_(None), s.anonymous.is_(False), s.status == "open",
               case_scope(actor))
        .order_by(case_table.id)).all()
    for case, attributes, survey_id in rows:
        language = attributes.get("language") if isinstance(attributes, dict) else None
        session.add(models.Invitation(token=new_token(), survey_id=survey_id, customer_id=case.customer_id,
                                      channel="email", language=language, created_at=now,
                                      expires_at=now + timedelta(days=valid_days)))
        case.reinvited_at = now
        session.add(models.CaseEvent(case_id=case.id, actor_id=actor.user_id, at=now, from_status=case.status,
                                     to_status=case.status, note="re-invited to the survey to measure the recovery"))
    session.flush()
    return len(rows)
