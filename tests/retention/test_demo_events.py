"""The demo's customer events: the planted effects measured straight from the tables (not through
the page's code), dates within the demo's window, and nothing invented for customers the demo did
not create."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select

from survey import demo
from survey.retention.events import CheckedEvent
from survey.storage import db, models


def tables(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine = db.make_engine(url)
    with engine.connect() as connection:
        events = pd.DataFrame(connection.execute(select(
            models.CustomerEvent.customer_id, models.CustomerEvent.kind, models.CustomerEvent.occurred_on,
            models.CustomerEvent.reason, models.CustomerEvent.value)).all(),
            columns=["customer", "kind", "day", "reason", "value"])
        answers = pd.DataFrame(connection.execute(
            select(models.Answer.customer_id, models.Answer.submitted_at, models.Answer.numeric_value)
            .join(models.Survey, models.Survey.id == models.Answer.survey_id)
            .where(models.Survey.slug == "relationship-nps", models.Answer.question_key == "recommend")).all(),
            columns=["customer", "at", "score"])
    engine.dispose()
    return events, answers


def test_detractors_leave_within_a_year_about_three_times_as_often_as_promoters(demo_database_url):
    events, answers = tables(demo_database_url)
    first = answers.sort_values("at").groupby("customer").head(1).set_index("customer")
    left = events[events["kind"] == "defection"].groupby("customer")["day"].min()
    days = (pd.to_datetime(first.index.map(left)) - pd.to_datetime(first["at"]).dt.normalize()).dt.days
    first["left_in_a_year"] = (days >= 0) & (days <= 365)
    observed = (pd.Timestamp(date(2026, 10, 31)) - pd.to_datetime(first["at"])).dt.days >= 365
    known = first[observed | first["left_in_a_year"]]
    category = pd.cut(known["score"], [-1, 6, 8, 10], labels=["detractor", "passive", "promoter"])
    rates = known.groupby(category, observed=True)["left_in_a_year"].mean()
    assert 2.0 < rates["detractor"] / rates["promoter"] < 4.5, rates
    assert rates["detractor"] > rates["passive"] > rates["promoter"]


def test_about_seven_in_ten_defections_give_a_service_reason(demo_database_url):
    events, _ = tables(demo_database_url)
    defections = events[events["kind"] == "defection"]
    assert defections["reason"].notna().all() and defections["value"].isna().all()
    assert 0.6 < (defections["reason"] == "service").mean() < 0.8
    assert set(defections["reason"]) <= {"price", "product", "service", "benefit", "competitor", "personal", "other"}


def test_events_fall_in_the_window_and_nobody_buys_in_the_month_after_leaving(demo_database_url):
    events, _ = tables(demo_database_url)
    assert events["day"].min() >= date(2024, 11, 1) and events["day"].max() <= date(2026, 10, 31)
    left = events[events["kind"] == "defection"].groupby("customer")["day"].min()
    bought = events[events["kind"] != "defection"].assign(left=lambda f: f["customer"].map(left)).dropna(subset=["left"])
    after = (pd.to_datetime(bought["day"]) - pd.to_datetime(bought["left"])).dt.days
    assert not ((after >= 0) & (after < 30)).any()  # only win-back purchases come later, 30 days on at least
    assert (events.loc[events["kind"] != "defection", "value"] > 0).all()


def test_demo_events_hash_like_the_import_and_only_demo_customers_get_events(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        session.add(models.Customer(external_ref="C900001", name="Harbour Logistics Ltd"))
    demo.generate(engine, customers=30, responses=300, seed=2)
    with db.session_scope(engine) as session:
        refs = dict(session.execute(select(models.Customer.id, models.Customer.external_ref)).all())
        stored = session.scalars(select(models.CustomerEvent)).all()
        assert stored and {refs[e.customer_id] for e in stored} <= {f"C{i:06d}" for i in range(1, 31)}
        for event in stored:
            again = CheckedEvent(event.event_ref, refs[event.customer_id], event.customer_id, event.kind,
                                 event.occurred_on, event.value, event.reason, event.reason_text)
            assert again.content_hash == event.content_hash
    engine.dispose()
