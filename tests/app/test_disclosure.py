"""A planted group under the floor is not recoverable from anything a manager or a field manager can
see or download (issue 13: findings 1-4 and the property over every page, report and download).

The planted group is one customer in region "Tiny" with 7 answers in February 2026: five 0s and two
10s, NPS = 100 (2 - 5) / 7 = -42.857. Three regions of 40 customers each answer once a month from
January to March (North NPS 20, South 0, East 30: far from -42.86), and region "Gap" (30 customers)
in January and March only, and region "Solo" (one customer, 12 answers), so any appearance of -42.86 /
-42.9 in an output is the planted group, and every hidden set that a total could isolate must hold
at least the minimum n.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
import streamlit.testing.v1.app_test as app_test_module

from app_pages import labels
from app_pages.common import ACTOR, FILTER_SEGMENT
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from survey.people.access import Actor
from survey.storage import db, models
from tests.app.test_overview_page import PULSE, RecordingMediaFileManager, downloaded
from tests.conftest import ROOT

PATTERNS = {"North": [10, 10, 9, 8, 7, 6, 3, 10, 9, 2],  # 5 promoters, 3 detractors per 10: NPS 20
            "South": [10, 8, 8, 7, 6, 5, 10, 9, 4, 8],  # 3 and 3: NPS 0
            "East": [10, 10, 10, 9, 8, 3, 2, 1, 9, 10]}  # 6 and 3: NPS 30
PLANTED = [0, 0, 0, 0, 0, 10, 10]
PLANTED_TEXTS = ("-42.86", "-42.9", "-42.857")
MONTHS = (date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The database URL and the two viewers: a manager, and a field manager who owns North only."""
    url = f"sqlite:///{tmp_path_factory.mktemp('planted') / 'planted.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        version = publish(session, loads_yaml(PULSE))
        manager = models.User(email="manager@example.com", name="M", role="manager")
        own = models.User(email="fm.north@example.com", name="FM North", role="field_manager")
        other = models.User(email="fm.south@example.com", name="FM South", role="field_manager")
        session.add_all([manager, own, other])
        session.flush()
        number = 0

        def answer(customer, day, score, hour):
            nonlocal number
            number += 1
            response = models.Response(idempotency_key=f"k{number}", content_hash="x", survey_id=version.survey_id,
                                       survey_version_id=version.id, channel="web", customer_id=customer.id,
                                       submitted_at=datetime.combine(day, datetime.min.time(), timezone.utc)
                                       .replace(hour=hour))
            response.answers.append(models.Answer(question_key="recommend", numeric_value=score))
            session.add(response)

        for region, pattern in PATTERNS.items():
            for index in range(40):
                customer = models.Customer(external_ref=f"{region}{index}", name=f"{region} {index}", region=region,
                                           field_manager_id=(own if region == "North" else other).id)
                session.add(customer)
                session.flush()
                for day in MONTHS:
                    answer(customer, day, pattern[index % 10], 9)
        for index in range(30):  # answers in January and March only: February is an empty month for "Gap"
            customer = models.Customer(external_ref=f"Gap{index}", name=f"Gap {index}", region="Gap",
                                       field_manager_id=other.id)
            session.add(customer)
            session.flush()
            for day in (MONTHS[0], MONTHS[2]):
                answer(customer, day, PATTERNS["North"][index % 10], 9)
        solo = models.Customer(external_ref="S1", name="The only Solo customer", region="Solo",
                               field_manager_id=other.id)
        session.add(solo)
        session.flush()
        for position, score in enumerate([8] * 6 + [10] * 6):  # one customer, 12 answers: NPS 50
            answer(solo, MONTHS[1], score, 8 + position)
        tiny = models.Customer(external_ref="T1", name="The only Tiny customer", region="Tiny",
                               field_manager_id=other.id)
        session.add(tiny)
        session.flush()
        for position, score in enumerate(PLANTED):
            answer(tiny, MONTHS[1], score, 10 + position)
        # Customer events for the Retention page: a quarter of each region leaves in late March, the
        # Tiny customer in February (for price), everyone else buys monthly
        customers = session.query(models.Customer).order_by(models.Customer.id).all()
        for position, customer in enumerate(customers):
            leaves = customer.region == "Tiny" or position % 4 == 0
            if leaves:
                session.add(models.CustomerEvent(
                    event_ref=f"left-{customer.id}", content_hash="x", customer_id=customer.id, kind="defection",
                    occurred_on=date(2026, 2, 20) if customer.region == "Tiny" else date(2026, 3, 25),
                    reason="price" if customer.region == "Tiny" else "service", source="import"))
            for month in (1, 2, 3):
                session.add(models.CustomerEvent(
                    event_ref=f"buy-{customer.id}-{month}", content_hash="x", customer_id=customer.id,
                    kind="purchase", occurred_on=date(2026, month, 15), value=100.0, source="import"))
        actors = {"manager": Actor(manager.id, manager.email, "manager"),
                  "field manager": Actor(own.id, own.email, "field_manager")}
    engine.dispose()
    return url, actors


def run(name: str, url: str, actor: Actor, monkeypatch, settle=None) -> AppTest:
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(app_test_module, "MediaFileManager", RecordingMediaFileManager)
    st.cache_data.clear()
    app = AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=180)
    app.session_state[ACTOR] = actor
    app.run()
    if settle:
        settle(app)
    assert not app.exception, app.exception
    return app


def outputs(app: AppTest) -> dict[str, str]:
    """Everything the page shows or serves, as text: tables, texts, tiles, charts' data, every download."""
    found = {}
    for number, frame in enumerate(app.dataframe):
        found[f"table {number}"] = frame.value.to_csv()
    for kind in ("markdown", "caption", "info", "warning", "success", "error", "subheader", "title"):
        for number, element in enumerate(app.get(kind)):
            found[f"{kind} {number}"] = str(element.value)
    for number, metric in enumerate(app.metric):
        found[f"metric {number}"] = f"{metric.label} {metric.value} {metric.delta}"
    for number, chart in enumerate(app.get("vega_lite_chart")):
        found[f"chart {number}"] = str(chart.proto)
    for button in app.get("download_button"):
        content = downloaded(button)
        found[f"download {button.label} {button.proto.file_name if hasattr(button.proto, 'file_name') else ''}"] = (
            content.decode("utf-8", errors="ignore"))
    return found


def assert_planted_not_shown(found: dict[str, str]) -> None:
    leaks = [where for where, text in found.items() if any(value in text for value in PLANTED_TEXTS)]
    assert not leaks, f"the planted group's NPS appears in {leaks}"


def assert_hidden_rows_reach(frame: pd.DataFrame, min_n: int, n_column: str = "n") -> None:
    """The hidden rows of a published table together rest on none or at least `min_n` answers, unless
    every row is hidden (then the table's total is those rows, itself under the minimum, and hidden
    wherever it is published)."""
    hidden = frame["status"].astype(str).str.startswith("suppressed")
    total = frame.loc[hidden, n_column].sum()
    assert total == 0 or total >= min_n or hidden[frame[n_column] > 0].all(), frame


def segments_by_region(app):
    app.selectbox(key="segments_dimension").set_value("region").run()


def trends_by_region(app):
    app.selectbox(key="trends_split").set_value("region").run()


def only_tiny(app):
    app.sidebar.multiselect(key=FILTER_SEGMENT.format("region")).set_value(["Tiny"]).run()


def tiny_and_north(app):
    app.sidebar.multiselect(key=FILTER_SEGMENT.format("region")).set_value(["North", "Tiny"]).run()


def trends_of_tiny(app):
    only_tiny(app)
    app.selectbox(key="trends_split").set_value("region").run()


def retention_by_region(app):
    app.selectbox(key="retention_segment").set_value("region").run()


VIEWS = {"segments": ("segments", segments_by_region), "segments, Tiny and North": ("segments", tiny_and_north),
         "trends": ("trends", trends_by_region), "trends, Tiny only": ("trends", trends_of_tiny),
         "overview": ("overview", None), "overview, Tiny only": ("overview", only_tiny),
         "overview, Tiny and North": ("overview", tiny_and_north),
         "retention": ("retention", retention_by_region), "retention, Tiny and North": ("retention", tiny_and_north)}


@pytest.mark.parametrize("viewer", ["manager", "field manager"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_planted_small_group_is_not_recoverable(planted, monkeypatch, view, viewer):
    url, actors = planted
    name, settle = VIEWS[view]
    app = run(name, url, actors[viewer], monkeypatch, settle)
    found = outputs(app)
    assert any(key.startswith("download") for key in found)  # the downloads were read too
    assert_planted_not_shown(found)
    for key, text in found.items():
        if key.startswith("download") and ".csv" in key or key.startswith("table"):
            frame = pd.read_csv(io.StringIO(text.lstrip("\ufeff")))
            if "status" in frame.columns and "n" in frame.columns:
                assert_hidden_rows_reach(frame, 30)


def test_the_report_of_overview_hides_small_months_and_lists_every_month(planted, monkeypatch):
    # finding 2: the report printed "-100.00 ... n=2, change -121.81, p 0.00" and skipped an empty month
    url, actors = planted
    app = run("overview", url, actors["manager"], monkeypatch)
    app.sidebar.multiselect(key=FILTER_SEGMENT.format("region")).set_value(["Tiny", "North"]).run()
    report = downloaded(next(b for b in app.get("download_button") if b.label == "Download HTML report")).decode()
    for value in PLANTED_TEXTS:
        assert value not in report
    # January and March are North only (40 each), February North + Tiny (47): nothing is under 30,
    # so every month is shown; with only Tiny selected, February is hidden and says why.
    app.sidebar.multiselect(key=FILTER_SEGMENT.format("region")).set_value(["Tiny"]).run()
    assert not app.exception
    report = downloaded(next(b for b in app.get("download_button") if b.label == "Download HTML report")).decode()
    assert "-42.86" not in report and "-42.9" not in report
    assert "suppressed" in report


def test_an_empty_month_is_listed_not_skipped(planted, monkeypatch):
    url, actors = planted
    app = run("overview", url, actors["manager"], monkeypatch)
    app.sidebar.multiselect(key=FILTER_SEGMENT.format("region")).set_value(["Gap"]).run()
    # the first table download of the Overview is the metric by month
    table = downloaded(next(b for b in app.get("download_button") if b.label == "Download table (CSV)"))
    frame = pd.read_csv(io.StringIO(table.decode("utf-8-sig")))
    assert frame["period"].str[:7].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert frame["n"].tolist() == [30, 0, 30] and frame["status"].tolist()[1] == "no answers"


def test_minimum_n_cannot_go_under_the_floor(planted, monkeypatch):
    # finding 1: the Segments input accepted 1
    url, actors = planted
    app = run("segments", url, actors["field manager"], monkeypatch, segments_by_region)
    field = app.number_input(key="segments_min_n")
    assert field.min == 10 and field.value == 30
    monkeypatch.setenv("SURVEY_MIN_N_FLOOR", "40")
    app.run()
    assert app.number_input(key="segments_min_n").min == 40


def test_a_field_manager_sees_no_cell_of_few_customers_outside_their_scope(planted, monkeypatch):
    # finding 1: a field manager read one customer of another region's score from a small cell.
    # Tiny is one customer outside the field manager's scope: hidden for the scope even at n >= min n.
    url, actors = planted

    def without_tiny(app):
        app.sidebar.multiselect(key=FILTER_SEGMENT.format("region")).set_value(["East", "North", "Solo", "South"])
        segments_by_region(app)
        app.number_input(key="segments_min_n").set_value(10).run()

    app = run("segments", url, actors["field manager"], monkeypatch, without_tiny)
    # Solo: 12 answers (over the minimum n of 10) from one customer outside the field manager's scope
    table = app.dataframe[0].value.set_index("Region")
    assert table.loc["Solo", "status"] == "suppressed (your scope)"
    assert table.loc["Solo", "value"] == labels.MISSING  # shown as a dash, no number
    assert "outside your own customers" in " ".join(c.value for c in app.caption)
    # the manager may read every customer's rows anyway: Solo's 12 answers are shown (NPS 50)
    manager = run("segments", url, actors["manager"], monkeypatch, without_tiny)
    shown = manager.dataframe[0].value.set_index("Region")
    assert shown.loc["Solo", "value"] == pytest.approx(50.0)
    assert not shown["status"].str.startswith("suppressed").any()


def test_overview_tiles_say_what_they_cover(planted, monkeypatch):
    # finding 4: with segment filters set, the case and response-rate tiles stayed whole-survey unsaid
    url, actors = planted
    app = run("overview", url, actors["manager"], monkeypatch)
    app.sidebar.multiselect(key=FILTER_SEGMENT.format("region")).set_value(["North"]).run()
    labels = [metric.label for metric in app.metric]
    assert "Response rate (whole survey)" in labels and "Open follow-up cases (whole survey)" in labels
    assert "not filtered by the sidebar" in " ".join(c.value for c in app.caption)
