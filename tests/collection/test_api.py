"""The JSON API's contract: status codes, error codes, API keys, invitations, anonymity, OpenAPI,
and a malformed-input corpus (tests/data/malformed_api_cases.json) sent to a real server."""

from __future__ import annotations

import base64
import json
import runpy
import sqlite3
import warnings
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, func, select, text, update
from sqlalchemy.engine import make_url

from survey import cli
from survey.collection import api, apikeys
from survey.storage import db, models
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from survey.storage.models import utc_now
from tests.conftest import ROOT, SAMPLE_SURVEYS
from tests.collection.test_api_concurrency import Server, prepare_database, server  # noqa: F401 - `server` is a fixture

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx versions
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

CORPUS = ROOT / "tests" / "data" / "malformed_api_cases.json"
SUPPORT = load_yaml(SAMPLE_SURVEYS / "post_support.yaml")
GOOD = {"csat": 4, "effort": 6, "resolved": "partly", "comment": "Took two calls"}
PATH = "/api/v1/surveys/post-support/responses"


@pytest.fixture
def client(database_url):
    """An in-process client of the API over a fresh database with the sample surveys and a key."""
    key = prepare_database(database_url)
    survey_api = api.SurveyApi(database_url)
    with TestClient(Starlette(routes=survey_api.routes())) as test_client:
        test_client.headers["X-API-Key"] = key
        test_client.key = key
        test_client.engine = db.make_engine(database_url)
        yield test_client
        test_client.engine.dispose()
    survey_api.dispose()


def post(client, body, path=PATH, **kwargs):
    return client.post(path, json=body, **kwargs)


def count(engine, table, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def add_invitation(engine, token: str, slug: str = "post-support", expires_in: timedelta | None = None) -> tuple[int, int]:
    with db.session_scope(engine) as session:
        customer = session.scalar(select(models.Customer).where(models.Customer.external_ref == "C-1"))
        if customer is None:
            customer = models.Customer(external_ref="C-1", name="Ada Lovelace")
            session.add(customer)
            session.flush()
        survey_id = session.scalar(select(models.Survey.id).where(models.Survey.slug == slug))
        invitation = models.Invitation(token=token, survey_id=survey_id, customer_id=customer.id,
                                       expires_at=utc_now() + expires_in if expires_in is not None else None)
        session.add(invitation)
        session.flush()
        return invitation.id, customer.id


def errors_of(response) -> list[tuple[str, str, str]]:
    """(field or question, name, code) per error."""
    return [("question", e["question"], e["code"]) if "question" in e else ("field", e["field"], e["code"])
            for e in response.json()["errors"]]


# -- the happy path and idempotency ---------------------------------------------------------------

def test_valid_submission_returns_201_and_stores_the_answers(client):
    response = post(client, {"idempotency_key": "k1", "channel": "kiosk", "answers": GOOD})
    assert response.status_code == 201
    assert response.json()["created"] is True
    with client.engine.connect() as connection:
        stored = connection.execute(select(models.Response.channel, models.Response.language)
                                    .where(models.Response.id == response.json()["response_id"])).one()
        answers = {key: text_value if text_value is not None else number for key, number, text_value in connection.execute(
            select(models.Answer.question_key, models.Answer.numeric_value, models.Answer.text_value)
            .where(models.Answer.response_id == response.json()["response_id"]))}
    assert tuple(stored) == ("kiosk", "en")
    assert answers == {"csat": 4, "effort": 6, "resolved": "partly", "comment": "Took two calls"}


# Finding 5 of issue 16: the pattern check's `$` matched before a trailing newline, so this was a 201.
@pytest.mark.parametrize("channel", ["kiosk\n", "kiosk\r\n", "\nkiosk", "kiosk\nphone"])
def test_a_channel_with_a_newline_is_422_invalid_format_and_stores_nothing(client, channel):
    response = post(client, {"idempotency_key": "k1", "channel": channel, "answers": GOOD})
    assert response.status_code == 422
    assert errors_of(response) == [("field", "channel", "invalid_format")]
    assert count(client.engine, models.Response) == 0


def test_a_slug_with_a_trailing_newline_is_404(client):
    response = post(client, {"idempotency_key": "k1", "answers": GOOD}, path="/api/v1/surveys/post-support%0A/responses")
    assert response.status_code == 404
    assert errors_of(response) == [("field", "slug", "unknown_survey")]


def test_resending_the_same_key_and_body_returns_200_with_the_same_id(client):
    first = post(client, {"idempotency_key": "k1", "answers": GOOD})
    again = post(client, {"idempotency_key": "k1", "answers": GOOD})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["response_id"] == first.json()["response_id"] and again.json()["created"] is False
    assert count(client.engine, models.Response) == 1


def test_same_key_with_other_answers_is_409_and_the_first_answers_stay(client):
    post(client, {"idempotency_key": "k1", "answers": GOOD})
    conflict = post(client, {"idempotency_key": "k1", "answers": {**GOOD, "csat": 1}})
    assert conflict.status_code == 409
    assert errors_of(conflict) == [("field", "idempotency_key", "idempotency_conflict")]
    assert count(client.engine, models.Answer, models.Answer.question_key == "csat",
                 models.Answer.numeric_value == 4) == 1
    assert count(client.engine, models.Response) == 1


def test_validation_failure_is_422_listing_every_question_with_a_code(client):
    response = post(client, {"idempotency_key": "k1", "answers": {
        "csat": 6, "effort": "easy", "resolved": "perhaps", "comment": "x" * 1001, "colour": "blue"}})
    assert response.status_code == 422
    assert sorted(errors_of(response)) == sorted([
        ("question", "csat", "out_of_range"), ("question", "effort", "not_integer"),
        ("question", "resolved", "not_a_choice"), ("question", "comment", "too_long"),
        ("question", "colour", "unknown_question")])
    assert all(e["message"] for e in response.json()["errors"])
    assert count(client.engine, models.Response) == 0


def test_unknown_survey_is_404(client):
    response = post(client, {"idempotency_key": "k1", "answers": GOOD}, path="/api/v1/surveys/no-such/responses")
    assert response.status_code == 404
    assert errors_of(response) == [("field", "slug", "unknown_survey")]


def test_closed_survey_is_409_survey_closed(client):
    with client.engine.begin() as connection:
        connection.execute(update(models.Survey).where(models.Survey.slug == "post-support").values(status="closed"))
    response = post(client, {"idempotency_key": "k1", "answers": GOOD})
    assert response.status_code == 409
    assert errors_of(response) == [("field", "slug", "survey_closed")]
    assert count(client.engine, models.Response) == 0


# -- API keys -------------------------------------------------------------------------------------

def test_missing_or_wrong_api_key_is_401_and_bearer_is_accepted(client):
    body = {"idempotency_key": "k1", "answers": GOOD}
    missing = client.post(PATH, json=body, headers={"X-API-Key": ""})
    wrong = client.post(PATH, json=body, headers={"X-API-Key": client.key[:-2] + "xx"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert errors_of(missing) == [("field", "api_key", "missing_api_key")]
    assert errors_of(wrong) == [("field", "api_key", "invalid_api_key")]
    assert "WWW-Authenticate" in wrong.headers
    bearer = client.post(PATH, json=body, headers={"X-API-Key": "", "Authorization": f"Bearer {client.key}"})
    assert bearer.status_code == 201


def test_revoked_key_is_refused_once_the_cache_expires(client, monkeypatch):
    monkeypatch.setattr(api, "KEY_CACHE_SECONDS", 0.0)
    assert post(client, {"idempotency_key": "k1", "answers": GOOD}).status_code == 201
    with db.session_scope(client.engine) as session:
        apikeys.revoke_key(session, apikeys.key_prefix(client.key))
    refused = post(client, {"idempotency_key": "k2", "answers": GOOD})
    assert refused.status_code == 401
    assert errors_of(refused) == [("field", "api_key", "invalid_api_key")]


def test_api_keys_are_stored_only_as_hashes(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        created = apikeys.create_key(session, "call centre")
    with engine.connect() as connection:
        stored = connection.execute(select(models.ApiKey.name, models.ApiKey.prefix, models.ApiKey.key_hash)).one()
    engine.dispose()
    secret = created.key.split("_", 2)[2]
    assert stored.name == "call centre" and stored.prefix == created.prefix
    assert secret not in stored.key_hash and stored.key_hash == apikeys.hash_key(created.key)
    assert len(secret) >= 43  # token_urlsafe(32): 256 random bits


def test_cli_apikey_create_prints_a_key_that_the_api_accepts(client, database_url, monkeypatch, capsys):
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    assert cli.main(["apikey", "create", "kiosk in Lyon"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("sk_") and key != client.key
    response = client.post(PATH, json={"idempotency_key": "cli", "answers": GOOD}, headers={"X-API-Key": key})
    assert response.status_code == 201
    assert cli.main(["apikey", "create", "  "]) == 1
    assert "needs a name" in capsys.readouterr().err


def test_cli_apikey_revoke_refuses_the_key_from_then_on(client, database_url, monkeypatch, capsys):
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    assert cli.main(["apikey", "create", "tablet"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    prefix = apikeys.key_prefix(key)
    assert cli.main(["apikey", "revoke", prefix]) == 0
    assert capsys.readouterr().out.strip() == f"API key {prefix} revoked"
    with db.session_scope(client.engine) as session:
        assert apikeys.verify_key(session, key) is None
    assert cli.main(["apikey", "revoke", "sk_nothere"]) == 1
    assert capsys.readouterr().err.startswith("error: ")


# -- bodies ---------------------------------------------------------------------------------------

def test_body_over_64_kib_is_413_and_stores_nothing(client):
    body = json.dumps({"idempotency_key": "big", "answers": {**GOOD, "comment": "x" * 70_000}})
    response = client.post(PATH, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert errors_of(response) == [("field", "body", "body_too_large")]
    streamed = client.post(PATH, content=iter([body.encode()[i:i + 8192] for i in range(0, len(body), 8192)]),
                           headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413  # chunked, without Content-Length: counted while reading
    assert count(client.engine, models.Response) == 0


def test_malformed_json_is_400_and_another_content_type_is_415(client):
    broken = client.post(PATH, content=b'{"idempotency_key": "k", "answers": {', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and errors_of(broken) == [("field", "body", "malformed_json")]
    form = client.post(PATH, data={"idempotency_key": "k"})
    assert form.status_code == 415 and errors_of(form) == [("field", "content-type", "unsupported_media_type")]


def test_unknown_api_path_and_wrong_method_answer_with_json_errors(client):
    missing = client.get("/api/v1/nothing-here")
    wrong_method = client.get(PATH)
    assert missing.status_code == 404 and errors_of(missing) == [("field", "path", "not_found")]
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert errors_of(wrong_method) == [("field", "method", "method_not_allowed")]
    assert client.get("/api/v1/health").json() == {"status": "ok"}


# -- invitations, customers, anonymity -----------------------------------------------------------

def test_token_links_the_response_to_the_invited_customer_and_marks_it_answered(client):
    invitation_id, customer_id = add_invitation(client.engine, "tok-1")
    response = post(client, {"idempotency_key": "k1", "token": "tok-1", "answers": GOOD})
    assert response.status_code == 201
    with client.engine.connect() as connection:
        stored = connection.execute(select(models.Response.customer_id, models.Response.invitation_id)).one()
        responded_at = connection.execute(select(models.Invitation.responded_at)).scalar_one()
    assert tuple(stored) == (customer_id, invitation_id)
    assert responded_at is not None


def test_answered_invitation_is_409_already_answered_but_its_retry_is_200(client):
    add_invitation(client.engine, "tok-1")
    first = post(client, {"idempotency_key": "k1", "token": "tok-1", "answers": GOOD})
    retry = post(client, {"idempotency_key": "k1", "token": "tok-1", "answers": GOOD})
    second = post(client, {"idempotency_key": "k2", "token": "tok-1", "answers": {**GOOD, "csat": 1}})
    assert (first.status_code, retry.status_code, second.status_code) == (201, 200, 409)
    assert retry.json()["response_id"] == first.json()["response_id"]
    assert errors_of(second) == [("field", "token", "already_answered")]
    assert count(client.engine, models.Response) == 1


def test_expired_unknown_or_foreign_invitation_token_is_422_on_token(client):
    add_invitation(client.engine, "old", expires_in=timedelta(days=-1))
    add_invitation(client.engine, "other-survey", slug="relationship-nps")
    codes = {token: errors_of(post(client, {"idempotency_key": token, "token": token, "answers": GOOD}))
             for token in ("old", "nope", "other-survey")}
    assert codes == {"old": [("field", "token", "expired")], "nope": [("field", "token", "unknown_token")],
                     "other-survey": [("field", "token", "unknown_token")]}
    assert count(client.engine, models.Response) == 0


def test_customer_ref_links_the_customer_and_an_unknown_one_is_422(client):
    _, customer_id = add_invitation(client.engine, "tok-1")
    linked = post(client, {"idempotency_key": "k1", "customer_ref": "C-1", "answers": GOOD})
    unknown = post(client, {"idempotency_key": "k2", "customer_ref": "C-404", "answers": GOOD})
    assert linked.status_code == 201
    assert unknown.status_code == 422 and errors_of(unknown) == [("field", "customer_ref", "unknown_customer")]
    with client.engine.connect() as connection:
        assert connection.execute(select(models.Response.customer_id)).scalar_one() == customer_id


def test_anonymous_survey_stores_no_token_or_customer_link(client):
    anonymous = SUPPORT.__class__(**{**vars(SUPPORT), "slug": "anon", "anonymous": True})
    with db.session_scope(client.engine) as session:
        publish(session, anonymous)
    invitation_id, _ = add_invitation(client.engine, "tok-anon", slug="anon")
    path = "/api/v1/surveys/anon/responses"
    first = post(client, {"idempotency_key": "a1", "token": "tok-anon", "customer_ref": "C-1", "answers": GOOD}, path=path)
    second = post(client, {"idempotency_key": "a2", "token": "tok-anon", "answers": GOOD}, path=path)
    assert (first.status_code, second.status_code) == (201, 409)  # one response per invitation still
    with client.engine.connect() as connection:
        stored = connection.execute(select(models.Response.customer_id, models.Response.invitation_id)).one()
        responded_at = connection.execute(select(models.Invitation.responded_at)
                                          .where(models.Invitation.id == invitation_id)).scalar_one()
        columns = set(models.Response.__table__.columns.keys())
    assert tuple(stored) == (None, None)
    assert (responded_at.hour, responded_at.minute, responded_at.second) == (0, 0, 0)  # the day only
    assert not columns & {"ip", "ip_address", "user_agent", "token"}


def test_unreachable_database_is_503_database_busy_not_500():
    unreachable = api.SurveyApi("postgresql+psycopg://survey:survey@127.0.0.1:1/nowhere")
    with TestClient(Starlette(routes=unreachable.routes())) as test_client:
        response = test_client.post(PATH, json={"idempotency_key": "k", "answers": GOOD},
                                    headers={"X-API-Key": "sk_abcdefgh_secret"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert errors_of(response) == [("field", "database", "database_busy")]


# -- OpenAPI --------------------------------------------------------------------------------------

def test_openapi_document_is_served_and_shipped_identically(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    shipped = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert served.json() == shipped == json.loads(json.dumps(api.openapi_document()))
    assert shipped["openapi"].startswith("3.1") and "/api/v1/surveys/{slug}/responses" in shipped["paths"]


def test_openapi_documents_every_status_and_error_code_of_the_corpus():
    operation = api.openapi_document()["paths"]["/api/v1/surveys/{slug}/responses"]["post"]["responses"]
    for case in json.loads(CORPUS.read_text(encoding="utf-8"))["rejected"]:
        expected = case["expect"]
        assert str(expected["status"]) in operation, case["name"]
        assert expected["code"] in operation[str(expected["status"])]["description"], case["name"]


# -- the malformed-input corpus, through a real server -------------------------------------------

def corpus() -> dict:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def test_corpus_is_up_to_date_with_its_builder_and_large_enough():
    built = runpy.run_path(str(CORPUS.with_suffix(".py")), run_name="corpus")
    document = corpus()
    assert document["rejected"] == json.loads(json.dumps(built["cases"]))
    assert document["stored_exactly"] == built["stored_exactly"]
    assert len(document["rejected"]) >= 150
    assert len({case["name"] for case in document["rejected"]}) == len(document["rejected"])


def corpus_request(case: dict, key: str) -> tuple[str, object, dict]:
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    for name, value in case.get("headers", {}).items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value.replace("{prefix}", key[:11])
    if "body" in case:
        body = json.dumps(case["body"], ensure_ascii=True).encode("ascii")
    elif "raw" in case:
        body = case["raw"].encode("utf-8")
    elif "raw_base64" in case:
        body = base64.b64decode(case["raw_base64"])
    else:
        head, tail = b'{"idempotency_key": "big", "answers": {"comment": "', b'"}}'
        body = head + b"x" * (case["size"]["bytes"] - len(head) - len(tail)) + tail
        if case["size"]["chunked"]:
            body = iter([body[i:i + 16384] for i in range(0, len(body), 16384)])  # no Content-Length
    return f"/api/v1/surveys/{case.get('slug', 'post-support')}/responses", body, headers


def database_dump(url: str) -> list:
    """Every row of every table, in a stable order (and SQLite's own full dump for SQLite files)."""
    engine = db.make_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        dump = [(table.name, [tuple(row) for row in connection.execute(
            select(table).order_by(*(table.primary_key.columns or table.columns)))])
            for table in metadata.sorted_tables]
    engine.dispose()
    if make_url(url).get_backend_name() == "sqlite":
        with sqlite3.connect(make_url(url).database) as connection:
            dump.append(("iterdump", list(connection.iterdump())))
    return dump


def test_every_malformed_case_gets_a_4xx_naming_its_field_and_leaves_the_database_identical(server):
    before = database_dump(server.url)
    failures = []
    connection = server.connection()
    for case in corpus()["rejected"]:
        path, body, headers = corpus_request(case, server.key)
        try:
            status, payload = server.request("POST", path, body, headers, connection=connection)
        except (OSError, ValueError) as error:  # a dropped connection or a non-JSON body
            failures.append((case["name"], repr(error)))
            connection.close()
            connection = server.connection()
            continue
        expected = case["expect"]
        name = expected["name"].encode("utf-8", "backslashreplace").decode("utf-8")
        named = [(e.get(expected["where"]), e["code"]) for e in payload.get("errors", [])]
        if status != expected["status"] or (name, expected["code"]) not in named:
            failures.append((case["name"], status, named[:4]))
    connection.close()
    assert failures == []
    assert database_dump(server.url) == before


def test_nul_in_the_url_path_is_refused_before_the_api_by_streamlits_path_guard(server):
    before = database_dump(server.url)
    status, _ = server.request("POST", "/api/v1/surveys/post-support%00/responses",
                               json.dumps({"idempotency_key": "nul", "answers": GOOD}).encode(),
                               {"Content-Type": "application/json", "X-API-Key": server.key})
    assert status == 400  # plain text: Streamlit's PathSecurityMiddleware runs before any route
    assert database_dump(server.url) == before


def test_valid_unicode_html_and_formulas_are_stored_exactly_as_typed(server):
    texts = corpus()["stored_exactly"]
    ids = {}
    for n, typed in enumerate(texts):
        status, payload = server.submit({"idempotency_key": f"exact-{n}-{server.port}",
                                         "answers": {"csat": 3, "effort": 3, "comment": typed}})
        assert status == 201, (typed, payload)
        ids[payload["response_id"]] = typed
    engine = db.make_engine(server.url)
    with engine.connect() as connection:
        stored = dict(connection.execute(select(models.Answer.response_id, models.Answer.text_value)
                                         .where(models.Answer.response_id.in_(ids),
                                                models.Answer.question_key == "comment")).all())
    engine.dispose()
    assert stored == ids


def test_api_only_migrates_and_never_generates_demo_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        key = apikeys.create_key(session, "t").key
    running = Server(url, key).start()
    try:
        status, payload = running.submit({"idempotency_key": "k", "answers": GOOD})
        assert status == 404 and payload["errors"][0]["code"] == "unknown_survey"
    finally:
        running.stop()
    assert count(engine, models.Survey) == 0 and count(engine, models.Customer) == 0
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar_one()
    engine.dispose()
