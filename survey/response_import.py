"""Importing phone, paper and kiosk answers from CSV: every row valid, or nothing written.

The file format (see sample_data/csv/responses.csv):

| column | meaning |
|---|---|
| survey | required; the survey's slug |
| submitted_at | required; ISO date and time (UTC when no offset is given) |
| version | optional; the version number answered (default: the newest) |
| customer_ref | the customer's external_ref (ignored for anonymous surveys) |
| channel | phone, paper, kiosk, email, web... (default: import) |
| language | one of the survey's languages (default: its first) |
| idempotency_key | optional; default: derived from the row, so importing a file twice stores once |
| one column per question key | matrix rows as `key.attribute`; several choices separated by `;` |

Each row is validated with the same rules as the web form (`survey.collect`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models
from survey.collect import SubmissionConflict, check_answers, submit
from survey.csvfiles import ImportProblem, RowParser, read_rows
from survey.definition import Survey
from survey.publishing import version_definition

META_COLUMNS = ("survey", "version", "customer_ref", "channel", "language", "submitted_at", "idempotency_key")


@dataclass(frozen=True)
class ResponseImportSummary:
    """What an import did: responses newly stored, and rows that were stored before."""

    stored: int
    already_stored: int


@dataclass(frozen=True)
class _Row:
    number: int
    version: models.SurveyVersion
    survey: Survey
    answers: dict
    key: str
    channel: str
    language: str
    customer_id: int | None
    submitted_at: datetime


def _versions(session: Session) -> dict[str, dict[int, models.SurveyVersion]]:
    found: dict[str, dict[int, models.SurveyVersion]] = {}
    for slug, version in session.execute(select(models.Survey.slug, models.SurveyVersion)
                                         .join(models.SurveyVersion.survey)):
        found.setdefault(slug, {})[version.number] = version
    return found


def _timestamp(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def import_responses(session: Session, path: str | Path) -> ResponseImportSummary:
    """Validate every row of a responses CSV, then store them all (each exactly once).

    Raises `ImportProblem` naming each faulty row and column; nothing is written then.
    """
    table = read_rows(path, required=("survey", "submitted_at"))
    parse = RowParser(table.source)
    versions = _versions(session)
    definitions: dict[int, Survey] = {}
    customers = dict(session.execute(select(models.Customer.external_ref, models.Customer.id)).all())
    rows: list[_Row] = []
    for number, row in table.rows:
        slug = row.get("survey", "")
        if slug not in versions:
            parse.fail(number, "survey", f"no published survey {slug!r}")
            continue
        wanted = row.get("version") or str(max(versions[slug]))
        version = versions[slug].get(int(wanted)) if wanted.isdigit() else None
        if version is None:
            parse.fail(number, "version", f"survey {slug!r} has no version {wanted!r}")
            continue
        survey = definitions.setdefault(version.id, version_definition(version))
        submitted_at = parse.convert(number, "submitted_at", row.get("submitted_at", ""), _timestamp,
                                    "a date and time (YYYY-MM-DD HH:MM)")
        ref = row.get("customer_ref", "")
        if ref and ref not in customers:
            parse.fail(number, "customer_ref", f"no customer with external_ref {ref!r}")
        language = row.get("language") or survey.languages[0]
        if language not in survey.languages:
            parse.fail(number, "language", f"{language!r} is not one of {', '.join(survey.languages)}")
        raw = {k: v for k, v in row.items() if k not in META_COLUMNS and k and v != ""}
        answers, problems = check_answers(survey, raw)
        for key, problem in problems.items():
            parse.fail(number, key, problem)
        if submitted_at is None or problems:
            continue
        customer_id = None if survey.anonymous else customers.get(ref)
        key = row.get("idempotency_key") or "import:" + hashlib.sha256(
            f"{slug}|{version.number}|{ref}|{submitted_at.isoformat()}|{sorted(raw.items())}".encode()).hexdigest()
        rows.append(_Row(number, version, survey, answers, key, row.get("channel") or "import", language,
                         customer_id, submitted_at))
    parse.raise_if_any()
    stored = already = 0
    conflicts = []
    for item in rows:
        try:
            outcome = submit(session, item.version, item.survey, item.answers, idempotency_key=item.key,
                             channel=item.channel, language=item.language, customer_id=item.customer_id,
                             submitted_at=item.submitted_at)
        except SubmissionConflict as error:
            conflicts.append(f"{table.source}: row {item.number}, column 'idempotency_key': {error}")
            continue
        stored += outcome.created
        already += not outcome.created
    if conflicts:
        session.rollback()  # all or nothing
        raise ImportProblem(conflicts)
    return ResponseImportSummary(stored, already)
