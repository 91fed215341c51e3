"""Collecting answers: one validation for every channel, and submission that stores exactly once.

`validate_answers` is the single rule book used by the web form, the JSON API and CSV imports.
`submit` stores a response under its idempotency key: a retry with the same key and content
returns the stored response; the same key with other content is a conflict, never an overwrite.

Example:
    >>> from survey.definitions.definition import loads_yaml
    >>> survey = loads_yaml('''
    ... slug: s
    ... title: S
    ... questions:
    ...   - {key: recommend, kind: nps, text: Recommend, required: true}
    ...   - {key: why, kind: text, text: Why, show_if: recommend <= 6, max_length: 10}
    ... ''')
    >>> validate_answers(survey, {"recommend": 11})
    {'recommend': '11 is outside the scale 0-10'}
    >>> validate_answers(survey, {"recommend": 9, "why": "hidden, so dropped"})
    {}
    >>> clean_answers(survey, {"recommend": "3", "why": "slow"})
    {'recommend': 3, 'why': 'slow'}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
import math
from datetime import date, datetime, time
from typing import Any, Mapping

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.integrations import outbox
from survey.storage import bulk, models
from survey.definitions.definition import INPUT_KINDS, NOTE_KIND, Question, Survey, per_definition
from survey.storage.models import utc_now

MULTI_CHOICE_SEPARATOR = ";"


class SubmissionConflict(ValueError):
    """The idempotency key was already used for different content."""


class AlreadyAnswered(ValueError):
    """The personal invitation already has a response (under another idempotency key)."""


class Problem(str):
    """A problem message that also carries a stable machine-readable `code` (for the JSON API).

    It is a `str`, so `validate_answers(...) == {"q": "an answer is required"}` keeps holding.
    """

    code: str

    def __new__(cls, message: str, code: str) -> Problem:
        problem = super().__new__(cls, message)
        problem.code = code
        return problem


class _AnswerError(ValueError):
    """Why one answer cannot be stored, with the code `Problem` carries."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class InvalidAnswers(ValueError):
    """Answers that break the survey's rules; `problems` maps question key to message."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.problems.items()))


def _is_blank(value: Any) -> bool:
    if type(value) is str:  # the usual case first (a CSV import asks this about every cell)
        return not value.strip()
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple, set, dict)) and not value)


def _as_integer(value: Any) -> int:
    """An integer from an int, a whole float, or text holding one; ValueError otherwise."""
    if type(value) is str and value.isascii() and value.isdigit():  # the usual case first: "7"
        return int(value)
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise ValueError


def _rated(question: Question, value: Any) -> int:
    try:
        number = _as_integer(value)
    except (ValueError, OverflowError):  # OverflowError: float("inf")
        raise _AnswerError("not_integer", f"{value!r} is not a whole number") from None
    scale = question.scale
    if not scale.min <= number <= scale.max:
        raise _AnswerError("out_of_range", f"{number} is outside the scale {scale.min}-{scale.max}")
    return number


def _number(value: Any) -> float:
    """A finite number from an int, a float or text holding one; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError
    number = float(value.strip()) if isinstance(value, str) else float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _plain_input(question: Question, value: Any) -> Any:
    """The cleaned answer of an integer, decimal, date or time question."""
    if question.kind == "integer":
        try:
            return _as_integer(value)
        except (ValueError, OverflowError):
            raise _AnswerError("not_integer", f"{value!r} is not a whole number") from None
    if question.kind == "decimal":
        try:
            number = _number(value)
        except (TypeError, ValueError, OverflowError):
            raise _AnswerError("not_number", f"{value!r} is not a number") from None
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    if question.kind == "date":
        if isinstance(value, datetime):
            raise _AnswerError("not_date", f"{value!r} is not a date (YYYY-MM-DD)")
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
        except ValueError:
            raise _AnswerError("not_date", f"{value!r} is not a date (YYYY-MM-DD)") from None
        return day.isoformat()
    try:
        moment = value if isinstance(value, time) else time.fromisoformat(str(value).strip())
    except ValueError:
        raise _AnswerError("not_time", f"{value!r} is not a time of day (HH:MM)") from None
    if moment.tzinfo is not None:
        raise _AnswerError("not_time", f"{value!r} is not a time of day (HH:MM)")
    return moment.strftime("%H:%M" if moment.second == 0 and moment.microsecond == 0 else "%H:%M:%S")


def _one_answer(question: Question, value: Any) -> Any:
    """The cleaned value of one shown, non-blank answer; ValueError with the reason otherwise."""
    if question.kind == NOTE_KIND:
        raise _AnswerError("not_answerable", "a note is shown, not answered")
    if question.kind in INPUT_KINDS:
        return _plain_input(question, value)
    if question.kind == "matrix":
        if not isinstance(value, Mapping):
            raise _AnswerError("wrong_type", "expected a rating per attribute")
        unknown = sorted(set(value) - _allowed_values(question))
        if unknown:
            raise _AnswerError("unknown_attribute", f"unknown attribute(s): {', '.join(map(str, unknown))}")
        return {attribute: _rated(question, rating) for attribute, rating in value.items()
                if not _is_blank(rating)}
    if question.scale is not None:
        return _rated(question, value)
    allowed = _allowed_values(question)
    if question.kind == "single_choice":
        if str(value) not in allowed:
            raise _AnswerError("not_a_choice", f"{value!r} is not one of the choices ({', '.join(sorted(allowed))})")
        return str(value)
    if question.kind == "multi_choice":
        values = value.split(MULTI_CHOICE_SEPARATOR) if isinstance(value, str) else list(value)
        values = [str(v).strip() for v in values if str(v).strip()]
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise _AnswerError("not_a_choice",
                               f"{', '.join(map(repr, wrong))} not among the choices ({', '.join(sorted(allowed))})")
        return sorted(set(values), key=values.index)
    text = str(value)
    if question.max_length is not None and len(text) > question.max_length:
        raise _AnswerError("too_long", f"longer than {question.max_length} characters ({len(text)})")
    if not storable_text(text):
        raise _AnswerError("invalid_characters", "contains a NUL character or a lone surrogate, which cannot be stored")
    return text


@per_definition
def _allowed_values(question: Question) -> frozenset[str]:
    """The values a choice question's choices, or a matrix question's rows, take."""
    return frozenset(c.value for c in (question.attributes if question.kind == "matrix" else question.choices))


@per_definition
def _question_keys(survey: Survey) -> tuple[frozenset[str], frozenset[str]]:
    """The survey's question keys, and those of its matrix questions."""
    return (frozenset(q.key for q in survey.questions),
            frozenset(q.key for q in survey.questions if q.kind == "matrix"))


def clean_one(question: Question, value: Any) -> Any:
    """The cleaned value of one non-blank answer to `question`; ValueError with the reason otherwise."""
    return _one_answer(question, value)


def storable_text(text: str) -> bool:
    """Whether text can be stored as typed on every database: no NUL, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nest_matrix_columns(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Accept matrix answers flat (`drivers.support: 7`, as in CSV files) as well as nested."""
    nested: dict[str, Any] = {}
    matrices = _question_keys(survey)[1]
    if not matrices:
        return dict(answers)
    for key, value in answers.items():
        head, _, attribute = str(key).partition(".")
        if attribute and head in matrices:
            nested.setdefault(head, {})[attribute] = value
        else:
            nested[key] = value
    return nested


def check_answers(survey: Survey, answers: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean answers and problems per question key, applying display conditions in order.

    Answers to questions hidden by their condition are dropped (a respondent may have changed an
    earlier answer after filling them in); required questions count only when shown.
    """
    answers = _nest_matrix_columns(survey, answers)
    problems: dict[str, str] = {}
    known = _question_keys(survey)[0]
    for key in answers:
        if key not in known:
            problems[str(key)] = Problem("no such question in this survey", "unknown_question")
    clean: dict[str, Any] = {}
    for question in survey.questions:
        if not question.is_shown(clean):
            continue
        value = answers.get(question.key)
        if not _is_blank(value):
            try:
                value = _one_answer(question, value)
            except ValueError as error:
                problems[question.key] = Problem(str(error), getattr(error, "code", "invalid"))
                continue
        if _is_blank(value):
            if question.required and question.kind != NOTE_KIND:
                problems[question.key] = Problem("an answer is required", "required")
            continue
        if question.kind == "matrix" and question.required and len(value) < len(question.attributes):
            problems[question.key] = Problem("every attribute needs a rating", "incomplete")
            continue
        clean[question.key] = value
    return clean, problems


def validate_answers(survey: Survey, answers: Mapping[str, Any]) -> dict[str, str]:
    """Problems per question key (empty when the answers can be stored)."""
    return check_answers(survey, answers)[1]


def clean_answers(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as they will be stored; InvalidAnswers when any breaks the survey's rules."""
    clean, problems = check_answers(survey, answers)
    if problems:
        raise InvalidAnswers(problems)
    return clean


def answer_values(survey: Survey, clean: Mapping[str, Any]) -> list[tuple[str, float | None, str | None]]:
    """(question_key, numeric_value, text_value) per stored answer row: numbers for ratings,
    integer and decimal answers; text for choices, comments, dates (YYYY-MM-DD) and times (HH:MM);
    matrix rows under `key.attribute`, one row per chosen option."""
    rows: list[tuple[str, float | None, str | None]] = []
    for question in survey.questions:
        value = clean.get(question.key)
        if value is None:
            continue
        if question.kind == "matrix":
            rows += [(f"{question.key}.{attribute}", rating, None) for attribute, rating in value.items()]
        elif question.scale is not None or question.kind in ("integer", "decimal"):
            rows.append((question.key, value, None))
        elif question.kind == "multi_choice":
            rows += [(question.key, None, choice) for choice in value]
        else:
            rows.append((question.key, None, value))
    return rows


def answer_rows(survey: Survey, clean: Mapping[str, Any]) -> list[models.Answer]:
    """Answer rows (ORM objects) for clean answers, as `answer_values` describes them."""
    return [models.Answer(question_key=key, numeric_value=number, text_value=text)
            for key, number, text in answer_values(survey, clean)]


def content_hash(version_id: int, customer_id: int | None, clean: Mapping[str, Any]) -> str:
    """Fingerprint of what a submission says (decides retry versus conflict)."""
    canonical = json.dumps({"version": version_id, "customer": customer_id, "answers": clean},
                           sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Submission:
    """The outcome of `submit`: the stored response, and whether this call created it."""

    response_id: int
    created: bool


def submit(session: Session, version: models.SurveyVersion, survey: Survey, answers: Mapping[str, Any], *,
           idempotency_key: str, channel: str, language: str | None = None, customer_id: int | None = None,
           invitation_id: int | None = None, submitted_at: datetime | None = None) -> Submission:
    """Validate and store one response exactly once under `idempotency_key`.

    Anonymous surveys never store a customer or invitation link. Raises InvalidAnswers,
    SubmissionConflict when the key was used for other content, or AlreadyAnswered when
    `invitation_id` already has a response under another key. After an exception the caller
    rolls the transaction back (as `db.session_scope` does).

    The response row is written with `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (PostgreSQL
    and SQLite alike), so a concurrent twin never raises: the loser finds the winner's row. An
    invitation is claimed with `UPDATE ... SET responded_at WHERE responded_at IS NULL`, which on
    PostgreSQL waits for a concurrent claim to commit, so one invitation yields one response even
    for anonymous surveys, whose responses carry no invitation link for the unique constraint.
    """
    if not idempotency_key or not idempotency_key.strip():
        raise InvalidAnswers({"idempotency_key": Problem("a non-empty idempotency key is required", "required")})
    clean = clean_answers(survey, answers)
    claim = invitation_id
    if survey.anonymous:
        customer_id = invitation_id = None
    digest = content_hash(version.id, customer_id, clean)
    now = submitted_at or utc_now()
    if claim is not None:
        # Anonymous: the day only, so responded_at cannot be joined to a response's submitted_at.
        responded_at = now.replace(hour=0, minute=0, second=0, microsecond=0) if survey.anonymous else now
        claimed = session.execute(update(models.Invitation)
                                  .where(models.Invitation.id == claim, models.Invitation.responded_at.is_(None))
                                  .values(responded_at=responded_at)).rowcount
        if not claimed:
            existing = _stored(session, idempotency_key, digest)  # a retry of the response that claimed it
            if existing is None:
                raise AlreadyAnswered(f"invitation {claim} already has a response")
            return existing
    response_id = _insert_response(session, dict(
        idempotency_key=idempotency_key, content_hash=digest, survey_id=version.survey_id,
        survey_version_id=version.id, customer_id=customer_id, invitation_id=invitation_id,
        channel=channel, language=language or survey.languages[0], submitted_at=now))
    if response_id is None:
        existing = _stored(session, idempotency_key, digest)
        if existing is None:  # the row that won holds this invitation under another key
            raise AlreadyAnswered(f"invitation {invitation_id} already has a response")
        return existing
    rows = answer_values(survey, clean)
    if rows:  # through the driver (survey.storage.bulk): an ORM bulk insert costs a submission about a tenth more
        bulk.insert_rows(session.connection(), models.Answer.__table__, [
            {"response_id": response_id, "question_key": key, "numeric_value": number, "text_value": text,
             "survey_id": version.survey_id, "submitted_at": now, "customer_id": customer_id}
            for key, number, text in rows])
    # the webhook event commits (or rolls back) with the response it announces
    outbox.responses_created(session, [dict(
        response_id=response_id, survey=survey.slug, version=version.number, channel=channel,
        language=language or survey.languages[0], submitted_at=now, customer_id=customer_id, answer_rows=rows)])
    from survey.followup.cases import flag_safely  # in a savepoint: a flagging error never fails the submission
    flag_safely(session, response_ids=[response_id])
    return Submission(response_id, created=True)


def _insert_response(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a response row; its id, or None when a unique key (idempotency key, invitation) is taken."""
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        # a Core statement built once per dialect: no ORM bookkeeping or statement building per response
        return session.connection().execute(_insert_response_statement(dialect), values).scalar()
    try:  # other databases: a savepoint absorbs the unique-key violation
        with session.begin_nested():
            return session.execute(insert(models.Response).values(**values).returning(models.Response.id)).scalar()
    except IntegrityError:
        return None


@cache
def _insert_response_statement(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    table = models.Response.__table__
    columns = ("idempotency_key", "content_hash", "survey_id", "survey_version_id", "customer_id", "invitation_id",
               "channel", "language", "submitted_at")
    return (dialect_insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})
            .on_conflict_do_nothing().returning(table.c.id))


def _stored(session: Session, idempotency_key: str, digest: str) -> Submission | None:
    stored = session.execute(select(models.Response.id, models.Response.content_hash)
                             .where(models.Response.idempotency_key == idempotency_key)).first()
    if stored is None:
        return None
    if stored.content_hash != digest:
        raise SubmissionConflict(f"idempotency key {idempotency_key!r} was already used for a different response")
    return Submission(stored.id, created=False)
