"""Importing phone, paper and kiosk answers from CSV: every row checked, each response stored once.

The file format (see sample_data/csv/responses.csv):

| column | meaning |
|---|---|
| survey | the survey's slug (optional when the import names the survey) |
| submitted_at | required; ISO date and time (UTC when no offset is given) |
| version | optional; the version number answered (default: the newest) |
| customer_ref | the customer's external_ref (ignored for anonymous surveys) |
| token | or the personal invitation token (one response per invitation) |
| channel | phone, paper, kiosk, email, web... (default: import) |
| language | one of the survey's languages (default: its first) |
| idempotency_key | optional; default: derived from the row, so importing a file twice stores once |
| one column per question key | matrix rows as `key.attribute`; several choices separated by `;` |

Each row is validated with the same rules as the web form (`survey.collection.collect.check_answers`). By
default a file with any bad row writes nothing; `skip_invalid=True` stores the good rows and
reports the bad ones. Valid rows are written in bulk (a few statements per thousand rows).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from survey.integrations import outbox
from survey.storage import bulk, counts, db, models
from survey.collection.collect import answer_values, check_answers, content_hash, storable_text
from survey.collection.csvfiles import ImportProblem, RowFault, RowParser, read_rows
from survey.definitions.definition import Survey
from survey.definitions.publishing import version_definition

META_COLUMNS = frozenset(("survey", "version", "customer_ref", "token", "channel", "language", "submitted_at",
                          "idempotency_key"))
CHUNK = 2_000  # rows per bulk statement batch and per progress step
CHANNEL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")  # responses.channel holds 20 characters
MAX_KEY_LENGTH = 200  # responses.idempotency_key
ANSWER_COLUMNS = ("response_id", "question_key", "numeric_value", "text_value", "survey_id", "submitted_at",
                  "customer_id")


@dataclass(frozen=True)
class ResponseImportSummary:
    """What an import did: stored now, stored before (same key and content), and rows skipped."""

    stored: int
    already_stored: int
    skipped: int = 0
    problems: tuple[str, ...] = field(default=(), repr=False)
    faults: tuple[RowFault, ...] = field(default=(), repr=False)
    delimiter: str = ","  # the file's delimiter as detected: ",", ";" or "\t"


@dataclass
class _Row:
    number: int
    version: models.SurveyVersion
    answers: dict
    key: str
    digest: str
    channel: str
    language: str
    customer_id: int | None
    invitation_id: int | None  # stored on the response (never for anonymous surveys)
    claimed_invitation: int | None  # marked answered, anonymous or not
    submitted_at: datetime


def _timestamp(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class _Lookups:
    """Everything rows refer to, read once per import."""

    def __init__(self, session: Session):
        self.versions: dict[str, dict[int, models.SurveyVersion]] = {}
        for slug, version in session.execute(select(models.Survey.slug, models.SurveyVersion)
                                             .join(models.SurveyVersion.survey)):
            self.versions.setdefault(slug, {})[version.number] = version
        self.definitions: dict[int, Survey] = {}
        self.customers = dict(session.execute(select(models.Customer.external_ref, models.Customer.id)).all())
        self.invitations = {row.token: row for row in session.execute(
            select(models.Invitation.token, models.Invitation.id, models.Invitation.survey_id,
                   models.Invitation.customer_id, models.Invitation.responded_at))}

    def definition(self, version: models.SurveyVersion) -> Survey:
        if version.id not in self.definitions:
            self.definitions[version.id] = version_definition(version)
        return self.definitions[version.id]


def _parse_row(number: int, row: dict[str, str], survey_slug: str | None, lookups: _Lookups,
               parse: RowParser) -> _Row | None:
    """One row checked and typed; None (with problems recorded) when it cannot be stored."""
    problems_before = len(parse.problems)
    slug = survey_slug or row.get("survey", "")
    if survey_slug and row.get("survey") and row["survey"] != survey_slug:
        parse.fail(number, "survey", f"{row['survey']!r} differs from the survey being imported ({survey_slug!r})")
    if slug not in lookups.versions:
        parse.fail(number, "survey", f"no published survey {slug!r}")
        return None
    wanted = row.get("version") or str(max(lookups.versions[slug]))
    version = lookups.versions[slug].get(int(wanted)) if wanted.isascii() and wanted.isdigit() else None
    if version is None:
        parse.fail(number, "version", f"survey {slug!r} has no version {wanted!r}")
        return None
    survey = lookups.definition(version)
    submitted_at = parse.convert(number, "submitted_at", row.get("submitted_at", ""), _timestamp,
                                 "a date and time (YYYY-MM-DD HH:MM)")
    customer_id = invitation_id = None
    ref, token = row.get("customer_ref", ""), row.get("token", "")
    if ref:
        customer_id = lookups.customers.get(ref)
        if customer_id is None:
            parse.fail(number, "customer_ref", f"no customer with external_ref {ref!r}")
    if token:
        invitation = lookups.invitations.get(token)
        if invitation is None or invitation.survey_id != version.survey_id:
            parse.fail(number, "token", "no invitation to this survey has this token")
        elif invitation.responded_at is not None:
            parse.fail(number, "token", f"the invitation was already answered on {invitation.responded_at:%Y-%m-%d}")
        elif customer_id is not None and customer_id != invitation.customer_id:
            parse.fail(number, "customer_ref", "differs from the invitation's customer")
        else:
            customer_id, invitation_id = invitation.customer_id, invitation.id
    channel = row.get("channel") or "import"
    if not CHANNEL_PATTERN.fullmatch(channel):
        parse.fail(number, "channel", f"{channel!r} must be lower-case letters, digits, - or _ (at most 20)")
    given_key = row.get("idempotency_key", "")
    if len(given_key) > MAX_KEY_LENGTH or not storable_text(given_key):
        parse.fail(number, "idempotency_key", f"must be at most {MAX_KEY_LENGTH} characters of storable text")
    language = row.get("language") or survey.languages[0]
    if language not in survey.languages:
        parse.fail(number, "language", f"{language!r} is not one of {', '.join(survey.languages)}")
    raw = {k: v for k, v in row.items() if k not in META_COLUMNS and k and v != ""}
    answers, problems = check_answers(survey, raw)
    for key, problem in problems.items():
        parse.fail(number, key, problem)
    if len(parse.problems) > problems_before:
        return None
    claimed = invitation_id
    # Anonymous surveys: nothing stored may lead back to a person, so neither the link nor a key
    # derived from the customer or token (the row number keeps re-imports of the file idempotent).
    identity = f"row {number}" if survey.anonymous else f"{ref}|{token}"
    if survey.anonymous:
        customer_id = invitation_id = None
    key = given_key or "import:" + hashlib.sha256(
        f"{slug}|{version.number}|{identity}|{submitted_at.isoformat()}|{sorted(raw.items())}".encode()
    ).hexdigest()
    return _Row(number, version, answers, key, content_hash(version.id, customer_id, answers),
                channel, language, customer_id, invitation_id, claimed, submitted_at)


def _already_stored(session: Session, rows: list[_Row], parse: RowParser) -> tuple[list[_Row], int]:
    """Split rows into new ones and the count of ones stored before; a reused key with other content,
    or one token answered twice in the file, is a problem of that row."""
    stored: dict[str, str] = {}
    keys = [row.key for row in rows]
    for start in range(0, len(keys), 500):
        stored.update(session.execute(select(models.Response.idempotency_key, models.Response.content_hash)
                                      .where(models.Response.idempotency_key.in_(keys[start:start + 500]))).all())
    fresh, before, tokens = [], 0, {}
    for row in rows:
        if row.key in stored:
            if stored[row.key] != row.digest:
                parse.fail(row.number, "idempotency_key",
                           f"{row.key!r} was already used for a different response")
            else:
                before += 1
            continue
        claimed = row.claimed_invitation
        if claimed is not None and tokens.setdefault(claimed, row.number) != row.number:
            parse.fail(row.number, "token", f"the same invitation is answered in row {tokens[claimed]}")
            continue
        stored[row.key] = row.digest  # a later identical row of the same file stores nothing new
        fresh.append(row)
    return fresh, before


def _answer_rows(row: _Row) -> int:
    """How many answer rows `row` stores: one per matrix rating and per chosen option, as
    `answer_values` writes them."""
    return sum(len(value) if isinstance(value, (dict, list)) else 1 for value in row.answers.values())


def _answered_at(row: _Row) -> datetime:
    # For anonymous surveys only the day: an exact time could be matched to the response's.
    if row.invitation_id is None:
        return row.submitted_at.replace(hour=0, minute=0, second=0, microsecond=0)
    return row.submitted_at


def _write(session: Session, rows: list[_Row], definitions: dict[int, Survey], progress: bool,
           announce: bool = True) -> list[int]:
    """Insert responses and their answers in bulk, and mark answered invitations; the new ids.

    Rows go in in time order (a stable sort: ties keep the file's order). The answers' indexes
    lead with (survey or customer, question) and then time, so rows in time order append to the
    end of each index range instead of touching a random page per row: an import's cost per row
    then stays flat as the database grows (bench/bench_import.py).
    """
    rows = sorted(rows, key=lambda row: row.submitted_at)
    stored: list[int] = []
    connection = session.connection()
    responses, answer_table = models.Response.__table__, models.Answer.__table__
    with tqdm(total=len(rows), desc="storing", unit="response", disable=not progress) as bar:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            # through the driver, then the ids by key: an ORM insert returning ids in row order
            # runs one statement per row on SQLite
            bulk.insert_rows(connection, responses, [dict(
                idempotency_key=r.key, content_hash=r.digest, survey_id=r.version.survey_id,
                survey_version_id=r.version.id, customer_id=r.customer_id, invitation_id=r.invitation_id,
                channel=r.channel, language=r.language, submitted_at=r.submitted_at) for r in chunk])
            by_key = bulk.ids_by_key(connection, responses, ["idempotency_key"], [r.key for r in chunk])
            ids = [by_key[r.key] for r in chunk]
            stored += ids
            values = [answer_values(definitions[r.version.id], r.answers) for r in chunk]
            bulk.insert_tuples(connection, answer_table, ANSWER_COLUMNS, [
                (response_id, key, number, text, r.version.survey_id, r.submitted_at, r.customer_id)
                for response_id, r, rows in zip(ids, chunk, values) for key, number, text in rows])
            if announce:  # one statement per chunk (none without a webhook), in the import's transaction
                outbox.responses_created(session, [dict(
                    response_id=response_id, survey=definitions[r.version.id].slug, version=r.version.number,
                    channel=r.channel, language=r.language, submitted_at=r.submitted_at, customer_id=r.customer_id,
                    answer_rows=rows) for response_id, r, rows in zip(ids, chunk, values)])
            answered = [dict(id=r.claimed_invitation, responded_at=_answered_at(r)) for r in chunk
                        if r.claimed_invitation is not None]
            if answered:
                session.execute(update(models.Invitation), answered)
            bar.update(len(chunk))
    return stored


def import_responses(session: Session, path: str | Path, survey_slug: str | None = None,
                     skip_invalid: bool = False, progress: bool = False) -> ResponseImportSummary:
    """Validate every row of a responses CSV, then store the new ones in bulk (each exactly once).

    With any faulty row, raises `ImportProblem` naming each row and column and writes nothing,
    unless `skip_invalid`: then the good rows are stored and the faults are in the summary.
    """
    with bulk.fewer_collections():
        return _import(session, path, survey_slug, skip_invalid, progress)


def _import(session: Session, path: str | Path, survey_slug: str | None, skip_invalid: bool,
            progress: bool) -> ResponseImportSummary:
    table = read_rows(path, required=("submitted_at",) if survey_slug else ("survey", "submitted_at"))
    parse = RowParser(table)
    lookups = _Lookups(session)
    if survey_slug and survey_slug not in lookups.versions:
        raise ImportProblem([f"{table.source}: no published survey {survey_slug!r}"])
    rows = []
    for number, raw in tqdm(table.rows, desc="checking", unit="row", disable=not progress):
        row = _parse_row(number, raw, survey_slug, lookups, parse)
        if row is not None:
            rows.append(row)
    fresh, before = _already_stored(session, rows, parse)
    if parse.problems and not skip_invalid:
        raise ImportProblem(parse.problems, parse.faults)
    from survey.followup.cases import flag_safely  # in a savepoint: a flagging error never fails the import

    with db.bulk_write_cache(session.connection()):
        # counted last, just before the commit: the busiest count rows stay locked the least
        with counts.counted_in_bulk(session.connection(), "responses import") as written:
            new_answers = sum(map(_answer_rows, fresh))
            with bulk.indexes_built_after_writing(session.connection(), models.Answer.__table__, new_answers):
                stored = _write(session, fresh, lookups.definitions, progress)
            written(stored)
            flag_safely(session, response_ids=stored, progress=progress)
    if fresh:
        db.refresh_statistics(session.connection())
    bad_rows = len({fault.row for fault in parse.faults})
    return ResponseImportSummary(len(fresh), before, skipped=bad_rows, problems=tuple(parse.problems),
                                 faults=tuple(parse.faults), delimiter=table.delimiter)
