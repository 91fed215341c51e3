"""The respondent form over HTTP: server-rendered pages served beside the app by `st.App` routes.

`GET /respond?t=<token>` (personal invitation) or `GET /respond?s=<slug>` (open link) shows the
first screen; every button posts the whole form back to the same address, so the form works
without scripts and without a websocket. Links sent before this form existed (`/?t=`, `/?s=`)
are sent on here by `OldLinks`, a middleware in front of the Streamlit page.

What stays as it was with the Streamlit page:
- `collect.check_answers` is the only judge of an answer (per screen for "Next", the whole form
  for "Submit"), and `respondent.submit_form` stores the response once: the visit's idempotency
  key travels in a hidden field, so a double click or a retried POST stores one response, and
  `collect.submit` flags the response for follow-up in its transaction.
- Personal links keep a draft (`respondent.save_draft`) at every step and restore it on the next
  visit; one response per invitation.
- The answers of the other screens travel in hidden fields, so Back and Next never lose one.

Protection: a token bound to the link and the visit in every POST (`tokens.FormTokens`), the
API's body limit (`api.read_limited_body`, 64 KiB, in time) and a token bucket per client address
(`ratelimit.TokenBuckets`, `SURVEY_FORM_RATE_PER_ADDRESS` requests a second, default 20, bursts
of twice that); wording is escaped by Jinja2's autoescape; pages carry a strict
Content-Security-Policy (no inline script, nothing from elsewhere) and are never cached.

Scripts only enhance: for personal links one small same-origin script (`form.js`) posts the form
with `action=draft` as the respondent answers, so that a draft is kept between steps too, as the
Streamlit page kept it after each change.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode

import jinja2
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from survey import messages
from survey.collection import respondent
from survey.collection.api import ApiError, read_limited_body
from survey.collection.collect import InvalidAnswers, check_answers
from survey.collection.database_threads import DatabaseThreads
from survey.collection.form import screens
from survey.collection.form.tokens import FormTokens
from survey.collection.form.view import question_view
from survey.collection.ratelimit import TokenBuckets, retry_after
from survey.definitions.definition import Survey
from survey.settings import positive_number
from survey.storage import db

log = logging.getLogger(__name__)

PATH = "/respond"
THANKS_PATH = "/respond/thanks"
SCRIPT_PATH = "/respond/form.js"
SCRIPT = (Path(__file__).parent / "form.js").read_bytes()
DEFAULT_RATE_PER_ADDRESS = 20.0  # requests a second per client address; a person answers far slower
MAX_FIELDS = 2000
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                "script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                                "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the address holds the personal token
}
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)


def form_enabled(environ=None) -> bool:
    """Whether old links go to this form (`SURVEY_RESPONDENT_FORM`: `html`, the default, or
    `streamlit` to keep the Streamlit page, e.g. to compare the two)."""
    value = (os.environ if environ is None else environ).get("SURVEY_RESPONDENT_FORM", "html").strip().lower()
    if value not in ("html", "streamlit"):
        raise ValueError(messages.SETTING_RESPONDENT_FORM.format(value=value))
    return value == "html"


class OldLinks:
    """ASGI middleware: `GET /?t=...` and `GET /?s=...` answer a redirect to the form, keeping the
    query, so that links already sent keep working; everything else goes on to Streamlit."""

    def __init__(self, app: Callable, enabled: bool | None = None):
        self.app = app
        self.enabled = form_enabled() if enabled is None else enabled

    async def __call__(self, scope, receive, send) -> None:
        if (self.enabled and scope["type"] == "http" and scope["path"] == "/"
                and scope["method"] in ("GET", "HEAD")):
            query = scope.get("query_string", b"").decode("latin-1")
            names = {name for name, _ in parse_qsl(query)}
            if names & {"t", "s"}:
                await RedirectResponse(f"{PATH}?{query}", status_code=307, headers=HEADERS)(scope, receive, send)
                return
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Visit:
    """The state one POST brings back (or a GET starts)."""

    link_id: str  # "t:<token>" or "s:<slug>": what the anti-forgery token is bound to
    query: str  # "t=<token>" or "s=<slug>"
    idempotency_key: str
    screen: int
    language: str
    answers: dict[str, Any]


def _link_params(request: Request) -> tuple[str | None, str | None]:
    token = (request.query_params.get("t") or "").strip() or None
    slug = None if token else (request.query_params.get("s") or "").strip() or None
    return token, slug


class RespondentForm:
    """The form's routes over one database (default: `SURVEY_DATABASE_URL`), connected on first use."""

    def __init__(self, database_url: str | None = None, environ=None):
        env = os.environ if environ is None else environ
        self._database = DatabaseThreads(database_url)
        rate = positive_number(env, "SURVEY_FORM_RATE_PER_ADDRESS", DEFAULT_RATE_PER_ADDRESS)
        self._per_address = TokenBuckets(rate, max(1.0, 2 * rate))
        self._body_seconds = positive_number(env, "SURVEY_API_BODY_SECONDS", 10.0)
        self.tokens = FormTokens()

    # -- plumbing -----------------------------------------------------------------------------
    def dispose(self) -> None:
        """Close the database connections (tests, shutdown)."""
        self._database.dispose()

    def _resolve(self, token: str | None, slug: str | None) -> respondent.Link:
        with self._database.reader()() as session:
            return respondent.resolve_link(session, token=token, slug=slug)

    # -- pages --------------------------------------------------------------------------------
    def _page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(TEMPLATES.get_template(template).render(**context), status_code=status,
                            headers=HEADERS)

    def _message(self, language: str, message: str, survey: Survey | None = None, status: int = 200,
                 **extra: Any) -> HTMLResponse:
        heading = respondent.localized(survey.title, language, survey) if survey is not None else ""
        return self._page("message.html", status, language=language, title=heading or message[:60],
                          heading=heading, message=message, **extra)

    def _link_problem(self, link: respondent.Link, language: str) -> HTMLResponse:
        when = link.responded_at or link.expires_at
        message = respondent.phrase(link.status, language, date=f"{when:%Y-%m-%d}" if when else "")
        status = 404 if link.status == respondent.UNKNOWN else 200
        return self._message(language, message, link.survey, status)

    def _language(self, request: Request, link: respondent.Link | None, *choices: str | None) -> str:
        languages = link.survey.languages if link is not None and link.survey is not None else \
            tuple(messages.RESPONDENT_PHRASES)
        for choice in choices:
            if choice in languages:
                return choice
        if link is not None and link.language in languages:
            return link.language
        header = request.headers.get("accept-language", "")
        for part in header.split(","):
            found = respondent.browser_language(part.split(";")[0].strip(), languages)
            if found:
                return found
        return languages[0]

    def render_screen(self, link: respondent.Link, visit: Visit, problems: dict[str, str] | None = None,
                      notice: str | None = None, status: int = 200) -> HTMLResponse:
        """One screen of the form: its shown questions, the others' answers carried, the buttons."""
        survey, language = link.survey, visit.language
        phrase = lambda name, **values: respondent.phrase(name, language, **values)  # noqa: E731
        clean = check_answers(survey, visit.answers)[0]
        all_screens = screens.screens(survey)
        shown = screens.shown_questions(all_screens[visit.screen], clean)
        problems = problems or {}
        views = [question_view(q, survey, language, visit.answers,
                               respondent.problem_text(problems[q.key], language) if q.key in problems else None)
                 for q in shown]
        more = screens.may_continue(survey, visit.screen, clean)
        first = screens.previous_screen(survey, visit.screen, clean) is None
        progress = None
        if len(all_screens) > 1:
            progress = {"text": phrase("progress", step=visit.screen + 1, total=len(all_screens)),
                        "percent": round(100 * visit.screen / len(all_screens))}
        languages = [(code, messages.LANGUAGE_NAMES.get(code, code)) for code in survey.languages] \
            if len(survey.languages) > 1 else []
        title = respondent.localized(survey.title, language, survey)
        return self._page(
            "form.html", status, language=language, title=title,
            intro=respondent.localized(survey.intro, language, survey) if first else "",
            notice=notice or (phrase("draft_notice") if link.personal and first else None),
            progress=progress, questions=views, required=phrase("required"),
            problems=[v for v in views if v["error"]], problem_summary=phrase("problem_summary"),
            action=f"{PATH}?{visit.query}", csrf=self.tokens.issue(visit.link_id, visit.idempotency_key),
            key=visit.idempotency_key, screen=visit.screen,
            carried=screens.form_fields(survey, visit.answers, keep=shown),
            forward={"action": "next", "text": phrase("next")} if more else
                    {"action": "submit", "text": phrase("submit")},
            back=None if first else phrase("back"), languages=languages, language_label=phrase("language"),
            drafts=link.personal, script=SCRIPT_PATH)

    def _limited(self, request: Request) -> HTMLResponse | None:
        wait = self._per_address.take(request.client.host if request.client else "")
        if wait <= 0:
            return None
        language = self._language(request, None)
        response = self._message(language, respondent.phrase("too_many_requests", language), status=429)
        response.headers["Retry-After"] = retry_after(wait)
        return response

    # -- GET ----------------------------------------------------------------------------------
    def _start(self, token: str | None, slug: str | None,
               visit_key: str | None) -> tuple[respondent.Link, dict[str, Any], str | None, bool]:
        with self._database.reader()() as session:
            link = respondent.resolve_link(session, token=token, slug=slug)
            draft = respondent.load_draft(session, link.invitation_id) if link.ok and link.personal else None
            answered = visit_key is not None and respondent.submitted_at(session, visit_key) is not None
        answers = respondent.restorable_answers(link.survey, draft.answers) if draft else {}
        return link, answers, draft.language if draft else None, answered

    async def show(self, request: Request) -> Response:
        """`GET /respond?t=<token>` or `?s=<slug>`: the first screen (a draft resumes where it stopped)."""
        limited = self._limited(request)
        if limited:
            return limited
        token, slug = _link_params(request)
        # the Streamlit page kept an open-link visit's key in the address (`&v=`): a reload of such a
        # page after submitting finds its response, as it did there, instead of starting another
        visit_key = None if token else respondent.visit_idempotency_key(request.query_params.get("v"))
        try:
            link, answers, draft_language, answered = await self._database.run(self._start, token, slug, visit_key)
        except SQLAlchemyError:
            log.exception("opening the respondent form failed")
            language = self._language(request, None)
            return self._message(language, respondent.phrase("unavailable", language), status=503)
        language = self._language(request, link, request.query_params.get("lang"), draft_language)
        if not link.ok:
            return self._link_problem(link, language)
        if answered:
            return RedirectResponse(f"{THANKS_PATH}?{urlencode({'s': slug, 'lang': language})}", status_code=303,
                                    headers=HEADERS)
        clean = check_answers(link.survey, answers)[0]
        visit = Visit(*_link_ids(token, slug), visit_key or respondent.new_idempotency_key(),
                      _resume_screen(link.survey, answers, clean), language, answers)
        return self.render_screen(link, visit)

    async def thanks(self, request: Request) -> Response:
        """`GET /respond/thanks?...`: where a stored submission lands (post, redirect, get)."""
        token, slug = _link_params(request)
        try:
            link = await self._database.run(self._resolve, token, slug)
        except SQLAlchemyError:
            log.exception("showing the thank-you page failed")
            language = self._language(request, None)
            return self._message(language, respondent.phrase("unavailable", language), status=503)
        language = self._language(request, link, request.query_params.get("lang"))
        if link.survey is None or (link.personal and link.status != respondent.ALREADY_ANSWERED):
            return self._link_problem(link, language) if not link.ok else \
                RedirectResponse(f"{PATH}?{urlencode({'t': token})}", status_code=303, headers=HEADERS)
        thank_you = respondent.localized(link.survey.thank_you, language, link.survey)
        again = {} if link.personal else {"again_url": f"{PATH}?{urlencode({'s': slug, 'lang': language})}",
                                          "again_text": respondent.phrase("answer_again", language)}
        return self._message(language, thank_you or respondent.phrase("thank_you", language), link.survey, **again)

    # -- POST ---------------------------------------------------------------------------------
    async def post(self, request: Request) -> Response:
        """`POST /respond?...`: a button of the form (next, back, a language, submit)."""
        limited = self._limited(request)
        if limited:
            return limited
        token, slug = _link_params(request)
        try:
            body = await read_limited_body(request, seconds=self._body_seconds)
        except ApiError as error:
            language = self._language(request, None)
            name = "too_large" if error.status == 413 else "unavailable"
            return self._message(language, respondent.phrase(name, language), status=error.status)
        try:
            fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError:  # more fields than any survey has
            language = self._language(request, None)
            return self._message(language, respondent.phrase("too_large", language), status=413)
        try:
            return await self._database.run(self._post_sync, request, token, slug, fields)
        except SQLAlchemyError:
            log.exception("a respondent form step failed")
            language = self._language(request, None)
            return self._message(language, respondent.phrase("unavailable", language), status=503)

    def _post_sync(self, request: Request, token: str | None, slug: str | None,
                   fields: list[tuple[str, str]]) -> Response:
        form = {}
        for name, value in fields:
            form.setdefault(name, value)
        link = self._resolve(token, slug)
        language = self._language(request, link, form.get("lang"))
        if not link.ok:
            return self._link_problem(link, language)
        survey = link.survey
        key = form.get("key", "")
        if respondent.visit_idempotency_key(key.removeprefix("web-")) != key:
            key = respondent.new_idempotency_key()
        count = len(screens.screens(survey))
        screen = int(form["screen"]) if form.get("screen", "").isdigit() else 0
        visit = Visit(*_link_ids(token, slug), key, min(screen, count - 1), language,
                      screens.answers_from_form(survey, fields))
        action = form.get("action", "submit")
        if not self.tokens.valid(form.get("csrf"), visit.link_id, key):
            return self.render_screen(link, visit, notice=respondent.phrase("form_expired", language), status=400)
        if action == "draft":  # the page's script, as the respondent answers (personal links only)
            self._save_draft(link, visit)
            return Response(status_code=204, headers=HEADERS)
        clean, problems = check_answers(survey, visit.answers)
        if action.startswith("lang:"):
            visit = replace(visit, language=self._language(request, link, action[5:]))
        elif action == "back":
            earlier = screens.previous_screen(survey, visit.screen, clean)
            visit = replace(visit, screen=visit.screen if earlier is None else earlier)
        elif action == "next":
            here = {q.key for q in screens.shown_questions(screens.screens(survey)[visit.screen], clean)}
            mine = {k: v for k, v in problems.items() if k in here}
            if mine:
                self._save_draft(link, visit)
                return self.render_screen(link, visit, mine, status=422)
            later = screens.next_screen(survey, visit.screen, clean)
            if later is not None:
                visit = replace(visit, screen=later)
            else:
                action = "submit"
        if action == "submit":
            return self._submit(link, visit, problems)
        self._save_draft(link, visit)
        return self.render_screen(link, visit)

    def _save_draft(self, link: respondent.Link, visit: Visit) -> None:
        if not link.personal:
            return
        try:
            with db.session_scope(self._database.engine()) as session:
                respondent.save_draft(session, link.invitation_id, visit.answers, visit.language)
        except SQLAlchemyError:  # a draft is a convenience: the answers are still in the page
            log.exception("saving a web form draft failed")

    def _submit(self, link: respondent.Link, visit: Visit, problems: dict[str, str]) -> Response:
        if problems:
            known = [k for k in problems if k.partition(".")[0] in {q.key for q in link.survey.questions}]
            first = min((screens.screen_of(link.survey, k) for k in known), default=visit.screen)
            self._save_draft(link, visit)
            return self.render_screen(link, replace(visit, screen=first), problems, status=422)
        try:
            with db.session_scope(self._database.engine()) as session:
                result = respondent.submit_form(session, link, visit.answers, visit.language, visit.idempotency_key)
        except InvalidAnswers as error:
            return self.render_screen(link, visit, error.problems, status=422)
        except SQLAlchemyError:
            log.exception("storing a web form submission failed")
            return self.render_screen(link, visit, notice=respondent.phrase("save_failed", visit.language),
                                      status=503)
        if result.status == respondent.ALREADY_ANSWERED and link.personal:
            return RedirectResponse(f"{PATH}?{visit.query}&{urlencode({'lang': visit.language})}",
                                    status_code=303, headers=HEADERS)
        return RedirectResponse(f"{THANKS_PATH}?{visit.query}&{urlencode({'lang': visit.language})}",
                                status_code=303, headers=HEADERS)

    async def script(self, request: Request) -> Response:
        """`GET /respond/form.js`: the optional script that keeps drafts as the respondent answers."""
        return Response(SCRIPT, media_type="text/javascript",
                        headers={**HEADERS, "Cache-Control": "public, max-age=3600"})

    def routes(self) -> list[Route]:
        return [Route(PATH, self.show, methods=["GET", "HEAD"], name="respond"),
                Route(SCRIPT_PATH, self.script, methods=["GET", "HEAD"], name="respond_script"),
                Route(PATH, self.post, methods=["POST"], name="respond_post"),
                Route(THANKS_PATH, self.thanks, methods=["GET", "HEAD"], name="respond_thanks")]


def _link_ids(token: str | None, slug: str | None) -> tuple[str, str]:
    if token:
        return f"t:{token}", urlencode({"t": token})
    return f"s:{slug or ''}", urlencode({"s": slug or ""})


def _resume_screen(survey: Survey, answers: dict[str, Any], clean: dict[str, Any]) -> int:
    """Where a visit starts: the first screen, or for a draft the first screen with a shown
    question still unanswered (the last shown screen when every one is answered)."""
    index: int | None = screens.first_screen(survey, clean)
    last = index
    all_screens = screens.screens(survey)
    while index is not None:
        if any(q.key not in clean and q.kind != "note" for q in screens.shown_questions(all_screens[index], clean)):
            return index
        last = index
        index = screens.next_screen(survey, index, clean)
    return last or 0


def middleware() -> list[Middleware]:
    """The form's middleware, for `st.App(middleware=...)`: old links sent on to the form."""
    return [Middleware(OldLinks)]


def routes(database_url: str | None = None) -> list[Route]:
    """The form's routes, for `st.App(routes=...)` beside the API's."""
    return RespondentForm(database_url).routes()
