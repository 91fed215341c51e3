"""The Overview page: headline tiles equal the analysis API on counts queried here, a change is marked
only when significant, small groups are suppressed, and its exports are safe and self-contained."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test_module
from sqlalchemy import text
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from analysis import nps_from_counts, satisfaction_index
from survey import demo
from survey.storage import db, models
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from app_pages.common import ACTOR
from tests.conftest import ROOT, actor_for

OVERVIEW = ROOT / "app_pages" / "overview.py"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


class RecordingMediaFileManager(MediaFileManager):
    """The AppTest media manager, kept so a test can fetch what a download button would serve."""

    last: RecordingMediaFileManager | None = None

    def __init__(self, storage):
        super().__init__(storage)
        self.storage = storage
        RecordingMediaFileManager.last = self


def downloaded(button) -> bytes:
    """The bytes a download button serves (running a deferred generator as a click would)."""
    manager = RecordingMediaFileManager.last
    proto = button.proto
    url = manager.execute_deferred(proto.deferred_file_id) if proto.deferred_file_id else proto.url
    return manager.storage.get_file(url.rsplit("/", 1)[-1]).content


def page(url: str, monkeypatch, path=OVERVIEW, dates: tuple[date, date] | None = None) -> AppTest:
    """A page run on the database at `url` with fresh caches (optionally with the sidebar dates set)."""
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(app_test_module, "MediaFileManager", RecordingMediaFileManager)
    st.cache_data.clear()
    app = AppTest.from_file(str(path), default_timeout=120)
    app.session_state[ACTOR] = actor_for(url)
    app.run()
    if dates is not None:
        app.sidebar.date_input[0].set_value(dates).run()
    assert not app.exception, app.exception
    return app


def caption_of(app: AppTest, label: str) -> str:
    """The caption under the tile labelled `label` (tiles put their caption right after the metric)."""
    for column in app.columns:
        labels = [m.label for m in column.metric]
        if label in labels:
            return " ".join(c.value for c in column.caption)
    raise AssertionError(f"no tile {label!r}")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('overview') / 'demo.db'}"
    engine = db.make_engine(url)
    demo.generate(engine, end=demo.DEMO_END, customers=300, responses=6000, seed=7)
    engine.dispose()
    return url


LAST_FOUR_MONTHS = (date(2026, 7, 1), date(2026, 10, 31))


def test_overview_shows_each_declared_metric_response_rate_and_cases(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch)
    assert [m.label for m in app.metric] == ["NPS", "Satisfaction index (0-100)", "Response rate (whole survey)",
                                             "Open follow-up cases (whole survey)"]
    app.sidebar.selectbox[0].set_value("post-support").run()
    assert not app.exception, app.exception
    assert [m.label for m in app.metric] == ["CSAT (top two boxes)", "Effort score (mean, 1-7)", "Response rate (whole survey)",
                                             "Open follow-up cases (whole survey)"]
    assert [s.value for s in app.subheader] == ["CSAT (%) by region: this period against the one before",
                                                "CSAT (%) by month", "Responses by month and channel"]


def test_nps_tile_equals_nps_from_counts_of_a_raw_sql_query(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, dates=LAST_FOUR_MONTHS)
    with db.make_engine(demo_url).connect() as connection:
        detractors, passives, promoters = connection.execute(text(
            "select sum(a.numeric_value <= 6), sum(a.numeric_value between 7 and 8), sum(a.numeric_value >= 9) "
            "from answers a join responses r on r.id = a.response_id join surveys s on s.id = r.survey_id "
            "where s.slug = 'relationship-nps' and a.question_key = 'recommend' "
            "and r.submitted_at >= '2026-07-01' and r.submitted_at < '2026-11-01'")).one()
    expected = nps_from_counts(detractors, passives, promoters)
    tile = next(m for m in app.metric if m.label == "NPS")
    assert tile.value == f"{expected.value:+.1f}"
    caption = caption_of(app, "NPS")
    assert f"95% interval {expected.low:+.1f} to {expected.high:+.1f}" in caption
    assert f"n = {expected.n:,}" in caption


def test_index_tile_equals_satisfaction_index_of_the_answers(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, dates=LAST_FOUR_MONTHS)
    with db.make_engine(demo_url).connect() as connection:
        rows = connection.execute(text(
            "select a.response_id, a.question_key, a.numeric_value from answers a "
            "join responses r on r.id = a.response_id where a.question_key in ('satisfaction', 'expectations', 'ideal') "
            "and r.submitted_at >= '2026-07-01' and r.submitted_at < '2026-11-01'")).all()
    import pandas as pd

    wide = pd.DataFrame(rows, columns=["response", "item", "value"]).pivot(index="response", columns="item",
                                                                           values="value")
    expected = satisfaction_index(wide, ["satisfaction", "expectations", "ideal"])
    tile = next(m for m in app.metric if m.label == "Satisfaction index (0-100)")
    assert tile.value == f"{expected.value:.1f}"
    caption = caption_of(app, "Satisfaction index (0-100)")
    assert f"95% interval {expected.low:.1f} to {expected.high:.1f}" in caption
    assert f"n = {expected.n:,}" in caption


def test_a_period_with_too_few_answers_is_suppressed_with_its_n(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, dates=(date(2026, 10, 31), date(2026, 10, 31)))
    tile = next(m for m in app.metric if m.label == "NPS")
    assert tile.value == "suppressed"
    with db.make_engine(demo_url).connect() as connection:
        n = connection.execute(text(
            "select count(*) from answers a join responses r on r.id = a.response_id where a.question_key = 'recommend' "
            "and r.submitted_at >= '2026-10-31' and r.submitted_at < '2026-11-01'")).scalar_one()
    assert 0 < n < 30
    assert f"n = {n:,}" in caption_of(app, "NPS")


# A small survey with a hand-made history: the title carries markup that must be escaped everywhere.

HOSTILE_TITLE = "<script>alert('x')</script> Pulse & more"
PULSE = f"""
slug: pulse
title: "{HOSTILE_TITLE}"
questions:
  - key: recommend
    kind: nps
    required: true
    text: How likely are you to recommend us?
"""
# April (30 days) is compared with the 30 days before it: 2 to 31 March.
MARCH, APRIL = (date(2026, 3, 2), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 30))


def pulse_database(path, march: list[int], april: list[int], cases=()) -> str:
    """A database with the pulse survey, answered with `march` then `april` scores, and follow-up cases."""
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        version = publish(session, loads_yaml(PULSE))
        number = 0
        for first_day, scores in ((MARCH[0], march), (APRIL[0], april)):
            for position, score in enumerate(scores):
                number += 1
                moment = datetime.combine(first_day + timedelta(days=position % 30), datetime.min.time(),
                                          timezone.utc) + timedelta(hours=10)
                response = models.Response(idempotency_key=f"k{number}", content_hash="x", survey_id=version.survey_id,
                                           survey_version_id=version.id, channel="web", submitted_at=moment)
                response.answers.append(models.Answer(question_key="recommend", numeric_value=score))
                session.add(response)
        if cases:
            for number, (status, due_at) in enumerate(cases, 1):  # one customer each: one open case per customer
                customer = models.Customer(external_ref=f"C{number}", name="A customer", region="North")
                session.add(customer)
                session.flush()
                session.add(models.FollowUpCase(customer_id=customer.id, survey_id=version.survey_id, status=status,
                                                due_at=due_at))
    engine.dispose()
    return url


def test_a_significant_fall_is_marked_with_a_delta(tmp_path, monkeypatch):
    # March: 150 promoters, 50 detractors (NPS +50); April: 50 promoters, 150 detractors (NPS -50).
    url = pulse_database(tmp_path / "fall.db", [10] * 150 + [2] * 50, [10] * 50 + [2] * 150)
    app = page(url, monkeypatch, dates=APRIL)
    tile = next(m for m in app.metric if m.label == "NPS")
    assert tile.value == "-50.0"
    assert tile.delta == "-100.0"
    assert "significant change versus the previous period" in caption_of(app, "NPS")


def test_a_change_within_noise_is_not_marked(tmp_path, monkeypatch):
    # NPS +20 in March, +15 in April on 200 answers each: z about 0.5, far from significant.
    url = pulse_database(tmp_path / "flat.db", [10] * 80 + [8] * 80 + [2] * 40, [10] * 75 + [8] * 80 + [2] * 45)
    app = page(url, monkeypatch, dates=APRIL)
    tile = next(m for m in app.metric if m.label == "NPS")
    assert tile.value == "+15.0"
    assert not tile.delta
    assert "no significant change" in caption_of(app, "NPS")


def test_open_and_overdue_follow_up_cases_are_counted(tmp_path, monkeypatch):
    now = datetime.now(timezone.utc)
    url = pulse_database(tmp_path / "cases.db", [9] * 40, [9] * 40, cases=[
        ("open", now - timedelta(days=2)), ("in_progress", now + timedelta(days=2)), ("open", None),
        ("resolved", now - timedelta(days=5)), ("declined", now - timedelta(days=5))])
    app = page(url, monkeypatch, dates=APRIL)
    tile = next(m for m in app.metric if m.label == "Open follow-up cases (whole survey)")
    assert tile.value == "3"
    assert "1 overdue" in caption_of(app, "Open follow-up cases (whole survey)")


def test_every_table_and_chart_has_a_download_and_the_csv_is_formula_safe(tmp_path, monkeypatch):
    url = pulse_database(tmp_path / "csv.db", [10] * 40, [10] * 40)
    app = page(url, monkeypatch, dates=APRIL)
    labels = [button.label for button in app.get("download_button")]
    assert labels.count("Download chart (SVG)") == 2 and labels.count("Download chart (PNG)") == 2
    assert labels.count("Download table (CSV)") == 2 and "Download figures (CSV)" in labels
    svg = downloaded(next(b for b in app.get("download_button") if b.label == "Download chart (SVG)"))
    assert svg.lstrip().startswith(b"<svg")
    figures = downloaded(next(b for b in app.get("download_button") if b.label == "Download figures (CSV)"))
    assert b"NPS" in figures and b"\n'-" not in figures  # a numeric cell is never prefixed


def test_html_report_is_self_contained_escaped_and_shows_each_tiles_n(tmp_path, monkeypatch):
    url = pulse_database(tmp_path / "report.db", [10] * 150 + [2] * 50, [10] * 50 + [2] * 150)
    app = page(url, monkeypatch, dates=APRIL)
    report = downloaded(next(b for b in app.get("download_button") if b.label == "Download HTML report")).decode()
    assert report.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.search(report)
    assert "<script" not in report.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Pulse &amp; more" in report
    assert "n = 200" in report  # the NPS tile
    assert "<svg" in report  # the charts, inline
    assert "2026-04-01 to 2026-04-30" in report  # the filters, described
    assert "Change: -100.0" in report


def test_report_embeds_only_plain_svg_and_escapes_table_cells():
    from app_pages import report

    assert report.safe_svg('<svg><script>alert(1)</script></svg>') is None
    assert report.safe_svg('<svg><a href="https://example.com/x">x</a></svg>') is None
    assert report.safe_svg('<svg onload="alert(1)"></svg>') is None
    assert report.safe_svg('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>').startswith("<svg")
    import pandas as pd

    page_html = report.build_html("t", [], [], [report.Section("s", '<svg><script>x</script></svg>',
                                                               pd.DataFrame({"<b>": ["=1+1", "<i>"]}))])
    assert "<script" not in page_html and "&lt;b&gt;" in page_html and "&lt;i&gt;" in page_html
