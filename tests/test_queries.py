"""Dashboard queries: filters and groups counted in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

from survey import db, models, queries
from survey.collect import submit
from survey.definition import load_yaml
from survey.filters import NOT_SET, Filters
from survey.publishing import publish
from tests.conftest import SAMPLE_SURVEYS

SUPPORT = load_yaml(SAMPLE_SURVEYS / "post_support.yaml")


def store(engine, rows):
    """rows: (customer region or None, csat, day) -> one response each."""
    with db.session_scope(engine) as session:
        version = publish(session, SUPPORT)
        for number, (region, score, day) in enumerate(rows):
            customer = models.Customer(external_ref=f"C{number}", name=f"Customer {number}", region=region)
            session.add(customer)
            session.flush()
            submit(session, version, SUPPORT, {"csat": score, "effort": 4}, idempotency_key=f"k{number}",
                   channel="web", customer_id=customer.id,
                   submitted_at=datetime(day.year, day.month, day.day, 23, 30, tzinfo=timezone.utc))


def test_histogram_counts_by_segment_with_unknown_segments_as_their_own_group(engine):
    store(engine, [("North", 5, date(2026, 1, 3)), ("North", 4, date(2026, 1, 4)), (None, 1, date(2026, 2, 1))])
    frame = queries.histogram(engine, Filters("post-support"), "csat", by="region")
    assert frame.to_dict("records") == [
        {"region": NOT_SET, "score": 1, "count": 1},
        {"region": "North", "score": 4, "count": 1},
        {"region": "North", "score": 5, "count": 1},
    ]


def test_histogram_filters_dates_inclusively_in_utc_and_labels_months(engine):
    # 23:30 UTC on the last day of January belongs to January on both databases
    store(engine, [("North", 5, date(2026, 1, 31)), ("North", 2, date(2026, 2, 1)), ("South", 3, date(2026, 2, 2))])
    january = Filters("post-support", start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert queries.histogram(engine, january, "csat", period="month").to_dict("records") == [
        {"period": "2026-01", "score": 5, "count": 1}]
    south = Filters("post-support", segments=(("region", ("South",)),))
    assert queries.histogram(engine, south, "csat")["count"].sum() == 1
