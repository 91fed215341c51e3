"""Sign-in that lasts, against the real server in Chromium: a reload and a new tab stay signed in through
an HttpOnly, SameSite=Lax session cookie; signing out, disabling the user and the idle timeout end the
session; a deep link opens its page after signing in.

Reuses tests/app/test_browser.py's server recipe, with the idle timeout set short
(`SURVEY_SESSION_IDLE_MINUTES`), so that backdating a session's last use is enough to expire it.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import update

from survey import demo
from survey.people import accounts, sessions
from survey.people.access import Actor
from survey.storage import db, models
from tests.app.test_browser import _require_browser, browser, demo_database, running_app, sign_in  # noqa: F401

IDLE_MINUTES = 30
SIGNED_IN = "Sign out"  # the sidebar's button: only a signed-in page has it


@pytest.fixture(scope="module")
def app_database(tmp_path_factory):
    _require_browser()
    folder = tmp_path_factory.mktemp("sessions")
    return folder, demo_database(folder)


@pytest.fixture(scope="module")
def server(app_database):
    folder, url = app_database
    with running_app(url, folder / "streamlit.log", {"SURVEY_SESSION_IDLE_MINUTES": str(IDLE_MINUTES)}) as base:
        yield base


@pytest.fixture
def engine(app_database):
    found = db.make_engine(app_database[1])
    yield found
    found.dispose()


def signed_in_tab(browser, server, email: str, role: str, path: str = ""):
    """A new browser context with one tab signed in as `email`, once the session cookie is set."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server + path)
    sign_in(page, email, demo.DEMO_PASSWORDS[role])
    page.get_by_role("button", name=SIGNED_IN).wait_for(timeout=90_000)
    for _ in range(100):  # the page hands the new session to the browser just after signing in
        if any(c["name"] == sessions.COOKIE for c in context.cookies()):
            break
        page.wait_for_timeout(100)
    return context, page


def shows_sign_in(page) -> bool:
    """Whether the page settles on the sign-in form (True) or on a signed-in page (False)."""
    page.get_by_role("textbox", name="Password").or_(page.get_by_role("button", name=SIGNED_IN)).first.wait_for(
        timeout=90_000)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=90_000)
    return page.get_by_role("textbox", name="Password").count() == 1


def test_a_reload_and_a_new_tab_stay_signed_in_with_an_http_only_lax_cookie(server, browser):
    context, page = signed_in_tab(browser, server, "manager.1@demo.example", "manager")
    try:
        cookie = next(c for c in context.cookies() if c["name"] == sessions.COOKIE)
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
        assert cookie["secure"] is False  # plain http on 127.0.0.1; over https it is Secure
        assert page.evaluate("document.cookie").find(sessions.COOKIE) == -1  # scripts cannot read it
        assert sessions.COOKIE not in page.url and cookie["value"] not in page.content()
        page.reload()
        assert not shows_sign_in(page)
        other = context.new_page()
        other.goto(server)
        assert not shows_sign_in(other)
    finally:
        context.close()


def test_signing_out_ends_the_session_in_every_tab(server, browser):
    context, page = signed_in_tab(browser, server, "manager.2@demo.example", "manager")
    try:
        other = context.new_page()
        other.goto(server)
        assert not shows_sign_in(other)
        page.get_by_role("button", name=SIGNED_IN).click()
        page.get_by_role("textbox", name="Password").wait_for(timeout=90_000)
        page.reload()
        assert shows_sign_in(page)
        other.reload()
        assert shows_sign_in(other)
    finally:
        context.close()


def test_disabling_the_user_ends_their_session(server, browser, engine):
    context, page = signed_in_tab(browser, server, "fm.south.2@demo.example", "field_manager")
    try:
        accounts.update_user(engine, Actor.command_line(), "fm.south.2@demo.example", disabled=True)
        page.reload()
        assert shows_sign_in(page)
    finally:
        accounts.update_user(engine, Actor.command_line(), "fm.south.2@demo.example", disabled=False)
        context.close()


def test_the_idle_timeout_ends_the_session(server, browser, engine):
    context, page = signed_in_tab(browser, server, "fm.east.1@demo.example", "field_manager")
    try:
        page.reload()
        assert not shows_sign_in(page)
        user_id = accounts.actor_for_email(engine, "fm.east.1@demo.example").user_id
        with db.session_scope(engine) as session:  # as if nobody had used it for longer than the setting
            session.execute(update(models.UserSession).where(models.UserSession.user_id == user_id).values(
                last_seen_at=models.utc_now() - timedelta(minutes=IDLE_MINUTES + 1)))
        page.reload()
        assert shows_sign_in(page)
    finally:
        context.close()


def test_a_deep_link_opens_its_page_after_signing_in(server, browser):
    context, page = signed_in_tab(browser, server, "admin@demo.example", "admin", path="/users")
    try:
        page.get_by_role("heading", name="Users").wait_for(timeout=90_000)
    finally:
        context.close()


def test_a_made_up_sign_in_code_gets_no_cookie(server):
    request = urllib.request.Request(f"{server}/auth/session", method="POST",
                                     data=urllib.parse.urlencode({"code": "made-up"}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400 and refused.value.headers.get("set-cookie") is None
