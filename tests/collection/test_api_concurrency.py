"""The JSON API under concurrency, through a real `streamlit run app.py` server on 127.0.0.1.

Integrity claims, each named by a test: many clients store every response exactly once; a key
sent by many threads at once stores one row; one invitation accepts one response; and a server
killed with SIGKILL mid-burst keeps every acknowledged response (and SQLite stays intact).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from survey.collection import apikeys
from survey.storage import db, models
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from tests.conftest import ROOT, SAMPLE_SURVEYS, free_port, fresh_database_url

SUBMIT_PATH = "/api/v1/surveys/{slug}/responses"
GOOD_SUPPORT = {"csat": 4, "effort": 6, "resolved": "yes", "comment": "Fine"}
SERVER_START_SECONDS = 90



def prepare_database(url: str) -> str:
    """Migrate, publish the sample surveys and return a new API key (through the library)."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        for path in sorted(SAMPLE_SURVEYS.glob("*.yaml")):
            publish(session, load_yaml(path))
        key = apikeys.create_key(session, "tests").key
    engine.dispose()
    return key


@dataclass
class Server:
    """A `streamlit run app.py` process serving the API on 127.0.0.1."""

    url: str
    key: str
    port: int = 0
    process: subprocess.Popen | None = None
    environment: dict = field(default_factory=dict)  # extra variables for the server process

    def start(self) -> Server:
        self.port = free_port()
        env = {**os.environ, **self.environment, "SURVEY_DATABASE_URL": self.url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(self.port), "--server.headless", "true", "--global.developmentMode", "false",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                if self.request("GET", "/api/v1/health")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not answer /api/v1/health in time")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(15)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                connection: http.client.HTTPConnection | None = None) -> tuple[int, dict]:
        own = connection is None
        connection = connection or self.connection()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            payload = response.read()
            if response.getheader("content-type", "").startswith("application/json"):
                return response.status, json.loads(payload)
            return response.status, {"text": payload.decode("utf-8", "replace")}
        finally:
            if own:
                connection.close()

    def submit(self, body: dict, slug: str = "post-support", connection=None) -> tuple[int, dict]:
        return self.request("POST", SUBMIT_PATH.format(slug=slug), json.dumps(body).encode(),
                            {"Content-Type": "application/json", "X-API-Key": self.key}, connection)


def backend_url(request, tmp_path_factory):
    """A fresh database URL per backend (PostgreSQL fails under CI when unreachable, as in conftest)."""
    yield from fresh_database_url(request.param, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """A running server over a fresh database with the sample surveys and an API key, per backend."""
    url = next(backend := backend_url(request, tmp_path_factory))
    running = Server(url, prepare_database(url)).start()
    yield running
    running.stop()
    backend.close()  # drops the PostgreSQL database


def engine_for(server: Server):
    return db.make_engine(server.url)


def in_threads(count: int, work) -> list:
    """Run work(n) in `count` threads started together; the results (exceptions re-raised)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except BaseException as error:  # noqa: BLE001 - shown by the re-raise below
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def test_20_clients_sending_250_each_store_exactly_5000_responses(server):
    prefix = f"load-{time.monotonic_ns()}"

    def client(n: int) -> list[int]:
        connection = server.connection()
        statuses = [server.submit({"idempotency_key": f"{prefix}-{n}-{i}", "channel": "kiosk",
                                   "answers": {**GOOD_SUPPORT, "csat": 1 + (n + i) % 5}}, connection=connection)[0]
                    for i in range(250)]
        connection.close()
        return statuses

    statuses = [status for result in in_threads(20, client) for status in result]
    assert [s for s in statuses if s >= 500] == []
    assert statuses.count(201) == 5000
    engine = engine_for(server)
    with engine.connect() as connection:
        stored = connection.execute(select(models.Response.idempotency_key, func.count())
                                    .where(models.Response.idempotency_key.startswith(prefix))
                                    .group_by(models.Response.idempotency_key)).all()
        answers = connection.execute(select(func.count()).select_from(models.Answer).join(models.Response)
                                     .where(models.Response.idempotency_key.startswith(prefix))).scalar_one()
    engine.dispose()
    assert len(stored) == 5000 and {count for _, count in stored} == {1}
    assert {key for key, _ in stored} == {f"{prefix}-{n}-{i}" for n in range(20) for i in range(250)}
    assert answers == 5000 * len(GOOD_SUPPORT)


def test_same_key_sent_by_20_threads_at_once_stores_one_row(server):
    body = {"idempotency_key": f"twin-{time.monotonic_ns()}", "answers": GOOD_SUPPORT}
    outcomes = in_threads(20, lambda n: server.submit(body))
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [200] * 19 + [201]
    assert len({payload["response_id"] for _, payload in outcomes}) == 1
    engine = engine_for(server)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.Response)
                                  .where(models.Response.idempotency_key == body["idempotency_key"])).scalar_one() == 1
    engine.dispose()


def test_same_invitation_token_in_20_concurrent_submissions_is_accepted_once(server):
    token = f"tok-{time.monotonic_ns()}"
    engine = engine_for(server)
    with db.session_scope(engine) as session:
        customer = models.Customer(external_ref=f"C-{token}", name="Ada")
        session.add(customer)
        session.flush()
        survey_id = session.scalar(select(models.Survey.id).where(models.Survey.slug == "post-support"))
        invitation = models.Invitation(token=token, survey_id=survey_id, customer_id=customer.id)
        session.add(invitation)
        session.flush()
        invitation_id, customer_id = invitation.id, customer.id
    outcomes = in_threads(20, lambda n: server.submit(
        {"idempotency_key": f"{token}-{n}", "token": token, "answers": {**GOOD_SUPPORT, "csat": 1 + n % 5}}))
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * 19
    assert {payload["errors"][0]["code"] for status, payload in outcomes if status == 409} == {"already_answered"}
    with engine.connect() as connection:
        stored = connection.execute(select(models.Response.customer_id)
                                    .where(models.Response.invitation_id == invitation_id)).all()
        responded_at = connection.execute(select(models.Invitation.responded_at)
                                          .where(models.Invitation.id == invitation_id)).scalar_one()
    engine.dispose()
    assert stored == [(customer_id,)]
    assert responded_at is not None


# -- durability --------------------------------------------------------------------------------

def _burst_until_killed(server: Server, prefix: str, kill_after_acknowledged: int) -> tuple[set[str], set[str]]:
    """Eight clients submit until `kill_after_acknowledged` responses are acknowledged, then SIGKILL.

    Returns (acknowledged keys, keys sent without an acknowledgement).
    """
    acknowledged: set[str] = set()
    unacknowledged: set[str] = set()
    lock = threading.Lock()
    killed = threading.Event()

    def client(n: int) -> None:
        connection = server.connection()
        i = 0
        while not killed.is_set():
            key = f"{prefix}-{n}-{i}"
            i += 1
            try:
                status, _ = server.submit({"idempotency_key": key, "answers": GOOD_SUPPORT}, connection=connection)
            except (OSError, http.client.HTTPException):
                with lock:
                    unacknowledged.add(key)
                return
            with lock:
                (acknowledged if status in (200, 201) else unacknowledged).add(key)
                assert status in (200, 201), status
                if len(acknowledged) >= kill_after_acknowledged and not killed.is_set():
                    killed.set()
                    os.killpg(server.process.pid, signal.SIGKILL)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert server.process.wait(15) == -signal.SIGKILL
    return acknowledged, unacknowledged


@pytest.mark.parametrize("kill_after", [25, 300, 1000])
def test_sigkill_mid_burst_keeps_every_acknowledged_response_once(tmp_path, kill_after):
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    server = Server(url, prepare_database(url)).start()
    try:
        acknowledged, unacknowledged = _burst_until_killed(server, "burst", kill_after)
        assert len(acknowledged) >= kill_after
        server.start()  # the same database, a new process
        engine = db.make_engine(url)
        with engine.connect() as connection:
            stored = dict(connection.execute(select(models.Response.idempotency_key, func.count())
                                             .group_by(models.Response.idempotency_key)).all())
            answers_per_response = set(connection.execute(
                select(func.count(models.Answer.id)).select_from(models.Response)
                .outerjoin(models.Answer).group_by(models.Response.id)).scalars())
        engine.dispose()
        assert all(stored.get(key) == 1 for key in acknowledged), "an acknowledged response was lost"
        assert set(stored) <= acknowledged | unacknowledged and set(stored.values()) <= {1}
        assert answers_per_response == {len(GOOD_SUPPORT)}  # no response stored without its answers
        with sqlite3.connect(tmp_path / "durable.db") as check:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # Clients retry what was never acknowledged: each is stored once, nothing twice.
        for key in sorted(unacknowledged):
            status, _ = server.submit({"idempotency_key": key, "answers": GOOD_SUPPORT})
            assert status == (200 if key in stored else 201)
    finally:
        server.stop()


def test_two_app_processes_over_one_postgresql_store_every_key_once(tmp_path_factory):
    """Scale-out: two `streamlit run app.py` replicas behind one PostgreSQL database take 20 clients
    split between them (half of the keys sent to both at once) and store each key exactly once."""
    database = fresh_database_url("postgresql", tmp_path_factory.mktemp("replicas"))
    url = next(database)
    key = prepare_database(url)
    replicas = [Server(url, key).start(), Server(url, key).start()]
    prefix = f"replica-{time.monotonic_ns()}"
    try:
        def client(n: int) -> list[tuple[int, int]]:
            mine, other = replicas[n % 2], replicas[(n + 1) % 2]
            connections = (mine.connection(), other.connection())
            outcomes = []
            for i in range(50):
                body = {"idempotency_key": f"{prefix}-{n % 10}-{i}", "channel": "kiosk",
                        "answers": {**GOOD_SUPPORT, "csat": 1 + i % 5}}
                # clients n and n + 10 send the same keys, one to each replica
                status, payload = (mine if n < 10 else other).submit(body, connection=connections[0 if n < 10 else 1])
                outcomes.append((status, payload.get("response_id")))
            for connection in connections:
                connection.close()
            return outcomes

        outcomes = [outcome for result in in_threads(20, client) for outcome in result]
    finally:
        for replica in replicas:
            replica.stop()
    statuses = [status for status, _ in outcomes]
    assert [status for status in statuses if status not in (200, 201)] == []
    engine = db.make_engine(url)
    with engine.connect() as connection:
        stored = dict(connection.execute(select(models.Response.idempotency_key, func.count())
                                         .where(models.Response.idempotency_key.startswith(prefix))
                                         .group_by(models.Response.idempotency_key)).all())
    engine.dispose()
    database.close()
    assert len(stored) == 500 and set(stored.values()) == {1}
    assert statuses.count(201) == 500 and statuses.count(200) == 500  # each key created once, by one replica
