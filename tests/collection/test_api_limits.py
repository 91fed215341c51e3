"""Rate limits of the JSON API (issue 16): per client address and per key, 429 with Retry-After."""

from __future__ import annotations

import warnings

import pytest
from sqlalchemy import func, select

from survey.collection import api, apikeys
from survey.collection.ratelimit import TokenBuckets, retry_after
from survey.storage import db, models
from tests.collection.test_api_concurrency import prepare_database

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx versions
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

PATH = "/api/v1/surveys/post-support/responses"
GOOD = {"csat": 4, "effort": 6}


@pytest.fixture
def limited(database_url):
    """In-process clients of an API with tiny rate limits, and a second key."""
    def make(**limits):
        survey_api = api.SurveyApi(database_url, api.ApiLimits(**limits))
        made.append(survey_api)
        return TestClient(Starlette(routes=survey_api.routes()))

    made: list[api.SurveyApi] = []
    first = prepare_database(database_url)
    engine = db.make_engine(database_url)
    with db.session_scope(engine) as session:
        second = apikeys.create_key(session, "second").key
    yield make, first, second, engine
    for survey_api in made:
        survey_api.dispose()
    engine.dispose()


def stored(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(models.Response)).scalar_one()


def test_requests_over_a_keys_rate_are_429_with_retry_after_and_other_keys_go_on(limited):
    make, first, second, engine = limited
    client = make(rate_per_key=0.01)  # one request, then one per 100 seconds
    assert client.post(PATH, json={"idempotency_key": "a", "answers": GOOD}, headers={"X-API-Key": first}).status_code == 201
    refused = client.post(PATH, json={"idempotency_key": "b", "answers": GOOD}, headers={"X-API-Key": first})
    assert refused.status_code == 429
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("api_key", "rate_limited")]
    assert 1 <= int(refused.headers["Retry-After"]) <= 100
    assert client.post(PATH, json={"idempotency_key": "c", "answers": GOOD}, headers={"X-API-Key": second}).status_code == 201
    assert stored(engine) == 2


def test_requests_over_an_addresss_rate_are_429_whatever_the_key_even_a_wrong_one(limited):
    make, first, second, engine = limited
    client = make(rate_per_address=0.01)
    assert client.post(PATH, json={"idempotency_key": "a", "answers": GOOD}, headers={"X-API-Key": first}).status_code == 201
    for key in (second, "sk_wrong_guess"):
        refused = client.post(PATH, json={"idempotency_key": "b", "answers": GOOD}, headers={"X-API-Key": key})
        assert refused.status_code == 429
        assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("client_address", "rate_limited")]
        assert int(refused.headers["Retry-After"]) >= 1
    assert stored(engine) == 1


def test_token_buckets_refill_at_their_rate():
    now = [0.0]
    buckets = TokenBuckets(per_second=2, burst=3, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)  # one token comes back every 1/2 second
    assert buckets.take("other") == 0.0  # buckets are per key
    now[0] = 0.5
    assert buckets.take("k") == 0.0 and buckets.take("k") == pytest.approx(0.5)
    assert (retry_after(0.01), retry_after(1.2)) == ("1", "2")


def test_bad_limit_settings_are_named():
    with pytest.raises(ValueError, match="SURVEY_API_RATE_PER_KEY='fast': expected a positive number"):
        api.ApiLimits.from_env({"SURVEY_API_RATE_PER_KEY": "fast"})
    assert api.ApiLimits.from_env({}).rate_per_key == api.DEFAULT_RATE_PER_KEY
