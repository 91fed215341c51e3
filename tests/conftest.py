"""Small shared fixtures: a fresh, migrated database per test on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from survey.storage import db

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SURVEYS = ROOT / "sample_data" / "surveys"
# The real XLSForms, beside the repository (CI clones the repo next to a copy of shared/); never copied in.
REAL_XLSFORMS = ROOT.parent / "shared" / "fixtures" / "real_xlsforms"
POSTGRES_ENV = "SURVEY_TEST_POSTGRES_URL"


def _postgres_database(base_url: str):
    """Create a throwaway database on the test server; yield its URL; drop it afterwards."""
    name = f"survey_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # the server is configured but unreachable
        admin.dispose()
        message = f"PostgreSQL at {POSTGRES_ENV} is unreachable: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a test's own server."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database_url(backend: str, folder: Path):
    """Yield a URL to a fresh, empty database of `backend` ("sqlite": a file in `folder`;
    "postgresql": a throwaway database on the server at SURVEY_TEST_POSTGRES_URL).

    Without that server PostgreSQL tests skip with the reason, and fail under CI (`CI` set).
    """
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        message = f"{POSTGRES_ENV} is not set: PostgreSQL tests need a server"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield from _postgres_database(base_url)


@pytest.fixture(autouse=True)
def fresh_sign_in_throttle():
    """Every test starts with no sign-in failures counted (the throttle lives in process memory)."""
    from survey.people.accounts import SIGN_IN_THROTTLE

    SIGN_IN_THROTTLE.clear()
    yield
    SIGN_IN_THROTTLE.clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A URL to a fresh, empty database: a SQLite file, and PostgreSQL when the server is configured."""
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture
def engine(database_url):
    """A migrated engine on a fresh database (each backend in turn)."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    """A migrated engine on a fresh SQLite file, for tests that need only one backend."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory) -> str:
    """Demo data shared read-only by the dashboard page tests: 600 customers, 12,000 responses, seed 7
    (the smallest round size at which the planted North fall is significant)."""
    from survey import demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = db.make_engine(url)
    demo.generate(engine, end=demo.DEMO_END, customers=600, responses=12_000, seed=7)
    engine.dispose()
    return url


def actor_for(url: str, role: str = "admin", email: str | None = None):
    """The Actor of the first stored user with `role` (or `email`) at `url`; a stand-in when there is none."""
    from sqlalchemy import select

    from survey.storage import models
    from survey.people.access import Actor

    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            condition = models.User.email == email if email else models.User.role == role
            row = connection.execute(select(models.User.id, models.User.email, models.User.role)
                                     .where(condition).order_by(models.User.id).limit(1)).first()
    finally:
        engine.dispose()
    return Actor(*row) if row else Actor(user_id=None, email=f"test-{role}@example.com", role=role)


def signed_in_page(name: str, actor=None, url: str | None = None, timeout: float = 60):
    """An AppTest of page `name` of app_pages/ (not yet run), signed in as `actor` (default: the
    first admin of the database at `url`, else at SURVEY_DATABASE_URL)."""
    from streamlit.testing.v1 import AppTest

    from app_pages.common import ACTOR

    app = AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=timeout)
    app.session_state[ACTOR] = actor or actor_for(url or os.environ["SURVEY_DATABASE_URL"])
    return app


def run_page(name: str, url: str, monkeypatch, actor=None):
    """Run one page of app_pages/ on the database at `url` (fresh caches), signed in as `actor`
    (default: the database's first admin); it must not raise."""
    import streamlit as st

    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    st.cache_data.clear()
    app = signed_in_page(name, actor, url)
    app.run()
    assert not app.exception, app.exception
    return app
