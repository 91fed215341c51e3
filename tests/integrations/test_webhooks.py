"""Webhooks against a real HTTP receiver on 127.0.0.1: every event delivered at least once, signed,
whether the receiver is down, slow or answers 500 for a while, and after the sender is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import event, func, select

from survey import demo
from survey.collection.collect import InvalidAnswers, submit
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from survey.integrations import outbox
from survey.integrations.delivery import DeliverySettings, deliver_due
from survey.integrations.signing import EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from survey.integrations.webhooks import add_webhook, retry
from survey.storage import db, models
from tests.conftest import ROOT, free_port

SURVEY = """
slug: hooks
title: Hooks
questions:
  - {key: recommend, kind: nps, text: Recommend, required: true}
  - {key: why, kind: text, text: Why}
"""
FAST = DeliverySettings(max_attempts=10, backoff_seconds=0, timeout_seconds=2, lease_seconds=5, batch=50)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each POST; it can answer 500 for the first
    `failures` requests, take `delay` seconds per request, or be stopped (down) and started again."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[dict] = []
        self.failures = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    failing = receiver.failures > 0
                    receiver.failures -= failing
                    receiver.received.append({"headers": dict(self.headers), "body": body, "answered": 500 if failing else 204})
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/survey"

    def accepted_events(self, secret: str) -> dict[str, dict]:
        """Event id -> body of every request answered 2xx whose signature and timestamp check out
        (a receiver drops duplicates by event id)."""
        found = {}
        for request in self.received:
            headers = request["headers"]
            assert verify(secret, request["body"], headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER],
                          now=int(headers[TIMESTAMP_HEADER])), "every request is signed"
            body = json.loads(request["body"])
            assert headers[EVENT_HEADER] == body["id"]
            if request["answered"] == 204:
                found[body["id"]] = body
        return found


@pytest.fixture
def receiver():
    found = Receiver().start()
    yield found
    found.stop()


@pytest.fixture
def published(engine):
    return publish_hooks(engine)


def publish_hooks(engine):
    survey = loads_yaml(SURVEY)
    with db.session_scope(engine) as session:
        publish(session, survey)
        session.add_all([models.Customer(external_ref=f"C{i}", name=f"Customer {i}", email=f"c{i}@example.com",
                                         consent_to_contact=True)
                         for i in range(3)])
    return survey


def hook(engine, url: str, events=(outbox.RESPONSE_CREATED,)):
    with db.session_scope(engine) as session:
        return add_webhook(session, url, list(events))


def submit_burst(engine, survey, count: int, start: int = 0, workers: int = 4) -> list[int]:
    """`count` submissions from `workers` threads at once, each in its own transaction."""
    def one(number: int) -> int:
        with db.session_scope(engine) as session:
            version = session.scalar(select(models.SurveyVersion).order_by(models.SurveyVersion.id.desc()))
            return submit(session, version, survey, {"recommend": number % 11, "why": f"answer {number}"},
                          idempotency_key=f"burst-{number}", channel="api").response_id

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(start, start + count)))


def outbox_rows(engine, **where):
    with engine.connect() as connection:
        query = select(models.WebhookDelivery)
        for name, value in where.items():
            query = query.where(getattr(models.WebhookDelivery, name) == value)
        return connection.execute(query).all()


def test_every_event_of_a_burst_is_delivered_once_each_with_a_valid_signature(engine, published, receiver):
    added = hook(engine, receiver.url)
    ids = submit_burst(engine, published, 40)
    assert len(outbox_rows(engine)) == 40  # written with each response
    report = deliver_due(engine, FAST)
    assert report.delivered == 40 and report.failed_tries == 0
    events = receiver.accepted_events(added.secret)
    assert len(receiver.received) == 40 and len(events) == 40
    assert sorted(body["data"]["response_id"] for body in events.values()) == sorted(ids)
    assert {body["type"] for body in events.values()} == {"response.created"}
    one = next(iter(events.values()))["data"]
    assert one["survey"] == "hooks" and one["version"] == 1 and one["channel"] == "api"
    assert "why" not in one["scores"]  # free text is never sent
    assert {row.status for row in outbox_rows(engine)} == {"delivered"}
    assert deliver_due(engine, FAST).delivered == 0  # nothing is sent twice once delivered


def test_a_receiver_that_is_down_gets_every_event_when_it_comes_back(engine, published):
    port = free_port()
    added = hook(engine, f"http://127.0.0.1:{port}/hooks/survey")
    ids = submit_burst(engine, published, 12)
    settings = DeliverySettings(max_attempts=5, backoff_seconds=30, timeout_seconds=2, lease_seconds=5)
    first = deliver_due(engine, settings)
    assert first.delivered == 0 and first.failed_tries == 12
    rows = outbox_rows(engine)
    assert {(row.status, row.attempts) for row in rows} == {("pending", 1)}
    assert all("ConnectionRefusedError" in row.last_error for row in rows)
    assert deliver_due(engine, settings).failed_tries == 0  # the next try waits for its backoff
    receiver = Receiver(port).start()
    try:
        later = datetime.now(timezone.utc) + timedelta(seconds=31)
        assert deliver_due(engine, settings, now=later).delivered == 12
        events = receiver.accepted_events(added.secret)
        assert sorted(body["data"]["response_id"] for body in events.values()) == sorted(ids)
    finally:
        receiver.stop()


def test_500s_for_a_while_are_retried_until_delivered_and_too_many_mark_the_delivery_failed(
        engine, published, receiver):
    added = hook(engine, receiver.url)
    submit_burst(engine, published, 5)
    receiver.failures = 12  # the first twelve requests get a 500
    report = deliver_due(engine, FAST)
    assert report.delivered == 5 and report.failed_tries == 12
    assert len(receiver.accepted_events(added.secret)) == 5
    assert sum(row.attempts for row in outbox_rows(engine)) == 17
    # a receiver that keeps failing: the delivery is marked failed after max_attempts tries
    submit_burst(engine, published, 1, start=100)
    receiver.failures = 1000
    gave_up = deliver_due(engine, DeliverySettings(max_attempts=3, backoff_seconds=0, timeout_seconds=2))
    assert gave_up.gave_up == 1 and gave_up.failed_tries == 3
    failed = outbox_rows(engine, status="failed")
    assert len(failed) == 1 and failed[0].attempts == 3 and failed[0].last_status == 500
    # an admin retries it once the receiver is fixed
    receiver.failures = 0
    with db.session_scope(engine) as session:
        assert retry(session, [failed[0].id]) == 1
    assert deliver_due(engine, FAST).delivered == 1
    assert outbox_rows(engine, status="failed") == []


def test_a_slow_receiver_times_out_and_gets_the_event_again(engine, published, receiver):
    added = hook(engine, receiver.url)
    submit_burst(engine, published, 2)
    receiver.delay = 1.5
    slow = DeliverySettings(max_attempts=5, backoff_seconds=0, timeout_seconds=0.5, lease_seconds=5)
    report = deliver_due(engine, slow, max_rounds=1)
    assert report.failed_tries == 2 and report.delivered == 0
    assert all("timed out" in row.last_error for row in outbox_rows(engine))
    receiver.delay = 0
    time.sleep(1.6)  # the slow answers finish (the receiver has the bodies: duplicates to drop by id)
    assert deliver_due(engine, FAST).delivered == 2
    assert len(receiver.received) == 4 and len(receiver.accepted_events(added.secret)) == 2


def test_every_event_is_delivered_after_the_sender_is_killed_mid_way(sqlite_engine, receiver):
    engine, published = sqlite_engine, publish_hooks(sqlite_engine)  # one backend is enough for the processes
    added = hook(engine, receiver.url)
    ids = submit_burst(engine, published, 20)
    receiver.delay = 0.3
    env = {**os.environ, "SURVEY_DATABASE_URL": str(engine.url), "PYTHONPATH": str(ROOT),
           "SURVEY_WEBHOOK_TIMEOUT_SECONDS": "2", "SURVEY_WEBHOOK_LEASE_SECONDS": "2",
           "SURVEY_WEBHOOK_BACKOFF_SECONDS": "0"}
    sender = subprocess.Popen([sys.executable, "-m", "survey", "webhook", "deliver"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(receiver.received) < 4 and time.monotonic() < deadline and sender.poll() is None:
        time.sleep(0.05)
    os.killpg(sender.pid, signal.SIGKILL)  # killed mid-way: some sent, one in flight, the rest claimed
    sender.wait()
    assert sender.returncode == -signal.SIGKILL
    before = len(receiver.accepted_events(added.secret))
    assert 0 < before < 20
    receiver.delay = 0
    for _ in range(40):  # the scheduled job runs again; the dead sender's lease runs out after 2 s
        again = subprocess.run([sys.executable, "-m", "survey", "webhook", "deliver"], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        if not outbox_rows(engine, status="pending"):
            break
        time.sleep(0.5)
    events = receiver.accepted_events(added.secret)
    assert sorted(body["data"]["response_id"] for body in events.values()) == sorted(ids)
    assert {row.status for row in outbox_rows(engine)} == {"delivered"}


def test_cases_opened_and_resolved_are_announced_in_their_own_transaction(engine, published, receiver):
    from survey.followup.workflow import change_status
    from survey.people.access import Actor

    added = hook(engine, receiver.url, [outbox.CASE_OPENED, outbox.CASE_RESOLVED])
    with db.session_scope(engine) as session:
        version = session.scalar(select(models.SurveyVersion))
        customer = session.scalar(select(models.Customer).where(models.Customer.external_ref == "C1"))
        submit(session, version, published, {"recommend": 1, "why": "Nobody called back."},
               idempotency_key="low", channel="web", customer_id=customer.id)
    opened = outbox_rows(engine, event_type="case.opened")
    assert len(opened) == 1 and opened[0].payload["customer_ref"] == "C1"
    assert outbox_rows(engine, event_type="response.created") == []  # this webhook does not take it
    with db.session_scope(engine) as session:
        case_id = session.scalar(select(models.FollowUpCase.id))
        root_cause = __import__("survey.followup.settings", fromlist=["x"]).load_settings().root_causes[0]
        change_status(session, Actor.command_line(), case_id, "resolved", "Called and fixed it.",
                      root_cause=root_cause)
    resolved = outbox_rows(engine, event_type="case.resolved")
    assert len(resolved) == 1 and resolved[0].payload == {
        "case_id": case_id, "survey": "hooks", "customer_ref": "C1", "root_cause": root_cause,
        "resolved_at": resolved[0].payload["resolved_at"]}
    assert deliver_due(engine, FAST).delivered == 2
    assert sorted(b["type"] for b in receiver.accepted_events(added.secret).values()) == ["case.opened",
                                                                                          "case.resolved"]


def test_announcements_still_waiting_when_a_customer_is_erased_go_out_without_their_reference(
        engine, published, receiver):
    from survey.people.access import Actor
    from survey.people.privacy import erase_customer

    added = hook(engine, receiver.url, [outbox.RESPONSE_CREATED, outbox.CASE_OPENED])
    with db.session_scope(engine) as session:
        version = session.scalar(select(models.SurveyVersion))
        for ref, score in (("C1", 1), ("C2", 2)):
            customer = session.scalar(select(models.Customer).where(models.Customer.external_ref == ref))
            submit(session, version, published, {"recommend": score}, idempotency_key=ref, channel="web",
                   customer_id=customer.id)
    assert sorted(row.payload["customer_ref"] for row in outbox_rows(engine)) == ["C1", "C1", "C2", "C2"]
    erase_customer(engine, Actor.command_line(), "C1")
    assert deliver_due(engine, FAST).delivered == 4  # every event still goes out...
    sent = sorted((body["data"]["customer_ref"] or "", body["type"])
                  for body in receiver.accepted_events(added.secret).values())
    # ...the erased customer's without the reference, the other customer's unchanged
    assert sent == [("", "case.opened"), ("", "response.created"), ("C2", "case.opened"), ("C2", "response.created")]
    assert not any(b"C1" in request["body"] for request in receiver.received)


def test_a_submission_that_is_rolled_back_or_refused_announces_nothing(engine, published, receiver):
    hook(engine, receiver.url)
    with pytest.raises(RuntimeError):
        with db.session_scope(engine) as session:
            version = session.scalar(select(models.SurveyVersion))
            submit(session, version, published, {"recommend": 5}, idempotency_key="gone", channel="web")
            raise RuntimeError("the process fails before the commit")
    with pytest.raises(InvalidAnswers):
        with db.session_scope(engine) as session:
            submit(session, version, published, {"recommend": 11}, idempotency_key="bad", channel="web")
    with db.session_scope(engine) as session:  # a retry of a stored key is not a new event
        version = session.scalar(select(models.SurveyVersion))
        for _ in range(3):
            submit(session, version, published, {"recommend": 5}, idempotency_key="same", channel="web")
    assert len(outbox_rows(engine)) == 1


def test_a_csv_import_writes_its_events_with_one_statement_per_chunk(engine, published, receiver, tmp_path):
    from survey.collection.response_import import CHUNK, import_responses

    hook(engine, receiver.url)
    rows = CHUNK + 500  # two chunks
    path = tmp_path / "answers.csv"
    path.write_text("submitted_at,recommend,why\n" + "".join(
        f"2026-03-01T{(i // 60) % 24:02d}:{i % 60:02d}:00,{i % 11},row {i}\n" for i in range(rows)))
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO WEBHOOK_DELIVERIES"):
            statements.append(executemany)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with db.session_scope(engine) as session:
            summary = import_responses(session, path, "hooks")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert summary.stored == rows
    assert len(outbox_rows(engine)) == rows
    assert len(statements) == 2  # one executemany per chunk, never one per row


def test_demo_data_announces_nothing(tmp_path, receiver):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    db.upgrade(engine)
    hook(engine, receiver.url, list(outbox.EVENTS))
    demo.generate(engine, customers=60, responses=600, seed=3)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.FollowUpCase)).scalar_one() > 0
        assert connection.execute(select(func.count()).select_from(models.WebhookDelivery)).scalar_one() == 0
    engine.dispose()


def test_the_command_line_adds_a_webhook_and_prints_its_secret_once(tmp_path):
    from tests.test_cli import run

    database = f"sqlite:///{tmp_path / 'cli.db'}"
    added = run("webhook", "add", "https://crm.example.com/hook", "--events", "response.created", "case.resolved",
                database=database)
    assert added.returncode == 0, added.stderr
    engine = db.make_engine(database)
    with engine.connect() as connection:
        secret = connection.execute(select(models.Webhook.secret)).scalar_one()
    engine.dispose()
    assert f"signing secret (shown once, keep it with the receiver): {secret}" in added.stdout
    listed = run("webhook", "list", database=database)
    assert secret not in listed.stdout
    assert listed.stdout.split("\t")[:4] == ["1", "enabled", "https://crm.example.com/hook",
                                             "response.created,case.resolved"]
    bad = run("webhook", "add", "https://crm.example.com/hook", "--events", "response.deleted", database=database)
    assert bad.returncode == 1 and bad.stderr.startswith("error: events: 'response.deleted' is not an event")
