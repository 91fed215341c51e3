"""The frames behind the Retention page, in the viewer's scope: one row per customer (their first
answer in the filtered responses and what they did after it), their purchase months, and their
follow-up cases.

Each frame holds at most one row per customer (or per customer and month), never one per answer:
the database picks each customer's first answer and first defection.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, select

from survey.people.access import Actor, customer_scope
from survey.storage import models
from survey.storage.filters import Filters, responses_in_scope

SEGMENTS = ("region", "tier", "industry")
BUYING = ("purchase", "renewal")


def data_end(engine: Engine) -> date | None:
    """The last day with data (the newest event or response): customers who have not left are
    observed up to here."""
    with engine.connect() as connection:
        event = connection.execute(select(func.max(models.CustomerEvent.occurred_on))).scalar()
        answered = connection.execute(select(func.max(models.Response.submitted_at))).scalar()
    days = [d for d in (event, answered.date() if answered is not None else None) if d is not None]
    return max(days) if days else None


def _first_answers(filters: Filters, question_key: str, actor: Actor, latest: bool = False):
    order = (models.Response.submitted_at.desc(), models.Response.id.desc()) if latest else (
        models.Response.submitted_at, models.Response.id)
    rank = func.row_number().over(partition_by=models.Response.customer_id, order_by=order)
    query = (select(models.Response.customer_id.label("customer_id"), models.Answer.numeric_value.label("score"),
                    models.Response.submitted_at.label("answered_at"), rank.label("rank"))
             .select_from(models.Answer).join(models.Response, models.Answer.response_id == models.Response.id))
    query = responses_in_scope(query, filters, actor=actor).where(
        models.Answer.question_key == question_key, models.Answer.numeric_value.is_not(None),
        models.Response.customer_id.is_not(None))
    return query.subquery()


def customer_outcomes(engine: Engine, actor: Actor, filters: Filters, question_key: str,
                      latest: bool = False) -> pd.DataFrame:
    """One row per customer the viewer may see who answered `question_key` in `filters`.

    Columns: `customer_id`, `region`, `tier`, `industry`, `annual_value`, `score` and
    `answered_at` (their first answer in the filtered responses), `defected_on`, `reason` and
    `reason_text` (their first defection on or after that day, if any), `last_bought_on` (their
    newest purchase or renewal), and `field_manager_id`. With `latest`, their latest answer instead.
    """
    first = _first_answers(filters, question_key, actor, latest)
    event = models.CustomerEvent
    defection = (select(event.customer_id, func.min(event.occurred_on).label("defected_on"))
                 .where(event.kind == "defection").group_by(event.customer_id).subquery())
    bought = (select(event.customer_id, func.max(event.occurred_on).label("last_bought_on"))
              .where(event.kind.in_(BUYING)).group_by(event.customer_id).subquery())
    customer = models.Customer
    query = (select(customer.id, customer.region, customer.tier, customer.industry, customer.annual_value,
                    first.c.score, first.c.answered_at, defection.c.defected_on, bought.c.last_bought_on,
                    customer.field_manager_id)
             .select_from(first).join(customer, customer.id == first.c.customer_id)
             .outerjoin(defection, defection.c.customer_id == customer.id)
             .outerjoin(bought, bought.c.customer_id == customer.id)
             .where(first.c.rank == 1, customer_scope(actor)))
    columns = ["customer_id", *SEGMENTS, "annual_value", "score", "answered_at", "defected_on", "last_bought_on",
               "field_manager_id"]
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=columns)
        reasons = pd.DataFrame(connection.execute(
            select(event.customer_id, event.occurred_on, event.reason, event.reason_text)
            .join(defection, (defection.c.customer_id == event.customer_id)
                  & (defection.c.defected_on == event.occurred_on))
            .join(customer, customer.id == event.customer_id)
            .where(event.kind == "defection", customer_scope(actor))).all(),
            columns=["customer_id", "defected_on", "reason", "reason_text"]).drop_duplicates("customer_id")
    frame = frame.merge(reasons[["customer_id", "reason", "reason_text"]], on="customer_id", how="left")
    frame["answered_at"] = pd.to_datetime(frame["answered_at"], utc=True)
    return frame.astype({"score": float, "annual_value": float})


def purchase_months(engine: Engine, actor: Actor, since: date) -> pd.DataFrame:
    """Customer and month ("2026-03") of every month from `since` in which a customer the viewer may
    see bought or renewed, once per customer and month (counted in the database)."""
    event = models.CustomerEvent
    if engine.dialect.name == "postgresql":
        month = func.to_char(event.occurred_on, "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", event.occurred_on)
    query = (select(event.customer_id, month.label("month")).join(models.Customer, models.Customer.id == event.customer_id)
             .where(event.kind.in_(BUYING), event.occurred_on >= since, customer_scope(actor))
             .group_by(event.customer_id, month))
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=["customer_id", "month"])


def follow_up_cases(engine: Engine, actor: Actor, survey_slug: str) -> pd.DataFrame:
    """The first follow-up case of each customer the viewer may see in `survey_slug`: `customer_id`,
    `opened_at`, `status`, `closed_at`, `due_at`, `flagged_score`."""
    case = models.FollowUpCase
    rank = func.row_number().over(partition_by=case.customer_id, order_by=(case.created_at, case.id))
    ranked = (select(case.customer_id, case.created_at, case.status, case.closed_at, case.due_at,
                     case.flagged_score, rank.label("rank"))
              .join(models.Survey, models.Survey.id == case.survey_id)
              .join(models.Customer, models.Customer.id == case.customer_id)
              .where(models.Survey.slug == survey_slug, customer_scope(actor))).subquery()
    query = select(*[c for c in ranked.c if c.name != "rank"]).where(ranked.c.rank == 1)
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(),
                             columns=["customer_id", "opened_at", "status", "closed_at", "due_at", "flagged_score"])
    for column in ("opened_at", "closed_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
