"""The respondent's side of the web form: links, drafts and submission (no Streamlit here).

A respondent arrives with a personal link `/?t=<token>` (an invitation) or an open link
`/?s=<survey-slug>` (anonymous surveys only). `resolve_link` says what the form may do with it;
`save_draft` / `load_draft` keep a personal-link respondent's answers between visits;
`submit_form` stores the response once, through `collect.submit`, the rule book of every channel.

Decisions:
- Channel: an invitation link stores the invitation's channel (`email` by default, the way it
  reached the respondent, as the demo data counts it); an open link stores `web`.
- One response per invitation, even when two tabs submit at once with different idempotency keys:
  `collect.submit` claims the invitation in the response's transaction; `submit_form` turns the
  loser's `AlreadyAnswered` into an "already answered" outcome, never an error for the respondent.
- Anonymous surveys opened from an invitation still mark it answered (so it cannot answer twice),
  with the day only, and the response holds no link to it (both done by collect.submit).
- Idempotency keys carry no token (`web-<random>`): a token in the key would tie an anonymous
  response to its invitation.

Example:
    >>> from survey.storage.db import make_engine, upgrade, session_scope
    >>> from survey.definitions.definition import loads_yaml
    >>> from survey.definitions.publishing import publish
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     _ = publish(session, loads_yaml("slug: s\\ntitle: S\\nanonymous: true\\n"
    ...                                     "questions:\\n- {key: q, kind: nps, text: Recommend}"))
    >>> with session_scope(engine) as session:
    ...     link = resolve_link(session, slug="s")
    ...     link.status, submit_form(session, link, {"q": 9}, "en", new_idempotency_key()).status
    ('ok', 'submitted')
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey import messages
from survey.collection import collect
from survey.storage import models
from survey.definitions.definition import PIPE_PATTERN, Question, Survey, Text
from survey.storage.models import as_utc, utc_now
from survey.definitions.publishing import latest_version, version_definition

OK = "ok"
ALREADY_ANSWERED = "already_answered"
EXPIRED = "expired"
CLOSED = "closed"
UNKNOWN = "unknown"
NOT_OPEN_LINK = "not_open_link"
LINK_STATUSES = (OK, ALREADY_ANSWERED, EXPIRED, CLOSED, UNKNOWN, NOT_OPEN_LINK)

SUBMITTED = "submitted"
OPEN_LINK_CHANNEL = "web"
MAX_TOKEN_LENGTH = 100  # models.Invitation.token


@dataclass(frozen=True)
class Link:
    """What a respondent's link allows. Plain values only: usable after the session closes.

    `language` is the invitation's language when the survey offers it, else None.
    `responded_at` is set for `already_answered`, `expires_at` for `expired`.
    """

    status: str
    survey: Survey | None = None
    version_id: int | None = None
    invitation_id: int | None = None
    customer_id: int | None = None
    language: str | None = None
    channel: str = OPEN_LINK_CHANNEL
    responded_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def personal(self) -> bool:
        """True for an invitation link (drafts are kept only for these)."""
        return self.invitation_id is not None


@dataclass(frozen=True)
class Draft:
    """Answers kept for an invitation between visits."""

    answers: dict[str, Any]
    language: str | None
    updated_at: datetime


@dataclass(frozen=True)
class FormResult:
    """The outcome of `submit_form`: `submitted` (stored now or by an earlier retry of this key)
    or `already_answered` (the invitation was answered with another submission)."""

    status: str
    response_id: int | None = None
    created: bool = False
    responded_at: datetime | None = None


def new_idempotency_key() -> str:
    """A fresh key for one visit of the form (reused by its retries, double clicks and reruns)."""
    return f"web-{uuid.uuid4().hex}"


VISIT_KEY = re.compile(r"^[0-9a-f]{32}$")


def visit_idempotency_key(visit: str | None) -> str | None:
    """The key of an open-link visit kept in the page address (`v=`, the key's random part), or
    None when `visit` is missing or not such a part. Keeping it there means a reload of the page
    after submitting finds the stored response instead of making a second one."""
    return f"web-{visit}" if visit and VISIT_KEY.fullmatch(visit) else None


def submitted_at(session: Session, idempotency_key: str) -> datetime | None:
    """When the response stored under `idempotency_key` was submitted, or None when there is none."""
    return as_utc(session.scalar(select(models.Response.submitted_at)
                                 .where(models.Response.idempotency_key == idempotency_key)))


# --- links ---------------------------------------------------------------------------------------


def resolve_link(session: Session, token: str | None = None, slug: str | None = None,
                 now: datetime | None = None) -> Link:
    """What the link `/?t=<token>` or `/?s=<slug>` allows now; a token wins over a slug.

    Order for a token: unknown -> already answered (even if later closed or expired) -> closed ->
    expired -> ok. For a slug: unknown -> not an open link (personal surveys need an invitation) ->
    closed -> ok.
    """
    now = as_utc(now) or utc_now()
    token = (token or "").strip()
    slug = (slug or "").strip()
    if token:
        return _resolve_token(session, token, now)
    if slug:
        return _resolve_slug(session, slug)
    return Link(UNKNOWN)


def _definition(session: Session, stored: models.Survey) -> tuple[Survey | None, int | None]:
    version = latest_version(session, stored.slug)
    if version is None:
        return None, None
    return version_definition(version), version.id


def _resolve_token(session: Session, token: str, now: datetime) -> Link:
    if len(token) > MAX_TOKEN_LENGTH:
        return Link(UNKNOWN)
    invitation = session.scalar(select(models.Invitation).where(models.Invitation.token == token))
    if invitation is None:
        return Link(UNKNOWN)
    stored = session.get(models.Survey, invitation.survey_id)
    survey, version_id = _definition(session, stored)
    if survey is None:
        return Link(UNKNOWN)
    language = invitation.language if invitation.language in survey.languages else None
    common = dict(survey=survey, version_id=version_id, invitation_id=invitation.id,
                  customer_id=invitation.customer_id, language=language,
                  channel=invitation.channel or "email")
    responded_at = invitation.responded_at or session.scalar(
        select(models.Response.submitted_at).where(models.Response.invitation_id == invitation.id))
    if responded_at is not None:
        return Link(ALREADY_ANSWERED, responded_at=as_utc(responded_at), **common)
    if stored.status != "open":
        return Link(CLOSED, **common)
    expires_at = as_utc(invitation.expires_at)
    if expires_at is not None and expires_at <= now:
        return Link(EXPIRED, expires_at=expires_at, **common)
    return Link(OK, **common)


def _resolve_slug(session: Session, slug: str) -> Link:
    stored = session.scalar(select(models.Survey).where(models.Survey.slug == slug))
    if stored is None:
        return Link(UNKNOWN)
    survey, version_id = _definition(session, stored)
    if survey is None:
        return Link(UNKNOWN)
    # The survey row follows the newest version, but the definition is what the form shows.
    if not (stored.anonymous and survey.anonymous):
        return Link(NOT_OPEN_LINK, survey=survey, version_id=version_id)
    if stored.status != "open":
        return Link(CLOSED, survey=survey, version_id=version_id)
    return Link(OK, survey=survey, version_id=version_id)


# --- drafts --------------------------------------------------------------------------------------


def json_safe_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers as JSON can hold them: blanks dropped, multi choice as a list, matrix as a dict."""
    safe: dict[str, Any] = {}
    for key, value in answers.items():
        if isinstance(value, Mapping):
            value = {str(k): v for k, v in value.items() if v is not None and v != ""}
        elif isinstance(value, (list, tuple, set, frozenset)):
            value = [str(v) for v in value]
        if value is None or value == "" or value == [] or value == {}:
            continue
        safe[str(key)] = value
    return safe


def save_draft(session: Session, invitation_id: int, answers: Mapping[str, Any],
               language: str | None) -> bool:
    """Keep the answers given so far (one draft per invitation, replaced each time).

    Nothing is kept for an invitation already answered (a stale tab must not leave answers
    behind); returns whether the draft was written.
    """
    answered = session.scalar(select(models.Invitation.responded_at)
                              .where(models.Invitation.id == invitation_id))
    if answered is not None:
        return False
    values = dict(answers=json_safe_answers(answers), language=language, updated_at=utc_now())
    draft = session.scalar(select(models.ResponseDraft).where(models.ResponseDraft.invitation_id == invitation_id))
    if draft is None:
        try:
            with session.begin_nested():  # another tab of the same respondent may insert first
                session.add(models.ResponseDraft(invitation_id=invitation_id, **values))
            return True
        except IntegrityError:
            draft = session.scalar(select(models.ResponseDraft)
                                   .where(models.ResponseDraft.invitation_id == invitation_id))
    for name, value in values.items():
        setattr(draft, name, value)
    return True


def load_draft(session: Session, invitation_id: int) -> Draft | None:
    """The answers kept for this invitation, or None."""
    draft = session.scalar(select(models.ResponseDraft).where(models.ResponseDraft.invitation_id == invitation_id))
    if draft is None:
        return None
    return Draft(dict(draft.answers or {}), draft.language, as_utc(draft.updated_at))


def restorable_answers(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The draft answers the current definition can still show (a newer version may have
    dropped a question, a choice or a scale point since the draft was saved)."""
    kept: dict[str, Any] = {}
    for question in survey.questions:
        value = _restorable(question, answers.get(question.key))
        if value not in (None, "", [], {}):
            kept[question.key] = value
    return kept


def _restorable(question: Question, value: Any) -> Any:
    if value is None:
        return None
    if question.kind == "matrix":
        if not isinstance(value, Mapping):
            return None
        attributes = {a.value for a in question.attributes}
        return {a: _point(question, v) for a, v in value.items()
                if a in attributes and _point(question, v) is not None}
    if question.scale is not None:
        return _point(question, value)
    if question.kind == "note":
        return None
    if question.kind in ("integer", "decimal", "date", "time"):
        try:  # the rule book's cleaning: a draft value the definition no longer accepts is dropped
            return collect.clean_one(question, value)
        except ValueError:
            return None
    choices = [c.value for c in question.choices]
    if question.kind == "single_choice":
        return str(value) if str(value) in choices else None
    if question.kind == "multi_choice":
        values = value if isinstance(value, (list, tuple)) else [value]
        return [str(v) for v in values if str(v) in choices]
    text = str(value)
    return text[:question.max_length] if question.max_length else text


def _point(question: Question, value: Any) -> int | None:
    """A scale point of the question, or None (drafts hold ints; be lenient with "7" and 7.0)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or not question.scale.min <= number <= question.scale.max:
        return None
    return int(number)


# --- submission ----------------------------------------------------------------------------------


def submit_form(session: Session, link: Link, answers: Mapping[str, Any], language: str | None,
                idempotency_key: str) -> FormResult:
    """Store the form's answers once through `collect.submit`; the caller commits the session.

    For an invitation, `collect.submit` claims it (sets `responded_at`) with the response, and the
    draft is deleted in the same transaction. A second submission for an answered invitation,
    concurrent or not, returns `already_answered` instead of raising; a retry with the same key
    returns the stored response. Raises `collect.InvalidAnswers` when the answers break the
    survey's rules (nothing stored), and ValueError for a link that is not `ok`.
    """
    if not link.ok or link.survey is None or link.version_id is None:
        raise ValueError(f"cannot submit through a link that is {link.status}")
    survey = link.survey
    language = language if language in survey.languages else survey.languages[0]
    version = session.get(models.SurveyVersion, link.version_id)
    channel = link.channel if link.personal else OPEN_LINK_CHANNEL
    try:
        with session.begin_nested():  # a refused submission leaves nothing behind, claim included
            stored = collect.submit(session, version, survey, answers, idempotency_key=idempotency_key,
                                    channel=channel, language=language, customer_id=link.customer_id,
                                    invitation_id=link.invitation_id)
    except (collect.AlreadyAnswered, collect.SubmissionConflict):
        # AlreadyAnswered: another submission holds the invitation. SubmissionConflict: this visit's
        # key already stored other answers (e.g. a change between two quick clicks); the first counts.
        return _already_answered(session, link.invitation_id)
    if not link.personal:
        return FormResult(SUBMITTED, stored.response_id, stored.created)
    session.execute(delete(models.ResponseDraft).where(models.ResponseDraft.invitation_id == link.invitation_id))
    return FormResult(SUBMITTED, stored.response_id, stored.created, _responded_at(session, link.invitation_id))


def _responded_at(session: Session, invitation_id: int) -> datetime | None:
    return as_utc(session.scalar(select(models.Invitation.responded_at).where(models.Invitation.id == invitation_id)))


def _already_answered(session: Session, invitation_id: int | None) -> FormResult:
    if invitation_id is None:
        return FormResult(ALREADY_ANSWERED)
    responded_at = _responded_at(session, invitation_id)
    if responded_at is None:  # answered by a channel that does not mark the invitation: mark it now
        responded_at = as_utc(session.scalar(select(models.Response.submitted_at)
                                             .where(models.Response.invitation_id == invitation_id)))
        if responded_at is not None:
            session.execute(update(models.Invitation).where(models.Invitation.id == invitation_id)
                            .values(responded_at=responded_at).execution_options(synchronize_session=False))
    return FormResult(ALREADY_ANSWERED, responded_at=responded_at)


# --- wording -------------------------------------------------------------------------------------


def localized(text: Text, language: str | None, survey: Survey | None = None) -> str:
    """The text in `language`, else in the survey's first language, else any; '' when empty."""
    if not text:
        return ""
    if language in text:
        return text[language]
    if survey is not None and survey.languages[0] in text:
        return text[survey.languages[0]]
    return next(iter(text.values()))


def piped(text: str, survey: Survey, answers: Mapping[str, Any], language: str | None) -> str:
    """`text` with each `${q}` replaced by the answer to q (a choice by its label); '...' when unanswered."""

    def answer(match: re.Match) -> str:
        key = match.group(1)
        value = answers.get(key)
        if value in (None, "", [], {}):
            return "..."
        try:
            question = survey.question(key)
        except KeyError:
            return "..."
        labels = {c.value: localized(c.label, language, survey) for c in question.choices}
        values = value if isinstance(value, (list, tuple)) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)

    return PIPE_PATTERN.sub(answer, text)


def phrase(name: str, language: str | None, **values: Any) -> str:
    """A form phrase (button, notice, link message) in `language`, English when not translated."""
    table = messages.RESPONDENT_PHRASES.get(language or "", {})
    template = table.get(name) or messages.RESPONDENT_PHRASES["en"][name]
    return template.format(**values)


def problem_text(problem: str, language: str | None) -> str:
    """A validation problem from `collect` in `language`: the catalogue's phrase for its code, else
    its `invalid` phrase (the rule book's own text is English); as it is for a language outside it."""
    table = messages.RESPONDENT_PROBLEMS.get(language or "")
    if table is None:
        return str(problem)
    return table.get(getattr(problem, "code", None)) or table["invalid"]


def browser_language(locale: str | None, languages: tuple[str, ...]) -> str | None:
    """The survey language matching a browser locale such as `fr-CA`, or None."""
    if not locale:
        return None
    wanted = locale.replace("_", "-").lower()
    for language in languages:
        if language.lower() == wanted:
            return language
    for language in languages:
        if language.lower().split("-")[0] == wanted.split("-")[0]:
            return language
    return None


__all__ = ["Link", "Draft", "FormResult", "LINK_STATUSES", "resolve_link", "save_draft", "load_draft",
           "restorable_answers", "json_safe_answers", "submit_form", "new_idempotency_key", "localized",
           "phrase", "problem_text", "browser_language"]
