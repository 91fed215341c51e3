"""The demo data generator: deterministic, consistent with the schema and the rules, effects planted."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from survey import demo
from survey.collection import collect
from survey.people import accounts
from survey.storage import db, models
from survey.definitions.publishing import version_definition

SMALL = {"customers": 300, "responses": 5_000}
# Large enough that a 15-point NPS fall in one region over four months stands well clear of noise.
MEDIUM = {"customers": 400, "responses": 40_000}


def _sqlite_engine(path):
    return db.make_engine(f"sqlite:///{path}")


def _dump(path) -> dict[str, list[tuple]]:
    """Every row of every table, in id order (the comparison ignores nothing)."""
    connection = sqlite3.connect(path)
    try:
        tables = [name for (name,) in connection.execute(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")]
        return {table: connection.execute(f"select * from {table} order by rowid").fetchall() for table in tables}
    finally:
        connection.close()


def _counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in models.Base.metadata.sorted_tables}


def _frame(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(text(sql)).mappings().all())


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """One generated database shared by the read-only tests of this module."""
    engine = _sqlite_engine(tmp_path_factory.mktemp("demo") / "medium.db")
    summary = demo.generate(engine, end=demo.DEMO_END, seed=7, **MEDIUM)
    yield engine, summary
    engine.dispose()


def test_same_seed_writes_identical_tables_in_two_fresh_databases(tmp_path):
    for name in ("a.db", "b.db"):
        engine = _sqlite_engine(tmp_path / name)
        demo.generate(engine, end=demo.DEMO_END, seed=7, **SMALL)
        engine.dispose()
    first, second = _dump(tmp_path / "a.db"), _dump(tmp_path / "b.db")
    assert len(first["responses"]) == SMALL["responses"]
    assert len(first["answers"]) > 5 * SMALL["responses"]
    for table in first:
        assert first[table] == second[table], f"table {table} differs between two runs with the same seed"


def test_another_seed_writes_different_data(tmp_path):
    for name, seed in (("a.db", 7), ("b.db", 8)):
        engine = _sqlite_engine(tmp_path / name)
        demo.generate(engine, end=demo.DEMO_END, seed=seed, **SMALL)
        engine.dispose()
    first, second = _dump(tmp_path / "a.db"), _dump(tmp_path / "b.db")
    assert first["surveys"] == second["surveys"]  # same sample surveys, published the same way
    for table in ("customers", "responses", "answers"):
        assert first[table] != second[table], f"table {table} is the same for seeds 7 and 8"


def test_first_run_on_an_empty_database_creates_the_schema(tmp_path):
    engine = _sqlite_engine(tmp_path / "never_migrated.db")
    summary = demo.generate(engine, end=demo.DEMO_END, customers=20, responses=300, seed=1)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from alembic_version")).scalar_one() == 1
    assert _counts(engine)["responses"] == summary.responses == 300
    assert _counts(engine)["answers"] == summary.answers
    assert sum(n for _, n in summary.responses_by_survey) == 300


def test_planted_region_nps_falls_10_to_20_points_over_its_last_four_months(medium):
    engine, summary = medium
    assert summary.last_day == demo.DEMO_END
    frame = _frame(engine, """
        select c.region,
               case when r.submitted_at >= '2026-07-01' then 'last4' else 'before' end as period,
               100.0 * (sum(case when a.numeric_value >= 9 then 1 else 0 end)
                        - sum(case when a.numeric_value <= 6 then 1 else 0 end)) / count(*) as nps
        from answers a
        join responses r on r.id = a.response_id
        join customers c on c.id = r.customer_id
        where a.question_key = 'recommend'
        group by c.region, period""")
    nps = frame.pivot(index="region", columns="period", values="nps")
    drop = nps["before"] - nps["last4"]
    assert 10 <= drop[demo.PLANTED_REGION] <= 20, drop.to_dict()
    others = drop.drop(demo.PLANTED_REGION)
    assert (others.abs() < 6).all(), f"only {demo.PLANTED_REGION} should move: {drop.to_dict()}"


def test_planted_region_falls_month_by_month(medium):
    engine, _ = medium
    frame = _frame(engine, f"""
        select strftime('%Y-%m', r.submitted_at) as month,
               100.0 * (sum(case when a.numeric_value >= 9 then 1 else 0 end)
                        - sum(case when a.numeric_value <= 6 then 1 else 0 end)) / count(*) as nps
        from answers a
        join responses r on r.id = a.response_id
        join customers c on c.id = r.customer_id
        where a.question_key = 'recommend' and c.region = '{demo.PLANTED_REGION}'
          and r.submitted_at >= '2026-07-01'
        group by month order by month""")
    assert frame["month"].tolist() == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert frame["nps"].iloc[0] > frame["nps"].iloc[-1] + 5


def test_planted_driver_correlates_most_with_overall_satisfaction(medium):
    engine, _ = medium
    long = _frame(engine, """
        select response_id, question_key, numeric_value from answers
        where question_key = 'satisfaction' or question_key like 'drivers.%'""")
    wide = long.pivot(index="response_id", columns="question_key", values="numeric_value")
    correlation = wide.corr()["satisfaction"].drop("satisfaction")
    assert correlation.idxmax() == f"drivers.{demo.PLANTED_DRIVER}", correlation.to_dict()
    assert correlation.max() ** 2 > 0.5, "the planted driver alone should explain most of the variance"
    assert correlation.drop(f"drivers.{demo.PLANTED_DRIVER}").max() < 0.6


def test_top_fifth_of_customers_by_value_holds_most_revenue(medium):
    engine, _ = medium
    customers = _frame(engine, "select annual_value, tier from customers order by annual_value desc")
    top = customers.head(int(np.ceil(len(customers) / 5)))
    share = top["annual_value"].sum() / customers["annual_value"].sum()
    assert share > 0.5
    assert set(top["tier"]) == {"Gold"} and (customers["tier"] == "Gold").sum() == len(top)


def test_silent_high_value_group_scores_low_and_never_comments(medium):
    engine, _ = medium
    frame = _frame(engine, f"""
        select (c.tier = '{demo.SILENT_TIER}' and c.industry = '{demo.SILENT_INDUSTRY}') as silent,
               count(distinct c.id) as customers,
               sum(case when a.question_key = 'recommend' then 1 else 0 end) as rated,
               100.0 * (sum(case when a.question_key = 'recommend' and a.numeric_value >= 9 then 1 else 0 end)
                        - sum(case when a.question_key = 'recommend' and a.numeric_value <= 6 then 1 else 0 end))
                 / sum(case when a.question_key = 'recommend' then 1 else 0 end) as nps,
               sum(case when a.question_key in ('comment', 'why_low') then 1 else 0 end) as comments
        from answers a
        join responses r on r.id = a.response_id
        join customers c on c.id = r.customer_id
        group by silent""").set_index("silent")
    silent, rest = frame.loc[1], frame.loc[0]
    assert silent["customers"] >= 5 and silent["rated"] >= 500
    assert silent["comments"] == 0
    assert silent["nps"] < -30 and rest["nps"] > 10
    assert rest["comments"] > 0.2 * rest["rated"]


def test_comment_tone_follows_the_score(medium):
    engine, _ = medium
    frame = _frame(engine, """
        select rec.numeric_value as recommend, com.text_value as comment
        from answers com
        join answers rec on rec.response_id = com.response_id and rec.question_key = 'recommend'
        where com.question_key = 'comment'""")
    def bank(tone):
        return {p for lang in demo.LANGUAGES for topic in demo._COMMENTS[lang][tone].values() for p in topic}

    praise, complaints = bank("positive"), bank("negative")
    assert frame.loc[frame["recommend"] >= 9, "comment"].isin(praise).all()
    assert frame.loc[frame["recommend"] <= 6, "comment"].isin(complaints).all()
    assert not frame.loc[frame["recommend"] <= 6, "comment"].isin(praise).any()
    assert not frame.loc[frame["recommend"] >= 9, "comment"].isin(complaints).any()


def test_why_low_is_answered_only_when_recommend_is_six_or_less(medium):
    engine, _ = medium
    with engine.connect() as connection:
        shown = connection.execute(text("""
            select sum(case when rec.numeric_value <= 6 then 1 else 0 end),
                   sum(case when rec.numeric_value > 6 or rec.numeric_value is null then 1 else 0 end)
            from answers why
            left join answers rec on rec.response_id = why.response_id and rec.question_key = 'recommend'
            where why.question_key = 'why_low'""")).one()
    assert shown[0] > 100
    assert shown[1] == 0


def test_every_generated_response_passes_the_survey_rules_and_hashes_like_collect(medium):
    engine, _ = medium
    with db.session_scope(engine) as session:
        responses = session.scalars(select(models.Response).order_by(models.Response.id).limit(400)).all()
        versions = {v.id: version_definition(v) for v in session.scalars(select(models.SurveyVersion))}
        assert {versions[r.survey_version_id].slug for r in responses} == {demo.RELATIONSHIP, demo.SUPPORT}
        for response in responses:
            survey = versions[response.survey_version_id]
            answers = {a.question_key: int(a.numeric_value) if a.numeric_value is not None else a.text_value
                       for a in response.answers}
            clean = collect.clean_answers(survey, answers)  # raises InvalidAnswers on any broken rule
            assert collect.content_hash(response.survey_version_id, response.customer_id, clean) == \
                response.content_hash, response.idempotency_key
            assert response.language in survey.languages


def test_rerunning_the_same_seed_raises_a_clear_error_and_writes_nothing(tmp_path):
    engine = _sqlite_engine(tmp_path / "twice.db")
    demo.generate(engine, end=demo.DEMO_END, seed=7, customers=50, responses=1_000)
    before = _counts(engine)
    with pytest.raises(demo.DemoDataExists, match="demo data for seed 7 is already in this database"):
        demo.generate(engine, end=demo.DEMO_END, seed=7, customers=50, responses=1_000)
    with pytest.raises(ValueError, match="seed 7 is already in this database"):
        demo.generate(engine, end=demo.DEMO_END, seed=8, customers=50, responses=1_000)
    assert _counts(engine) == before


def test_idempotency_keys_are_unique_and_every_answer_points_to_a_response(medium):
    engine, summary = medium
    with engine.connect() as connection:
        keys, distinct = connection.execute(
            text("select count(*), count(distinct idempotency_key) from responses")).one()
        orphans = connection.execute(text(
            "select count(*) from answers a left join responses r on r.id = a.response_id where r.id is null")).scalar_one()
        empty = connection.execute(text(
            "select count(*) from responses r where not exists (select 1 from answers a where a.response_id = r.id)"
        )).scalar_one()
        foreign = connection.execute(text("PRAGMA foreign_key_check")).all()
    assert keys == distinct == summary.responses
    assert orphans == 0 and empty == 0 and foreign == []


def test_customers_and_users_are_plausible_and_linked_within_their_region(medium):
    engine, summary = medium
    with db.session_scope(engine) as session:
        users = session.scalars(select(models.User)).all()
        customers = session.scalars(select(models.Customer)).all()
        assert len(users) == summary.users and all(u.is_demo for u in users)
        # each demo user signs in with the documented demo password of their role, and only with it
        assert all(accounts.verify_password(demo.DEMO_PASSWORDS[u.role], u.password_hash) for u in users)
        assert not any(accounts.verify_password("demo-admin", u.password_hash) for u in users if u.role != "admin")
        by_id = {u.id: u for u in users}
        field_managers = [u for u in users if u.role == "field_manager"]
        assert {u.region for u in field_managers} == set(demo.REGIONS)
        assert all(by_id[u.manager_id].role == "manager" for u in field_managers)
        assert "fm.north.1@demo.example" in {u.email for u in users}
        assert all(c.field_manager.region == c.region for c in customers)
        assert all(c.email.endswith(".example.com") and c.phone.startswith("+44 ") for c in customers)
        assert {c.external_ref for c in customers} >= {"C000001", f"C{len(customers):06d}"}
        assert 0.75 < np.mean([c.consent_to_contact for c in customers]) < 0.97
        tenure = [c.tenure_start for c in customers]
        assert (max(tenure) - min(tenure)).days > 8 * 365 and max(tenure) < summary.first_day
        assert {c.attributes["channel_preference"] for c in customers} <= set(demo.CHANNELS)


def test_orm_reads_back_a_generated_response_with_a_proper_datetime(medium):
    engine, summary = medium
    with db.session_scope(engine) as session:
        response = session.scalars(select(models.Response).order_by(models.Response.id.desc()).limit(1)).one()
        assert isinstance(response.submitted_at, datetime)
        assert summary.first_day <= response.submitted_at.date() <= summary.last_day
        assert response.answers and all(a.response is response for a in response.answers)
        assert response.channel in demo.CHANNELS
        customer = session.get(models.Customer, response.customer_id)
        assert isinstance(customer.tenure_start, date) and isinstance(customer.attributes, dict)
        first, last = session.execute(select(func.min(models.Response.submitted_at),
                                             func.max(models.Response.submitted_at))).one()
    assert str(first) >= "2024-11-01" and str(last) < "2026-11-01"


def test_channels_and_languages_are_spread_like_real_collection(medium):
    engine, summary = medium
    frame = _frame(engine, """
        select s.slug, r.channel, r.language, count(*) as n
        from responses r join surveys s on s.id = r.survey_id group by s.slug, r.channel, r.language""")
    assert set(frame["channel"]) == set(demo.CHANNELS)
    french = frame[frame["language"] == "fr"]
    assert set(french["slug"]) == {demo.RELATIONSHIP}
    assert 0.02 < french["n"].sum() / summary.responses < 0.15
    relationship = frame.loc[frame["slug"] == demo.RELATIONSHIP, "n"].sum()
    assert 0.75 < relationship / summary.responses < 0.85


@pytest.mark.parametrize("arguments", [{"customers": 0}, {"responses": -1}, {"seed": -3}, {"customers": 2.5}])
def test_sizes_and_seeds_that_make_no_sense_are_refused(tmp_path, arguments):
    engine = _sqlite_engine(tmp_path / "refused.db")
    with pytest.raises(ValueError, match="must be a whole number"):
        demo.generate(engine, **{"customers": 10, "responses": 10, **arguments})


def test_generates_on_every_backend_and_leaves_ids_usable_for_later_inserts(engine):
    summary = demo.generate(engine, end=demo.DEMO_END, customers=40, responses=2_000, seed=5)
    counts = _counts(engine)
    assert counts["responses"] == 2_000 and counts["answers"] == summary.answers
    with db.session_scope(engine) as session:
        response = session.scalars(select(models.Response).order_by(models.Response.id).limit(1)).one()
        assert isinstance(response.submitted_at, datetime) and response.answers
        session.add(models.Response(idempotency_key="after-demo", content_hash="x", survey_id=response.survey_id,
                                    survey_version_id=response.survey_version_id, channel="web"))
        session.add(models.Customer(external_ref="AFTER-DEMO", name="Later Ltd"))
        session.flush()  # a serial sequence left behind the demo's explicit ids would collide here


def test_existing_customers_stay_and_a_clashing_customer_ref_is_refused(tmp_path):
    engine = _sqlite_engine(tmp_path / "with_customers.db")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        session.add(models.Customer(external_ref="C900001", name="Harbour Logistics Ltd"))
    demo.generate(engine, end=demo.DEMO_END, customers=30, responses=200, seed=2)
    assert _counts(engine)["customers"] == 31

    clashing = _sqlite_engine(tmp_path / "clashing.db")
    db.upgrade(clashing)
    with db.session_scope(clashing) as session:
        session.add(models.Customer(external_ref="C000005", name="Already Here Ltd"))
    before = _counts(clashing)
    with pytest.raises(demo.DemoDataExists, match="customer C000005 already exists"):
        demo.generate(clashing, end=demo.DEMO_END, customers=30, responses=200, seed=2)
    assert _counts(clashing) == before


def test_demo_into_an_empty_database_leaves_every_index_the_models_declare(engine):
    """The demo drops the answers' and responses' indexes while it fills empty tables and builds them
    again at the end: afterwards the schema equals the models', indexes included."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    demo.generate(engine, end=demo.DEMO_END, customers=30, responses=300, seed=5)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []
        index_names = {index["name"] for table in ("answers", "responses")
                       for index in sa_inspect(connection).get_indexes(table)}
    assert {"ix_answers_customer_history", "ix_answers_survey_question_submitted",
            "ix_responses_survey_submitted_customer"} <= index_names


def test_without_an_end_date_the_demo_ends_yesterday_and_its_open_cases_are_not_all_overdue(tmp_path):
    # The first start must not look stale: the last response is dated yesterday (UTC), and the
    # follow-up cases, opened in the days before it, are not all past their due date.
    from datetime import timedelta, timezone

    engine = _sqlite_engine(tmp_path / "yesterday.db")
    summary = demo.generate(engine, customers=100, responses=6_000, seed=4)
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    assert summary.last_day == yesterday == demo.default_end()
    with engine.connect() as connection:
        last = connection.execute(select(func.max(models.Response.submitted_at))).scalar_one()
        cases = connection.execute(select(models.FollowUpCase.due_at).where(
            models.FollowUpCase.status.in_(models.OPEN_CASE_STATUSES))).scalars().all()
    assert pd.Timestamp(last).date() == yesterday
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert cases and any(pd.Timestamp(due).tz_localize(None) >= now for due in cases), "every open case is overdue"
