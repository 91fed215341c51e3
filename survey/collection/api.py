"""The JSON API for other channels (kiosks, call-centre tools, a company's own apps).

Plain Starlette routes handed to `st.App` in app.py, so `streamlit run app.py` serves them beside
the pages. The contract (also in `openapi_document()`, served at `/api/v1/openapi.json` and shipped
as docs/openapi.json):

`POST /api/v1/surveys/{slug}/responses`, with `X-API-Key: <key>` (or `Authorization: Bearer <key>`)
and a JSON body `{"idempotency_key", "answers", "token"?, "customer_ref"?, "channel"?, "language"?}`:

======  =================================================================================
201     stored; `{"response_id", "created": true, ...}`
200     the same idempotency key and content again: the same `response_id`, `created: false`
400     the body is not UTF-8 JSON (`field: body`, codes `not_utf8`, `malformed_json`, ...)
401     missing or wrong key (`field: api_key`, codes `missing_api_key`, `invalid_api_key`)
404     no such survey (`field: slug`, code `unknown_survey`)
405     another method than POST (`method_not_allowed`)
409     `idempotency_conflict` (same key, other content), `already_answered` (invitation
        answered under another key), `survey_closed`
408     the body did not arrive within `SURVEY_API_BODY_SECONDS` (`body_timeout`)
413     body over 64 KiB (`body_too_large`), enforced while reading, never buffered whole;
        a Content-Length over the limit is answered within DRAIN_SECONDS (2 s), even if the
        body never comes
415     not `application/json` (`unsupported_media_type`)
422     `{"errors": [{"question" | "field", "code", "message"}, ...]}`, every problem at once
429     too many requests from this address or with this key (`rate_limited`), with `Retry-After`
503     the database stayed busy or unreachable (`database_busy`); retry with the same key
======  =================================================================================

Every error body is `{"errors": [{"field" or "question": name, "code": code, "message": text}]}`.

Decisions worth knowing:
- Strings holding NUL (PostgreSQL text cannot store it) or a lone surrogate (not a character,
  not encodable as UTF-8) are refused with 422 naming the field or question. Everything else is
  stored exactly as typed, including right-to-left overrides, HTML, script and `=FORMULA(...)`
  text: escaping is the job of whatever displays or exports it (exports are formula-safe).
- The API is stricter than CSV imports about JSON types: a rating must be a JSON integer (`"7"`,
  `7.5`, `true`, `NaN` are refused with `not_integer`); choices and text must be strings.
- An expired invitation is 422 on `token` with code `expired` (the body is at fault, not the
  route); an answered one is 409 `already_answered`, unless it is a retry of the very response
  that answered it (then 200).
- Verified API keys are cached in memory for `KEY_CACHE_SECONDS`, so a revoked key keeps working
  at most that long in a running server; unknown keys are never cached.
- The API only migrates the database (`db.upgrade`); it never generates demo data.
- Limits on abuse: a body must arrive within `SURVEY_API_BODY_SECONDS` (default 10), so a client
  declaring more bytes than it sends cannot hold a connection; submissions are rate limited per
  client address (`SURVEY_API_RATE_PER_ADDRESS`, default 2000 a second, checked before the key, so
  key guessing is slowed too) and per key (`SURVEY_API_RATE_PER_KEY`, default 1000 a second), each
  allowing a burst of twice its rate (`survey.collection.ratelimit`). The address is the TCP peer's:
  behind a proxy every client shares the proxy's, so set the per-address rate for that.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from dataclasses import dataclass
from functools import cache
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import anyio
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from survey import messages
from survey.collection import apikeys
from survey.collection.database_threads import DatabaseThreads
from survey.collection.ratelimit import TokenBuckets, retry_after
from survey.storage import models
from survey.collection.collect import AlreadyAnswered, InvalidAnswers, SubmissionConflict, check_answers, submit
from survey.definitions.definition import Survey
from survey.definitions.publishing import version_definition
from survey.settings import positive_number

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
MAX_BODY_BYTES = 64 * 1024
# An oversized body is read (and discarded) up to this size so that the client, which is still
# sending, receives the 413 instead of a reset connection; beyond it the connection is closed.
DRAIN_LIMIT_BYTES = 4 * 1024 * 1024
DRAIN_SECONDS = 2.0  # and for at most this long: a client that declared more than it sends gets its 413
DEFAULT_BODY_SECONDS = 10.0  # the whole body must arrive within this (SURVEY_API_BODY_SECONDS)
DEFAULT_RATE_PER_KEY = 1000.0  # requests a second per API key (SURVEY_API_RATE_PER_KEY); bursts of twice that
DEFAULT_RATE_PER_ADDRESS = 2000.0  # requests a second per client address (SURVEY_API_RATE_PER_ADDRESS)
KEY_CACHE_SECONDS = 10.0
MAX_IDEMPOTENCY_KEY_LENGTH = 200  # responses.idempotency_key
MAX_TOKEN_LENGTH = 100  # invitations.token
MAX_CUSTOMER_REF_LENGTH = 100  # customers.external_ref
DEFAULT_CHANNEL = "api"
CHANNEL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")  # responses.channel is 20 characters
SLUG_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")
BODY_FIELDS = ("idempotency_key", "answers", "token", "customer_ref", "channel", "language")
RETRY_ATTEMPTS = 5
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected (PostgreSQL)
RATED_KINDS = ("nps", "csat", "ces", "rating", "index_item")


class ApiError(Exception):
    """A response to send instead of the normal one: a status and the errors it names."""

    def __init__(self, status: int, errors: list[dict[str, str]], headers: dict[str, str] | None = None):
        super().__init__(status, errors)
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def problem(where: str, name: str, code: str, message: str) -> dict[str, str]:
    """One entry of an error list; `where` is "field" (the envelope) or "question" (the answers)."""
    return {where: _printable(name), "code": code, "message": message}


def _printable(text: str) -> str:
    # Names echoed in errors may hold lone surrogates; keep the response encodable.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class JsonResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: always encodable, even for odd input echoed back."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def error_response(error: ApiError) -> JsonResponse:
    return JsonResponse({"errors": error.errors}, status_code=error.status, headers=error.headers)


class NonFinite(str):
    """`NaN`, `Infinity` or `-Infinity` in the body: kept as a marker so the field can be named."""


def _json_type(value: Any) -> str:
    if isinstance(value, NonFinite):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ApiError(400, [problem("field", "body", "duplicate_name",
                                         messages.API_BODY_DUPLICATE_NAME.format(name=_printable(name)))])
        result[name] = value
    return result


def parse_json_body(body: bytes) -> Any:
    """The parsed body; ApiError 400 naming the body when it is not UTF-8 JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, [problem("field", "body", "not_utf8", messages.API_BODY_NOT_UTF8)]) from None
    try:
        return json.loads(text, parse_constant=NonFinite, object_pairs_hook=_object_without_duplicates)
    except RecursionError:
        raise ApiError(400, [problem("field", "body", "too_deeply_nested", messages.API_BODY_TOO_DEEP)]) from None
    except ValueError as error:  # JSONDecodeError, and integers too long to convert
        raise ApiError(400, [problem("field", "body", "malformed_json",
                                     messages.API_BODY_NOT_JSON.format(problem=error))]) from None


def _bad_characters(text: str, name: str, where: str = "field") -> dict[str, str] | None:
    """A problem when `text` cannot be stored as typed: NUL, or a lone surrogate."""
    if "\x00" in text:
        return problem(where, name, "invalid_characters", messages.API_NUL_CHARACTER.format(field=_printable(name)))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return problem(where, name, "invalid_characters", messages.API_LONE_SURROGATE.format(field=_printable(name)))
    return None


@dataclass(frozen=True)
class Envelope:
    """The body's fields other than the answers, checked for shape (not yet against the database)."""

    idempotency_key: str | None
    answers: dict[str, Any]
    token: str | None
    customer_ref: str | None
    channel: str
    language: str | None


def parse_envelope(data: Any) -> tuple[Envelope | None, list[dict[str, str]]]:
    """The envelope and the problems with its shape (all of them at once)."""
    if not isinstance(data, dict):
        return None, [problem("field", "body", "not_an_object", messages.API_BODY_NOT_OBJECT)]
    problems: list[dict[str, str]] = []
    for name in data:
        if name not in BODY_FIELDS:
            problems.append(problem("field", name, "unknown_field", messages.API_UNKNOWN_FIELD.format(
                field=_printable(name), expected=", ".join(BODY_FIELDS))))

    def text(name: str, limit: int, required: bool = False) -> str | None:
        value = data.get(name)
        if value is None:
            if required:
                problems.append(problem("field", name, "required", messages.API_FIELD_REQUIRED.format(field=name)))
            return None
        if not isinstance(value, str) or isinstance(value, NonFinite):
            problems.append(problem("field", name, "wrong_type", messages.API_FIELD_WRONG_TYPE.format(
                field=name, expected="a string", actual=_json_type(value))))
            return None
        bad = _bad_characters(value, name)
        if bad:
            problems.append(bad)
            return None
        if not value.strip():
            problems.append(problem("field", name, "blank", messages.API_FIELD_BLANK.format(field=name)))
            return None
        if len(value) > limit:
            problems.append(problem("field", name, "too_long",
                                    messages.API_FIELD_TOO_LONG.format(field=name, limit=limit)))
            return None
        return value

    key = text("idempotency_key", MAX_IDEMPOTENCY_KEY_LENGTH, required=True)
    token = text("token", MAX_TOKEN_LENGTH)
    customer_ref = text("customer_ref", MAX_CUSTOMER_REF_LENGTH)
    channel = text("channel", 20)
    if channel is not None and not CHANNEL_PATTERN.fullmatch(channel):
        problems.append(problem("field", "channel", "invalid_format", messages.API_BAD_CHANNEL.format(value=channel)))
    language = text("language", 10)
    answers = data.get("answers")
    if answers is None:
        problems.append(problem("field", "answers", "required", messages.API_FIELD_REQUIRED.format(field="answers")))
        answers = {}
    elif not isinstance(answers, dict):
        problems.append(problem("field", "answers", "wrong_type", messages.API_FIELD_WRONG_TYPE.format(
            field="answers", expected="an object of question key to answer", actual=_json_type(answers))))
        answers = {}
    return Envelope(key, answers, token, customer_ref, channel or DEFAULT_CHANNEL, language), problems


def _is_json_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def typed_answer_problems(survey: Survey, answers: dict[str, Any]) -> list[dict[str, str]]:
    """Problems with the JSON types of the answers (the rule book in collect checks the rest).

    Ratings must be JSON integers, choices strings (arrays of strings for multi-choice), text
    strings; null means "not answered". Strings must be storable as typed (no NUL, no lone surrogate).
    """
    problems: list[dict[str, str]] = []
    by_key = {q.key: q for q in survey.questions}

    def wrong(name: str, expected: str, value: Any, code: str = "wrong_type") -> None:
        problems.append(problem("question", name, code, messages.API_ANSWER_WRONG_TYPE.format(
            expected=expected, actual=_json_type(value))))

    def strings_ok(name: str, values: list[Any]) -> bool:
        for value in values:
            bad = _bad_characters(value, name, "question")
            if bad:
                problems.append(bad)
                return False
        return True

    for name, value in answers.items():
        bad = _bad_characters(name, name, "question")
        if bad:
            problems.append(bad)
            continue
        head, dot, attribute = name.partition(".")
        question = by_key.get(name)
        if question is None and dot and head in by_key and by_key[head].kind == "matrix":
            question = by_key[head]  # flat matrix answer, as in CSV files: `drivers.support`
        if question is None or value is None:
            continue  # unknown keys and blanks: the rule book says what is wrong
        if question.kind == "matrix":
            ratings = {attribute: value} if question.key != name else value
            if not isinstance(ratings, dict):
                wrong(name, "an object of attribute to rating", value)
                continue
            for attribute_name, rating in ratings.items():
                if not strings_ok(name, [attribute_name]):
                    break
                if rating is not None and not _is_json_integer(rating):
                    problems.append(problem("question", name, "not_integer", messages.API_ANSWER_WRONG_TYPE.format(
                        expected=f"a whole number for {_printable(attribute_name)!r}", actual=_json_type(rating))))
                    break
        elif question.kind in RATED_KINDS or question.scale is not None or question.kind == "integer":
            if not _is_json_integer(value):
                wrong(name, "a whole number", value, "not_integer")
        elif question.kind == "decimal":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                wrong(name, "a number", value, "not_number")
        elif question.kind == "note":
            continue  # the rule book says a note takes no answer
        elif question.kind == "multi_choice":
            if not isinstance(value, list) or not all(isinstance(v, str) and not isinstance(v, NonFinite)
                                                      for v in value):
                wrong(name, "an array of choice values (strings)", value)
            else:
                strings_ok(name, value)
        elif not isinstance(value, str) or isinstance(value, NonFinite):
            wrong(name, "a string", value)
        else:
            strings_ok(name, [value])
    return problems


def _rule_problems(survey: Survey, answers: dict[str, Any], reported: set[str]) -> list[dict[str, str]]:
    """The rule book's problems (scale, choices, length, required, unknown questions) as entries.

    Answers already `reported` for their JSON type are left out (and not then called missing).
    """
    _, found = check_answers(survey, {k: v for k, v in answers.items() if k not in reported})
    reported_heads = {key.partition(".")[0] for key in reported}
    return [problem("question", key, getattr(message, "code", "invalid"), str(message))
            for key, message in found.items() if key not in reported_heads]


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    media_type, *parameters = [part.strip().lower() for part in content_type.split(";")]
    charset = next((p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")), "utf-8")
    if media_type != "application/json" or charset not in ("utf-8", "utf8"):
        raise ApiError(415, [problem("field", "content-type", "unsupported_media_type",
                                     messages.API_UNSUPPORTED_MEDIA_TYPE.format(content_type=content_type))])


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES,
                            seconds: float = DEFAULT_BODY_SECONDS) -> bytes:
    """The body, refusing (413) as soon as it exceeds `limit`: from Content-Length at once, or while
    streaming; and 408 when it has not all arrived within `seconds`, so that a client declaring
    more bytes than it sends cannot hold a connection and a worker."""
    too_large = ApiError(413, [problem("field", "body", "body_too_large",
                                       messages.API_BODY_TOO_LARGE.format(limit=limit))])
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, [problem("field", "content-length", "bad_content_length",
                                         messages.API_BAD_CONTENT_LENGTH.format(value=declared))])
        if int(declared) > limit:
            await _drain(request, 0)
            raise too_large
    chunks: list[bytes] = []
    size = 0
    with anyio.move_on_after(seconds) as waited:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                await _drain(request, size)
                raise too_large
            chunks.append(chunk)
    if waited.cancelled_caught:
        raise ApiError(408, [problem("field", "body", "body_timeout", messages.API_BODY_TIMEOUT.format(
            seconds=f"{seconds:g}"))], {"Connection": "close"})
    return b"".join(chunks)


async def _drain(request: Request, already: int) -> None:
    """Read and discard what the client is still sending, up to DRAIN_LIMIT_BYTES and DRAIN_SECONDS,
    so that it receives the 413 instead of a reset connection; a client that sends less than it
    declared is not waited for longer than that."""
    received = already
    if received > DRAIN_LIMIT_BYTES:
        return
    with anyio.move_on_after(DRAIN_SECONDS):
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > DRAIN_LIMIT_BYTES:
                    return
        except Exception:  # noqa: BLE001 - the client went away; the 413 is still the answer
            return


@dataclass(frozen=True)
class ApiLimits:
    """The API's limits on abuse, from the environment (see the module docstring)."""

    body_seconds: float = DEFAULT_BODY_SECONDS
    rate_per_key: float = DEFAULT_RATE_PER_KEY
    rate_per_address: float = DEFAULT_RATE_PER_ADDRESS

    @classmethod
    def from_env(cls, environ=None) -> ApiLimits:
        """Limits from `environ` (default the process environment); ValueError naming a bad variable."""
        env = os.environ if environ is None else environ
        return cls(positive_number(env, "SURVEY_API_BODY_SECONDS", DEFAULT_BODY_SECONDS),
                   positive_number(env, "SURVEY_API_RATE_PER_KEY", DEFAULT_RATE_PER_KEY),
                   positive_number(env, "SURVEY_API_RATE_PER_ADDRESS", DEFAULT_RATE_PER_ADDRESS))


def _retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return sqlstate in RETRYABLE_SQLSTATES


@dataclass(frozen=True)
class _Published:
    """A version as submit needs it, with its parsed definition (versions never change: cacheable)."""

    id: int
    survey_id: int
    number: int
    definition: Survey


@dataclass(frozen=True)
class Outcome:
    response_id: int
    created: bool
    slug: str
    version: int


@cache
def _newest_version():
    """A survey's status and newest version, by slug (built once: asked on every submission)."""
    return (select(models.Survey.status, models.SurveyVersion.id)
            .join(models.SurveyVersion, models.SurveyVersion.survey_id == models.Survey.id)
            .where(models.Survey.slug == bindparam("slug"))
            .order_by(models.SurveyVersion.number.desc()).limit(1))


class SurveyApi:
    """The API routes over one database (default: `SURVEY_DATABASE_URL`), connected on first use."""

    def __init__(self, database_url: str | None = None, limits: ApiLimits | None = None):
        self.limits = limits or ApiLimits.from_env()
        self._per_key = TokenBuckets(self.limits.rate_per_key, max(1.0, 2 * self.limits.rate_per_key))
        self._per_address = TokenBuckets(self.limits.rate_per_address, max(1.0, 2 * self.limits.rate_per_address))
        self._database = DatabaseThreads(database_url)
        self._versions: dict[int, _Published] = {}
        self._keys: dict[str, tuple[apikeys.VerifiedKey, float]] = {}

    # -- plumbing -----------------------------------------------------------------------------
    def dispose(self) -> None:
        """Close the database connections (tests, shutdown)."""
        self._database.dispose()

    def _with_retries(self, work: Callable[[], Any]) -> Any:
        """Run `work` (one transaction); retry serialization failures and deadlocks; 503 if it stays stuck."""
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return work()
            except (OperationalError, PoolTimeoutError) as error:
                if isinstance(error, DBAPIError) and _retryable(error) and attempt < RETRY_ATTEMPTS:
                    time.sleep(random.uniform(0, 0.01 * 2 ** attempt))
                    continue
                log.warning("database busy or unavailable: %s", error)
                raise ApiError(503, [problem("field", "database", "database_busy", messages.API_DATABASE_BUSY)],
                               {"Retry-After": "1"}) from None
            except DBAPIError as error:
                if _retryable(error) and attempt < RETRY_ATTEMPTS:
                    time.sleep(random.uniform(0, 0.01 * 2 ** attempt))
                    continue
                raise
        raise AssertionError("unreachable")

    # -- API keys -----------------------------------------------------------------------------
    async def authenticate(self, request: Request) -> apikeys.VerifiedKey:
        presented = _presented_key(request)
        if not presented:
            raise ApiError(401, [problem("field", "api_key", "missing_api_key", messages.API_KEY_MISSING)],
                           {"WWW-Authenticate": 'Bearer realm="survey-api"'})
        digest = apikeys.hash_key(presented)
        cached = self._keys.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        verified = await self._database.run(self._verify_key, presented)
        if verified is None:
            raise ApiError(401, [problem("field", "api_key", "invalid_api_key", messages.API_KEY_INVALID)],
                           {"WWW-Authenticate": 'Bearer realm="survey-api", error="invalid_token"'})
        self._keys[digest] = (verified, time.monotonic() + KEY_CACHE_SECONDS)
        return verified

    def _verify_key(self, presented: str) -> apikeys.VerifiedKey | None:
        if apikeys.key_prefix(presented) is None:
            return None  # not shaped like a key: no database work

        def work():
            with self._database.reader()() as session:
                return apikeys.verify_key(session, presented)
        return self._with_retries(work)

    # -- submissions --------------------------------------------------------------------------
    def _published(self, session: Session, version_id: int) -> _Published:
        cached = self._versions.get(version_id)
        if cached is None:
            version = session.get(models.SurveyVersion, version_id)
            cached = _Published(version.id, version.survey_id, version.number, version_definition(version))
            self._versions[version_id] = cached
        return cached

    def submit_sync(self, slug: str, envelope: Envelope | None, shape_problems: list[dict[str, str]]) -> Outcome:
        """Store one submission (in a worker thread); ApiError for anything but 200/201."""
        def work() -> Outcome:
            with self._database.writer()() as session, session.begin():
                return self._submit_in(session, slug, envelope, shape_problems)
        return self._with_retries(work)

    def _submit_in(self, session: Session, slug: str, envelope: Envelope | None,
                   shape_problems: list[dict[str, str]]) -> Outcome:
        found = session.connection().execute(_newest_version(), {"slug": slug}).first()
        if found is None:
            raise ApiError(404, [problem("field", "slug", "unknown_survey", messages.API_UNKNOWN_SURVEY.format(slug=slug))])
        if found.status != "open":
            raise ApiError(409, [problem("field", "slug", "survey_closed", messages.API_SURVEY_CLOSED.format(slug=slug))])
        published = self._published(session, found.id)
        survey = published.definition
        problems = list(shape_problems)
        if envelope is None:
            raise ApiError(422, problems)
        if envelope.language is not None and envelope.language not in survey.languages:
            problems.append(problem("field", "language", "unknown_language", messages.API_UNKNOWN_LANGUAGE.format(
                value=envelope.language, languages=", ".join(survey.languages))))
        typed = typed_answer_problems(survey, envelope.answers)
        problems += typed
        problems += _rule_problems(survey, envelope.answers, {p["question"] for p in typed if "question" in p})
        customer_id = invitation_id = None
        answered = False
        if envelope.token is not None:
            invitation = session.execute(
                select(models.Invitation.id, models.Invitation.customer_id, models.Invitation.expires_at,
                       models.Invitation.responded_at)
                .where(models.Invitation.token == envelope.token,
                       models.Invitation.survey_id == published.survey_id)).first()
            if invitation is None:
                problems.append(problem("field", "token", "unknown_token", messages.API_UNKNOWN_TOKEN))
            else:
                invitation_id, customer_id = invitation.id, invitation.customer_id
                answered = invitation.responded_at is not None
                expires = invitation.expires_at
                if expires is not None and expires.tzinfo is None:
                    expires = expires.replace(tzinfo=timezone.utc)
                if not answered and expires is not None and expires < datetime.now(timezone.utc):
                    problems.append(problem("field", "token", "expired", messages.API_TOKEN_EXPIRED.format(
                        expires=expires.isoformat(timespec="minutes"))))
        if envelope.customer_ref is not None:
            referred = session.scalar(select(models.Customer.id)
                                      .where(models.Customer.external_ref == envelope.customer_ref))
            if referred is None:
                problems.append(problem("field", "customer_ref", "unknown_customer",
                                        messages.API_UNKNOWN_CUSTOMER.format(ref=envelope.customer_ref)))
            elif invitation_id is not None and referred != customer_id:
                problems.append(problem("field", "customer_ref", "customer_mismatch",
                                        messages.API_CUSTOMER_MISMATCH.format(ref=envelope.customer_ref)))
            else:
                customer_id = referred
        if problems:
            raise ApiError(422, problems)
        try:
            outcome = submit(session, published, survey, envelope.answers,
                             idempotency_key=envelope.idempotency_key, channel=envelope.channel,
                             language=envelope.language, customer_id=customer_id, invitation_id=invitation_id)
        except SubmissionConflict:
            raise ApiError(409, [problem("field", "idempotency_key", "idempotency_conflict",
                                         messages.API_IDEMPOTENCY_CONFLICT.format(key=envelope.idempotency_key))]) from None
        except AlreadyAnswered:
            raise ApiError(409, [problem("field", "token", "already_answered", messages.API_ALREADY_ANSWERED)]) from None
        except InvalidAnswers as error:  # the checks above should have caught these; still a 422
            raise ApiError(422, [problem("question", key, getattr(message, "code", "invalid"), str(message))
                                 for key, message in error.problems.items()]) from None
        return Outcome(outcome.response_id, outcome.created, slug, published.number)

    # -- routes -------------------------------------------------------------------------------
    def _limit(self, buckets: TokenBuckets, key: str, what: str) -> None:
        wait = buckets.take(key)
        if wait:
            raise ApiError(429, [problem("field", what, "rate_limited", messages.API_RATE_LIMITED.format(
                what=what.replace("_", " "), seconds=retry_after(wait)))], {"Retry-After": retry_after(wait)})

    async def submit_response(self, request: Request) -> Response:
        """`POST /api/v1/surveys/{slug}/responses`: store one response (see the module docstring)."""
        self._limit(self._per_address, request.client.host if request.client else "", "client_address")
        verified = await self.authenticate(request)
        self._limit(self._per_key, str(verified.id), "api_key")
        _check_content_type(request)
        data = parse_json_body(await read_limited_body(request, seconds=self.limits.body_seconds))
        envelope, shape_problems = parse_envelope(data)
        slug = request.path_params["slug"]
        if not SLUG_PATTERN.fullmatch(slug):
            raise ApiError(404, [problem("field", "slug", "unknown_survey",
                                         messages.API_UNKNOWN_SURVEY.format(slug=_printable(slug)))])
        outcome = await self._database.run(self.submit_sync, slug, envelope, shape_problems)
        return JsonResponse({"response_id": outcome.response_id, "created": outcome.created,
                             "survey": outcome.slug, "version": outcome.version},
                            status_code=201 if outcome.created else 200)

    async def submit_events(self, request: Request) -> Response:
        """`POST /api/v1/customer-events`: store purchases, renewals and defections (all or none,
        idempotent on each event's `event_id`; see `survey.retention.events`)."""
        self._limit(self._per_address, request.client.host if request.client else "", "client_address")
        verified = await self.authenticate(request)
        self._limit(self._per_key, str(verified.id), "api_key")
        _check_content_type(request)
        data = parse_json_body(await read_limited_body(request, seconds=self.limits.body_seconds))
        summary = await self._database.run(self.events_sync, data)
        return JsonResponse({"created": summary.created, "unchanged": summary.unchanged},
                            status_code=201 if summary.created else 200)

    def events_sync(self, data: Any):
        """Store posted events in one transaction (in a worker thread); ApiError 422 naming each fault."""
        from survey.retention.events import EventProblems, post_events

        def work():
            for attempt in (1, 2):  # a concurrent post of the same events: the second look finds them stored
                try:
                    with self._database.writer()() as session, session.begin():
                        return post_events(session, data)
                except IntegrityError:
                    if attempt == 2:
                        raise
                except EventProblems as error:
                    raise ApiError(422, [problem("field", field, "invalid_event", message)
                                         for field, message in error.problems]) from None
        return self._with_retries(work)

    async def health(self, request: Request) -> Response:
        """`GET /api/v1/health`: for load balancers; says the process is up (no database work)."""
        return JsonResponse({"status": "ok"})

    async def openapi(self, request: Request) -> Response:
        """`GET /api/v1/openapi.json`: this API's OpenAPI 3.1 document."""
        return JsonResponse(openapi_document())

    async def not_found(self, request: Request) -> Response:
        raise ApiError(404, [problem("field", "path", "not_found", messages.API_NOT_FOUND.format(path=request.url.path))])

    def routes(self) -> list[Route]:
        # Every method reaches the endpoint, which answers the wrong ones with a JSON 405.
        every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return [
            Route("/api/v1/health", _endpoint(self.health, "GET", "HEAD"), methods=every),
            Route("/api/v1/openapi.json", _endpoint(self.openapi, "GET", "HEAD"), methods=every),
            Route("/api/v1/surveys/{slug}/responses", _endpoint(self.submit_response, "POST"), methods=every),
            Route("/api/v1/customer-events", _endpoint(self.submit_events, "POST"), methods=every),
            Route("/api/{rest:path}", _endpoint(self.not_found, *every), methods=every),
        ]


def _endpoint(handler: Callable[[Request], Awaitable[Response]], *methods: str) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint that answers every failure, even unexpected ones, as JSON errors."""

    async def endpoint(request: Request) -> Response:
        if request.method not in methods:
            return error_response(ApiError(405, [problem("field", "method", "method_not_allowed",
                                                         messages.API_METHOD_NOT_ALLOWED.format(
                                                             method=request.method, allowed=", ".join(methods)))],
                                           {"Allow": ", ".join(methods)}))
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error)
        except Exception:  # a bug: log it, still answer in the API's format
            log.exception("unexpected error in %s %s", request.method, request.url.path)
            return error_response(ApiError(500, [problem("field", "server", "internal_error",
                                                         messages.API_INTERNAL_ERROR)]))

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def routes(database_url: str | None = None) -> list[Route]:
    """Every API route and the respondent form's, for `st.App(routes=...)`; the database is connected on the first call."""
    from survey.collection.form import pages  # the form imports this module's body limits

    return SurveyApi(database_url).routes() + pages.routes(database_url)


def _error_schema_ref() -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (also shipped as docs/openapi.json)."""
    from survey.retention.events import openapi_path as customer_events_openapi

    error = lambda description: {"description": description, **_error_schema_ref()}  # noqa: E731
    answer = {"description": "A rating or an integer question (JSON integer), a decimal (number), a choice "
                             "value (string), several choice values (array of strings), a text, a date "
                             "(YYYY-MM-DD) or a time (HH:MM) (string), ratings per attribute for a matrix "
                             "(object), or null for no answer. A note takes no answer.",
              "anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}, {"type": "array", "items": {"type": "string"}},
                        {"type": "object", "additionalProperties": {"type": ["integer", "null"]}}, {"type": "null"}]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Survey and satisfaction toolkit API",
            "version": API_VERSION,
            "description": (
                "Submit survey responses from other channels (kiosks, call-centre tools, your own apps). "
                "Every submission carries an idempotency key: a retry with the same key and content returns "
                "the stored response (200); the same key with other content is refused (409). Text is stored "
                "exactly as typed; strings holding NUL or lone surrogates are refused (422)."),
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}, {"bearer": []}],
        "paths": {
            "/api/v1/health": {"get": {
                "operationId": "health", "summary": "Liveness for load balancers", "security": [],
                "responses": {"200": {"description": "The process is up.", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}}}}}},
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "The OpenAPI document."}}}},
            "/api/v1/surveys/{slug}/responses": {"post": {
                "operationId": "submitResponse",
                "summary": "Submit one response to the newest version of a survey",
                "parameters": [{"name": "slug", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": SLUG_PATTERN.pattern}}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Submission"}}}},
                "responses": {
                    "201": {"description": "Stored.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Stored"}}}},
                    "200": {"description": "Already stored under this idempotency key with the same content; "
                                           "the same response_id.", "content": {"application/json": {
                                               "schema": {"$ref": "#/components/schemas/Stored"}}}},
                    "400": error("The body is not UTF-8 JSON (field `body`: not_utf8, malformed_json, "
                                 "duplicate_name, too_deeply_nested) or Content-Length is not a number."),
                    "401": error("Missing (missing_api_key) or unknown, wrong or revoked (invalid_api_key) API key."),
                    "404": error("No survey with this slug (unknown_survey)."),
                    "405": error("Only POST (method_not_allowed)."),
                    "409": error("idempotency_conflict: the key was used for other content; already_answered: "
                                 "the invitation has a response under another key; survey_closed."),
                    "408": error("The body did not arrive in time (body_timeout)."),
                    "413": error(f"The body is larger than {MAX_BODY_BYTES} bytes (body_too_large)."),
                    "415": error("Not application/json in UTF-8 (unsupported_media_type)."),
                    "422": error("Validation failed; every problem is listed. Codes on fields: not_an_object (body), required, "
                                 "wrong_type, blank, too_long, invalid_characters, invalid_format, unknown_field, "
                                 "unknown_language, unknown_token, expired, unknown_customer, customer_mismatch. "
                                 "Codes on questions: unknown_question, required, not_integer, out_of_range, "
                                 "not_a_choice, too_long, wrong_type, unknown_attribute, incomplete, "
                                 "invalid_characters, not_number, not_date, not_time, not_answerable."),
                    "429": error("Too many requests from this client address or with this API key "
                                 "(rate_limited); the Retry-After header says how many seconds to wait."),
                    "503": error("The database stayed busy or is unreachable (database_busy); retry with the "
                                 "same idempotency key."),
                },
            }},
            "/api/v1/customer-events": customer_events_openapi(error),
        },
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "Create one with `python -m survey apikey create NAME`."},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Submission": {
                    "type": "object", "additionalProperties": False, "required": ["idempotency_key", "answers"],
                    "properties": {
                        "idempotency_key": {"type": "string", "minLength": 1,
                                            "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
                                            "description": "Unique per submission; reuse it for retries."},
                        "answers": {"type": "object", "additionalProperties": answer,
                                    "description": "Question key to answer; matrix answers nested "
                                                   "(`{\"drivers\": {\"support\": 7}}`) or flat (`drivers.support`)."},
                        "token": {"type": ["string", "null"], "maxLength": MAX_TOKEN_LENGTH,
                                  "description": "A personal invitation's token: links the response to its "
                                                 "customer (not for anonymous surveys); one response per invitation."},
                        "customer_ref": {"type": ["string", "null"], "maxLength": MAX_CUSTOMER_REF_LENGTH,
                                         "description": "A customer's external_ref (ignored by anonymous surveys)."},
                        "channel": {"type": ["string", "null"], "pattern": CHANNEL_PATTERN.pattern,
                                    "default": DEFAULT_CHANNEL, "examples": ["kiosk", "phone", "app"]},
                        "language": {"type": ["string", "null"],
                                     "description": "One of the survey's languages; default its first."},
                    },
                },
                "Stored": {"type": "object", "required": ["response_id", "created"], "properties": {
                    "response_id": {"type": "integer"}, "created": {"type": "boolean"},
                    "survey": {"type": "string"}, "version": {"type": "integer"}}},
                "Errors": {"type": "object", "required": ["errors"], "properties": {"errors": {
                    "type": "array", "items": {"type": "object", "required": ["code", "message"], "properties": {
                        "field": {"type": "string", "description": "The body field, header or part at fault."},
                        "question": {"type": "string", "description": "The question key at fault."},
                        "code": {"type": "string"}, "message": {"type": "string"}}}}}},
            },
        },
    }
