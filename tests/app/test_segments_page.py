"""Segments: each segment's figure is by_segment on the counts in the database, small segments are
suppressed or directional, North's recent fall is flagged with its dates, and the CSV is formula-safe."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from analysis import by_segment
from app_pages import labels
from app_pages.common import table_csv
from survey.storage import db
from tests.app.shown import numbers
from tests.conftest import run_page

REGION_NPS_COUNTS = """
select c.region as region, cast(a.numeric_value as integer) as score, count(*) as count
from answers a join responses r on r.id = a.response_id join customers c on c.id = r.customer_id
join surveys s on s.id = r.survey_id
where s.slug = 'relationship-nps' and a.question_key = 'recommend' {where}
group by 1, 2
"""


@pytest.fixture
def demo_url(demo_database_url):
    return demo_database_url


@pytest.fixture
def page(demo_url, monkeypatch):
    return run_page("segments", demo_url, monkeypatch)


def region_histogram(url: str, where: str = "") -> pd.DataFrame:
    with db.make_engine(url).connect() as connection:
        return pd.read_sql(text(REGION_NPS_COUNTS.format(where=where)), connection)


def test_segment_table_shows_by_segment_on_the_counts_in_the_database(page, demo_url):
    expected = by_segment(region_histogram(demo_url), "region", metric="nps", min_n=30)
    shown = page.dataframe[0].value.set_index("Region")
    assert shown.index.tolist() == expected.index.tolist() == ["Central", "East", "North", "South", "West"]
    np.testing.assert_allclose(shown["value"], expected["value"].round(2))
    np.testing.assert_allclose(shown["low (95%)"], expected["low"].round(2))
    np.testing.assert_allclose(shown["high (95%)"], expected["high"].round(2))
    assert shown["n"].tolist() == expected["n"].tolist()
    assert shown["p (BH-adjusted)"].tolist() == [labels.p_value(p) for p in expected["p_adjusted"].round(4)]
    assert shown["significant"].tolist() == ["Yes" if p < 0.05 else "" for p in expected["p_adjusted"]]


def test_segments_under_the_minimum_are_suppressed_and_under_twice_it_directional(page):
    counts = page.dataframe[0].value.set_index("Region")["n"]
    page.number_input(key="segments_min_n").set_value(2000).run()
    shown = page.dataframe[0].value.set_index("Region")
    expected = ["suppressed" if n < 2000 else "directional" if n < 4000 else "" for n in counts]
    assert shown["status"].tolist() == expected
    assert "suppressed" in expected and "directional" in expected
    assert numbers(shown.loc[shown["status"] == "suppressed", "value"]).isna().all()
    assert numbers(shown.loc[shown["status"] == "directional", "value"]).notna().all()


def test_north_is_flagged_for_its_last_four_months(page, demo_url):
    warnings = [w.value for w in page.warning]
    assert len(warnings) == 1 and warnings[0].startswith("Region North, 2026-07 to 2026-10:")
    assert "below the rest" in warnings[0]
    recent = by_segment(region_histogram(demo_url, "and r.submitted_at >= '2026-07-01'"), "region", min_n=30)
    assert recent.loc["North", "p_adjusted"] < 0.05 and recent.loc["North", "difference"] < 0
    assert labels.p_text(recent.loc['North', 'p_adjusted'], "adjusted p") in warnings[0]
    assert f"{abs(recent.loc['North', 'difference']):.1f} points below" in warnings[0]
    change = page.dataframe[1].value.set_index("Region")
    change = change.assign(**{column: numbers(change[column]) for column in ("change", "change p (BH-adjusted)")})
    assert change.loc["North", "change"] < -10
    assert change["change"].drop("North").abs().max() < 10
    # its fall against its own earlier months is significant too, after adjusting across regions
    assert change.loc["North", "change p (BH-adjusted)"] < 0.05
    assert (change["change p (BH-adjusted)"].drop("North") >= 0.05).all()


def test_every_dimension_and_metric_renders(page):
    for dimension in ("tier", "industry", "channel", "language", "touchpoint", "field_manager", "tenure_band",
                      "value_band"):
        page.selectbox(key="segments_dimension").set_value(dimension).run()
        assert not page.exception, (dimension, page.exception)
        assert len(page.dataframe[0].value) >= 1
    metrics = page.selectbox(key="segments_metric").options
    assert len(metrics) == 1 + 3 + 5  # NPS, three index items, five driver attributes
    page.selectbox(key="segments_metric").set_value(page.selectbox(key="segments_metric").options[-1]).run()
    assert not page.exception
    assert "spread (sd)" in page.dataframe[0].value.columns


def test_table_csv_never_starts_a_cell_with_a_formula():
    data = table_csv(pd.DataFrame({"segment": ["=HYPERLINK(\"x\")", "North"], "value": [-5.0, np.nan]}))
    rows = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert rows["segment"].tolist() == ["'=HYPERLINK(\"x\")", "North"]
    assert rows["value"].tolist() == ["-5.0", ""]


def test_the_chart_downloads_as_svg_and_png(page):
    labels = [button.label for button in page.get("download_button")]
    assert "Download chart (SVG)" in labels and "Download chart (PNG)" in labels


def test_every_table_on_the_page_downloads_as_csv(page):
    labels = [button.label for button in page.get("download_button")]
    assert len(page.dataframe) == 2 and labels.count("Download table (CSV)") + labels.count(
        "Download the table (CSV)") == 2
