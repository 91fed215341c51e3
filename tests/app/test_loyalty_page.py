"""Loyalty and value: each customer counts once with their latest answer (SQLite and PostgreSQL), the
value-weighted NPS is the one analysis gives on those customers, and the silent Gold-tier Logistics
customers are listed without contact details."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import select, text

from analysis import value_weighted_nps
from survey import demo
from survey.storage import db, models, queries
from survey.people.access import Actor
from survey.storage.filters import Filters
from tests.conftest import run_page, signed_in_page

COMMENT_KEYS = ("why_low", "comment")

ADMIN = Actor(user_id=None, email="admin@example.com", role="admin")


def latest_per_customer(engine, start: date | None = None) -> pd.DataFrame:
    """Each customer's latest recommend answer (and whether they wrote any text), computed in pandas."""
    query = (select(models.Response.id, models.Response.customer_id, models.Response.submitted_at,
                    models.Answer.question_key, models.Answer.numeric_value, models.Answer.text_value,
                    models.Customer.annual_value, models.Customer.tier, models.Customer.industry,
                    models.Customer.external_ref, models.Customer.tenure_start)
             .join(models.Answer, models.Answer.response_id == models.Response.id)
             .join(models.Customer, models.Response.customer_id == models.Customer.id)
             .join(models.Survey, models.Response.survey_id == models.Survey.id)
             .where(models.Survey.slug == "relationship-nps"))
    with engine.connect() as connection:
        rows = pd.DataFrame(connection.execute(query).all(),
                            columns=["response", "customer", "at", "key", "score", "text", "value", "tier", "industry",
                                     "ref", "tenure_start"])
    rows["at"] = pd.to_datetime(rows["at"], utc=True)  # naive UTC on SQLite, aware on PostgreSQL
    if start:
        rows = rows[rows["at"] >= pd.Timestamp(start, tz="UTC")]
    wrote = rows[rows["key"].isin(COMMENT_KEYS) & rows["text"].fillna("").str.strip().ne("")]
    scores = rows[rows["key"] == "recommend"].sort_values(["customer", "at", "response"])
    latest = scores.groupby("customer").tail(1).set_index("customer")
    latest["commented"] = latest.index.isin(wrote["customer"])
    return latest


def test_grid_counts_each_customer_once_with_their_latest_answer(engine):
    demo.generate(engine, end=demo.DEMO_END, customers=60, responses=900, seed=3)
    start = date(2026, 1, 1)
    latest = latest_per_customer(engine, start)
    grid = queries.value_nps_grid(engine, Filters("relationship-nps", start=start), "recommend")
    assert grid["customers"].sum() == len(latest)
    category = pd.cut(latest["score"], [-1, 6, 8, 10], labels=["detractor", "passive", "promoter"])
    by_category = grid.groupby("category")[["customers", "value"]].sum()
    assert by_category["customers"].to_dict() == category.value_counts().to_dict()
    np.testing.assert_allclose(by_category.loc["detractor", "value"], latest.loc[category == "detractor", "value"].sum())


def test_silent_list_leaves_out_customers_who_wrote_anything(engine):
    demo.generate(engine, end=demo.DEMO_END, customers=200, responses=2000, seed=3)
    latest = latest_per_customer(engine)
    found = queries.low_scoring_customers(engine, ADMIN, Filters("relationship-nps"), "recommend", 6, COMMENT_KEYS,
                                          silent=True)
    expected = latest[(latest["score"] <= 6) & ~latest["commented"]]
    assert sorted(found["external_ref"]) == sorted(expected["ref"]) and len(found) > 0
    everyone = queries.low_scoring_customers(engine, ADMIN, Filters("relationship-nps"), "recommend", 6, COMMENT_KEYS)
    assert len(everyone) == (latest["score"] <= 6).sum() > len(found)
    assert (everyone["comments"] > 0).any()
    assert not {"email", "phone"} & set(everyone.columns)
    old = date.today() - timedelta(days=round(365.25 * 5))
    captive = queries.low_scoring_customers(engine, ADMIN, Filters("relationship-nps"), "recommend", 6, COMMENT_KEYS,
                                            tenure_before=old)
    assert sorted(captive["external_ref"]) == sorted(latest[(latest["score"] <= 6)
                                                            & (latest["tenure_start"] <= old)]["ref"])


@pytest.fixture
def demo_url(demo_database_url):
    return demo_database_url


@pytest.fixture
def page(demo_url, monkeypatch):
    return run_page("loyalty", demo_url, monkeypatch)


def test_plain_and_value_weighted_nps_are_those_of_the_customers_latest_answers(page, demo_url):
    latest = latest_per_customer(db.make_engine(demo_url))
    expected = value_weighted_nps(latest["score"], latest["value"])
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["NPS (customers)"] == f"{expected.plain.value:+.1f}"
    assert metrics["Value-weighted NPS"] == f"{expected.weighted.value:+.1f}"
    captions = " ".join(c.value for c in page.caption)
    assert f"n = {len(latest):,} · effective n = {expected.weighted.n_eff:,.0f}" in captions
    assert f"95% interval {expected.weighted.low:+.1f} to {expected.weighted.high:+.1f}" in captions
    detractors = latest["score"] <= 6
    share = 100 * latest.loc[detractors, "value"].sum() / latest["value"].sum()
    assert metrics["Revenue held by detractors"] == f"{share:.1f}%"


def test_the_silent_gold_logistics_customers_are_listed(page, demo_url):
    latest = latest_per_customer(db.make_engine(demo_url))
    planted = latest[(latest["tier"] == "Gold") & (latest["industry"] == "Logistics") & (latest["score"] <= 6)]
    silent = page.dataframe[1].value
    assert len(planted) >= 5
    assert set(planted["ref"]) <= set(silent["external_ref"])
    assert (silent["industry"] == "Logistics").mean() > 0.5
    assert list(silent.columns) == ["name", "external_ref", "region", "tier", "industry", "annual value",
                                    "tenure (years)", "last score", "date"]
    assert (silent["last score"] <= 6).all() and (silent["annual value"] >= 50_000).all()
    captive = page.dataframe[2].value
    assert len(captive) > 0 and (captive["tenure (years)"] >= 5).all()


def test_quadrants_add_up_to_every_customer_with_a_value(page, demo_url):
    latest = latest_per_customer(db.make_engine(demo_url))
    quadrants = page.dataframe[0].value.set_index("quadrant")
    assert quadrants["customers"].sum() == len(latest)
    high_unhappy = latest[(latest["value"] >= 50_000) & (latest["score"] <= 6)]
    assert quadrants.loc["At risk", "customers"] == len(high_unhappy)
    assert quadrants["revenue share %"].sum() == pytest.approx(100, abs=0.2)


def test_the_chart_downloads_as_svg_and_png(page):
    labels = [button.label for button in page.get("download_button")]
    assert "Download chart (SVG)" in labels and "Download chart (PNG)" in labels


def test_customers_without_an_annual_value_show_a_clear_tile_not_an_error(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'novalue.db'}"
    engine = db.make_engine(url)
    demo.generate(engine, end=demo.DEMO_END, customers=120, responses=2_000, seed=3)
    with engine.begin() as connection:
        connection.execute(text("UPDATE customers SET annual_value = NULL"))
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    st.cache_data.clear()
    app = signed_in_page("loyalty")
    app.run()
    assert not app.exception
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["Value-weighted NPS"] == "no customer values"
    assert tiles["Revenue held by detractors"] == "no customer values"
