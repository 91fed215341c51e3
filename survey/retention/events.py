"""Customer events: purchases, renewals and defections, imported from a CSV file or posted to the API.

The file format (see sample_data/csv/customer_events.csv):

| column | meaning |
|---|---|
| event_id | required; the sender's id of the event (order or cancellation number), unique |
| customer_ref | required; the customer's `external_ref` (customers are imported first) |
| kind | required; purchase, renewal or defection |
| date | required; YYYY-MM-DD, not in the future |
| value | purchases and renewals: the amount, a finite number from 0 to 10^15 (optional) |
| reason | defections only, required there: one of `SURVEY_DEFECTION_REASONS` (default price, product, service, benefit, competitor, personal, other) |
| reason_text | defections only: the customer's own words (optional) |

Strict like every import (`survey.collection.csvfiles` reads the file): every row is checked
before anything is written, every fault is named by row and column, and nothing is written unless
all rows are valid. Idempotent on the event id: an event already stored with the same content is
counted as unchanged; the same id with other content is a fault, never an overwrite. The JSON API
(`POST /api/v1/customer-events`) runs the same checks through `check_events`.

Example:
    >>> from survey.storage.db import make_engine, upgrade, session_scope
    >>> from survey.collection.customers import import_customers
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     _ = import_customers(session, "sample_data/csv/customers.csv")
    ...     import_events(session, "sample_data/csv/customer_events.csv")
    EventSummary(created=8, unchanged=0, delimiter=',')
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import messages, settings
from survey.collection.csvfiles import RowParser, read_rows
from survey.storage import models

COLUMNS = ("event_id", "customer_ref", "kind", "date", "value", "reason", "reason_text")
REQUIRED = ("event_id", "customer_ref", "kind", "date")
KINDS = models.EVENT_KINDS
DEFECTION = "defection"
MAX_VALUE = 1e15  # as for customers' annual values: a larger amount is a typo or a unit error
MAX_REASON_TEXT = 2000
EARLIEST = date(1900, 1, 1)
LOOKUP_CHUNK = 500  # ids per IN (...) look-up, well under every database's parameter limit


@dataclass(frozen=True)
class EventSummary:
    """What an import or a post wrote: new events, and events already stored with the same content."""

    created: int
    unchanged: int
    delimiter: str = ","


@dataclass(frozen=True)
class CheckedEvent:
    """One valid event, ready to store (`customer_ref` already resolved to `customer_id`)."""

    event_ref: str
    customer_ref: str
    customer_id: int
    kind: str
    occurred_on: date
    value: float | None
    reason: str | None
    reason_text: str | None

    @property
    def content_hash(self) -> str:
        """The hash of everything but the id, so the same id with other content is told apart."""
        content = [self.customer_ref, self.kind, self.occurred_on.isoformat(), self.value, self.reason,
                   self.reason_text]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode("utf-8")).hexdigest()


def _cell(parse: RowParser, row: int, column: str, raw: Any, number: bool = False) -> str | None:
    """The raw value as the text the parser checks: CSV cells are text already; JSON values must be
    strings (or, for a number column, numbers). None, with the fault recorded, for another type."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    if number and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return repr(raw)  # a non-finite float reads as 'inf' or 'nan', refused by RowParser.number
    kind = "a boolean" if isinstance(raw, bool) else type(raw).__name__
    parse.fail(row, column, (messages.EVENT_NOT_NUMBER if number else messages.EVENT_NOT_TEXT).format(type=kind))
    return None


def check_events(session: Session, rows: Iterable[tuple[int, Mapping[str, Any]]], parse: RowParser,
                 reasons: Sequence[str] | None = None, where: str = "row",
                 today: date | None = None) -> tuple[list[CheckedEvent], int]:
    """Check every row (number, values); faults go to `parse`. Returns the new events to store and
    how many are already stored unchanged. Nothing is written."""
    reasons = tuple(reasons or settings.defection_reasons())
    today = today or date.today()
    latest = today + timedelta(days=1)  # a day's grace for senders in time zones ahead of the server
    rows = list(rows)
    refs = {row.get("customer_ref").strip() for _, row in rows if isinstance(row.get("customer_ref"), str)}
    customers = _lookup(session, models.Customer.external_ref, models.Customer.id, refs)
    first_seen: dict[str, int] = {}
    checked: list[CheckedEvent] = []
    for number, row in rows:
        def field(column: str, check, number=number, row=row, **options):
            """The column's value checked by `check` (a RowParser method); None when missing or at fault."""
            raw = _cell(parse, number, column, row.get(column), number=check == parse.number)
            return None if raw is None else check(number, column, raw, **options)

        event_ref = field("event_id", parse.text, required=True, max_length=200)
        if event_ref is not None and event_ref in first_seen:
            parse.fail(number, "event_id", messages.EVENT_DUPLICATE_ID.format(
                ref=event_ref, first=f"{where} {first_seen[event_ref]}"))
        elif event_ref is not None:
            first_seen[event_ref] = number
        customer_ref = field("customer_ref", parse.text, required=True, max_length=100)
        if customer_ref is not None and customer_ref not in customers:
            parse.fail(number, "customer_ref", messages.EVENT_UNKNOWN_CUSTOMER.format(ref=customer_ref))
        kind = field("kind", parse.text, required=True, max_length=20)
        if kind is not None:
            kind = kind.lower()
            if kind not in KINDS:
                parse.fail(number, "kind", messages.EVENT_UNKNOWN_KIND.format(value=kind, kinds=", ".join(KINDS)))
                kind = None
        day = field("date", lambda n, c, raw: parse.day(n, c, raw) if raw else parse.text(n, c, raw, required=True))
        if isinstance(day, date) and day > latest:
            parse.fail(number, "date", messages.EVENT_FUTURE_DATE.format(value=day.isoformat()))
        elif isinstance(day, date) and day < EARLIEST:
            parse.fail(number, "date", messages.EVENT_TOO_OLD.format(value=day.isoformat(),
                                                                    earliest=EARLIEST.isoformat()))
        value = field("value", parse.number, minimum=0, maximum=MAX_VALUE)
        reason = field("reason", parse.text, max_length=50)
        reason_text = field("reason_text", parse.text, max_length=MAX_REASON_TEXT)
        if kind == DEFECTION:
            if value is not None:
                parse.fail(number, "value", messages.EVENT_NO_VALUE_FOR_DEFECTION)
            if reason is None:
                parse.fail(number, "reason", messages.EVENT_REASON_REQUIRED.format(reasons=", ".join(reasons)))
            elif reason.lower() not in reasons:
                parse.fail(number, "reason", messages.EVENT_UNKNOWN_REASON.format(value=reason,
                                                                                 reasons=", ".join(reasons)))
            reason = reason.lower() if reason else None
        elif kind is not None:
            for column, given in (("reason", reason), ("reason_text", reason_text)):
                if given is not None:
                    parse.fail(number, column, messages.EVENT_ONLY_DEFECTIONS.format(what=column.replace("_", " ")))
        if None in (event_ref, kind) or customer_ref not in customers or not isinstance(day, date):
            continue
        checked.append(CheckedEvent(event_ref, customer_ref, customers[customer_ref], kind, day, value, reason,
                                    reason_text))
    stored = _lookup(session, models.CustomerEvent.event_ref, models.CustomerEvent.content_hash,
                     {event.event_ref for event in checked})
    new, unchanged = [], 0
    for number, event in zip([first_seen[e.event_ref] for e in checked], checked):
        if event.event_ref not in stored:
            new.append(event)
        elif stored[event.event_ref] == event.content_hash:
            unchanged += 1
        else:
            parse.fail(number, "event_id", messages.EVENT_CONFLICT.format(ref=event.event_ref))
    return new, unchanged


def _lookup(session: Session, key_column, value_column, keys: set[str]) -> dict[str, Any]:
    keys = sorted(key for key in keys if key)
    found: dict[str, Any] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        found.update(session.execute(select(key_column, value_column).where(
            key_column.in_(keys[start:start + LOOKUP_CHUNK]))).all())
    return found


def store_events(session: Session, events: Sequence[CheckedEvent], source: str) -> None:
    """Insert checked events in one statement; the unique event id makes a concurrent duplicate fail
    the transaction rather than store twice."""
    if not events:
        return
    now = models.utc_now()
    session.execute(models.CustomerEvent.__table__.insert(), [dict(
        event_ref=e.event_ref, content_hash=e.content_hash, customer_id=e.customer_id, kind=e.kind,
        occurred_on=e.occurred_on, value=e.value, reason=e.reason, reason_text=e.reason_text, source=source,
        created_at=now) for e in events])


def import_events(session: Session, path: str | Path, reasons: Sequence[str] | None = None,
                  today: date | None = None) -> EventSummary:
    """Store the customer events of a CSV file; write nothing unless every row is valid.

    Raises `ImportProblem` listing each faulty row and column.
    """
    table = read_rows(path, required=REQUIRED)
    parse = RowParser(table)
    new, unchanged = check_events(session, table.rows, parse, reasons, today=today)
    parse.raise_if_any()
    store_events(session, new, source="import")
    return EventSummary(created=len(new), unchanged=unchanged, delimiter=table.delimiter)


MAX_POSTED_EVENTS = 500  # per request (about what fits the 64 KiB body limit): larger batches go through the CSV import


class EventProblems(ValueError):
    """Posted events that cannot be stored: (field, message) per fault, e.g. ("events[2].kind", ...)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


def post_events(session: Session, data: Any, reasons: Sequence[str] | None = None,
                today: date | None = None) -> EventSummary:
    """Store the events of an API body ``{"events": [{...}, ...]}`` with the import's checks: all or
    none, each fault named by its field (``events[3].reason``). Raises EventProblems."""
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_POSTED_EVENTS or set(data) - {"events"}:
        raise EventProblems([("body", messages.API_EVENTS_SHAPE.format(limit=MAX_POSTED_EVENTS))])
    problems: list[tuple[str, str]] = []
    rows = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            problems.append((f"events[{index}]", messages.API_EVENT_NOT_OBJECT.format(index=index)))
            continue
        for name in sorted(set(event) - set(COLUMNS)):
            problems.append((f"events[{index}].{name}", messages.API_EVENT_UNKNOWN_FIELD.format(
                name=name, fields=", ".join(COLUMNS))))
        rows.append((index, event))
    parse = RowParser("request")
    new, unchanged = check_events(session, rows, parse, reasons, where="events", today=today)
    problems += [(f"events[{fault.row}].{fault.column}", fault.problem) for fault in parse.faults]
    if problems:
        raise EventProblems(problems)
    store_events(session, new, source="api")
    return EventSummary(created=len(new), unchanged=unchanged)


def openapi_path(error) -> dict[str, Any]:
    """The OpenAPI description of `POST /api/v1/customer-events` (`error(text)` builds an error reply)."""
    text = {"type": ["string", "null"]}
    event = {"type": "object", "additionalProperties": False, "required": list(REQUIRED), "properties": {
        "event_id": {"type": "string", "maxLength": 200, "description": "Your id of the event; unique. "
                     "Posting it again with the same content stores nothing; with other content is refused."},
        "customer_ref": {"type": "string", "maxLength": 100, "description": "The customer's external_ref."},
        "kind": {"enum": list(KINDS)},
        "date": {"type": "string", "format": "date", "description": "YYYY-MM-DD, not in the future."},
        "value": {"type": ["number", "null"], "minimum": 0, "maximum": MAX_VALUE,
                  "description": "Purchases and renewals: the amount."},
        "reason": {**text, "description": "Defections only, required there: one of SURVEY_DEFECTION_REASONS "
                   "(default price, product, service, benefit, competitor, personal, other)."},
        "reason_text": {**text, "maxLength": MAX_REASON_TEXT, "description": "Defections only: in the customer's words."},
    }}
    stored = {"description": "Stored.", "content": {"application/json": {"schema": {
        "type": "object", "required": ["created", "unchanged"],
        "properties": {"created": {"type": "integer"}, "unchanged": {"type": "integer"}}}}}}
    return {"post": {
        "operationId": "submitCustomerEvents",
        "summary": "Store customer events (purchases, renewals, defections): all or none",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "required": ["events"], "properties": {
                "events": {"type": "array", "minItems": 1, "maxItems": MAX_POSTED_EVENTS, "items": event}}}}}},
        "responses": {
            "201": stored, "200": {**stored, "description": "Every event was already stored with the same content."},
            "400": error("The body is not UTF-8 JSON."),
            "401": error("Missing or invalid API key."),
            "405": error("Only POST (method_not_allowed)."),
            "413": error("The body is too large (body_too_large)."),
            "415": error("Not application/json in UTF-8 (unsupported_media_type)."),
            "422": error("invalid_event: nothing was stored; every fault is listed with its field, "
                         "e.g. events[2].reason."),
            "429": error("Too many requests (rate_limited)."),
            "503": error("The database stayed busy (database_busy); retry: stored events are not stored twice."),
        }}}
