"""Scale-out of the dashboard: two `streamlit run app.py` replicas over one PostgreSQL database
serve one signed-in user, in Chromium.

Sessions are rows in the database (`user_sessions`) and the browser holds only the cookie, so a
user signed in through one replica is signed in on the other, and signing out on either ends the
session on both. (Behind a load balancer the same browser reaches the replicas under one host
name; here they are two ports of 127.0.0.1, and cookies do not tell ports apart.) The sign-in's
one-time code is held by the replica that served the sign-in, which the browser's websocket is
connected to anyway (sticky sessions); it is redeemed there before any other replica is asked.
"""

from __future__ import annotations

import pytest

from survey import demo
from survey.people import sessions
from survey.storage import db
from tests.app.test_browser import _require_browser, browser, running_app  # noqa: F401
from tests.app.test_lasting_sign_in import SIGNED_IN, shows_sign_in, signed_in_tab
from tests.conftest import fresh_database_url


@pytest.fixture(scope="module")
def postgres_demo(tmp_path_factory):
    """A small demo on a throwaway PostgreSQL database; its URL."""
    _require_browser()
    for url in fresh_database_url("postgresql", tmp_path_factory.mktemp("replicas")):
        engine = db.make_engine(url)
        db.upgrade(engine)
        demo.generate(engine, customers=200, responses=3000, seed=11, progress=False)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def replicas(postgres_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("replica_logs")
    with running_app(postgres_demo, folder / "first.log") as first, \
            running_app(postgres_demo, folder / "second.log") as second:
        yield first, second


@pytest.fixture(scope="module")
def server(replicas):  # the name test_browser's `browser` fixture asks for
    return replicas[0]


def test_signed_in_on_one_replica_served_by_the_other_and_signed_out_on_both(replicas, browser):
    first, second = replicas
    context, page = signed_in_tab(browser, first, "manager.1@demo.example", "manager")
    try:
        assert any(c["name"] == sessions.COOKIE for c in context.cookies())
        other = context.new_page()
        other.goto(second)
        assert not shows_sign_in(other), "the second replica did not know the session the first one opened"
        # signing out on the second replica ends the session the first one opened
        other.get_by_role("button", name=SIGNED_IN).click()
        other.get_by_role("textbox", name="Password").wait_for(timeout=90_000)
        page.reload()
        assert shows_sign_in(page)
    finally:
        context.close()


def test_a_browser_without_the_cookie_is_asked_to_sign_in_on_either_replica(replicas, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        for base in replicas:
            page = context.new_page()
            page.goto(base)
            assert shows_sign_in(page)
    finally:
        context.close()
