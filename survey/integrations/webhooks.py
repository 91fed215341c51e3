"""Webhooks: adding and disabling receivers, listing their deliveries, retrying a failed one.

Example:
    >>> check_url("ftp://example.com/hook")
    Traceback (most recent call last):
    ...
    ValueError: url: 'ftp://example.com/hook' must be an http:// or https:// address with a host
    >>> check_events(["case.opened", "case.opened"])
    ['case.opened']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from survey import messages
from survey.integrations.outbox import EVENTS
from survey.integrations.signing import new_secret
from survey.storage import models
from survey.storage.models import utc_now

STATUS_LABELS = {"pending": "Waiting to be sent", "delivered": "Delivered", "failed": "Failed (no more tries)"}


def check_url(url: str) -> str:
    """`url` when it is an http(s) address with a host; ValueError naming the field otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise ValueError(messages.WEBHOOK_BAD_URL.format(url=url))
    return url.strip()


def check_events(events: Sequence[str]) -> list[str]:
    """The events named, each once, in order; ValueError naming an unknown one or none at all."""
    names = ", ".join(EVENTS)
    chosen = list(dict.fromkeys(event.strip() for event in events if event.strip()))
    if not chosen:
        raise ValueError(messages.WEBHOOK_NO_EVENTS.format(events=names))
    for event in chosen:
        if event not in EVENTS:
            raise ValueError(messages.WEBHOOK_UNKNOWN_EVENT.format(event=event, events=names))
    return chosen


@dataclass(frozen=True)
class NewWebhook:
    """A webhook just added, with its secret: shown this once, never again."""

    id: int
    url: str
    events: tuple[str, ...]
    secret: str


def add_webhook(session: Session, url: str, events: Sequence[str], description: str = "") -> NewWebhook:
    """Add a receiver for `events` at `url`; it receives events that happen from now on."""
    url, chosen = check_url(url), check_events(events)
    secret = new_secret()
    webhook = models.Webhook(url=url, events=chosen, secret=secret, description=description[:200])
    session.add(webhook)
    session.flush()
    return NewWebhook(webhook.id, url, tuple(chosen), secret)


def disable_webhook(session: Session, webhook_id: int) -> None:
    """Stop sending new events to a webhook (deliveries already in the outbox are still sent)."""
    webhook = session.get(models.Webhook, webhook_id)
    if webhook is None:
        raise LookupError(messages.WEBHOOK_UNKNOWN.format(id=webhook_id))
    webhook.disabled_at = webhook.disabled_at or utc_now()


def list_webhooks(engine: Engine) -> list[dict]:
    """Every webhook with its delivery counts by status (no secrets)."""
    d = models.WebhookDelivery
    with engine.connect() as connection:
        hooks = connection.execute(select(models.Webhook.id, models.Webhook.url, models.Webhook.events,
                                          models.Webhook.description, models.Webhook.created_at,
                                          models.Webhook.disabled_at).order_by(models.Webhook.id)).all()
        counts = connection.execute(select(d.webhook_id, d.status, func.count()).group_by(d.webhook_id, d.status)).all()
    by_hook: dict[int, dict[str, int]] = {}
    for webhook_id, status, count in counts:
        by_hook.setdefault(webhook_id, {})[status] = count
    return [dict(id=h.id, url=h.url, events=list(h.events or []), description=h.description,
                 created_at=h.created_at, disabled_at=h.disabled_at,
                 **{status: by_hook.get(h.id, {}).get(status, 0) for status in STATUS_LABELS}) for h in hooks]


def deliveries(engine: Engine, *, status: str | None = None, limit: int = 200) -> list[dict]:
    """The newest deliveries first (optionally of one status), with their webhook's URL."""
    d = models.WebhookDelivery
    query = (select(d.id, d.webhook_id, models.Webhook.url, d.event_id, d.event_type, d.status, d.attempts,
                    d.created_at, d.last_attempt_at, d.next_attempt_at, d.last_status, d.last_error, d.delivered_at)
             .join(models.Webhook, d.webhook_id == models.Webhook.id).order_by(d.id.desc()).limit(limit))
    if status is not None:
        query = query.where(d.status == status)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def retry(session: Session, delivery_ids: Sequence[int], now: datetime | None = None) -> int:
    """Send failed (or pending) deliveries again from the first try, now; how many were queued.

    A delivery that has been delivered stays as it is."""
    if not delivery_ids:
        return 0
    found = set(session.scalars(select(models.WebhookDelivery.id)
                                .where(models.WebhookDelivery.id.in_(list(delivery_ids)))).all())
    missing = sorted(set(delivery_ids) - found)
    if missing:
        raise LookupError(messages.WEBHOOK_UNKNOWN_DELIVERY.format(id=missing[0]))
    return session.execute(update(models.WebhookDelivery)
                           .where(models.WebhookDelivery.id.in_(list(delivery_ids)),
                                  models.WebhookDelivery.status != "delivered")
                           .values(status="pending", attempts=0, next_attempt_at=now or utc_now(),
                                   locked_until=None)).rowcount
