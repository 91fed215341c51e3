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
from survey.filters import DIMENSIONS, Filters, responses_in_scope

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


def histogram(engine: Engine, filters: Filters, question_key: str, period: str | None = None,
              by: tuple[str, ...] | str = ()) -> pd.DataFrame:
    """Score counts of one question for the responses in `filters`, grouped in the database.

    Columns: each dimension of `by` (see `survey.filters.DIMENSIONS`), `period` when `period` is
    given ("day", "month" or "year"), then `score` and `count`: the histogram format of `analysis`.
    """
    by = (by,) if isinstance(by, str) else tuple(by)
    for name in by:
        if name not in DIMENSIONS:
            raise ValueError(f"unknown segment dimension {name!r} (expected one of {', '.join(DIMENSIONS)})")
    groups = [DIMENSIONS[name].expression().label(name) for name in by]
    if period is not None:
        groups.append(period_label(engine, models.Response.submitted_at, period).label("period"))
    score = models.Answer.numeric_value.label("score")
    query = (select(*groups, score, func.count().label("count"))
             .select_from(models.Answer)
             .join(models.Response, models.Answer.response_id == models.Response.id))
    query = responses_in_scope(query, filters, by).where(
        models.Answer.question_key == question_key, models.Answer.numeric_value.is_not(None))
    query = query.group_by(*groups, score).order_by(*groups, score)
    columns = [*by, *(["period"] if period else []), "score", "count"]
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=columns)
    return frame.astype({"score": int, "count": int})


def filter_choices(connection, survey_slug: str, segments: tuple[str, ...]) -> dict:
    """What the dashboard's filters can offer for a survey: its version numbers, first and last
    response day, channels, and the values of each segment dimension among its respondents."""
    survey_id = select(models.Survey.id).where(models.Survey.slug == survey_slug).scalar_subquery()
    versions = connection.execute(select(models.SurveyVersion.number).where(
        models.SurveyVersion.survey_id == survey_id).order_by(models.SurveyVersion.number)).scalars().all()
    first, last = connection.execute(select(func.min(models.Response.submitted_at),
                                            func.max(models.Response.submitted_at))
                                     .where(models.Response.survey_id == survey_id)).one()
    channels = connection.execute(select(models.Response.channel).where(models.Response.survey_id == survey_id)
                                  .distinct().order_by(models.Response.channel)).scalars().all()
    found = {"versions": list(versions), "first_day": first.date() if first else None,
             "last_day": last.date() if last else None, "channels": list(channels)}
    for name in segments:
        column = DIMENSIONS[name].expression()
        found[name] = [value for value in connection.execute(
            select(column).distinct().order_by(column)).scalars().all() if value is not None]
    return found
