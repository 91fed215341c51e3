"""Dashboard queries: filters and groups counted in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

from survey.storage import db, models, queries
from survey.collection.collect import submit
from survey.definitions.definition import load_yaml
from survey.storage.filters import NOT_SET, Filters
from survey.definitions.publishing import publish
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


# Answers carry copies of their response's survey, time and customer (migration 0006); the counts
# read them instead of joining every answer to its response. They must agree with the responses.


def answers_against_responses(engine):
    """Answers with their own copies and their response's values, as plain Python values."""
    import pandas as pd
    from sqlalchemy import select

    query = (select(models.Answer.survey_id, models.Answer.submitted_at, models.Answer.customer_id,
                    models.Response.survey_id, models.Response.submitted_at, models.Response.customer_id)
             .join(models.Response, models.Answer.response_id == models.Response.id))
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(),
                            columns=["survey", "at", "customer", "response_survey", "response_at", "response_customer"])


def assert_copies_match(engine):
    frame = answers_against_responses(engine)
    assert len(frame) > 0
    assert frame["survey"].tolist() == frame["response_survey"].tolist()
    assert frame["at"].tolist() == frame["response_at"].tolist()
    assert frame["customer"].astype(object).where(frame["customer"].notna(), None).tolist() == \
        frame["response_customer"].astype(object).where(frame["response_customer"].notna(), None).tolist()


def test_answers_copy_their_response_from_every_writer_and_follow_its_changes(engine):
    import pytest
    from sqlalchemy import text, update
    from sqlalchemy.exc import IntegrityError

    from survey import demo
    from survey.collection.customers import import_customers
    from survey.collection.response_import import import_responses
    from tests.conftest import ROOT

    demo.generate(engine, end=demo.DEMO_END, customers=30, responses=300, seed=3)  # publishes the sample surveys
    shipped = ROOT / "sample_data" / "csv"
    with db.session_scope(engine) as session:
        import_customers(session, shipped / "customers.csv")
    with db.session_scope(engine) as session:
        import_responses(session, shipped / "responses.csv")
    store(engine, [("North", 5, date(2026, 1, 3))])  # collect.submit (post-support is published already)
    with db.session_scope(engine) as session:  # the ORM, through the relationship (survey.storage.models fills the copies)
        version = session.query(models.SurveyVersion).order_by(models.SurveyVersion.id).first()
        response = models.Response(idempotency_key="orm", content_hash="x", survey_id=version.survey_id,
                                   survey_version_id=version.id, channel="web",
                                   submitted_at=datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
        response.answers.append(models.Answer(question_key="recommend", numeric_value=9))
        session.add(response)
    assert_copies_match(engine)
    # a writer that forgets the copies fails instead of storing answers no count would see
    with engine.connect() as connection:
        response_id = connection.execute(text("select max(id) from responses")).scalar_one()
    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            connection.execute(text("insert into answers (response_id, question_key, numeric_value) "
                                    "values (:r, 'raw', 1)"), {"r": response_id})
    # a response moved in time or to another customer takes its answers' copies along
    with engine.begin() as connection:
        connection.execute(update(models.Response).where(models.Response.id == response_id).values(
            submitted_at=datetime(2026, 4, 2, 8, tzinfo=timezone.utc), customer_id=1))
        connection.execute(update(models.Response).where(models.Response.id == 1).values(customer_id=None))
    assert_copies_match(engine)


def straightforward_rows(engine):
    """Every numeric answer with its response and customer, read row by row (the reference)."""
    import pandas as pd
    from sqlalchemy import select

    query = (select(models.Survey.slug, models.SurveyVersion.number, models.Response.submitted_at,
                    models.Response.channel, models.Customer.region, models.Customer.tier,
                    models.Answer.response_id, models.Answer.question_key, models.Answer.numeric_value)
             .select_from(models.Answer).join(models.Response, models.Answer.response_id == models.Response.id)
             .join(models.Survey, models.Response.survey_id == models.Survey.id)
             .join(models.SurveyVersion, models.Response.survey_version_id == models.SurveyVersion.id)
             .outerjoin(models.Customer, models.Response.customer_id == models.Customer.id)
             .where(models.Answer.numeric_value.is_not(None)))
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=[
            "survey", "version", "at", "channel", "region", "tier", "response", "key", "value"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["period"] = frame["at"].dt.strftime("%Y-%m")
    return frame.fillna({"region": NOT_SET, "tier": NOT_SET})


def in_filters(frame, filters: Filters):
    import pandas as pd

    keep = frame["survey"] == filters.survey
    if filters.versions:
        keep &= frame["version"].isin(filters.versions)
    if filters.start:
        keep &= frame["at"] >= pd.Timestamp(filters.start, tz="UTC")
    if filters.end:
        keep &= frame["at"] < pd.Timestamp(filters.end, tz="UTC") + pd.Timedelta(days=1)
    if filters.channels:
        keep &= frame["channel"].isin(filters.channels)
    for name, values in filters.segments:
        keep &= frame[name].isin(values)
    return frame[keep]


FILTER_CASES = [
    Filters("relationship-nps"),
    Filters("relationship-nps", start=date(2025, 3, 15), end=date(2026, 2, 10)),
    Filters("relationship-nps", start=date(2025, 6, 1), end=date(2026, 10, 31), segments=(("region", ("North",)),)),
    Filters("relationship-nps", segments=(("region", ("North", "East")), ("tier", ("Gold",)))),
    Filters("relationship-nps", versions=(1,), channels=("web", "phone"), start=date(2025, 1, 1)),
    Filters("post-support", channels=("email",), segments=(("tier", ("Silver",)),)),
]


def test_histograms_from_the_answers_copies_equal_a_straightforward_count(engine):
    from survey import demo

    demo.generate(engine, end=demo.DEMO_END, customers=60, responses=1_500, seed=5)
    rows = straightforward_rows(engine)
    for filters in FILTER_CASES:
        key = "recommend" if filters.survey == "relationship-nps" else "csat"
        chosen = in_filters(rows, filters)
        chosen = chosen[chosen["key"] == key]
        for period, by in ((None, ()), ("month", ()), ("month", ("region",)), (None, ("channel", "tier"))):
            groups = [*by, *(["period"] if period else [])]
            expected = (chosen.groupby([*groups, "value"]).size().reset_index(name="count")
                        .rename(columns={"value": "score"}).astype({"score": int, "count": int}))
            found = queries.histogram(engine, filters, key, period=period, by=by)
            assert len(expected) > 0, (filters, period, by)
            assert found.to_dict("records") == expected[[*groups, "score", "count"]].to_dict("records"), \
                (filters, period, by)


def test_index_moments_from_the_answers_copies_equal_a_straightforward_computation(engine):
    import numpy as np

    from survey import demo

    demo.generate(engine, end=demo.DEMO_END, customers=60, responses=1_500, seed=5)
    rows = straightforward_rows(engine)
    items = (("satisfaction", 1.0, 10.0), ("expectations", 1.0, 10.0), ("ideal", 1.0, 10.0))
    for filters in FILTER_CASES[:5]:
        chosen = in_filters(rows, filters)
        wide = chosen[chosen["key"].isin([k for k, _, _ in items])].pivot_table(
            index=["response", "period", "region"], columns="key", values="value").dropna()
        wide["score"] = sum((wide[k] - low) / (high - low) * 100 / len(items) for k, low, high in items)
        for period, by in ((None, ()), ("month", ()), (None, ("region",))):
            groups = [*by, *(["period"] if period else [])]
            found = queries.index_moments(engine, filters, items, period=period, by=by)
            if groups:
                expected = wide.groupby(groups)["score"].agg(["count", "sum", lambda s: (s * s).sum()])
                assert found[groups].apply(tuple, axis=1).tolist() == [
                    g if isinstance(g, tuple) else (g,) for g in expected.index], (filters, period, by)
                values = expected.to_numpy()
            else:
                values = np.array([[len(wide), wide["score"].sum(), (wide["score"] ** 2).sum()]])
            assert values[:, 0].sum() > 0 and found["n"].tolist() == values[:, 0].astype(int).tolist(), \
                (filters, period, by)
            assert np.allclose(found[["total", "total_squares"]].to_numpy(dtype=float), values[:, 1:].astype(float))
