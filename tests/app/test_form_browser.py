"""The respondent form in a real Chromium (Debian's, through Playwright) against `streamlit run app.py`:
one row of scale buttons on a phone, a condition that skips a screen, keyboard-only completion,
axe-core on every screen of each sample survey at 390 and 1280 px, and no English word on any
screen of a French or a German survey. One server for the whole module.

Screenshots of every screen land under pytest's temporary folder.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey import demo, messages
from survey.definitions.definition import DEFAULT_END_LABELS, from_dict, loads_yaml
from survey.definitions.publishing import publish
from survey.definitions.xlsform import read_xlsform
from survey.storage import db, models
from tests.app.test_browser import _require_browser, chromium, running_app
from tests.conftest import SAMPLE_SURVEYS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
FLOW = """
slug: flow
title: Quick feedback
anonymous: true
layout: one_per_screen
questions:
  - {key: recommend, kind: nps, required: true, text: "How likely are you to recommend us?"}
  - {key: why, kind: text, text: "What should we fix first?", show_if: recommend <= 6}
  - key: channel
    kind: single_choice
    required: true
    text: How did you reach us?
    choices: [{value: phone, label: Phone}, {value: web, label: Web}]
"""
# The same survey in French and in German: every kind of question, a condition, no English anywhere.
WORDING = {
    "fr": {"title": "Votre avis compte", "intro": "Deux minutes suffisent.", "nps": "Quelle est la probabilité que "
           "vous nous recommandiez ?", "ends": ["Pas du tout probable", "Très probable"],
           "choice": "Comment nous avez-vous contactés ?", "choices": ["Téléphone", "Courriel"],
           "multi": "Qu'avez-vous apprécié ?", "multis": ["Rapidité", "Amabilité"],
           "matrix": "Notez chacun de ces points", "rows": ["Accueil", "Délai"], "matrix_ends": ["Mauvais", "Parfait"],
           "number": "Combien de fois êtes-vous venu cette année ?", "why": "Que devrions-nous corriger ?",
           "comment": "Un dernier mot ?"},
    "de": {"title": "Ihre Meinung zählt", "intro": "Zwei Minuten genügen.", "nps": "Wie wahrscheinlich ist es, "
           "dass Sie uns weiterempfehlen?", "ends": ["Sehr unwahrscheinlich", "Sehr wahrscheinlich"],
           "choice": "Wie haben Sie uns kontaktiert?", "choices": ["Telefon", "E-Mail"],
           "multi": "Was hat Ihnen gefallen?", "multis": ["Schnelligkeit", "Freundlichkeit"],
           "matrix": "Bewerten Sie jeden dieser Punkte", "rows": ["Empfang", "Wartezeit"],
           "matrix_ends": ["Schlecht", "Perfekt"], "number": "Wie oft waren Sie dieses Jahr bei uns?",
           "why": "Was sollten wir verbessern?", "comment": "Noch ein letztes Wort?"},
}


def translated_survey(language: str):
    w = WORDING[language]
    return from_dict({
        "slug": f"avis-{language}", "title": w["title"], "intro": w["intro"], "languages": [language],
        "anonymous": True, "layout": "one_per_screen",
        "questions": [
            {"key": "recommend", "kind": "nps", "required": True, "text": w["nps"],
             "scale": {"labels": {language: w["ends"]}}},
            {"key": "why", "kind": "text", "text": w["why"], "show_if": "recommend <= 6", "max_length": 500},
            {"key": "contact", "kind": "single_choice", "required": True, "text": w["choice"],
             "choices": [{"value": "phone", "label": w["choices"][0]}, {"value": "mail", "label": w["choices"][1]}]},
            {"key": "liked", "kind": "multi_choice", "text": w["multi"],
             "choices": [{"value": "speed", "label": w["multis"][0]}, {"value": "kind", "label": w["multis"][1]}]},
            {"key": "rate", "kind": "matrix", "required": True, "text": w["matrix"],
             "scale": {"min": 1, "max": 5, "labels": {language: w["matrix_ends"]}},
             "attributes": [{"value": "welcome", "label": w["rows"][0]}, {"value": "delay", "label": w["rows"][1]}]},
            {"key": "visits", "kind": "integer", "text": w["number"]},
            {"key": "comment", "kind": "text", "text": w["comment"]},
        ]})


def sample_definitions():
    """Each sample survey: the YAML files and the XLSForm."""
    return demo.sample_surveys() + [read_xlsform(SAMPLE_SURVEYS / "store_visit.xlsx").survey]


@pytest.fixture(scope="module")
def form_server(tmp_path_factory):
    """The app over a database holding the sample surveys (each with a personal invitation) and the
    test surveys above; yields (base URL, {slug: the address of its form}, engine)."""
    _require_browser()
    folder = tmp_path_factory.mktemp("form")
    url = f"sqlite:///{folder / 'form.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    addresses = {}
    with db.session_scope(engine) as session:
        customer = models.Customer(external_ref="C-1", name="Ada Lovelace")
        session.add(customer)
        for survey in sample_definitions() + [loads_yaml(FLOW), translated_survey("fr"), translated_survey("de")]:
            publish(session, survey)
            if survey.anonymous:
                addresses[survey.slug] = f"/?s={survey.slug}"
                continue
            session.flush()
            survey_id = session.scalar(select(models.Survey.id).where(models.Survey.slug == survey.slug))
            for number in range(4):  # one invitation per test that answers the survey
                token = f"tok-{survey.slug}-{number}"
                session.add(models.Invitation(token=token, survey_id=survey_id, customer_id=customer.id))
            addresses[survey.slug] = f"/?t=tok-{survey.slug}-{{n}}"
    with running_app(url, folder / "streamlit.log") as base:
        yield base, addresses, engine
    engine.dispose()


@pytest.fixture(scope="module")
def browser(form_server):
    with chromium() as found:
        yield found


def responses(engine, slug: str) -> tuple[list[int], dict]:
    """The ids of the survey's stored responses, and the newest one's answers by question key."""
    with engine.connect() as connection:
        survey_id = connection.execute(select(models.Survey.id).where(models.Survey.slug == slug)).scalar_one()
        ids = connection.execute(select(models.Response.id).where(models.Response.survey_id == survey_id)
                                 .order_by(models.Response.id)).scalars().all()
        answers = connection.execute(select(models.Answer.question_key, models.Answer.numeric_value,
                                            models.Answer.text_value)
                                     .where(models.Answer.response_id == (ids[-1] if ids else -1))).all()
    return list(ids), {a.question_key: a.numeric_value if a.numeric_value is not None else a.text_value
                       for a in answers}


def answer_screen(page) -> None:
    """Answer every question on the screen as a person would, choosing the lowest points and the
    last choices (low scores and the "No" at the end of a list open the follow-up questions, so that
    every screen and every question of the sample surveys is reached)."""
    for scale in page.locator(".scale").all():
        scale.locator("label").first.click()
    for group in page.locator("fieldset:has(.choice)").all():
        group.locator(".choice").last.click()
    for area in page.locator("textarea").all():
        area.fill("Fine")
    for field in page.locator("main input[type=number]").all():
        field.fill("3")
    for field in page.locator("main input[type=date]").all():
        field.fill("2026-01-05")
    for field in page.locator("main input[type=time]").all():
        field.fill("10:30")
    for field in page.locator("main input[type=text]").all():
        field.fill("2.5")


def finished(page) -> bool:
    return "/respond/thanks" in page.url


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def open_form(browser, base: str, address: str, viewport=PHONE, locale: str = "en-GB"):
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.goto(base + address)
    page.locator("h1").first.wait_for()
    return context, page


def test_old_links_open_the_new_form(form_server, browser):
    base, addresses, _ = form_server
    context, page = open_form(browser, base, addresses["flow"])
    try:
        assert "/respond?s=flow" in page.url
        assert page.locator("h1").inner_text() == "Quick feedback"
        assert page.locator("[data-testid=stApp]").count() == 0  # no dashboard, no Streamlit at all
    finally:
        context.close()


def test_nps_buttons_sit_on_one_line_at_390px_and_are_at_least_44px_high(form_server, browser, tmp_path):
    base, addresses, _ = form_server
    context, page = open_form(browser, base, addresses["flow"])
    try:
        labels = page.locator("fieldset#q-recommend .scale label").all()
        boxes = [label.bounding_box() for label in labels]
        page.screenshot(path=str(tmp_path / "nps_390.png"), full_page=True)
        assert len(boxes) == 11
        assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 1  # one line
        assert min(b["height"] for b in boxes) >= 44
        assert min(b["x"] for b in boxes) >= 0 and max(b["x"] + b["width"] for b in boxes) <= PHONE["width"]
        assert all(a["x"] < b["x"] for a, b in zip(boxes, boxes[1:]))  # 0 to 10, left to right
        # the end labels sit under the ends
        ends = page.locator("fieldset#q-recommend .ends span").all()
        assert ends[0].bounding_box()["x"] <= boxes[0]["x"] + 1
        right = ends[1].bounding_box()
        assert right["x"] + right["width"] >= boxes[-1]["x"] + boxes[-1]["width"] - 1
        # the ends are read with their labels
        assert page.get_by_role("radio", name="0, Not at all likely").count() == 1
        assert page.get_by_role("radio", name="10, Extremely likely").count() == 1
    finally:
        context.close()


def test_one_per_screen_a_condition_skips_a_screen_and_back_keeps_answers(form_server, browser, tmp_path):
    base, addresses, engine = form_server
    before = len(responses(engine, "flow")[0])
    context, page = open_form(browser, base, addresses["flow"])
    try:
        assert page.locator("#progress-text").inner_text() == "Step 1 of 3"
        page.get_by_role("button", name="Next").click()  # nothing chosen: the rule book says why, here
        assert page.locator("#q-recommend-error").inner_text() == "An answer is required."
        assert page.get_by_role("alert").count() == 1
        page.locator("label[for=q-recommend-9]").click()
        page.get_by_role("button", name="Next").click()
        # 9 is not <= 6: "What should we fix first?" is skipped
        assert page.locator("#progress-text").inner_text() == "Step 3 of 3"
        assert page.get_by_text("What should we fix first?").count() == 0
        page.get_by_role("button", name="Back").click()
        assert page.locator("#q-recommend-9").is_checked()
        page.locator("label[for=q-recommend-3]").click()
        page.get_by_role("button", name="Next").click()
        assert page.locator("#progress-text").inner_text() == "Step 2 of 3"  # 3 <= 6: shown
        page.get_by_label("What should we fix first?").fill("Faster answers")
        page.get_by_role("button", name="Next").click()
        page.get_by_text("Web").click()
        page.screenshot(path=str(tmp_path / "last_screen.png"), full_page=True)
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url("**/respond/thanks**")
        assert page.get_by_role("status").inner_text() == "Thank you for your answers."
    finally:
        context.close()
    rows, answers = responses(engine, "flow")
    assert len(rows) == before + 1
    assert answers["recommend"] == 3 and answers["why"] == "Faster answers" and answers["channel"] == "web"


def test_a_survey_is_completed_with_the_keyboard_only(form_server, browser):
    base, addresses, engine = form_server
    address = addresses["post-support"].format(n=0)
    context, page = open_form(browser, base, address, viewport=DESKTOP)
    try:
        keyboard = page.keyboard
        keyboard.press("Tab")  # csat, a radio group: arrows choose within it
        assert page.evaluate("document.activeElement.name") == "q.csat"
        keyboard.press("ArrowRight")  # 1 -> 2
        keyboard.press("ArrowRight")  # -> 3
        keyboard.press("ArrowRight")  # -> 4
        keyboard.press("Tab")  # effort
        assert page.evaluate("document.activeElement.name") == "q.effort"
        keyboard.press("Space")  # 1
        keyboard.press("ArrowRight")  # 2
        keyboard.press("Tab")  # resolved
        keyboard.press("Space")
        keyboard.press("Tab")  # the comment
        keyboard.type("Quick and kind")
        keyboard.press("Tab")  # the submit button
        assert page.evaluate("document.activeElement.textContent") == "Submit"
        # focus is visible: the focused control draws an outline
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        keyboard.press("Enter")
        page.wait_for_url("**/respond/thanks**")
    finally:
        context.close()
    rows, answers = responses(engine, "post-support")
    assert len(rows) == 1
    assert answers["csat"] == 4 and answers["effort"] == 2 and answers["comment"] == "Quick and kind"


def test_a_personal_draft_is_kept_as_the_respondent_answers(form_server, browser):
    base, addresses, engine = form_server
    context, page = open_form(browser, base, addresses["post-support"].format(n=3))
    try:
        page.locator("label[for=q-csat-2]").click()  # no button pressed: the page's script keeps it
        for _ in range(100):
            with engine.connect() as connection:  # a new snapshot each time
                answers = connection.execute(select(models.ResponseDraft.answers)).scalars().all()
            if answers:
                break
            page.wait_for_timeout(100)
    finally:
        context.close()
    assert answers == [{"csat": "2"}]


def walk(page, shoot=None, limit: int = 20) -> list[str]:
    """Go through every screen: first press on without answering (the errors), then answer and go on;
    returns what `shoot(page, name)` returned per state."""
    seen = []
    for step in range(limit):
        if shoot:
            seen.append(shoot(page, f"screen{step}"))
        if finished(page):
            return seen
        if step == 0:
            page.locator("button.primary").click()
            if page.locator(".error").count():
                seen.append(shoot(page, "errors") if shoot else None)
        answer_screen(page)
        page.locator("button.primary").click()
        page.locator("h1").first.wait_for()
    raise AssertionError(f"the survey did not end within {limit} screens")


SAMPLES = [s.slug for s in sample_definitions()]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
@pytest.mark.parametrize("slug", SAMPLES)
def test_axe_finds_no_serious_violation_on_any_screen(form_server, browser, slug, viewport, tmp_path):
    base, addresses, _ = form_server
    address = addresses[slug].format(n=1 if viewport is PHONE else 2)
    context, page = open_form(browser, base, address, viewport=viewport)
    try:
        shown: set[str] = set()

        def check(page, name):
            page.screenshot(path=str(tmp_path / f"{slug}_{viewport['width']}_{name}.png"), full_page=True)
            shown.update(page.eval_on_selector_all("[id^=q-]", "found => found.map(e => e.id)"))
            return (name, serious_violations(page))

        found = walk(page, check)
    finally:
        context.close()
    survey = next(s for s in sample_definitions() if s.slug == slug)
    assert {f"q-{q.key}" for q in survey.questions} <= shown  # every question was on a checked screen
    assert len(found) >= 3  # a first screen, its errors and the thank-you page at least
    assert [(name, v) for name, v in found if v] == []


def english_words(language: str, survey) -> set[str]:
    """Words of the English catalogue that the `language` catalogue and the survey's own wording do
    not also use (so "Excellent" in French wording is not taken for English)."""
    def words(texts) -> set[str]:
        return {w.lower() for text in texts for w in re.findall(r"[^\W\d_]{3,}", text)}

    english = words(list(messages.RESPONDENT_PHRASES["en"].values()) + list(messages.RESPONDENT_PROBLEMS["en"].values())
                    + [label for pair in DEFAULT_END_LABELS.values() for label in pair])
    local = words(list(messages.RESPONDENT_PHRASES[language].values())
                  + list(messages.RESPONDENT_PROBLEMS[language].values()))
    wording = words(str(v) for v in WORDING[language].values())
    return english - local - wording


@pytest.mark.parametrize("language", ["fr", "de"])
def test_a_french_and_a_german_survey_show_no_english_word(form_server, browser, language, tmp_path):
    base, addresses, _ = form_server
    survey = translated_survey(language)
    forbidden = english_words(language, survey)
    assert {"submit", "next", "back", "required", "thank"} <= forbidden  # the check can fail
    context, page = open_form(browser, base, addresses[survey.slug], locale=language)

    def text(page, name):
        page.screenshot(path=str(tmp_path / f"{language}_{name}.png"), full_page=True)
        assert page.locator("html").get_attribute("lang") == language
        return name, page.evaluate("document.title + ' ' + document.body.innerText")

    try:
        seen = walk(page, text)
        page.goto(base + "/?s=no-such-survey")  # a link problem, in the browser's language
        seen.append(text(page, "unknown_link"))
    finally:
        context.close()
    assert len(seen) >= 9  # seven questions on six screens, the errors, the thanks, the unknown link
    found = {name: sorted(forbidden & {w.lower() for w in re.findall(r"[^\W\d_]{3,}", shown)}) for name, shown in seen}
    assert {name: words for name, words in found.items() if words} == {}
