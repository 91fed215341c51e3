"""The app starts on an empty database, fills it with demo data, and opens on the Overview."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from datetime import datetime, timedelta, timezone

from analysis import nps_from_counts
from app_pages import recent_quarter
from survey import demo
from survey.storage import db, models
from tests.conftest import ROOT


@pytest.fixture
def fresh_app(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    sign_in(app, "admin@demo.example", demo.DEMO_PASSWORDS["admin"])
    yield app, db.make_engine(url)


def sign_in(app: AppTest, email: str, password: str) -> None:
    """Fill in and submit the sign-in form."""
    app.text_input(key="sign_in_email").input(email)
    app.text_input(key="sign_in_password").input(password)
    app.button[0].click().run()


def test_first_start_creates_the_database_and_demo_data(fresh_app):
    app, engine = fresh_app
    assert not app.exception, app.exception
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.Survey)).scalar_one() >= 2
        assert connection.execute(select(func.count()).select_from(models.Response)).scalar_one() > 1000


def test_the_app_opens_on_the_overview_of_the_most_answered_survey(fresh_app):
    app, engine = fresh_app
    assert app.sidebar.selectbox[0].value == "relationship-nps"
    # the first start's demo ends yesterday, and the Overview opens on the last three complete months
    assert demo.default_end() == (datetime.now(timezone.utc) - timedelta(days=1)).date()
    start, end, _, _ = recent_quarter.last_three_months(demo.default_end())
    with engine.connect() as connection:
        last = connection.execute(select(func.max(models.Response.submitted_at))).scalar_one()
        scores = [row[0] for row in connection.execute(
            select(models.Answer.numeric_value).join(models.Response)
            .where(models.Answer.question_key == "recommend", models.Response.submitted_at >= str(start),
                   models.Response.submitted_at < str(end + timedelta(days=1))))]
    assert last.date() == demo.default_end()
    expected = nps_from_counts(sum(s <= 6 for s in scores), sum(7 <= s <= 8 for s in scores),
                               sum(s >= 9 for s in scores))
    tile = next(m for m in app.metric if m.label == "NPS")
    assert tile.value == f"{expected.value:+.1f}"
    assert f"n = {len(scores):,}" in " ".join(c.value for c in app.caption)
    assert f"period {start} to {end}" in app.caption[0].value
