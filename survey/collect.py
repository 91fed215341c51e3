"""Collecting answers: one validation for every channel, and submission that stores exactly once.

`validate_answers` is the single rule book used by the web form, the JSON API and CSV imports.
`submit` stores a response under its idempotency key: a retry with the same key and content
returns the stored response; the same key with other content is a conflict, never an overwrite.

Example:
    >>> from survey.definition import loads_yaml
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
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey import models
from survey.definition import Question, Survey
from survey.models import utc_now

MULTI_CHOICE_SEPARATOR = ";"


class SubmissionConflict(ValueError):
    """The idempotency key was already used for different content."""


class InvalidAnswers(ValueError):
    """Answers that break the survey's rules; `problems` maps question key to message."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.problems.items()))


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple, set, dict)) and not value)


def _as_integer(value: Any) -> int:
    """An integer from an int, a whole float, or text holding one; ValueError otherwise."""
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
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    scale = question.scale
    if not scale.min <= number <= scale.max:
        raise ValueError(f"{number} is outside the scale {scale.min}-{scale.max}")
    return number


def _one_answer(question: Question, value: Any) -> Any:
    """The cleaned value of one shown, non-blank answer; ValueError with the reason otherwise."""
    if question.kind == "matrix":
        if not isinstance(value, Mapping):
            raise ValueError("expected a rating per attribute")
        known = {a.value for a in question.attributes}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown attribute(s): {', '.join(map(str, unknown))}")
        return {attribute: _rated(question, rating) for attribute, rating in value.items()
                if not _is_blank(rating)}
    if question.scale is not None:
        return _rated(question, value)
    allowed = {c.value for c in question.choices}
    if question.kind == "single_choice":
        if str(value) not in allowed:
            raise ValueError(f"{value!r} is not one of the choices ({', '.join(sorted(allowed))})")
        return str(value)
    if question.kind == "multi_choice":
        values = value.split(MULTI_CHOICE_SEPARATOR) if isinstance(value, str) else list(value)
        values = [str(v).strip() for v in values if str(v).strip()]
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise ValueError(f"{', '.join(map(repr, wrong))} not among the choices ({', '.join(sorted(allowed))})")
        return sorted(set(values), key=values.index)
    text = str(value)
    if question.max_length is not None and len(text) > question.max_length:
        raise ValueError(f"longer than {question.max_length} characters ({len(text)})")
    return text


def _nest_matrix_columns(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Accept matrix answers flat (`drivers.support: 7`, as in CSV files) as well as nested."""
    nested: dict[str, Any] = {}
    for key, value in answers.items():
        head, _, attribute = str(key).partition(".")
        if attribute and any(q.key == head and q.kind == "matrix" for q in survey.questions):
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
    known = {q.key for q in survey.questions}
    for key in answers:
        if key not in known:
            problems[str(key)] = "no such question in this survey"
    clean: dict[str, Any] = {}
    for question in survey.questions:
        if not question.is_shown(clean):
            continue
        value = answers.get(question.key)
        if not _is_blank(value):
            try:
                value = _one_answer(question, value)
            except ValueError as error:
                problems[question.key] = str(error)
                continue
        if _is_blank(value):
            if question.required:
                problems[question.key] = "an answer is required"
            continue
        if question.kind == "matrix" and question.required and len(value) < len(question.attributes):
            problems[question.key] = "every attribute needs a rating"
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


def answer_rows(survey: Survey, clean: Mapping[str, Any]) -> list[models.Answer]:
    """Answer rows for clean answers: numbers for ratings, text for choices and comments."""
    rows = []
    for question in survey.questions:
        value = clean.get(question.key)
        if value is None:
            continue
        if question.kind == "matrix":
            rows += [models.Answer(question_key=f"{question.key}.{attribute}", numeric_value=rating)
                     for attribute, rating in value.items()]
        elif question.scale is not None:
            rows.append(models.Answer(question_key=question.key, numeric_value=value))
        elif question.kind == "multi_choice":
            rows += [models.Answer(question_key=question.key, text_value=choice) for choice in value]
        else:
            rows.append(models.Answer(question_key=question.key, text_value=value))
    return rows


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
    or SubmissionConflict when the key was used for other content.
    """
    if not idempotency_key or not idempotency_key.strip():
        raise InvalidAnswers({"idempotency_key": "a non-empty idempotency key is required"})
    clean = clean_answers(survey, answers)
    if survey.anonymous:
        customer_id = invitation_id = None
    digest = content_hash(version.id, customer_id, clean)
    existing = _stored(session, idempotency_key, digest)
    if existing is not None:
        return existing
    response = models.Response(
        idempotency_key=idempotency_key, content_hash=digest, survey_id=version.survey_id,
        survey_version_id=version.id, customer_id=customer_id, invitation_id=invitation_id,
        channel=channel, language=language or survey.languages[0], submitted_at=submitted_at or utc_now(),
        answers=answer_rows(survey, clean))
    try:
        with session.begin_nested():  # a concurrent twin may win the race for the unique key
            session.add(response)
    except IntegrityError:
        existing = _stored(session, idempotency_key, digest)
        if existing is None:
            raise
        return existing
    return Submission(response.id, created=True)


def _stored(session: Session, idempotency_key: str, digest: str) -> Submission | None:
    stored = session.execute(select(models.Response.id, models.Response.content_hash)
                             .where(models.Response.idempotency_key == idempotency_key)).first()
    if stored is None:
        return None
    if stored.content_hash != digest:
        raise SubmissionConflict(f"idempotency key {idempotency_key!r} was already used for a different response")
    return Submission(stored.id, created=False)
