"""Every signed-in page reads as words, not as a database dump: in Chromium, for each role, every page of
its navigation (enumerated from `app_pages.navigation`, so pages added later are covered) at 1400 px
and at 390 px wide shows no internal identifier, draws every chart at least 200 px high, and shows no
exception. Its desktop screenshots are the README's tour (written to docs/, see TOUR).

Needs Debian's Chromium and the playwright package, like tests/app/test_browser.py (whose server
and browser fixtures this module reuses: one more server, started once for the module).
"""

from __future__ import annotations

import re

import pytest

from app_pages.navigation import visible_pages
from survey import demo
from survey.people import access
from survey.bootstrap import FIRST_START_CUSTOMERS, FIRST_START_RESPONSES
from tests.app.test_browser import _require_browser, browser, demo_database, running_app, sign_in  # noqa: F401
from tests.conftest import ROOT

SIGN_INS = {access.ADMIN: "admin@demo.example", access.MANAGER: "manager.1@demo.example",
            access.FIELD_MANAGER: "fm.north.1@demo.example"}
WIDTHS = (1400, 390)
MIN_CHART_HEIGHT = 200
# Internal names that must never reach a reader. Rule names and role codes come from their sources;
# the column names are those the pages' tables are built from. `customer_ref` and `submitted_at` are
# left out on purpose: the Import answers page documents them as the CSV file's headers.
COLUMN_NAMES = ("change_p_value", "out_of_control", "bottom_share", "control_lower", "control_upper",
                "change_low", "change_high", "latest_change_p_adjusted", "recent_p_adjusted", "recent_vs_earlier",
                "p_adjusted", "last_sign_in_at", "is_demo", "annual_value", "tenure_years", "flagged_score",
                "captive_not_loyal", "due_at", "root_cause", "external_ref", "response_id", "value_band", "why_low")
RAW_VALUES = ("None", "nan", "NaN", "NaT", "00:00:00", "false", "true")
KINDS = ("index_item",)  # a question kind as the definitions spell it


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app over the demo as a first start writes it (its sizes, ending yesterday): the README's
    screenshots then show what a newcomer sees."""
    _require_browser()
    folder = tmp_path_factory.mktemp("readable")
    with running_app(demo_database(folder, FIRST_START_CUSTOMERS, FIRST_START_RESPONSES),
                     folder / "streamlit.log") as base:
        yield base


def forbidden_words() -> list[str]:
    from survey.followup.settings import RULES as RULE_NAMES

    codes = [role for role in access.ROLES if "_" in role]  # "admin" and "manager" are words too
    return sorted({*RULE_NAMES, *codes, *COLUMN_NAMES, *RAW_VALUES, *KINDS})


FORBIDDEN = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(word) for word in forbidden_words()) + r")(?![\w-])")
# README tour: (role, page title) -> screenshot at desktop width; the admin's view, except My
# follow-ups, which shows a field manager's own cases (an admin owns none).
TOUR = {(access.ADMIN, "Overview"): "overview.png", (access.ADMIN, "Trends"): "trends.png",
        (access.ADMIN, "Segments"): "segments.png", (access.ADMIN, "Drivers"): "drivers.png",
        (access.ADMIN, "Loyalty and value"): "loyalty.png", (access.ADMIN, "Retention"): "retention.png",
        (access.ADMIN, "Comments"): "comments.png",
        (access.FIELD_MANAGER, "My follow-ups"): "my_followups.png", (access.ADMIN, "Follow-up"): "follow_up.png",
        (access.ADMIN, "Designer"): "designer.png", (access.ADMIN, "Users"): "users.png"}
CHARTS = '[data-testid="stVegaLiteChart"]'
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
GRID_TEXT = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] table')]
    .map(t => [...t.querySelectorAll('th, td')].map(c => c.textContent).join(' | ')).join('\\n')"""


SETTLED = """() => !document.querySelector('[data-testid=stSkeleton], [data-testid=stStatusWidget]')
    && !!document.querySelector('[data-testid=stMain] h1')"""


def settle(page) -> None:
    """Wait until the script has finished and every element has replaced its loading skeleton (charts
    and tables load their code lazily), and it stays so for a second (a run may start late), then
    until every chart has drawn."""
    page.wait_for_timeout(500)
    for _ in range(3):
        page.wait_for_function(SETTLED, timeout=90_000)
        page.wait_for_timeout(1000)
        if page.evaluate(SETTLED):
            break
    charts = page.locator(CHARTS)
    for index in range(charts.count()):
        charts.nth(index).locator("canvas, svg").first.wait_for(timeout=30_000)


def photograph(page, width: int, paths) -> None:
    """Screenshots of the whole page: the main area scrolls inside the window, so the window is made
    as tall as the content for the picture (and put back)."""
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": max(before["height"], min(int(height) + 40, 6000))})
    page.wait_for_timeout(600)
    for path in paths:
        page.screenshot(path=str(path))
    page.set_viewport_size(before)


def problems_on(page, where: str) -> list[str]:
    """What is wrong with the page as shown: identifiers in its text, short charts, exceptions."""
    found = []
    errors = page.locator(ERRORS)
    if errors.count():
        found.append(f"{where}: shows an error: {errors.first.inner_text()[:500]}")
    text = page.locator('[data-testid="stMain"]').inner_text() + "\n" + page.evaluate(GRID_TEXT)
    for match in sorted({m.group(1) for m in FORBIDDEN.finditer(text)}):
        at = text.find(match)
        found.append(f"{where}: shows {match!r} in ...{text[max(0, at - 60):at + 60]!r}...")
    charts = page.locator(CHARTS)
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        if box is None or box["height"] < MIN_CHART_HEIGHT:
            found.append(f"{where}: chart {index + 1} is {box and round(box['height'])} px high")
    return found


def test_forbidden_pattern_matches_identifiers_and_not_words():
    # the pattern itself: a raw name is caught, ordinary words and readable headers are not
    assert FORBIDDEN.search("column change_p_value here") and FORBIDDEN.search("region None")
    assert FORBIDDEN.search("2024-11-01 00:00:00") and FORBIDDEN.search("rule nps_detractor")
    assert not FORBIDDEN.search("p (change) · Nonetheless · banana · Field manager · NPS detractor (0-6)")


@pytest.mark.parametrize("role", list(SIGN_INS))
def test_every_page_of_every_role_reads_as_words_with_charts_that_fit(server, browser, role, tmp_path):
    actor = access.Actor(user_id=1, role=role, email=SIGN_INS[role])
    pages = visible_pages(actor)
    assert len(pages) >= 5, pages  # a navigation that lost its pages would pass vacuously
    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 1000})
    problems = []
    try:
        page.goto(server)
        sign_in(page, SIGN_INS[role], demo.DEMO_PASSWORDS[role])
        page.get_by_role("link", name="Overview", exact=True).wait_for(timeout=90_000)
        for _path, title in pages:
            page.set_viewport_size({"width": WIDTHS[0], "height": 1000})
            page.get_by_role("link", name=title, exact=True).click()
            settle(page)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 1000 if width > 1000 else 844})
                page.wait_for_timeout(600)  # charts re-lay out to the new width
                settle(page)
                problems += problems_on(page, f"{role} · {title} · {width} px")
                name = f"{role}-{title.lower().replace(' ', '_')}-{width}.png"
                paths = [tmp_path / name]
                if width == WIDTHS[0] and (role, title) in TOUR:
                    paths.append(ROOT / "docs" / TOUR[role, title])
                photograph(page, width, paths)
    finally:
        page.close()
    assert not problems, "\n".join(problems)
