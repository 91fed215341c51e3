"""The Overview opens on the last three complete months against the three before, and on the demo a
newcomer sees the planted region's fall there without choosing dates."""

from __future__ import annotations

from datetime import date

import pytest

from app_pages import recent_quarter
from survey import demo
from survey.bootstrap import FIRST_START_CUSTOMERS, FIRST_START_RESPONSES, FIRST_START_SEED
from survey.storage import db
from tests.app.test_overview_page import demo_url, page  # noqa: F401 - demo_url is a fixture


@pytest.mark.parametrize("last_day, expected", [
    # worked by hand: the months before the month of last_day + 1, then the three before those
    (date(2026, 11, 30), (date(2026, 9, 1), date(2026, 11, 30), date(2026, 6, 1), date(2026, 8, 31))),
    (date(2026, 12, 14), (date(2026, 9, 1), date(2026, 11, 30), date(2026, 6, 1), date(2026, 8, 31))),
    (date(2026, 2, 3), (date(2025, 11, 1), date(2026, 1, 31), date(2025, 8, 1), date(2025, 10, 31))),
])
def test_the_last_three_complete_months_and_the_three_before(last_day, expected):
    assert recent_quarter.last_three_months(last_day) == expected


@pytest.fixture(scope="module")
def first_start_url(tmp_path_factory):
    """The demo as a first start writes it (same sizes and seed), ending on the fixed test date."""
    url = f"sqlite:///{tmp_path_factory.mktemp('overview_default') / 'demo.db'}"
    engine = db.make_engine(url)
    demo.generate(engine, customers=FIRST_START_CUSTOMERS, responses=FIRST_START_RESPONSES, seed=FIRST_START_SEED,
                  end=demo.DEMO_END)
    engine.dispose()
    return url


def test_the_default_view_marks_the_planted_regions_fall_and_only_it(first_start_url, monkeypatch):
    app = page(first_start_url, monkeypatch)
    caption = app.caption[0].value
    # DEMO_END is 2026-10-31: the last complete months are August to October, against May to July
    assert "2026-08-01 to 2026-10-31, compared with 2026-05-01 to 2026-07-31" in caption
    warnings = [w.value for w in app.warning if " fell from " in w.value]
    assert len(warnings) == 1 and warnings[0].startswith(f"**{demo.PLANTED_REGION}**: NPS fell"), warnings


def test_dates_chosen_in_the_sidebar_replace_the_default_period(first_start_url, monkeypatch):
    app = page(first_start_url, monkeypatch, dates=(date(2025, 1, 1), date(2025, 6, 30)))
    # 181 days (2025-01-01 to 2025-06-30), and the 181 days before them
    assert "2025-01-01 to 2025-06-30, compared with 2024-07-04 to 2024-12-31" in app.caption[0].value
    assert "last three complete months" not in app.caption[0].value


def test_a_period_too_small_for_any_month_says_so_instead_of_drawing_an_empty_chart(demo_url, monkeypatch):
    import json

    app = page(demo_url, monkeypatch, dates=(date(2026, 10, 31), date(2026, 10, 31)))  # a handful of answers
    assert any(i.value.startswith("No month with enough answers") for i in app.info)
    specs = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    assert len(specs) == 1  # only the responses chart: its count axis has whole-number ticks
    y = specs[0]["encoding"]["y"]
    assert y["axis"]["format"] == ",d" and y["axis"]["tickMinStep"] == 1
    assert specs[0]["height"] >= 200
