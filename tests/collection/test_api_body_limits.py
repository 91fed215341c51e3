"""The JSON API's body limits against a real server (issue 16, finding 8): a Content-Length over the
limit is answered 413 at once, without waiting for a body that never comes, and a body shorter than
its Content-Length is answered 408 once its time is up, so no client can hold a connection."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from survey.storage import db, models
from tests.collection.test_api_concurrency import Server, prepare_database
from tests.conftest import fresh_database_url

PATH = "/api/v1/surveys/post-support/responses"
GOOD = {"csat": 4, "effort": 6}
SOCKET_SECONDS = 60  # a guard against a hang, not a timing assertion: the server answers long before


@pytest.fixture(scope="module")
def slow_body_server(tmp_path_factory):
    """A real server on SQLite whose bodies must arrive within 1 second."""
    url = next(fresh_database_url("sqlite", tmp_path_factory.mktemp("limits")))
    running = Server(url, prepare_database(url), environment={"SURVEY_API_BODY_SECONDS": "1"}).start()
    yield running
    running.stop()


def raw_exchange(server: Server, head: bytes, body: bytes) -> bytes:
    """Send a request by hand (headers that lie about the body) and return the status line."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_SECONDS) as connection:
        connection.sendall(head + b"\r\n" + body)
        received = b""
        while b"\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n", 1)[0]


def headers(server: Server, length: int) -> bytes:
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {server.key}\r\nContent-Length: {length}\r\n").encode()


# Finding 8 of issue 16: a huge Content-Length with a short body got no 413; the server waited for the bytes.
def test_a_content_length_over_the_limit_with_a_short_body_is_413_without_waiting_for_it(slow_body_server):
    status = raw_exchange(slow_body_server, headers(slow_body_server, 50_000_000), b'{"idempotency_key": "x"')
    assert status.startswith(b"HTTP/1.1 413")


def test_a_body_shorter_than_its_content_length_is_408_once_its_time_is_up(slow_body_server):
    status = raw_exchange(slow_body_server, headers(slow_body_server, 2_000), b'{"idempotency_key": "x"')
    assert status.startswith(b"HTTP/1.1 408")
    engine = db.make_engine(slow_body_server.url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.Response)).scalar_one() == 0
    engine.dispose()
    # the server still answers normally
    assert slow_body_server.submit({"idempotency_key": "after", "answers": GOOD})[0] == 201
