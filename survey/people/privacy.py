"""Personal data handled with care: erasure on request, retention of inactive customers, and the
small-group rule for anonymous surveys.

Erasure keeps what the company may keep (scores, as anonymous answers) and removes who gave them:
the customer's contact details and segment fields, the link from their responses and invitations,
their drafts, and every verbatim copy of their name, email, phone or reference inside free text
(comments, case notes), which is replaced by `[erased]`. Their open cases are closed, and their
cases and case flags lose the link to the response that opened them, so no row leads from a kept
answer back to the erased customer. Webhook announcements in the outbox that named them by
reference (waiting, failed or kept as sent) keep the event without the reference: one still to
be sent goes out with `customer_ref` null. One audit event records that an erasure happened,
naming the customer by internal number only.

Erasure then reaches the disk (`survey.storage.db.purge_deleted_content`): on SQLite the old
row versions are zeroed (secure_delete) and the WAL is checkpointed and truncated by the erasing
process; on PostgreSQL the tables it changed are vacuumed. `Erasure.purged` says whether that
step completed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice
from typing import Callable, Iterable, Sequence

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from survey.people import audit
from survey.storage import db, models
from survey.people.access import ERASE_CUSTOMERS, Actor, require

REDACTED = "[erased]"  # the marker migration 0004's case-event trigger allows in an edited note
ANONYMOUS_MIN_GROUP = 5  # anonymous surveys: no group under this many responses is shown
DEFAULT_RETENTION_DAYS = 3 * 365
CLOSED_BY_ERASURE = "declined"  # the case status an erasure closes open cases with
CLOSED_STATUSES = ("resolved", "unreachable", "declined")


@dataclass(frozen=True)
class Erasure:
    """What an erasure did (counts only: nothing personal)."""

    customer_id: int
    responses_unlinked: int
    responses_deleted: int
    cases_closed: int
    texts_redacted: int
    purged: bool = True  # the old row versions left the database files (see the module docstring)


# Every table an erasure may change: the ones whose old row versions must leave the files.
ERASURE_TABLES = ("customers", "responses", "answers", "invitations", "response_drafts", "follow_up_cases",
                  "case_flags", "case_events", "customer_events", "webhook_deliveries")
RETENTION_CUSTOMERS_PER_TRANSACTION = 100  # each transaction reads the outbox once for all of them


def redact(text: str | None, identifiers: Iterable[str]) -> str | None:
    """`text` with every (case-insensitive) occurrence of each identifier replaced by `[erased]`.

    >>> redact("Call Ann Lee on +44 20 7946 0000", ["Ann Lee", "+44 20 7946 0000"])
    'Call [erased] on [erased]'
    """
    if text is None:
        return None
    for identifier in sorted({i for i in identifiers if i and len(i) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(identifier), REDACTED, text, flags=re.IGNORECASE)
    return text


def _identifiers(customer: models.Customer) -> list[str]:
    found = [customer.name, customer.email, customer.phone, customer.external_ref]
    if customer.phone:  # the same number written without spaces or dashes
        found.append("".join(ch for ch in customer.phone if ch.isdigit() or ch == "+"))
    return [value for value in found if value]


def erase_customer(engine: Engine, actor: Actor, external_ref: str, delete_responses: bool = False) -> Erasure:
    """Erase the customer `external_ref`'s personal data (see the module docstring), in one transaction."""
    require(actor, ERASE_CUSTOMERS)
    with db.session_scope(engine) as session:
        customer = session.scalars(select(models.Customer).where(models.Customer.external_ref == external_ref)).first()
        if customer is None:
            raise LookupError(f"customer: no customer with reference {external_ref!r}")
        erasure = _erase(session, customer, delete_responses)
        _forget_in_outbox(session, [external_ref])
        audit.record(session, actor, "erase", f"customer #{customer.id}"
                     + (" with responses deleted" if delete_responses else ", responses kept anonymous"),
                     rows=erasure.responses_unlinked + erasure.responses_deleted)
    return replace(erasure, purged=db.purge_deleted_content(engine, ERASURE_TABLES))


def _erase(session: Session, customer: models.Customer, delete_responses: bool) -> Erasure:
    identifiers = _identifiers(customer)
    response_ids = select(models.Response.id).where(models.Response.customer_id == customer.id)
    invitation_ids = select(models.Invitation.id).where(models.Invitation.customer_id == customer.id)
    cases = session.scalars(select(models.FollowUpCase).where(models.FollowUpCase.customer_id == customer.id)).all()
    case_ids = [case.id for case in cases]

    # Core UPDATEs: the ORM refuses any change to a case event; the database allows this one (only
    # the note, only to a text carrying the marker). See migration 0004.
    redacted = _redact_column(session, models.Answer.text_value, models.Answer.response_id.in_(response_ids),
                              identifiers)
    if case_ids:
        redacted += _redact_column(session, models.CaseEvent.note, models.CaseEvent.case_id.in_(case_ids),
                                   identifiers)
        redacted += _redact_column(session, models.CaseFlag.detail, models.CaseFlag.case_id.in_(case_ids),
                                   identifiers)

    closed = 0
    now = models.utc_now()
    if case_ids:  # a flag names the response and its case the customer: that linked kept answers to them
        session.execute(update(models.CaseFlag).where(models.CaseFlag.case_id.in_(case_ids)).values(response_id=None))
    for case in cases:
        case.resolution_note = redact(case.resolution_note, identifiers)
        case.response_id = None
        if case.status not in CLOSED_STATUSES:
            session.add(models.CaseEvent(case_id=case.id, actor_id=None, at=now, from_status=case.status,
                                         to_status=CLOSED_BY_ERASURE, note="closed: the customer's personal data was erased"))
            case.status, case.closed_at = CLOSED_BY_ERASURE, now
            closed += 1
    session.flush()

    theirs = session.execute(response_ids).scalars().all()
    count = len(theirs)
    if delete_responses:  # flags of other customers' cases cannot name these responses; this is belt and braces
        session.execute(delete(models.CaseFlag).where(models.CaseFlag.response_id.in_(response_ids)))
        session.execute(delete(models.Answer).where(models.Answer.response_id.in_(response_ids)))
        session.execute(delete(models.Response).where(models.Response.customer_id == customer.id))
    else:
        # The content hash covers the customer id and an imported response's key derives from the
        # customer reference: both could link the answers back, so they become random values.
        for response_id in theirs:
            session.execute(update(models.Response).where(models.Response.id == response_id).values(
                customer_id=None, invitation_id=None, content_hash=secrets.token_hex(32),
                idempotency_key=f"erased-{secrets.token_hex(16)}"))
    session.execute(update(models.Response).where(models.Response.invitation_id.in_(invitation_ids))
                    .values(invitation_id=None))
    session.execute(delete(models.ResponseDraft).where(models.ResponseDraft.invitation_id.in_(invitation_ids)))
    session.execute(delete(models.Invitation).where(models.Invitation.customer_id == customer.id))
    # A defection's free text is the customer's own words; the dated events stay for the figures
    session.execute(update(models.CustomerEvent).where(models.CustomerEvent.customer_id == customer.id)
                    .values(reason_text=None))

    customer.external_ref = f"erased-{customer.id}"
    customer.name, customer.email, customer.phone = REDACTED, None, None
    customer.consent_to_contact = False
    customer.region = customer.tier = customer.industry = None
    customer.annual_value, customer.tenure_start, customer.field_manager_id = None, None, None
    customer.attributes = {}
    customer.erased_at = now
    return Erasure(customer.id, 0 if delete_responses else count, count if delete_responses else 0, closed, redacted)


def _forget_in_outbox(session: Session, refs: Sequence[str]) -> None:
    """Take the customer references `refs` out of every webhook payload naming them (any status).

    One pass over the outbox for all of `refs`: its rows are not indexed by customer, and a
    retention run erases many customers.
    """
    deliveries = models.WebhookDelivery
    named = session.execute(select(deliveries.id, deliveries.payload)
                            .where(deliveries.payload["customer_ref"].as_string().in_(list(refs)))).all()
    for delivery_id, payload in named:
        session.execute(update(deliveries).where(deliveries.id == delivery_id)
                        .values(payload={**payload, "customer_ref": None}))


def _redact_column(session: Session, column, condition, identifiers: list[str]) -> int:
    """Redact `identifiers` in the text `column` of the rows matching `condition`; how many changed."""
    table = column.class_
    changed = 0
    for row_id, text in session.execute(select(table.id, column).where(condition, column.is_not(None))).all():
        if (clean := redact(text, identifiers)) != text:
            session.execute(update(table).where(table.id == row_id).values({column.key: clean}))
            changed += 1
    return changed


# Retention


@dataclass(frozen=True)
class Inactive:
    """A customer whose personal data is past the retention period."""

    external_ref: str
    last_activity: datetime


def last_activity(session: Session):
    """A subquery of each customer's latest activity: created, invited, answered or a case event."""
    moments = [
        select(models.Customer.id.label("customer_id"), models.Customer.created_at.label("at")),
        select(models.Invitation.customer_id, models.Invitation.created_at),
        select(models.Response.customer_id, models.Response.submitted_at).where(models.Response.customer_id.is_not(None)),
        select(models.FollowUpCase.customer_id, models.CaseEvent.at)
        .join(models.CaseEvent, models.CaseEvent.case_id == models.FollowUpCase.id),
    ]
    union = moments[0].union_all(*moments[1:]).subquery()
    return (select(union.c.customer_id, func.max(union.c.at).label("last_at"))
            .group_by(union.c.customer_id).subquery())


def inactive_customers(engine: Engine, days: int, now: datetime | None = None) -> list[Inactive]:
    """Customers (not yet erased) with no activity in the last `days` days, oldest first."""
    if days < 1:
        raise ValueError(f"retention days: must be at least 1, got {days}")
    cutoff = (now or models.utc_now()) - timedelta(days=days)
    with db.session_scope(engine) as session:
        latest = last_activity(session)
        rows = session.execute(
            select(models.Customer.external_ref, latest.c.last_at)
            .join(latest, latest.c.customer_id == models.Customer.id)
            .where(models.Customer.erased_at.is_(None), latest.c.last_at < cutoff)
            .order_by(latest.c.last_at, models.Customer.id)).all()
    return [Inactive(ref, at) for ref, at in rows]


def apply_retention(engine: Engine, actor: Actor, days: int, dry_run: bool = False, now: datetime | None = None,
                    progress: Callable[[Sequence], Iterable] = iter) -> list[Inactive]:
    """Erase (keeping their responses as anonymous answers) every customer inactive for `days` days.
    With `dry_run`, only list them. Returns the customers concerned."""
    require(actor, ERASE_CUSTOMERS)
    found = inactive_customers(engine, days, now)
    if dry_run or not found:
        return found
    shown = iter(progress(found))  # the bar counts the customers as each transaction takes them
    while chunk := list(islice(shown, RETENTION_CUSTOMERS_PER_TRANSACTION)):
        with db.session_scope(engine) as session:
            for inactive in chunk:
                customer = session.scalars(select(models.Customer)
                                           .where(models.Customer.external_ref == inactive.external_ref)).one()
                _erase(session, customer, delete_responses=False)
            _forget_in_outbox(session, [inactive.external_ref for inactive in chunk])
    with db.session_scope(engine) as session:
        audit.record(session, actor, "retention", f"customers inactive for {days} days erased", rows=len(found))
    db.purge_deleted_content(engine, ERASURE_TABLES)  # once for the whole run
    return found


# The small-group rule for anonymous surveys


def hidden_groups(counts: Sequence[int], minimum: int = ANONYMOUS_MIN_GROUP, total_shown: bool = True) -> list[bool]:
    """Which groups to hide so that none under `minimum` responses can be seen or worked out.

    Groups under `minimum` are hidden. When the total is shown and exactly one group is hidden,
    it could be recovered by subtracting the others from the total, so the smallest other group
    (of any size) is hidden too: two hidden groups only reveal their sum.

    >>> hidden_groups([40, 3, 22])
    [False, True, True]
    >>> hidden_groups([40, 3, 2, 22])
    [False, True, True, False]
    >>> hidden_groups([40, 30])
    [False, False]
    """
    hidden = [0 < count < minimum for count in counts]
    if total_shown and sum(hidden) == 1:
        candidates = [(count, i) for i, count in enumerate(counts) if not hidden[i] and count > 0]
        if candidates:
            hidden[min(candidates)[1]] = True
    return hidden


def suppressed_by(table, count_column: str, groups: Sequence[str] = (), minimum: int = ANONYMOUS_MIN_GROUP):
    """A boolean Series over `table` (a pandas DataFrame): rows to hide under `hidden_groups`,
    applied within each combination of `groups` columns (e.g. per period when splitting by segment)."""
    import pandas as pd

    if table.empty:
        return pd.Series([], dtype=bool, index=table.index)
    if not groups:
        return pd.Series(hidden_groups(list(table[count_column]), minimum), index=table.index)
    return (table.groupby(list(groups), group_keys=False, dropna=False)[count_column]
            .transform(lambda column: pd.Series(hidden_groups(list(column), minimum), index=column.index))
            .astype(bool))


def without_small_groups(frame, groups: Sequence[str], count_column: str, within: Sequence[str] = (),
                         minimum: int = ANONYMOUS_MIN_GROUP):
    """`frame` (rows of counts, possibly several per group, e.g. one per score) without the groups
    that `hidden_groups` hides: group totals are `count_column` summed over `groups`, and the
    complementary rule applies within each combination of `within` (e.g. per period)."""
    if frame.empty or not groups:
        return frame
    totals = frame.groupby(list(groups), dropna=False, as_index=False)[count_column].sum()
    totals = totals[suppressed_by(totals, count_column, within, minimum)]
    if totals.empty:
        return frame
    hidden = frame.merge(totals[list(groups)], on=list(groups), how="left", indicator=True)["_merge"] == "both"
    return frame[~hidden.to_numpy()].reset_index(drop=True)
