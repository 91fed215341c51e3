"""The respondent form: `/?t=<token>` (personal invitation) or `/?s=<slug>` (open link), no login.

Widgets live outside `st.form` so display conditions apply as the respondent answers (each change
reruns the script). Answers are kept in session state beside the widgets, so a question hidden and
shown again keeps its answer, and for personal links they are saved server-side as a draft after
each change. The idempotency key is made once per visit: double clicks and reruns reuse it.
Everything shown is plain text: survey wording is escaped for Markdown, never rendered as HTML.
"""

from __future__ import annotations

import logging
from datetime import date, time
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from app_pages import common
from app_pages.text import plain
from survey import messages
from survey.collection import respondent
from survey.storage import db
from survey.collection.collect import InvalidAnswers, check_answers
from survey.definitions.definition import Question, Survey

log = logging.getLogger(__name__)

# Session-state keys of this page, in one place. All start with PREFIX so a new link clears them.
PREFIX = "respond."
LINK_KEY = PREFIX + "link"  # the (token, slug) the rest of this state belongs to
ANSWERS = PREFIX + "answers"  # answers so far, question key -> value (matrix: attribute -> value)
LANGUAGE = PREFIX + "language"  # the language widget
SAVED = PREFIX + "saved"  # (answers, language) as the draft holds them
IDEMPOTENCY_KEY = PREFIX + "idempotency_key"
SUBMIT_REQUESTED = PREFIX + "submit_requested"
CHECKING = PREFIX + "checking"  # after a refused submit, problems are shown and updated live
RESULT = PREFIX + "result"  # after a submit: what the thank-you screen shows
SUBMIT_BUTTON = PREFIX + "submit"
VISIT = "v"  # open links: the visit's key (its random part) in the address, so a reload keeps it

LANGUAGE_NAMES = messages.LANGUAGE_NAMES  # the designer's language choices use the same names


def widget_key(answer_key: str, prefix: str = PREFIX) -> str:
    """The widget key of an answer key (`recommend`, or `drivers.support` for a matrix row).

    Another `prefix` gives another set of widgets (the designer's preview), apart from the form's."""
    return f"{prefix}q.{answer_key}"


def query_param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def reset_if_link_changed(link_id: tuple[str | None, str | None]) -> None:
    if st.session_state.get(LINK_KEY) != link_id:
        for key in [k for k in st.session_state if str(k).startswith(PREFIX)]:
            del st.session_state[key]
        st.session_state[LINK_KEY] = link_id


def fallback_language(survey: Survey | None, link: respondent.Link | None = None) -> str:
    """The language before the respondent chooses: the invitation's, the browser's, the first."""
    languages = survey.languages if survey is not None else ("en", "fr")
    return ((link.language if link else None)
            or respondent.browser_language(getattr(st.context, "locale", None), languages)
            or languages[0])


def show_link_problem(link: respondent.Link) -> None:
    language = fallback_language(link.survey, link)
    if link.survey is not None:
        st.title(plain(respondent.localized(link.survey.title, language, link.survey)))
    when = link.responded_at or link.expires_at
    message = respondent.phrase(link.status, language, date=f"{when:%Y-%m-%d}" if when else "")
    if link.status == respondent.ALREADY_ANSWERED:
        st.success(message)
    else:
        st.info(message)


def start_visit(link: respondent.Link) -> None:
    """First run for this link in this browser session: restore the draft, choose the language."""
    if ANSWERS in st.session_state:
        return
    draft = None
    if link.personal:
        with db.session_scope(common.engine()) as session:
            draft = respondent.load_draft(session, link.invitation_id)
    answers = respondent.restorable_answers(link.survey, draft.answers) if draft else {}
    language = draft.language if draft and draft.language in link.survey.languages else None
    st.session_state[ANSWERS] = answers
    st.session_state[LANGUAGE] = language or fallback_language(link.survey, link)
    st.session_state[SAVED] = (answers, st.session_state[LANGUAGE])
    if link.personal:  # the invitation itself stops a second response
        st.session_state[IDEMPOTENCY_KEY] = respondent.new_idempotency_key()
        return
    key = respondent.visit_idempotency_key(query_param(VISIT)) or respondent.new_idempotency_key()
    st.session_state[IDEMPOTENCY_KEY] = key
    st.query_params[VISIT] = key.removeprefix("web-")


def answered_in_this_visit(link: respondent.Link) -> bool:
    """Open links: whether this visit (the key in the address) has already stored its response, when
    the page is reloaded after submitting; if so the thank-you screen, the one the submission
    earned, is shown instead."""
    if link.personal:
        return False
    with db.session_scope(common.engine()) as session:
        at = respondent.submitted_at(session, st.session_state[IDEMPOTENCY_KEY])
    if at is None:
        return False
    st.session_state[RESULT] = {"status": respondent.SUBMITTED, "language": st.session_state[LANGUAGE],
                                "responded_at": at}
    return True


def answer_again() -> None:
    """Open links: forget this visit, so that the next person on the device starts a new response."""
    st.query_params.pop(VISIT, None)
    for key in [k for k in st.session_state if str(k).startswith(PREFIX)]:
        del st.session_state[key]


def sync_answers(survey: Survey) -> dict[str, Any]:
    """Copy the widgets' current values into the kept answers (hidden widgets keep their last)."""
    answers = dict(st.session_state[ANSWERS])
    for question in survey.questions:
        if question.kind == "matrix":
            rows = dict(answers.get(question.key) or {})
            for attribute in question.attributes:
                key = widget_key(f"{question.key}.{attribute.value}")
                if key in st.session_state:
                    rows[attribute.value] = st.session_state[key]
            value: Any = {a: v for a, v in rows.items() if v is not None}
        else:
            key = widget_key(question.key)
            if key not in st.session_state:
                continue
            value = st.session_state[key]
            value = list(value) if isinstance(value, (list, tuple)) else value
            if isinstance(value, (date, time)):  # kept as text, as drafts and the rule book hold them
                value = value.isoformat()
        if value in (None, "", [], {}):
            answers.pop(question.key, None)
        else:
            answers[question.key] = value
    st.session_state[ANSWERS] = answers
    return answers


def request_submit() -> None:
    st.session_state[SUBMIT_REQUESTED] = True


def submit(link: respondent.Link, answers: dict[str, Any], language: str) -> dict[str, str]:
    """Validate and store; problems per question key when refused (nothing stored then)."""
    problems = check_answers(link.survey, answers)[1]
    if problems:
        return problems
    try:
        with db.session_scope(common.engine()) as session:
            result = respondent.submit_form(session, link, answers, language,
                                            st.session_state[IDEMPOTENCY_KEY])
    except InvalidAnswers as error:
        return error.problems
    except SQLAlchemyError:
        log.exception("storing a web form submission failed")
        st.error(respondent.phrase("save_failed", language))
        return {}
    st.session_state[RESULT] = {"status": result.status, "language": language,
                                "responded_at": result.responded_at}
    return {}


def show_result(survey: Survey | None) -> None:
    result = st.session_state[RESULT]
    language = result["language"]
    if survey is not None:
        st.title(plain(respondent.localized(survey.title, language, survey)))
    if result["status"] == respondent.ALREADY_ANSWERED and result["responded_at"] is not None:
        st.success(respondent.phrase("already_answered", language, date=f"{result['responded_at']:%Y-%m-%d}"))
    else:
        thank_you = respondent.localized(survey.thank_you, language, survey) if survey is not None else ""
        st.success(plain(thank_you) if thank_you else respondent.phrase("thank_you", language))
    if VISIT in st.query_params:  # an open link: several people may share a kiosk or a tablet
        st.button(respondent.phrase("answer_again", language), on_click=answer_again)


def label_for(question: Question, survey: Survey, language: str, answers: dict[str, Any] | None = None) -> str:
    label = plain(respondent.piped(respondent.localized(question.text, language, survey), survey, answers or {},
                                   language))
    return f"{label} {respondent.phrase('required', language)}" if question.required else label


def render_scale_row(label: str, question: Question, key: str, help_text: str | None) -> Any:
    return st.radio(label, list(question.scale.points), index=None, horizontal=True, key=key,
                    help=help_text)


def scale_ends(question: Question, survey: Survey, language: str) -> str | None:
    labels = question.scale.labels
    pair = labels.get(language) or labels.get(survey.languages[0])
    if not pair:
        return None
    return respondent.phrase("scale_ends", language, low_point=question.scale.min, low=plain(pair[0]),
                             high_point=question.scale.max, high=plain(pair[1]))


def render_question(question: Question, survey: Survey, language: str, answers: dict[str, Any],
                    prefix: str = PREFIX) -> None:
    """One question's widget(s), restored from `answers` when the widget has no state yet.

    Widget keys start with `prefix`; the designer's preview passes its own, so that it never touches
    a respondent's session keys."""
    label = label_for(question, survey, language, answers)
    help_text = plain(respondent.piped(respondent.localized(question.help, language, survey), survey, answers,
                                       language)) or None
    for answer_key in question.answer_keys:
        key = widget_key(answer_key, prefix)
        if key not in st.session_state:
            head, _, attribute = answer_key.partition(".")
            value = (answers.get(head) or {}).get(attribute) if attribute else answers.get(head)
            if value is not None:
                st.session_state[key] = _widget_value(question, value)
    key = widget_key(question.key, prefix)
    if question.kind == "matrix":
        st.markdown(f"**{label}**")  # the rows' common question; each row is a labelled radio group
        if help_text:
            st.caption(help_text)
        ends = scale_ends(question, survey, language)
        if ends:
            st.caption(ends)
        for attribute in question.attributes:
            row_label = plain(respondent.localized(attribute.label, language, survey))
            render_scale_row(row_label, question, widget_key(f"{question.key}.{attribute.value}", prefix), None)
    elif question.scale is not None:  # nps, csat, ces, rating, index_item
        render_scale_row(label, question, key, help_text)
        ends = scale_ends(question, survey, language)
        if ends:
            st.caption(ends)
    elif question.kind in ("single_choice", "multi_choice"):
        names = {c.value: plain(respondent.localized(c.label, language, survey)) for c in question.choices}
        if question.kind == "single_choice":
            st.radio(label, list(names), index=None, format_func=names.get, key=key, help=help_text)
        else:
            st.multiselect(label, list(names), format_func=names.get, key=key, help=help_text,
                           placeholder=respondent.phrase("choose", language))
    elif question.kind == "note":
        st.markdown(label)
        if help_text:
            st.caption(help_text)
    elif question.kind in ("integer", "decimal"):
        whole = question.kind == "integer"
        st.number_input(label, value=None, step=1 if whole else None, format="%d" if whole else None,
                        key=key, help=help_text)
    elif question.kind == "date":
        st.date_input(label, value=None, min_value=date(1900, 1, 1), max_value=date(2100, 12, 31), key=key,
                      help=help_text)
    elif question.kind == "time":
        st.time_input(label, value=None, key=key, help=help_text)
    else:  # text
        st.text_area(label, max_chars=question.max_length, key=key, help=help_text)
        if question.max_length:
            st.caption(respondent.phrase("text_limit", language, limit=question.max_length))


def _widget_value(question: Question, value: Any) -> Any:
    """A kept answer as its widget holds it: dates and times are kept as text, widgets want objects."""
    try:
        if question.kind == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        if question.kind == "time" and isinstance(value, str):
            return time.fromisoformat(value)
    except ValueError:
        return None
    return value


def save_draft_if_changed(link: respondent.Link, answers: dict[str, Any], language: str) -> None:
    if not link.personal or st.session_state.get(SAVED) == (answers, language):
        return
    try:
        with db.session_scope(common.engine()) as session:
            respondent.save_draft(session, link.invitation_id, answers, language)
    except SQLAlchemyError:  # a draft is a convenience: the form goes on, the next change retries
        log.exception("saving a web form draft failed")
        return
    st.session_state[SAVED] = (answers, language)


def render_form(link: respondent.Link) -> None:
    survey = link.survey
    visit_begins = ANSWERS not in st.session_state
    start_visit(link)
    if visit_begins and answered_in_this_visit(link):  # a reload; later reruns are this visit's own
        show_result(survey)
        return
    answers = sync_answers(survey)
    language = st.session_state[LANGUAGE]

    problems: dict[str, str] = {}
    if st.session_state.pop(SUBMIT_REQUESTED, False):
        problems = submit(link, answers, language)
        if RESULT in st.session_state:
            show_result(survey)
            return
        st.session_state[CHECKING] = bool(problems)
    elif st.session_state.get(CHECKING):
        problems = check_answers(survey, answers)[1]

    if len(survey.languages) > 1:
        st.selectbox(respondent.phrase("language", language), list(survey.languages), key=LANGUAGE,
                     format_func=lambda code: LANGUAGE_NAMES.get(code, code))
        language = st.session_state[LANGUAGE]
    st.title(plain(respondent.localized(survey.title, language, survey)))
    intro = respondent.localized(survey.intro, language, survey)
    if intro:
        st.markdown(plain(intro))
    if link.personal:
        st.caption(respondent.phrase("draft_notice", language))

    shown: dict[str, Any] = {}  # conditions see only answers to shown questions, as check_answers does
    for question in survey.questions:
        if not question.is_shown(shown):
            continue
        render_question(question, survey, language, answers)
        if question.key in answers:
            shown[question.key] = answers[question.key]
        if question.key in problems:
            st.error(respondent.problem_text(problems[question.key], language))

    st.button(respondent.phrase("submit", language), key=SUBMIT_BUTTON, type="primary", on_click=request_submit)
    if problems:
        st.error(respondent.phrase("fix_problems", language))
    save_draft_if_changed(link, answers, language)


def main() -> None:
    token, slug = query_param("t"), query_param("s")
    if token:
        slug = None
    reset_if_link_changed((token, slug))
    try:
        with db.session_scope(common.engine()) as session:
            link = respondent.resolve_link(session, token=token, slug=slug)
    except SQLAlchemyError:
        log.exception("resolving a respondent link failed")
        st.info(respondent.phrase("unavailable", fallback_language(None)))
        return
    if RESULT in st.session_state:  # submitted in this visit: the link now reads "already answered"
        show_result(link.survey)
        return
    if not link.ok:
        show_link_problem(link)
        return
    try:
        render_form(link)
    except SQLAlchemyError:  # a draft could not be read: say so rather than show a traceback
        log.exception("showing the web form failed")
        st.info(respondent.phrase("unavailable", fallback_language(link.survey, link)))


if __name__ == "__main__":  # run as a page (Streamlit runs pages as __main__); importable for its renderer
    st.set_page_config(layout="centered", initial_sidebar_state="collapsed")
    main()
