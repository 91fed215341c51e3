"""Aggregate queries for the dashboard: counting happens in the database (GROUP BY), never in pandas.

Each function returns a small long-format DataFrame of counts, the input the `analysis` package
turns into estimates with intervals.

Example:
    >>> from survey.db import make_engine, upgrade
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> score_histogram(engine, "relationship-nps", "recommend").columns.tolist()
    ['period', 'score', 'count']
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from survey import models

PERIOD_FORMATS = {"month": ("%Y-%m", "YYYY-MM"), "day": ("%Y-%m-%d", "YYYY-MM-DD"), "year": ("%Y", "YYYY")}


def period_label(engine: Engine, column: ColumnElement, period: str = "month") -> ColumnElement:
    """A SQL expression naming the period (e.g. '2026-03') a timestamp falls in, on either database."""
    if period not in PERIOD_FORMATS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_FORMATS)}, got {period!r}")
    sqlite_format, postgres_format = PERIOD_FORMATS[period]
    if engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), postgres_format)
    return func.strftime(sqlite_format, column)


def score_histogram(engine: Engine, survey_slug: str, question_key: str, period: str = "month") -> pd.DataFrame:
    """Counts of each score of one question per period: columns `period`, `score`, `count`."""
    label = period_label(engine, models.Response.submitted_at, period).label("period")
    query = (
        select(label, models.Answer.numeric_value.label("score"), func.count().label("count"))
        .join(models.Response, models.Answer.response_id == models.Response.id)
        .join(models.Survey, models.Response.survey_id == models.Survey.id)
        .where(models.Survey.slug == survey_slug, models.Answer.question_key == question_key,
               models.Answer.numeric_value.is_not(None))
        .group_by(label, models.Answer.numeric_value)
        .order_by(label, models.Answer.numeric_value)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=["period", "score", "count"])
    return frame.astype({"period": str, "score": int, "count": int})


def response_volume(engine: Engine, survey_slug: str, period: str = "month") -> pd.DataFrame:
    """Responses per period and channel: columns `period`, `channel`, `responses`."""
    label = period_label(engine, models.Response.submitted_at, period).label("period")
    query = (
        select(label, models.Response.channel, func.count().label("responses"))
        .join(models.Survey, models.Response.survey_id == models.Survey.id)
        .where(models.Survey.slug == survey_slug)
        .group_by(label, models.Response.channel)
        .order_by(label, models.Response.channel)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=["period", "channel", "responses"])
    return frame.astype({"period": str, "channel": str, "responses": int})


RESPONSE_RATE_SEGMENTS = ("region", "tier", "industry")


def response_rate(engine: Engine, survey_slug: str, by: str | None = None) -> pd.DataFrame:
    """Invitations and the responses to them, for the survey or per customer segment.

    Columns: the segment column `by` (region, tier or industry; absent when `by` is None), then
    `invited` (invitations created), `responded` (of those, answered: a response points to the
    invitation or it is marked responded) and `rate` (responded / invited). `invited` is the n of
    the rate; without invitations the survey's one row has invited 0 and rate NaN. Customers with
    no value in the segment form one group with a missing label. Counted in the database.
    """
    if by is not None and by not in RESPONSE_RATE_SEGMENTS:
        raise ValueError(f"by must be one of {', '.join(RESPONSE_RATE_SEGMENTS)} or None, got {by!r}")
    answered = or_(models.Invitation.responded_at.is_not(None), models.Response.id.is_not(None))
    counts = [func.count(models.Invitation.id).label("invited"),
              func.count(case((answered, 1))).label("responded")]
    query = (select(*counts)
             .join(models.Survey, models.Invitation.survey_id == models.Survey.id)
             .outerjoin(models.Response, models.Response.invitation_id == models.Invitation.id)
             .where(models.Survey.slug == survey_slug))
    columns = ["invited", "responded"]
    if by is not None:
        segment = getattr(models.Customer, by).label(by)
        query = (query.add_columns(segment)
                 .join(models.Customer, models.Invitation.customer_id == models.Customer.id)
                 .group_by(segment).order_by(segment))
        columns = columns + [by]
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=columns)
    frame = frame.astype({"invited": int, "responded": int})
    frame["rate"] = (frame["responded"] / frame["invited"]).astype(float)
    return frame[([by] if by else []) + ["invited", "responded", "rate"]].reset_index(drop=True)
