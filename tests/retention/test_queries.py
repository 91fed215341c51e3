"""The Retention page's frames on SQLite and PostgreSQL: one row per customer with their first answer
and first defection, purchase months once per customer and month, and a field manager's own
customers only; checked against the same facts computed in pandas from the raw tables."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from survey import demo
from survey.people.access import Actor
from survey.retention import queries
from survey.storage import models
from survey.storage.filters import Filters


def raw(engine):
    with engine.connect() as connection:
        answers = pd.DataFrame(connection.execute(
            select(models.Response.customer_id, models.Response.submitted_at, models.Response.id,
                   models.Answer.numeric_value)
            .join(models.Answer, models.Answer.response_id == models.Response.id)
            .join(models.Survey, models.Survey.id == models.Response.survey_id)
            .where(models.Survey.slug == "relationship-nps", models.Answer.question_key == "recommend")).all(),
            columns=["customer", "at", "id", "score"])
        events = pd.DataFrame(connection.execute(select(
            models.CustomerEvent.customer_id, models.CustomerEvent.kind, models.CustomerEvent.occurred_on)).all(),
            columns=["customer", "kind", "day"])
        owners = dict(connection.execute(select(models.Customer.id, models.Customer.field_manager_id)).all())
    return answers, events, owners


def test_outcomes_and_purchase_months_match_the_raw_tables(engine):
    demo.generate(engine, customers=80, responses=1500, seed=4)
    answers, events, owners = raw(engine)
    admin = Actor.command_line()
    frame = queries.customer_outcomes(engine, admin, Filters("relationship-nps"), "recommend").set_index("customer_id")
    first = answers.sort_values(["at", "id"]).groupby("customer").head(1).set_index("customer")
    assert sorted(frame.index) == sorted(first.index)
    assert (frame["score"] == first.loc[frame.index, "score"]).all()
    left = events[events["kind"] == "defection"].groupby("customer")["day"].min()
    assert frame["defected_on"].dropna().to_dict() == left[left.index.isin(frame.index)].to_dict()
    assert frame.loc[frame["defected_on"].notna(), "reason"].notna().all()

    months = queries.purchase_months(engine, admin, since=pd.Timestamp("2025-01-01").date())
    bought = events[events["kind"].isin(["purchase", "renewal"]) & (pd.to_datetime(events["day"]) >= "2025-01-01")]
    expected = {(c, pd.Timestamp(d).strftime("%Y-%m")) for c, d in zip(bought["customer"], bought["day"])}
    assert set(zip(months["customer_id"], months["month"])) == expected and len(months) == len(expected)
    assert queries.data_end(engine) == max(events["day"].max(), pd.to_datetime(answers["at"]).max().date())

    manager_id = next(owner for owner in owners.values() if owner)
    own = Actor(manager_id, "fm@example.com", "field_manager")
    mine = queries.customer_outcomes(engine, own, Filters("relationship-nps"), "recommend")
    assert len(mine) and {owners[c] for c in mine["customer_id"]} == {manager_id}
    assert {owners[c] for c in queries.purchase_months(engine, own, since=pd.Timestamp("2024-01-01").date())
            ["customer_id"]} == {manager_id}
    cases = queries.follow_up_cases(engine, own, "relationship-nps")
    assert {owners[c] for c in cases["customer_id"]} <= {manager_id} and cases["customer_id"].is_unique
