"""The Trends page: per-period values equal `analysis.trend` on counts queried here, the control chart
and target are drawn, and North's planted fall is flagged when split by region.

North's fall (sample_data/README.md) is flagged with 20,000 demo responses and 1,000 customers. At
6,000 responses and 300 customers it is not: the realised fall there is about 7 NPS points against a
standard error near 10, and another region drifts further by chance, so no honest test finds it.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from sqlalchemy import text

from analysis import trend
from survey import demo
from survey.storage import db
from app_pages import labels
from tests.app.shown import numbers, period_starts
from tests.conftest import ROOT
from tests.app.test_overview_page import EXTERNAL, downloaded, page

TRENDS = ROOT / "app_pages" / "trends.py"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('trends') / 'demo.db'}"
    engine = db.make_engine(url)
    demo.generate(engine, end=demo.DEMO_END, customers=1000, responses=20000, seed=7)
    engine.dispose()
    return url


def charts(app) -> list[dict]:
    return [json.loads(element.proto.spec) for element in app.get("vega_lite_chart")]


@pytest.mark.parametrize("period", ["week", "month", "quarter"])
def test_trends_draws_the_metric_and_its_control_chart_for_each_period(demo_url, monkeypatch, period):
    app = page(demo_url, monkeypatch, TRENDS)
    app.radio(key="trends_period").set_value(period).run()
    assert not app.exception, app.exception
    assert len(app.get("vega_lite_chart")) == 2
    assert [s.value for s in app.subheader] == [f"NPS: How likely are you to recommend us to a friend or colleague? by {period}", "Control chart of the unhappy share",
                                                "Table"]
    table = app.dataframe[-1].value
    assert table["n"].sum() > 15000 and period_starts(table["period"]).is_monotonic_increasing


def test_monthly_values_equal_analysis_trend_of_counts_queried_directly(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, TRENDS)
    with db.make_engine(demo_url).connect() as connection:
        counts = pd.DataFrame(connection.execute(text(
            "select strftime('%Y-%m', r.submitted_at) as period, cast(a.numeric_value as integer) as score, "
            "count(*) as count from answers a join responses r on r.id = a.response_id "
            "join surveys s on s.id = r.survey_id where s.slug = 'relationship-nps' and a.question_key = 'recommend' "
            "group by 1, 2")).all(), columns=["period", "score", "count"])
    expected = trend(counts, period="M").reset_index()
    shown = app.dataframe[-1].value
    assert period_starts(shown["period"]).tolist() == expected["period"].tolist()
    assert shown["n"].tolist() == expected["n"].tolist()
    assert shown["value"].round(6).tolist() == expected["value"].round(6).tolist()
    # shares are shown in percent with one decimal
    assert shown["control_upper"].tolist() == [labels.number(100 * v, 1, unit="%") for v in expected["control_upper"]]


def test_split_by_region_flags_north_and_no_other_region(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, TRENDS)
    app.selectbox(key="trends_split").set_value("region").run()
    assert not app.exception, app.exception
    assert "Flagged segments" in [s.value for s in app.subheader]
    flagged = app.dataframe[0].value
    assert flagged["region"].tolist() == ["North"]
    assert numbers(flagged["recent_vs_earlier"]).iloc[0] < -5 and numbers(flagged["recent_p_adjusted"]).iloc[0] < 0.05
    line = charts(app)[0]
    assert all(layer["encoding"]["color"]["field"] == "region" for layer in line["layer"])  # one line per region


def test_a_target_is_drawn_as_a_rule_and_out_of_control_points_in_red(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, TRENDS)
    app.number_input(key="trends_target").set_value(30.0).run()
    assert not app.exception, app.exception
    line, control = (json.dumps(spec) for spec in charts(app))
    assert '"rule"' in line and '"target"' in line
    assert "#d62728" in control and "control_upper" in control


def test_every_declared_metric_can_be_followed(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, TRENDS)
    labels = app.selectbox(key="trends_metric").options
    assert labels[0] == "NPS: How likely are you to recommend us to a friend or colleague?"
    assert "Mean 1-10: How do you rate us on each of the following? Customer support" in labels and "Mean 1-10: Overall, how satisfied are you with us?" in labels
    app.selectbox(key="trends_metric").select_index(labels.index("Mean 1-10: How do you rate us on each of the following? Customer support")).run()
    assert not app.exception, app.exception
    assert app.subheader[0].value == "Mean 1-10: How do you rate us on each of the following? Customer support by month"


def test_trends_report_is_self_contained_and_lists_the_flagged_region(demo_url, monkeypatch):
    app = page(demo_url, monkeypatch, TRENDS)
    app.selectbox(key="trends_split").set_value("region").run()
    report = downloaded(next(b for b in app.get("download_button") if b.label == "Download HTML report")).decode()
    assert not EXTERNAL.search(report) and "<script" not in report.lower()
    assert report.count("<svg") >= 2
    assert "Flagged segments" in report and "North" in report
    latest = app.dataframe[-1].value.groupby("region").tail(1)
    for n in latest["n"]:
        assert f"n = {int(n):,}" in report
    assert re.search(r"<dt>Split by</dt><dd>Region</dd>", report)
