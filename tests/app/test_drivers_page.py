"""Drivers: sufficient statistics counted in one query equal those of the raw rows (SQLite and
PostgreSQL), and the page ranks drivers.support first with the figures key_drivers gives on raw rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from analysis import key_drivers
from survey import demo
from survey.storage import db, models, queries
from survey.storage.filters import Filters
from tests.conftest import run_page

DRIVERS = ["drivers.product_quality", "drivers.delivery", "drivers.support", "drivers.billing",
           "drivers.value_for_money"]


def raw_rows(engine, region: str | None = None) -> pd.DataFrame:
    """One row per relationship response, one column per answer key, fetched without the query under test."""
    query = (select(models.Answer.response_id, models.Answer.question_key, models.Answer.numeric_value)
             .join(models.Response, models.Answer.response_id == models.Response.id)
             .join(models.Survey, models.Response.survey_id == models.Survey.id)
             .where(models.Survey.slug == "relationship-nps"))
    if region:
        query = query.join(models.Customer, models.Response.customer_id == models.Customer.id).where(
            models.Customer.region == region)
    with engine.connect() as connection:
        long = pd.DataFrame(connection.execute(query).all(), columns=["response", "key", "value"])
    return long.dropna().pivot(index="response", columns="key", values="value")


def test_driver_moments_equal_the_sums_of_the_raw_rows(engine):
    demo.generate(engine, end=demo.DEMO_END, customers=60, responses=600, seed=3)
    with db.session_scope(engine) as session:  # one response misses a driver: left out, counted as dropped
        response_id = session.scalars(select(models.Answer.response_id).where(
            models.Answer.question_key == "drivers.support")).first()
        session.query(models.Answer).filter(models.Answer.response_id == response_id,
                                            models.Answer.question_key == "drivers.billing").delete()
    keys = ["satisfaction", *DRIVERS]
    for region in (None, "North"):
        filters = Filters("relationship-nps", segments=((("region", ("North",)),) if region else ()))
        found = queries.driver_moments(engine, filters, "satisfaction", DRIVERS)
        rows = raw_rows(engine, region)[keys]
        complete = rows.dropna().to_numpy()
        assert found["n"] == len(complete) > 50
        assert found["dropped_rows"] == len(rows) - len(complete)
        np.testing.assert_allclose(found["sums"].to_numpy(), complete.sum(axis=0))
        np.testing.assert_allclose(found["cross_products"].to_numpy(), complete.T @ complete)
    assert queries.driver_moments(engine, Filters("relationship-nps"), "satisfaction", DRIVERS)["dropped_rows"] == 1


def test_driver_moments_refuse_a_key_named_twice(engine):
    with pytest.raises(ValueError, match="more than once"):
        queries.driver_moments(engine, Filters("relationship-nps"), "satisfaction", ["satisfaction"])


@pytest.fixture
def demo_url(demo_database_url):
    return demo_database_url


@pytest.fixture
def page(demo_url, monkeypatch):
    return run_page("drivers", demo_url, monkeypatch)


def test_support_tops_the_ranking_with_the_figures_of_key_drivers_on_raw_rows(page, demo_url):
    ranking = page.dataframe[0].value
    assert ranking["answer key"].iloc[0] == "drivers.support"
    assert ranking["importance %"].iloc[0] > 50
    expected = key_drivers(raw_rows(db.make_engine(demo_url)), "satisfaction", DRIVERS)
    shown = ranking.set_index("answer key").loc[DRIVERS]
    np.testing.assert_allclose(shown["importance %"], expected["share"].round(1))
    np.testing.assert_allclose(shown["coefficient"], expected["coefficient"].round(3))
    np.testing.assert_allclose(shown["performance"], expected["performance"].round(2))
    assert shown["quadrant"].tolist() == expected["quadrant"].tolist()
    assert set(ranking["n"]) == {expected.attrs["n"]}
    assert ranking["R²"].iloc[0] == round(expected.attrs["r_squared"], 4)
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Complete responses (n)"] == f"{expected.attrs['n']:,}"
    assert len(page.get("vega_lite_chart")) == 1 or len(page.get("arrow_vega_lite_chart")) == 1


def test_the_performance_axis_is_zoomed_to_the_drivers_in_every_layer(page):
    import json

    spec = json.loads(page.get("arrow_vega_lite_chart")[0].proto.spec if page.get("arrow_vega_lite_chart")
                      else page.get("vega_lite_chart")[0].proto.spec)

    def x_domains(node):
        found = []
        for layer in node.get("layer", []):
            found += x_domains(layer)
        x = node.get("encoding", {}).get("x")
        if x:
            found.append(x.get("scale", {}).get("domain"))
        return found

    domains = x_domains(spec)
    # every layer that draws on x shares one domain that does not start at 0 (means sit near 7 of 10)
    assert len(domains) >= 2 and all(domain == domains[0] for domain in domains) and domains[0][0] > 5
    caption = " ".join(c.value for c in page.caption)
    assert f"starts at {domains[0][0]:.2f}, not 0" in caption


def test_a_survey_without_declared_drivers_says_so(page):
    page.sidebar.selectbox[0].set_value("post-support").run()
    assert not page.exception
    assert page.info[0].value.startswith("This survey declares no overall question (`role: overall`) and no "
                                         "driver attributes (`role: driver`), so there is no key-driver analysis")
    assert not page.dataframe


def test_the_chart_downloads_as_svg_and_png(page):
    labels = [button.label for button in page.get("download_button")]
    assert "Download chart (SVG)" in labels and "Download chart (PNG)" in labels
