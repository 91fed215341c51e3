"""Designer: build, preview, translate and publish surveys in the browser (admins only).

The working draft is a frozen `Survey` kept in this browser session (`DRAFT`) until it is
published; every edit replaces it with what a `survey.definitions.editing` helper returns. Drafts do not
persist across sessions on purpose: an unpublished draft is one person's work in progress, and
the YAML download (the format to keep surveys in git) is offered on the page, which says so.
Published surveys are reopened from their newest version.

Widgets whose defaults come from the draft carry the draft's revision in their key (`REVISION`,
bumped whenever the draft changes), so that after a change they show the new draft, not stale input.
Everything from outside (survey wording, uploaded files) is shown as plain text.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st
from sqlalchemy import select

from app_pages import common
from app_pages.respond import LANGUAGE_NAMES, render_question, widget_key
from app_pages.text import plain
from survey import settings
from survey.people import access, audit
from survey.storage import db, models
from survey.definitions.changes import compare, trend_notes
from survey.definitions.definition import (
    CHOICE_KINDS, DEFAULT_SCALES, FIXED_SCALES, KEY_PATTERN, KINDS, OPERATORS, RATED_KINDS, ROLES, Choice, Condition, DefinitionError, Question,
    Scale, Survey, dumps_yaml, validate,
)
from survey.definitions.definition_files import read_upload_with_proposals
from survey.definitions.editing import (
    add_question, condition_values, delete_question, earlier_questions, missing_translations, move_question,
    new_question, replace_question, set_languages, set_text, text_items,
)
from survey.collection.invitations import CHANNELS, create_invitations
from survey.definitions.publishing import latest_version, publish, response_count, set_status, version_definition
from survey.definitions.templates import templates
from survey.definitions.wording import check_wording
from survey.definitions.xlsform_export import xlsform_bytes

# Session-state keys of this page, in one place.
PREFIX = "designer."
DRAFT = PREFIX + "draft"  # the working Survey
REVISION = PREFIX + "revision"  # bumped at each change of the draft (keys of widgets showing it)
EDITING = PREFIX + "editing"  # key of the question being edited, or None
UPLOADED = PREFIX + "uploaded"  # file_id of the last upload read (an upload is read once)
PROPOSALS = PREFIX + "proposals"  # (name, bytes, proposals) of the last upload that proposed metrics
NOTICE = PREFIX + "notice"  # (kind, text) to show once after a change
PREVIEW_PREFIX = PREFIX + "preview."  # preview widgets, apart from the respondent form's "respond." keys
ALWAYS = "(always shown)"
NO_ROLE = "(none)"


def draft() -> Survey | None:
    return st.session_state.get(DRAFT)


def revision() -> int:
    return st.session_state.get(REVISION, 0)


def wkey(name: str) -> str:
    """A widget key that starts afresh with each revision of the draft."""
    return f"{PREFIX}{revision()}.{name}"


def set_draft(survey: Survey, notice: str | None = None) -> None:
    st.session_state[DRAFT] = survey
    st.session_state[REVISION] = revision() + 1
    if notice:
        st.session_state[NOTICE] = ("success", notice)


def first_text(texts, survey: Survey) -> str:
    return texts.get(survey.languages[0], "") or next(iter(texts.values()), "")


# --- starting a draft -----------------------------------------------------------------------------


def start_section(current: Survey | None) -> None:
    with st.expander("Start a draft", expanded=current is None):
        st.caption("The draft lives in this browser session until you publish it. Download its YAML "
                   "(Files tab) to keep it or to version it in git.")
        choices = {t.name: t for t in templates()}
        chosen = st.selectbox("Template", list(choices), key=PREFIX + "template",
                              format_func=lambda name: choices[name].title)
        if st.button("Start from this template", key=PREFIX + "use_template"):
            set_draft(choices[chosen].survey, f"Started from the template {choices[chosen].title!r}.")
        left, right = st.columns(2)
        slug = left.text_input("Slug of a new survey", key=PREFIX + "new_slug", placeholder="e.g. store-visit")
        title = right.text_input("Its title", key=PREFIX + "new_title")
        if st.button("Start an empty survey", key=PREFIX + "use_scratch"):
            set_draft(Survey(slug=slug.strip(), title={"en": title.strip() or slug.strip()}, questions=()),
                      "Started an empty survey: add its questions below.")
        published = [s.slug for s in common.surveys()]
        if published:
            slug = st.selectbox("Published survey", published, key=PREFIX + "published")
            if st.button("Edit its newest version", key=PREFIX + "use_published"):
                set_draft(common.latest_definition(slug), f"Editing the newest version of {slug!r}.")
        upload = st.file_uploader("Or upload a definition (YAML or XLSForm)",
                                  type=["yaml", "yml", "xlsx", "xls", "csv", "md"], key=PREFIX + "upload")
        if upload is not None and st.session_state.get(UPLOADED) != upload.file_id:
            try:
                survey, warnings, proposals = read_upload_with_proposals(upload.name, upload.getvalue())
            except DefinitionError as error:
                st.error(f"{plain(upload.name)} was not loaded; the draft is unchanged. Problems:")
                for problem in error.problems:
                    st.error(plain(problem))
            else:
                st.session_state[UPLOADED] = upload.file_id
                set_draft(survey, f"Loaded {upload.name}.")
                proposed = {p.message for p in proposals}
                for warning in warnings:
                    if warning not in proposed:  # proposals are shown below, each with its box
                        st.warning(plain(warning))
                st.session_state[PROPOSALS] = (upload.name, upload.getvalue(), proposals) if proposals else None


def proposals_section() -> None:
    """The metrics the last XLSForm upload proposes, a box each; declared only when a person ticks them."""
    pending = st.session_state.get(PROPOSALS)
    if not pending:
        return
    name, data, proposals = pending
    st.markdown("**Proposed metrics** (a metric is declared, never guessed: tick those that are right)")
    ticked = [p.key for p in proposals if st.checkbox(plain(p.message), key=f"{PREFIX}proposal.{p.key}")]
    if st.button("Declare the ticked metrics", key=PREFIX + "accept_proposals", disabled=not ticked):
        survey, _, _ = read_upload_with_proposals(name, data, accept_proposed_metrics=ticked)
        st.session_state[PROPOSALS] = None
        set_draft(survey, f"Declared {len(ticked)} proposed metric(s): {', '.join(ticked)}.")
        st.rerun()


# --- questions ------------------------------------------------------------------------------------


def settings_section(survey: Survey) -> None:
    with st.expander("Survey settings"):
        slug = st.text_input("Slug", survey.slug, key=wkey("slug"))
        languages = st.text_input("Languages (codes, the first is the default)", ", ".join(survey.languages),
                                  key=wkey("languages"))
        touchpoint = st.text_input("Touchpoint", survey.touchpoint, key=wkey("touchpoint"))
        anonymous = st.checkbox("Anonymous (an open link, no personal invitations, nothing links answers to people)",
                                survey.anonymous, key=wkey("anonymous"))
        if st.button("Apply settings", key=wkey("apply_settings")):
            codes = tuple(dict.fromkeys(code.strip() for code in languages.split(",") if code.strip()))
            updated = set_languages(survey, codes or survey.languages)
            set_draft(replace(updated, slug=slug.strip(), touchpoint=touchpoint.strip(), anonymous=anonymous),
                      "Survey settings applied.")
            st.rerun()
        st.caption("Title, intro and thank-you texts are edited on the Translations tab.")


def parse_items(text: str, old: tuple[Choice, ...], language: str) -> tuple[Choice, ...]:
    """Lines `value: label` -> choices; labels in other languages are kept for values kept."""
    previous = {item.value: item for item in old}
    items = []
    for line in text.splitlines():
        value, _, label = line.partition(":")
        value, label = value.strip(), label.strip() or value.strip()
        if value:
            labels = dict(previous[value].label) if value in previous else {}
            labels[language] = label
            items.append(Choice(value, labels))
    return tuple(items)


def items_text(items: tuple[Choice, ...], language: str) -> str:
    return "\n".join(f"{item.value}: {item.label.get(language, '')}" for item in items)


def condition_picker(survey: Survey, key: str | None, current: Condition | None) -> Condition | None:
    """A simple condition picked from pick-lists, or any expression of the condition language typed."""
    simple = current is None or current.op is not None
    mode = st.radio("Display condition", ["pick from lists", "type an expression"], index=0 if simple else 1,
                    horizontal=True, key=wkey(f"cond_mode.{key}"))
    if mode == "type an expression":
        return condition_expression(key, current)
    return condition_lists(survey, key, current if simple else None)


def condition_expression(key: str | None, current: Condition | None) -> Condition | None:
    """An expression such as `${nps} <= 6 and not(selected(${reasons}, 'price'))`; blank: always shown."""
    text = st.text_input("Show only when", str(current) if current is not None else "", key=wkey(f"cond_text.{key}"),
                         help="XLSForm's relevant syntax: comparisons, and, or, not(), selected(), "
                              "count-selected(), string-length(), ${q} != '' (answered), arithmetic")
    if not text.strip():
        return None
    try:
        return Condition.parse(text)
    except ValueError as error:
        st.error(plain(str(error)))
        return current


def condition_lists(survey: Survey, key: str | None, current: Condition | None) -> Condition | None:
    """Question, operator and value picked from earlier questions (never typed)."""
    earlier = {q.key: q for q in earlier_questions(survey, key)}
    options = [ALWAYS, *earlier]
    start = options.index(current.question) if current is not None and current.question in earlier else 0
    left, middle, right = st.columns(3)
    target = left.selectbox("Show only when", options, index=start, key=wkey(f"cond_q.{key}"),
                            format_func=lambda k: k if k == ALWAYS else
                            f"{k}: {first_text(earlier[k].text, survey)[:60]}")
    if target == ALWAYS:
        return None
    question = earlier[target]
    operators = list(OPERATORS) if question.scale is not None else ["==", "!="]
    op = middle.selectbox("is", operators, key=wkey(f"cond_op.{key}.{target}"),
                          index=operators.index(current.op) if current and current.op in operators else 0)
    values = condition_values(question)
    wanted = current.value if current is not None and current.question == target else None
    index = next((i for i, v in enumerate(values) if str(v) == str(wanted)), 0)
    value = right.selectbox("value", values, index=index, key=wkey(f"cond_v.{key}.{target}"))
    return Condition(target, op, value)


def edit_question(survey: Survey, question: Question) -> None:
    """The edit panel of one question; Save replaces it in the draft."""
    languages = survey.languages
    first = languages[0]
    k = question.key
    with st.container(border=True):
        st.markdown(f"**Editing {plain(k)}**")
        left, right = st.columns(2)
        new_key = left.text_input("Key", k, key=wkey(f"key.{k}"))
        kind = right.selectbox("Kind", KINDS, index=KINDS.index(question.kind) if question.kind in KINDS else 0,
                               key=wkey(f"kind.{k}"))
        columns = st.columns(len(languages))
        texts = {lang: columns[i].text_area(f"Text [{lang}]", question.text.get(lang, ""), key=wkey(f"text.{k}.{lang}"))
                 for i, lang in enumerate(languages)}
        helps = {lang: columns[i].text_input(f"Help [{lang}]", question.help.get(lang, ""), key=wkey(f"help.{k}.{lang}"))
                 for i, lang in enumerate(languages)}
        left, right = st.columns(2)
        required = left.checkbox("Required", question.required, key=wkey(f"required.{k}"))
        roles = [NO_ROLE, *ROLES]
        role = right.selectbox("Role in driver analysis", roles, index=roles.index(question.role or NO_ROLE),
                               key=wkey(f"role.{k}"))
        scale = question.scale
        if kind in RATED_KINDS:
            low, high = (scale.min, scale.max) if scale is not None else DEFAULT_SCALES.get(kind, (1, 5))
            if kind in FIXED_SCALES:
                low, high = FIXED_SCALES[kind]
                st.caption(f"A {kind} question is always on the {low}-{high} scale.")
            else:
                left, right = st.columns(2)
                low = int(left.number_input("Scale from", value=low, step=1, key=wkey(f"min.{k}")))
                high = int(right.number_input("to", value=high, step=1, key=wkey(f"max.{k}")))
            labels = dict(scale.labels) if scale is not None else {}
            columns = st.columns(len(languages))
            for i, lang in enumerate(languages):
                pair = labels.get(lang, ("", ""))
                low_label = columns[i].text_input(f"Low end label [{lang}]", pair[0], key=wkey(f"low.{k}.{lang}"))
                high_label = columns[i].text_input(f"High end label [{lang}]", pair[1], key=wkey(f"high.{k}.{lang}"))
                if low_label.strip() or high_label.strip():
                    labels[lang] = (low_label.strip(), high_label.strip())
                else:
                    labels.pop(lang, None)
            scale = Scale(low, high, labels)
        else:
            scale = None
        choices, attributes = question.choices, question.attributes
        if kind in CHOICE_KINDS:
            choices = parse_items(st.text_area(f"Choices, one per line as value: label [{first}]",
                                               items_text(choices, first), key=wkey(f"choices.{k}")), choices, first)
        if kind == "matrix":
            attributes = parse_items(st.text_area(f"Rows, one per line as value: label [{first}]",
                                                  items_text(attributes, first), key=wkey(f"rows.{k}")),
                                     attributes, first)
        max_length = question.max_length
        if kind == "text":
            max_length = int(st.number_input("Longest answer (characters)", min_value=1,
                                             value=question.max_length or 2000, key=wkey(f"limit.{k}")))
        show_if = condition_picker(survey, k, question.show_if)
        left, right = st.columns(2)
        if left.button("Save question", key=wkey(f"save.{k}"), type="primary"):
            clash = key_problem(survey, new_key.strip(), keeping=k)
            if clash:
                st.error(clash)
                return
            updated = Question(
                key=new_key.strip(), kind=kind, text={lang: t for lang, t in texts.items() if t.strip()},
                required=required, help={lang: h for lang, h in helps.items() if h.strip()}, show_if=show_if,
                scale=scale, choices=choices if kind in CHOICE_KINDS else (),
                attributes=attributes if kind == "matrix" else (),
                max_length=max_length if kind == "text" else None, role=None if role == NO_ROLE else role)
            st.session_state[EDITING] = None
            set_draft(replace_question(survey, k, updated), f"Question {updated.key!r} saved.")
            st.rerun()
        if right.button("Cancel", key=wkey(f"cancel.{k}")):
            st.session_state[EDITING] = None
            st.rerun()


def question_row(survey: Survey, index: int, question: Question, warnings: list) -> None:
    with st.container(border=True):
        text_column, buttons = st.columns([4, 2])
        flags = " · ".join(part for part in (
            question.kind, "required" if question.required else "", f"role {question.role}" if question.role else "",
            f"{question.scale.min}-{question.scale.max}" if question.scale else "",
            f"shown when {question.show_if}" if question.show_if else "") if part)
        text_column.markdown(f"**{index + 1}. {plain(question.key)}**: {plain(first_text(question.text, survey))}")
        text_column.caption(plain(flags))
        for warning in warnings:
            text_column.warning(plain(warning.message))
        up, down, edit, remove = buttons.columns(4)
        if up.button("↑", key=wkey(f"up.{question.key}"), help="Move up", disabled=index == 0):
            set_draft(move_question(survey, question.key, -1))
            st.rerun()
        if down.button("↓", key=wkey(f"down.{question.key}"), help="Move down",
                       disabled=index == len(survey.questions) - 1):
            set_draft(move_question(survey, question.key, 1))
            st.rerun()
        if edit.button("✎", key=wkey(f"edit.{question.key}"), help="Edit"):
            st.session_state[EDITING] = question.key
            st.rerun()
        if remove.button("✕", key=wkey(f"delete.{question.key}"), help="Delete"):
            st.session_state[EDITING] = None
            set_draft(delete_question(survey, question.key), f"Question {question.key!r} deleted.")
            st.rerun()
    if st.session_state.get(EDITING) == question.key:
        edit_question(survey, question)


def key_problem(survey: Survey, key: str, keeping: str | None = None) -> str | None:
    """Why `key` cannot name a question (empty, malformed, or another question's), or None.
    `keeping` is the key of the question being edited, which may keep its own key."""
    if not key:
        return "Key: give the question a key."
    if not KEY_PATTERN.fullmatch(key):
        return f"Key: {plain(key)} must start with a letter and hold only letters, digits and _."
    if key != keeping and any(q.key == key for q in survey.questions):
        return f"Key: there is already a question {plain(key)}."
    return None


def add_section(survey: Survey) -> None:
    st.subheader("Add a question")
    left, middle = st.columns(2)
    kind = left.selectbox("Kind", KINDS, key=wkey("add_kind"))
    key = middle.text_input("Key (letters, digits, _)", key=wkey("add_key"))
    text = st.text_input(f"Text [{survey.languages[0]}]", key=wkey("add_text"))
    st.caption("Scale, choices, translations and a display condition are set by editing the question once added.")
    if st.button("Add question", key=PREFIX + "add"):
        if clash := key_problem(survey, key.strip()):
            st.error(clash)
        else:
            set_draft(add_question(survey, new_question(kind, key.strip(), text.strip(), survey.languages)),
                      f"Question {key.strip()!r} added.")
            st.rerun()


def questions_tab(survey: Survey) -> None:
    settings_section(survey)
    warnings = check_wording(survey)
    if not survey.questions:
        st.info("The survey has no question yet.")
    for index, question in enumerate(survey.questions):
        question_row(survey, index, question, warnings.get(question.key, []))
    add_section(survey)


# --- translations and preview ---------------------------------------------------------------------


def translations_tab(survey: Survey) -> None:
    missing = missing_translations(survey)
    if missing:
        st.warning(f"{len(missing)} text(s) still need a translation:")
        st.dataframe(pd.DataFrame(missing, columns=["text", "language"]), hide_index=True)
    else:
        st.success("Every text is there in every language.")
    if len(survey.languages) < 2:
        st.caption("Add a language in Survey settings (Questions tab) to translate.")
    others = list(survey.languages[1:]) or list(survey.languages)
    language = st.selectbox("Translate into", others, key=PREFIX + "translate_to",
                            format_func=lambda c: LANGUAGE_NAMES.get(c, c))
    first = survey.languages[0]
    items = text_items(survey)
    if not any(item.path == ("intro",) for item in items):
        items.insert(1, type(items[0])(("intro",), "survey intro", {}))
    if not any(item.path == ("thank_you",) for item in items):
        items.insert(2, type(items[0])(("thank_you",), "survey thank you", {}))
    with st.form(wkey(f"translations.{language}")):
        entered = {}
        for index, item in enumerate(items):
            source, target = st.columns(2)
            source.text(f"{item.label} [{first}]: {item.texts.get(first, '')}")
            entered[item.path] = target.text_input(f"{item.label} [{language}]", item.texts.get(language, ""),
                                                   key=wkey(f"tr.{language}.{index}"))
        if st.form_submit_button("Save translations"):
            updated = survey
            for item in items:
                if entered[item.path] != item.texts.get(language, ""):
                    updated = set_text(updated, item.path, language, entered[item.path])
            set_draft(updated, "Translations saved.")
            st.rerun()


def preview_answers(survey: Survey) -> dict:
    answers: dict = {}
    for question in survey.questions:
        value = st.session_state.get(widget_key(question.key, PREVIEW_PREFIX))
        if value not in (None, "", []):
            answers[question.key] = value
    return answers


def preview_tab(survey: Survey) -> None:
    language = st.selectbox("Language", list(survey.languages), key=PREFIX + "preview_language",
                            format_func=lambda c: LANGUAGE_NAMES.get(c, c))
    st.caption("What respondents see (the respondent form's own renderer); display conditions apply "
               "as you answer here. Nothing is stored.")
    st.markdown(f"### {plain(first_text(survey.title, survey) if language not in survey.title else survey.title[language])}")
    answers = preview_answers(survey)
    shown: dict = {}
    for question in survey.questions:
        if not question.is_shown(shown):
            continue
        try:
            render_question(question, survey, language, answers, prefix=PREVIEW_PREFIX)
        except Exception as error:  # noqa: BLE001 - an unfinished question (e.g. min above max) must not stop the page
            st.warning(f"{plain(question.key)} cannot be shown yet: {plain(str(error))}")
        if question.key in answers:
            shown[question.key] = answers[question.key]


# --- publishing, status, links and invitations ----------------------------------------------------


def problems_of(survey: Survey) -> list[str]:
    problems = validate(survey, survey.slug or "draft")
    if not survey.questions:
        problems.append("the survey needs at least one question")
    return problems


def published_state(slug: str) -> tuple[int | None, Survey | None, int, str | None]:
    """(newest version number, its definition, responses, status) of the published survey, if any."""
    with db.session_scope(common.engine()) as session:
        version = latest_version(session, slug)
        if version is None:
            return None, None, 0, None
        stored = session.get(models.Survey, version.survey_id)
        return version.number, version_definition(version), response_count(session, slug), stored.status


def publish_draft(survey: Survey, actor) -> int:
    """Publish the draft; a new version is recorded in the audit log (same transaction)."""
    with db.session_scope(common.engine()) as session:
        before = latest_version(session, survey.slug)
        version = publish(session, survey)
        if before is None or version.number != before.number:
            audit.record(session, actor, "survey.publish", f"survey {survey.slug} version {version.number}")
        number = version.number
    common.forget_surveys()
    return number


def publish_tab(survey: Survey, actor) -> None:
    problems = problems_of(survey)
    number, published, responses, status = published_state(survey.slug) if survey.slug else (None, None, 0, None)
    if number is None:
        st.write("Not published yet: publishing creates version 1.")
    else:
        st.write(f"Published: version {number}, {responses} response{'s' if responses != 1 else ''}, {status}.")
    if problems:
        st.error("These problems block publishing:")
        for problem in problems:
            st.error(plain(problem))
    changes = compare(published, survey) if published is not None else []
    confirmed = True
    if published is not None and not changes:
        st.info(f"The draft is the same as version {number}: publishing changes nothing.")
    elif changes:
        st.markdown(f"**What changes from version {number}**")
        for change in changes:
            st.text(f"- {change.description}")
        notes = trend_notes(changes)
        if notes:
            st.markdown("**What that means for trends**")
            for note in notes:
                st.text(f"- {note}")
        if responses:
            st.warning(f"Publishing creates version {number + 1}. The {responses} responses to earlier versions "
                       "stay with the version they answered.")
            confirmed = st.checkbox("I have read what changes", key=wkey("confirm"))
    if st.button("Publish", key=PREFIX + "publish", type="primary", disabled=bool(problems) or not confirmed):
        try:
            published_number = publish_draft(survey, actor)
        except DefinitionError as error:
            for problem in error.problems:
                st.error(plain(problem))
        else:
            st.session_state[NOTICE] = ("success", f"Published {survey.slug} as version {published_number}.")
            st.rerun()
    if number is not None:
        status_section(survey, actor, status)
        link_section(survey, published)


def status_section(survey: Survey, actor, status: str) -> None:
    st.subheader("Open or close")
    target = "closed" if status == "open" else "open"
    label = "Close the survey (no more answers)" if status == "open" else "Open the survey"
    if st.button(label, key=PREFIX + "status"):
        with db.session_scope(common.engine()) as session:
            set_status(session, survey.slug, target)
            audit.record(session, actor, f"survey.{'close' if target == 'closed' else 'open'}", f"survey {survey.slug}")
        common.forget_surveys()
        st.session_state[NOTICE] = ("success", f"{survey.slug} is now {target}.")
        st.rerun()


def segment_values(column) -> list[str]:
    with db.session_scope(common.engine()) as session:
        return sorted(v for v in session.scalars(select(column).distinct()) if v)


def link_section(survey: Survey, published: Survey) -> None:
    if published.anonymous:
        st.subheader("Open link")
        st.caption("Anyone with this link can answer (copy it with the button at its right).")
        st.code(f"{settings.public_url().rstrip('/')}/?s={survey.slug}", language=None)
        return
    st.subheader("Personal invitations")
    left, right, channel_column = st.columns(3)
    regions = left.multiselect("Region", segment_values(models.Customer.region), key=PREFIX + "inv_region",
                               placeholder="All regions")
    tiers = right.multiselect("Tier", segment_values(models.Customer.tier), key=PREFIX + "inv_tier",
                              placeholder="All tiers")
    channel = channel_column.selectbox("Channel", CHANNELS, key=PREFIX + "inv_channel")
    st.caption("Customers without consent, or invited to this survey within the quiet period, are skipped. "
               "Send email invitations with `python -m survey invitations send`; export links with "
               "`python -m survey invitations export`.")
    if st.button("Create invitations", key=PREFIX + "invite"):
        filters = {name: values for name, values in (("region", regions), ("tier", tiers)) if values}
        try:
            with db.session_scope(common.engine()) as session:
                batch = create_invitations(session, survey.slug, filters, channel=channel)
        except (LookupError, ValueError) as error:
            st.error(plain(str(error)))
        else:
            st.success(f"{batch.created} invitation(s) created; skipped: {batch.skipped_no_consent} without consent, "
                       f"{batch.skipped_quiet_period} in the quiet period, {batch.skipped_no_email} without email.")


# --- files ----------------------------------------------------------------------------------------


def files_tab(survey: Survey) -> None:
    st.caption("The YAML and XLSForm files are the way to keep surveys in git; upload them again under "
               "'Start a draft'.")
    name = survey.slug or "survey"
    st.download_button("Download YAML", dumps_yaml(survey), file_name=f"{name}.yaml", mime="application/yaml",
                       key=PREFIX + "download_yaml")
    try:
        workbook = xlsform_bytes(survey)
    except Exception as error:  # noqa: BLE001 - an unfinished draft may not export; say why
        st.warning(f"The XLSForm cannot be written yet: {plain(str(error))}")
    else:
        st.download_button("Download XLSForm", workbook, file_name=f"{name}.xlsx", key=PREFIX + "download_xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def main(actor) -> None:
    st.title("Designer")
    start_section(draft())
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        getattr(st, notice[0])(plain(notice[1]))
    proposals_section()  # outside the start section, which closes once a draft is loaded
    survey = draft()
    if survey is None:
        st.info("Start from a template, from scratch, from a published survey or from a file.")
        return
    st.header(plain(f"{first_text(survey.title, survey) or '(untitled)'} ({survey.slug or 'no slug'})"))
    questions, translations, preview, publishing, files = st.tabs(
        ["Questions", "Translations", "Preview", "Publish", "Files"])
    with questions:
        questions_tab(survey)
    with translations:
        translations_tab(survey)
    with preview:
        preview_tab(survey)
    with publishing:
        publish_tab(survey, actor)
    with files:
        files_tab(survey)


actor = common.page_actor(access.EDIT_SURVEYS)
main(actor)
