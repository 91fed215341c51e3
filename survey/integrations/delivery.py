"""The delivery worker: sends the outbox's due deliveries, at least once, with retries and backoff.

A pass claims up to `batch` due deliveries (pending, next try due, no live lease) with one UPDATE
that sets their lease (`locked_until`, now + `lease_seconds`) and commits, so two workers (the app
server's thread and a scheduled `python -m survey webhook deliver`) never send the same row at the
same time. Each is POSTed as JSON, signed (`survey.integrations.signing`), with a timeout; its
outcome is committed at once, so a worker killed mid-way loses only its lease: the rows it had
not finished are sent again when the lease runs out (at least once; receivers drop duplicates by
event id).

A 2xx answer marks the delivery delivered. Anything else (another status, a refused or timed-out
connection) counts a try and schedules the next after `backoff_seconds * 2 ** (tries - 1)`
(30 s, 1 min, 2 min, ... capped at 1 hour); after `max_attempts` tries (default 10, about 4 hours
and 20 minutes after the first) the delivery is marked failed and shown on the Webhooks page,
where an admin can retry it. Redirects are not followed (a 3xx counts as a failed try).

Settings (environment): SURVEY_WEBHOOK_MAX_ATTEMPTS (10), SURVEY_WEBHOOK_BACKOFF_SECONDS (30),
SURVEY_WEBHOOK_TIMEOUT_SECONDS (10), SURVEY_WEBHOOK_LEASE_SECONDS (60, at least the timeout),
SURVEY_WEBHOOK_INTERVAL_SECONDS (5, how often the app server's worker looks for due deliveries).

Example:
    >>> DeliverySettings(backoff_seconds=30).delay(1), DeliverySettings(backoff_seconds=30).delay(3)
    (30.0, 120.0)
    >>> DeliverySettings(backoff_seconds=30).delay(12)
    3600.0
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Engine, or_, select, update

from survey.integrations import signing
from survey.storage import db, models
from survey.storage.models import as_utc, utc_now

log = logging.getLogger(__name__)
MAX_DELAY_SECONDS = 3600.0


def _env_number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a number") from None
    if not value >= minimum:
        raise ValueError(f"{name}: must be at least {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class DeliverySettings:
    """How the worker sends: tries before giving up, backoff, request timeout, lease and interval."""

    max_attempts: int = 10
    backoff_seconds: float = 30.0
    timeout_seconds: float = 10.0
    lease_seconds: float = 60.0
    interval_seconds: float = 5.0
    batch: int = 50

    @classmethod
    def from_env(cls) -> DeliverySettings:
        """The settings from SURVEY_WEBHOOK_* (see the module docstring)."""
        timeout = _env_number("SURVEY_WEBHOOK_TIMEOUT_SECONDS", 10.0, 0.1)
        return cls(max_attempts=int(_env_number("SURVEY_WEBHOOK_MAX_ATTEMPTS", 10, 1)),
                   backoff_seconds=_env_number("SURVEY_WEBHOOK_BACKOFF_SECONDS", 30.0, 0),
                   timeout_seconds=timeout,
                   lease_seconds=max(_env_number("SURVEY_WEBHOOK_LEASE_SECONDS", 60.0, 0.1), timeout),
                   interval_seconds=_env_number("SURVEY_WEBHOOK_INTERVAL_SECONDS", 5.0, 0.1))

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try."""
        return float(min(self.backoff_seconds * 2 ** (attempts - 1), MAX_DELAY_SECONDS))


@dataclass(frozen=True)
class DeliveryReport:
    """What one run did: deliveries sent (2xx), tries that failed, deliveries given up on."""

    delivered: int = 0
    failed_tries: int = 0
    gave_up: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.delivered + other.delivered, self.failed_tries + other.failed_tries,
                              self.gave_up + other.gave_up)


def body_for(delivery_id_event: str, event_type: str, created_at: datetime, payload: dict, sent_at: int) -> bytes:
    """The JSON body of one try (compact, UTF-8); `sent_at` (Unix seconds) is this try's moment."""
    return json.dumps({"id": delivery_id_event, "type": event_type, "created_at": as_utc(created_at).isoformat(),
                       "sent_at": sent_at, "data": payload}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST `body` to `url`; the HTTP status. Raises OSError (or http.client's errors) when no answer comes."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65_536)  # a little of the answer, so the connection closes cleanly
        return response.status
    finally:
        connection.close()


def _claim(engine: Engine, settings: DeliverySettings, now: datetime) -> list:
    d = models.WebhookDelivery
    due = [d.status == "pending", d.next_attempt_at <= now, or_(d.locked_until.is_(None), d.locked_until < now)]
    with db.session_scope(engine) as session:
        ids = session.scalars(select(d.id).where(*due).order_by(d.next_attempt_at, d.id).limit(settings.batch)).all()
        if not ids:
            return []
        # the conditions again: a row another worker claimed meanwhile is not taken twice
        mine = session.scalars(update(d).where(d.id.in_(ids), *due)
                               .values(locked_until=now + timedelta(seconds=settings.lease_seconds))
                               .returning(d.id)).all()
        if not mine:
            return []
        claimed = session.execute(
            select(d.id, d.event_id, d.event_type, d.payload, d.created_at, d.attempts, models.Webhook.url,
                   models.Webhook.secret)
            .join(models.Webhook, d.webhook_id == models.Webhook.id)
            .where(d.id.in_(mine)).order_by(d.next_attempt_at, d.id)).all()
    return claimed


def deliver_due(engine: Engine, settings: DeliverySettings | None = None, *, now: datetime | None = None,
                max_rounds: int | None = None) -> DeliveryReport:
    """Send every delivery due now, a batch at a time, until none is due; what was done.

    `now` fixes the clock (tests); `max_rounds` stops after that many batches."""
    settings = settings or DeliverySettings.from_env()
    report, rounds = DeliveryReport(), 0
    while max_rounds is None or rounds < max_rounds:
        rounds += 1
        moment = as_utc(now) if now is not None else utc_now()
        claimed = _claim(engine, settings, moment)
        if not claimed:
            break
        for row in claimed:
            report += _send_one(engine, settings, row, now)
    return report


def _send_one(engine: Engine, settings: DeliverySettings, row, now: datetime | None) -> DeliveryReport:
    started = as_utc(now) if now is not None else utc_now()
    stamp = int(started.timestamp())
    body = body_for(row.event_id, row.event_type, row.created_at, dict(row.payload or {}), stamp)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "survey-toolkit-webhooks/1",
               signing.SIGNATURE_HEADER: signing.signature(row.secret, body), signing.EVENT_HEADER: row.event_id,
               signing.EVENT_TYPE_HEADER: row.event_type, signing.TIMESTAMP_HEADER: str(stamp)}
    status, error = None, None
    try:
        status = post(row.url, body, headers, settings.timeout_seconds)
        if not 200 <= status < 300:
            error = f"the receiver answered HTTP {status}"
    except (OSError, http.client.HTTPException) as failure:
        error = f"no answer: {type(failure).__name__}: {failure}"[:300]
    attempts = row.attempts + 1
    finished = as_utc(now) if now is not None else utc_now()
    values: dict = dict(attempts=attempts, last_attempt_at=finished, last_status=status, locked_until=None,
                        last_error=error)
    if error is None:
        values.update(status="delivered", delivered_at=finished)
        outcome = DeliveryReport(delivered=1)
    elif attempts >= settings.max_attempts:
        values.update(status="failed")
        outcome = DeliveryReport(failed_tries=1, gave_up=1)
        log.warning("webhook delivery %s failed %s times; giving up: %s", row.id, attempts, error)
    else:
        values.update(next_attempt_at=finished + timedelta(seconds=settings.delay(attempts)))
        outcome = DeliveryReport(failed_tries=1)
    with db.session_scope(engine) as session:
        session.execute(update(models.WebhookDelivery).where(models.WebhookDelivery.id == row.id).values(**values))
    return outcome


_workers: dict[str, threading.Thread] = {}
_workers_lock = threading.Lock()


def start_worker(url: str, settings: DeliverySettings | None = None) -> threading.Thread:
    """Start (once per process and database URL) a daemon thread that delivers due webhooks every
    `interval_seconds`; the running thread when there is one. Errors are logged, never raised."""
    with _workers_lock:
        running = _workers.get(url)
        if running is not None and running.is_alive():
            return running
        settings = settings or DeliverySettings.from_env()

        def work() -> None:
            engine = db.make_engine(url)
            stop = threading.Event()
            while not stop.wait(settings.interval_seconds):
                try:
                    deliver_due(engine, settings)
                except Exception:  # noqa: BLE001 - a worker that dies sends nothing more; log and go on
                    log.exception("webhook delivery pass failed; trying again in %s s", settings.interval_seconds)

        thread = threading.Thread(target=work, name="webhook-delivery", daemon=True)
        thread.start()
        _workers[url] = thread
        return thread
