"""The HTML respondent form over HTTP (in-process client, real SQLite and PostgreSQL): one response
per submission whatever the retries, drafts for personal links, the rule book as the only judge,
the anti-forgery token, body and rate limits, escaping, and old links sent on to the form."""

from __future__ import annotations

import re
import warnings

import pytest
from sqlalchemy import func, select

from survey.collection import respondent
from survey.collection.form import pages
from survey.definitions.definition import load_yaml, loads_yaml
from survey.definitions.publishing import publish
from survey.storage import db, models
from tests.conftest import SAMPLE_SURVEYS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx versions
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

OPEN = """
slug: kiosk
title: "Kiosk <script>alert(1)</script>"
anonymous: true
layout: one_per_screen
questions:
  - {key: recommend, kind: nps, required: true, text: "How likely?"}
  - {key: why, kind: text, text: "Why?", show_if: recommend <= 6}
  - key: more
    kind: single_choice
    text: More?
    choices: [{value: "yes", label: "<b>Yes</b>"}, {value: "no", label: "No"}]
"""
TOKEN = "tok-relationship"


def form_database(database_url: str):
    """Migrate the fresh database at `database_url` and publish the open survey and the relationship
    sample survey, with the invitation `TOKEN` to the latter; returns an engine on it."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        publish(session, loads_yaml(OPEN))
        publish(session, load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml"))
        customer = models.Customer(external_ref="C-1", name="Ada Lovelace", consent_to_contact=True)
        session.add(customer)
        session.flush()
        survey_id = session.scalar(select(models.Survey.id).where(models.Survey.slug == "relationship-nps"))
        session.add(models.Invitation(token=TOKEN, survey_id=survey_id, customer_id=customer.id))
    return engine


@pytest.fixture
def form(database_url):
    """A client of the form's routes over a fresh database with an open survey and an invitation
    to the relationship sample survey."""
    engine = form_database(database_url)
    respondent_form = pages.RespondentForm(database_url)
    with TestClient(Starlette(routes=respondent_form.routes())) as client:
        client.engine = engine
        client.tokens = respondent_form.tokens
        yield client
    respondent_form.dispose()
    engine.dispose()


def hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def count(engine, model, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def errors(html: str) -> list[str]:
    return re.findall(r'<p class="error" id="([^"]+)-error">', html)


def test_a_double_click_or_a_retried_post_stores_one_response(form):
    first = form.get("/respond?s=kiosk")
    fields = {**hidden(first.text), "q.recommend": "9"}
    second = form.post("/respond?s=kiosk", data={**fields, "action": "next"})
    assert hidden(second.text)["screen"] == "2"  # 9 is not <= 6: "Why?" skipped
    final = {**hidden(second.text), "q.more": "yes", "action": "submit"}
    answers = [form.post("/respond?s=kiosk", data=final, follow_redirects=False) for _ in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 303]
    assert answers[0].headers["location"].startswith("/respond/thanks?s=kiosk")
    assert count(form.engine, models.Response) == 1
    thanks = form.get(answers[0].headers["location"])
    assert "Thank you for your answers." in thanks.text and "Start a new answer" in thanks.text


def test_the_rule_book_judges_every_answer_and_nothing_is_stored_when_it_refuses(form):
    fields = hidden(form.get("/respond?s=kiosk").text)
    # a forged value outside the scale, and a field naming no question (ignored: not an answer)
    refused = form.post("/respond?s=kiosk", data={**fields, "q.recommend": "11", "q.nope": "x", "action": "submit"})
    assert refused.status_code == 422
    assert errors(refused.text) == ["q-recommend"]
    assert "Please choose a point on the scale." in refused.text
    assert count(form.engine, models.Response) == 0


def test_a_forged_or_stale_token_stores_nothing_and_keeps_the_answers(form):
    fields = {**hidden(form.get("/respond?s=kiosk").text), "q.recommend": "4", "action": "submit"}
    for token in ("", "123.abc", fields["csrf"].replace(fields["csrf"][-1], "0" if fields["csrf"][-1] != "0" else "1")):
        refused = form.post("/respond?s=kiosk", data={**fields, "csrf": token})
        assert refused.status_code == 400
        assert respondent.phrase("form_expired", "en") in refused.text
        assert 'value="4" checked' in refused.text  # the answer is still there
        assert hidden(refused.text)["csrf"] != token  # with a fresh token: one more press is enough
    # a token for another visit's key does not pass either
    other = {**fields, "key": respondent.new_idempotency_key()}
    assert form.post("/respond?s=kiosk", data=other).status_code == 400
    assert count(form.engine, models.Response) == 0


def test_a_body_over_the_limit_is_refused_and_stores_nothing(form):
    fields = hidden(form.get("/respond?s=kiosk").text)
    refused = form.post("/respond?s=kiosk", data={**fields, "q.why": "x" * 70_000, "q.recommend": "3",
                                                  "action": "submit"})
    assert refused.status_code == 413
    assert respondent.phrase("too_large", "en") in refused.text
    assert count(form.engine, models.Response) == 0


def test_too_many_requests_from_one_address_are_refused_with_retry_after(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    engine.dispose()
    limited = pages.RespondentForm(database_url, environ={"SURVEY_FORM_RATE_PER_ADDRESS": "0.01"})
    with TestClient(Starlette(routes=limited.routes())) as client:
        statuses = [client.get("/respond?s=none").status_code for _ in range(3)]
        refused = client.get("/respond?s=none")
    limited.dispose()
    assert statuses == [404, 429, 429]  # a burst of twice the rate, at least one; a token back in 100 s
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 90


def test_a_bad_rate_setting_is_refused_naming_the_variable(database_url):
    with pytest.raises(ValueError, match="SURVEY_FORM_RATE_PER_ADDRESS"):
        pages.RespondentForm(database_url, environ={"SURVEY_FORM_RATE_PER_ADDRESS": "fast"})
    with pytest.raises(ValueError, match="SURVEY_RESPONDENT_FORM"):
        pages.form_enabled({"SURVEY_RESPONDENT_FORM": "react"})


def test_survey_wording_is_escaped_and_pages_allow_no_script(form):
    page = form.get("/respond?s=kiosk")
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy  # no inline script, nothing from elsewhere
    assert "<script" not in page.text  # an open link keeps no draft: no script at all
    assert page.headers["cache-control"] == "no-store"
    second = form.post("/respond?s=kiosk", data={**hidden(page.text), "q.recommend": "9", "action": "next"})
    assert "<b>Yes</b>" not in second.text and "&lt;b&gt;Yes&lt;/b&gt;" in second.text


def test_a_personal_link_keeps_a_draft_and_answers_once(form):
    address = f"/respond?t={TOKEN}"
    first = form.get(address, headers={"accept-language": "fr-CH, en;q=0.5"})
    assert '<html lang="fr">' in first.text  # the browser's language, among the survey's
    fields = {**hidden(first.text), "q.recommend": "3", "action": "next"}
    form.post(address, data=fields)
    with db.session_scope(form.engine) as session:
        invitation_id = session.scalar(select(models.Invitation.id).where(models.Invitation.token == TOKEN))
        draft = respondent.load_draft(session, invitation_id)
    assert draft.answers == {"recommend": "3"} and draft.language == "fr"
    # a later visit (a new key) resumes on the next screen with the kept answer carried along
    again = form.get(address)
    kept = hidden(again.text)
    assert kept["q.recommend"] == "3" and kept["screen"] == "1" and kept["key"] != fields["key"]
    step = {**kept, "q.satisfaction": "2", "q.expectations": "2", "q.ideal": "2", "action": "next"}
    step = {**hidden(form.post(address, data=step).text), **{f"q.drivers.{a}": "2" for a in
            ("product_quality", "delivery", "support", "billing", "value_for_money")}, "action": "next"}
    last = form.post(address, data=step)
    assert "Quelle est la principale chose" in last.text  # 3 <= 6: the follow-up question is shown
    submitted = form.post(address, data={**hidden(last.text), "q.why_low": "Plus vite", "action": "submit"},
                          follow_redirects=False)
    assert submitted.status_code == 303 and "/respond/thanks" in submitted.headers["location"]
    assert "Merci. Si quelque chose" in form.get(submitted.headers["location"]).text
    # the stale page posted again under another key: still one response, and it says so
    stale = {**hidden(last.text), "key": respondent.new_idempotency_key(), "q.why_low": "Autre"}
    stale["csrf"] = form.tokens.issue(f"t:{TOKEN}", stale["key"])
    assert "déjà répondu" in form.post(address, data={**stale, "action": "submit"}).text
    assert "déjà répondu" in form.get(address, headers={"accept-language": "fr"}).text
    assert count(form.engine, models.Response) == 1
    assert count(form.engine, models.ResponseDraft) == 0
    # flagged for follow-up in the submission's transaction, as every channel is (NPS 3: a detractor)
    assert count(form.engine, models.FollowUpCase) == 1


def test_the_optional_script_keeps_a_personal_draft_as_the_respondent_answers(form):
    address = f"/respond?t={TOKEN}"
    page = form.get(address)
    assert '<script src="/respond/form.js" defer></script>' in page.text
    assert form.get("/respond/form.js").headers["content-type"].startswith("text/javascript")
    saved = form.post(address, data={**hidden(page.text), "q.recommend": "4", "action": "draft"})
    assert saved.status_code == 204
    with db.session_scope(form.engine) as session:
        invitation_id = session.scalar(select(models.Invitation.id).where(models.Invitation.token == TOKEN))
        assert respondent.load_draft(session, invitation_id).answers == {"recommend": "4"}
    forged = form.post(address, data={**hidden(page.text), "csrf": "1.x", "q.recommend": "1", "action": "draft"})
    assert forged.status_code == 400
    with db.session_scope(form.engine) as session:
        assert respondent.load_draft(session, invitation_id).answers == {"recommend": "4"}
    assert count(form.engine, models.Response) == 0


def test_an_open_link_visit_of_the_streamlit_page_keeps_its_key(form):
    visit = "0123456789abcdef0123456789abcdef"  # `&v=`: the visit's key as the Streamlit page kept it
    page = form.get(f"/respond?s=kiosk&v={visit}")
    assert hidden(page.text)["key"] == f"web-{visit}"
    fields = {**hidden(page.text), "screen": "2", "q.recommend": "9", "action": "submit"}
    assert form.post("/respond?s=kiosk", data=fields, follow_redirects=False).status_code == 303
    again = form.get(f"/respond?s=kiosk&v={visit}", follow_redirects=False)  # a reload after submitting
    assert again.status_code == 303 and again.headers["location"].startswith("/respond/thanks?s=kiosk")
    assert hidden(form.get("/respond?s=kiosk&v=not-a-key").text)["key"] != "web-not-a-key"
    assert count(form.engine, models.Response) == 1


def test_unknown_links_say_so_in_the_browser_language(form):
    page = form.get("/respond?s=no-such", headers={"accept-language": "de-DE"})
    assert page.status_code == 404
    assert respondent.phrase("unknown", "de") in page.text and '<html lang="de">' in page.text


def test_old_links_are_sent_on_to_the_form_and_everything_else_to_streamlit():
    async def streamlit(request):
        return PlainTextResponse("streamlit")

    app = Starlette(routes=[Route("/", streamlit, methods=["GET", "POST"])])
    client = TestClient(pages.OldLinks(app, enabled=True), follow_redirects=False)
    moved = client.get("/?t=abc&lang=fr")
    assert moved.status_code == 307 and moved.headers["location"] == "/respond?t=abc&lang=fr"
    assert client.get("/?s=kiosk").headers["location"] == "/respond?s=kiosk"
    assert client.get("/").text == "streamlit"
    assert client.get("/?page=trends").text == "streamlit"
    assert client.post("/?t=abc").text == "streamlit"
    kept = TestClient(pages.OldLinks(app, enabled=False), follow_redirects=False)
    assert kept.get("/?t=abc").text == "streamlit"  # SURVEY_RESPONDENT_FORM=streamlit


@pytest.fixture
def live_form(database_url):
    """The form's routes served by uvicorn on a free 127.0.0.1 port (threads, keep-alive: a real
    server, for concurrent submissions); yields (port, engine)."""
    import threading

    import uvicorn

    from tests.conftest import free_port

    engine = form_database(database_url)
    respondent_form = pages.RespondentForm(database_url, environ={"SURVEY_FORM_RATE_PER_ADDRESS": "100000"})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=respondent_form.routes()), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    yield port, engine
    server.should_exit = True
    thread.join(30)
    respondent_form.dispose()
    engine.dispose()


def _post_form(port: int, path: str, fields: dict) -> tuple[int, str]:
    import http.client
    from urllib.parse import urlencode

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", path, body=urlencode(fields),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, response.getheader("location") or text
    finally:
        connection.close()


def _get_form(port: int, path: str) -> str:
    import urllib.request

    return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60).read().decode()


def test_concurrent_double_submits_store_one_response_per_visit_and_per_invitation(live_form):
    from concurrent.futures import ThreadPoolExecutor

    port, engine = live_form
    visits = []
    for number in range(20):
        fields = hidden(_get_form(port, "/respond?s=kiosk"))
        visits.append({**fields, "screen": "2", "q.recommend": str(number % 11), "q.why": "slow", "q.more": "no",
                       "action": "submit"})
    # two tabs of one invitation, each with its own visit key, every answer complete
    tabs = []
    for _ in range(2):
        fields = hidden(_get_form(port, f"/respond?t={TOKEN}"))
        tabs.append({**fields, "screen": "3", "q.recommend": "8", "q.satisfaction": "7", "q.comment": "ok",
                     **{f"q.drivers.{a}": "6" for a in ("product_quality", "delivery", "support", "billing",
                                                       "value_for_money")}, "action": "submit"})
    jobs = [("/respond?s=kiosk", visit) for visit in visits for _ in range(3)]
    jobs += [(f"/respond?t={TOKEN}", tab) for tab in tabs for _ in range(4)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        outcomes = list(pool.map(lambda job: _post_form(port, *job), jobs))
    kiosk = [outcome for (path, _), outcome in zip(jobs, outcomes) if "s=kiosk" in path]
    assert all(status == 303 and to.startswith("/respond/thanks?s=kiosk") for status, to in kiosk)
    # the invitation's presses: sent to the thank-you page, or, once another tab's response is in,
    # "already answered" (a redirect saying so, or the page itself when the link already reads so)
    personal = [outcome for (path, _), outcome in zip(jobs, outcomes) if "t=" in path]
    assert all((status == 303 and "/respond" in to) or (status == 200 and "You already answered" in to)
               for status, to in personal), personal
    with engine.connect() as connection:
        per_survey = dict(connection.execute(select(models.Survey.slug, func.count(models.Response.id))
                                             .join(models.Response, models.Response.survey_id == models.Survey.id)
                                             .group_by(models.Survey.slug)).all())
        keys = connection.execute(select(models.Response.idempotency_key)).scalars().all()
    assert per_survey == {"kiosk": 20, "relationship-nps": 1}
    assert {visit["key"] for visit in visits} <= set(keys)
    assert len({tab["key"] for tab in tabs} & set(keys)) == 1  # one tab's response, the other's refused
