"""The running app (`streamlit run app.py`): its own delivery thread sends a webhook for an API
submission to a real receiver on 127.0.0.1, and the Webhooks and Responses pages in Chromium at
desktop (1280) and phone (390 x 844) widths, with screenshots under pytest's temporary folder."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import pytest
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, update

from survey import demo
from survey.collection.apikeys import create_key
from survey.collection.invitations import create_invitations
from survey.integrations.webhooks import add_webhook
from survey.storage import db, models
from tests.app.test_browser import ERRORS, _require_browser, chromium, running_app, sign_in
from tests.integrations.test_webhooks import Receiver

# a phone's screen, and the same width as tall as the page, to look at all of it
SENT = datetime(2026, 9, 1, 9, tzinfo=timezone.utc)
WIDTHS = {"desktop": {"width": 1280, "height": 1600}, "phone": {"width": 390, "height": 844},
          "phone-whole": {"width": 390, "height": 2600}}


@pytest.fixture(scope="module")
def receiver():
    found = Receiver().start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, receiver):
    """The app over a small demo database with one webhook, an API key and two past deliveries."""
    _require_browser()
    folder = tmp_path_factory.mktemp("webhooks_app")
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo.generate(engine, customers=200, responses=3000, seed=7, progress=False)
    with db.session_scope(engine) as session:
        hook = add_webhook(session, receiver.url, ["response.created", "case.opened"], "CRM")
        key = create_key(session, "webhook test").key
        # invitations of the relationship survey: answered after the invitation, or after a reminder
        create_invitations(session, "relationship-nps", now=SENT)
        ids = session.scalars(select(models.Invitation.id).order_by(models.Invitation.id)).all()
        session.execute(update(models.Invitation).values(sent_at=SENT))
        session.execute(update(models.Invitation).where(models.Invitation.id.in_(ids[:40]))
                        .values(responded_at=SENT + timedelta(days=2)))
        session.execute(insert(models.InvitationReminder), [
            dict(invitation_id=i, round=1, sent_at=SENT + timedelta(days=7)) for i in ids[40:]])
        session.execute(update(models.Invitation).where(models.Invitation.id.in_(ids[40:60]))
                        .values(responded_at=SENT + timedelta(days=9)))
        session.execute(insert(models.WebhookDelivery.__table__), [dict(
            webhook_id=hook.id, event_id=str(uuid.uuid4()), event_type="case.opened", payload={}, status="failed",
            attempts=10, last_status=503, last_error="the receiver answered HTTP 503", created_at=models.utc_now(),
            next_attempt_at=models.utc_now())])
    engine.dispose()
    with running_app(url, folder / "streamlit.log", {"SURVEY_WEBHOOK_INTERVAL_SECONDS": "0.5"}) as base:
        yield base, key, hook.secret


@pytest.fixture(scope="module")
def browser(app_server):
    with chromium() as found:
        yield found


def test_the_app_servers_own_worker_delivers_an_api_submission(app_server, receiver, browser):
    base, key, secret = app_server
    # the worker starts with the first page run: open the app once, as anyone would
    page = browser.new_page()
    page.goto(base)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    page.close()
    body = json.dumps({"idempotency_key": "webhook-e2e", "answers": {"csat": 2, "effort": 6, "resolved": "no"}})
    request = urllib.request.Request(f"{base}/api/v1/surveys/post-support/responses", data=body.encode(),
                                     headers={"Content-Type": "application/json", "X-API-Key": key}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        response_id = json.loads(answer.read())["response_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not receiver.accepted_events(secret):
        time.sleep(0.2)
    events = receiver.accepted_events(secret)
    assert [(b["type"], b["data"]["response_id"]) for b in events.values()] == [("response.created", response_id)]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("link, title", [("Webhooks", "Webhooks"), ("Responses", "Responses"),
                                         ("Overview", "How are we doing?")])
def test_the_pages_open_at_desktop_and_phone_widths(app_server, browser, width, link, title, tmp_path):
    base, _, _ = app_server
    page = browser.new_page(viewport=WIDTHS[width])
    try:
        page.goto(base)
        sign_in(page, "admin@demo.example", demo.DEMO_PASSWORDS["admin"])
        page.locator("h1").first.wait_for(timeout=60_000)
        if width.startswith("phone"):  # the sidebar is folded away on a phone: open it to reach the link
            page.get_by_role("button", name="Open sidebar").or_(page.locator('[data-testid="stExpandSidebarButton"]')) \
                .first.click()
        page.get_by_role("link", name=link, exact=True).click()
        page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
        if width.startswith("phone"):  # and folded away again, as a person would, to see the page
            page.locator('[data-testid="stSidebarCollapseButton"]').first.click()
        page.wait_for_timeout(500)
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
        # the last widget drawn, then a moment for the tables' canvases
        last = {"Webhooks": "Failed (no more tries)", "Responses": "Format for SPSS, Stata, Excel or R",
                "Overview": "Invitation emails and reminders"}[link]
        page.get_by_text(last).first.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)
        shot = tmp_path / f"{link.lower()}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        errors = page.locator(ERRORS)
        assert errors.count() == 0, errors.first.inner_text()[:2000]
        if link == "Webhooks":
            assert page.get_by_role("button", name="Retry 1 failed delivery").count() == 1
        elif link == "Responses":
            assert page.get_by_text("Format for SPSS, Stata, Excel or R").count() == 1
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
