"""The outbox: events written in the transaction of the change they announce, one row per webhook.

A row is written only for the enabled webhooks that take the event, with one `executemany` per
call (a batch of an import writes its batch's events in one statement); with no such webhook
nothing is written, so bulk writers pay one small query per batch. Because the row commits or
rolls back with the response or case it names, no event is lost when the process dies after the
change, and none is sent for a change that did not happen.

Payloads name what changed by ids and references, never contact details or free text:

- `response.created`: response_id, survey (slug), version, channel, language, submitted_at,
  customer_ref (None for anonymous surveys), scores (the numeric answers by answer key);
- `case.opened`: case_id, survey, customer_ref, response_id, priority, due_at, opened_at;
- `case.resolved`: case_id, survey, customer_ref, resolved_at, root_cause.
"""

from __future__ import annotations

import uuid
from functools import cache
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from survey.storage import models
from survey.storage.models import as_utc, utc_now

RESPONSE_CREATED = "response.created"
CASE_OPENED = "case.opened"
CASE_RESOLVED = "case.resolved"
EVENTS = {RESPONSE_CREATED: "A response is submitted or imported",
          CASE_OPENED: "A follow-up case is opened",
          CASE_RESOLVED: "A follow-up case is resolved"}


def subscribers(session: Session, event_type: str) -> list[int]:
    """Ids of the enabled webhooks that take `event_type`."""
    rows = session.connection().execute(_enabled_webhooks()).all()  # Core: asked once per submission
    return [row.id for row in rows if event_type in (row.events or [])]


@cache
def _enabled_webhooks():
    return select(models.Webhook.id, models.Webhook.events).where(models.Webhook.disabled_at.is_(None))


def _moment(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def announce(session: Session, event_type: str, payloads: Sequence[Mapping], *,
             webhooks: Sequence[int] | None = None) -> int:
    """Write one outbox row per payload and subscribed webhook into `session`'s transaction; the count."""
    if event_type not in EVENTS:
        raise ValueError(f"unknown event {event_type!r}")
    if not payloads:
        return 0
    targets = subscribers(session, event_type) if webhooks is None else list(webhooks)
    if not targets:
        return 0
    now = utc_now()
    rows = []
    for payload in payloads:
        event_id = str(uuid.uuid4())
        rows += [dict(webhook_id=webhook, event_id=event_id, event_type=event_type, payload=dict(payload),
                      created_at=now, status="pending", attempts=0, next_attempt_at=now) for webhook in targets]
    session.execute(insert(models.WebhookDelivery.__table__), rows)  # Core executemany: one statement
    return len(rows)


def _customer_refs(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    refs: dict[int, str] = {}
    for start in range(0, len(wanted), 2_000):
        refs.update((row[0], row[1]) for row in session.execute(
            select(models.Customer.id, models.Customer.external_ref)
            .where(models.Customer.id.in_(wanted[start:start + 2_000]))))
    return refs


def _targets_and_refs(session: Session, event_type: str, items: Sequence[Mapping]) -> tuple[list[int], dict[int, str]]:
    """The webhooks taking `event_type` and, when there are any, the customer references of `items`."""
    targets = subscribers(session, event_type) if items else []
    if not targets:
        return [], {}
    return targets, _customer_refs(session, (item["customer_id"] for item in items))


def responses_created(session: Session, responses: Sequence[Mapping]) -> int:
    """Announce stored responses. Each mapping: response_id, survey, version, channel, language,
    submitted_at, customer_id, and answer_rows ((key, number, text) as stored)."""
    targets, refs = _targets_and_refs(session, RESPONSE_CREATED, responses)
    if not targets:
        return 0
    payloads = [{"response_id": r["response_id"], "survey": r["survey"], "version": r["version"],
                 "channel": r["channel"], "language": r["language"], "submitted_at": _moment(r["submitted_at"]),
                 "customer_ref": refs.get(r["customer_id"]),
                 "scores": {key: number for key, number, _ in r["answer_rows"] if number is not None}}
                for r in responses]
    return announce(session, RESPONSE_CREATED, payloads, webhooks=targets)


def cases_opened(session: Session, cases: Sequence[Mapping]) -> int:
    """Announce opened cases. Each mapping: case_id, survey_id, customer_id, response_id, priority,
    due_at, opened_at."""
    targets, refs = _targets_and_refs(session, CASE_OPENED, cases)
    if not targets:
        return 0
    slugs = {row[0]: row[1] for row in session.execute(select(models.Survey.id, models.Survey.slug))}
    payloads = [{"case_id": c["case_id"], "survey": slugs.get(c["survey_id"]), "customer_ref": refs.get(c["customer_id"]),
                 "response_id": c["response_id"], "priority": c["priority"], "due_at": _moment(c["due_at"]),
                 "opened_at": _moment(c["opened_at"])} for c in cases]
    return announce(session, CASE_OPENED, payloads, webhooks=targets)


def case_resolved(session: Session, case: models.FollowUpCase) -> int:
    """Announce a case that was just resolved."""
    targets = subscribers(session, CASE_RESOLVED)
    if not targets:
        return 0
    slug = session.scalar(select(models.Survey.slug).where(models.Survey.id == case.survey_id))
    ref = _customer_refs(session, [case.customer_id]).get(case.customer_id)
    return announce(session, CASE_RESOLVED, [{
        "case_id": case.id, "survey": slug, "customer_ref": ref, "resolved_at": _moment(case.closed_at),
        "root_cause": case.root_cause}], webhooks=targets)
