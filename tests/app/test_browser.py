"""A real browser on the running app: every dashboard page and the respondent form open without an
error box. Screenshots land under pytest's temporary folder.

Needs Debian's Chromium at /usr/bin/chromium and the playwright package (never `playwright install`).
Under CI (`CI` set) a missing browser fails; locally the test skips and says why.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from survey import demo
from survey.storage import db
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from tests.conftest import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OPEN_SURVEY = """
slug: kiosk-feedback
title: Quick kiosk feedback
anonymous: true
questions:
  - {key: csat, kind: csat, required: true, text: "How was your visit today?"}
"""
# The navigation link to follow after signing in (None: the Overview, where sign-in lands) -> the
# title the page shows; the respondent form's URL needs no sign-in.
PAGES = {
    None: "How are we doing?",  # the overview shows the most answered survey's title
    "Trends": "Trends",
    "Segments": "Segments",
    "Drivers": "Drivers",
    "Loyalty and value": "Loyalty and value",
    "Retention": "Retention",
    "Comments": "Comments",
    "Responses": "Responses",
    "My follow-ups": "My follow-ups",
    "Follow-up": "Follow-up",
    "Designer": "Designer",
    "Import answers": "Import answers",
    "Users": "Users",
    "Audit log": "Audit log",
    "Webhooks": "Webhooks",
    "/?s=kiosk-feedback": "Quick kiosk feedback",
}
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def _require_browser():
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as error:
            problem = f"the playwright package is missing ({error})"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` on a free local port over a small demo database; yields its base URL."""
    _require_browser()
    folder = tmp_path_factory.mktemp("browser")
    with running_app(demo_database(folder), folder / "streamlit.log") as base:
        yield base


def demo_database(folder: Path, customers: int = 300, responses: int = 6000) -> str:
    """A demo database (small by default, and the open kiosk survey) in `folder`; returns its URL."""
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo.generate(engine, customers=customers, responses=responses, seed=7, progress=False)
    with db.session_scope(engine) as session:
        publish(session, loads_yaml(OPEN_SURVEY))
    engine.dispose()
    return url


@contextlib.contextmanager
def running_app(url: str, log_path: Path, environment: dict | None = None):
    """`streamlit run app.py` on a free 127.0.0.1 port over the database at `url`; yields its base URL."""
    port = free_port()
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, **(environment or {}), "SURVEY_DATABASE_URL": url}, stdout=log,
        stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/health", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the app did not start:\n{log_path.read_text()}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, through Playwright (never a browser Playwright downloads); yields it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield found
        finally:
            found.close()


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as found:
        yield found


def sign_in(page, email: str, password: str) -> None:
    """Fill in and submit the sign-in form, as a person would."""
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("link", list(PAGES))
def test_every_page_opens_in_a_browser_without_an_error_box(server, browser, link, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        if link and link.startswith("/?"):
            page.goto(server + link)
        else:
            page.goto(server)
            sign_in(page, "admin@demo.example", demo.DEMO_PASSWORDS["admin"])
            if link:
                page.get_by_role("link", name=link, exact=True).click()
        page.locator("h1", has_text=PAGES[link]).first.wait_for(timeout=60_000)
        # the script has finished once the "Running..." status is gone (and stays gone a moment)
        page.wait_for_timeout(500)
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
        page.wait_for_timeout(1000)
        name = (link or "overview").strip("/").replace("?", "").replace("=", "-").replace(" ", "_").lower()
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        errors = page.locator(ERRORS)
        assert errors.count() == 0, f"{link} shows an error: {errors.first.inner_text()[:2000]}"
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    finally:
        page.close()
