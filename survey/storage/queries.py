"""Aggregate queries for the dashboard: counting happens in the database (GROUP BY), never in pandas.

Each function returns a small long-format DataFrame of counts, the input the `analysis` package
turns into estimates with intervals.

Example:
    >>> from survey.storage.db import make_engine, upgrade
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> histogram(engine, Filters("relationship-nps"), "recommend", period="month").columns.tolist()
    ['period', 'score', 'count']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from survey.storage import counts, models
from survey.people.access import READ_RESPONSES, Actor, customer_scope, require
from survey.storage.filters import DIMENSIONS, NOT_SET, Filters, answers_in_scope, responses_in_scope

PERIOD_FORMATS = {"month": ("%Y-%m", "YYYY-MM"), "day": ("%Y-%m-%d", "YYYY-MM-DD"), "year": ("%Y", "YYYY")}


def _check_period(period: str) -> None:
    if period not in PERIOD_FORMATS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_FORMATS)}, got {period!r}")


def period_label(engine: Engine, column: ColumnElement, period: str = "month") -> ColumnElement:
    """A SQL expression naming the period (e.g. '2026-03') a timestamp falls in, on either database."""
    _check_period(period)
    sqlite_format, postgres_format = PERIOD_FORMATS[period]
    if engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), postgres_format)
    return func.strftime(sqlite_format, column)


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

    Columns: each dimension of `by` (see `survey.storage.filters.DIMENSIONS`), `period` when `period` is
    given ("day", "month" or "year"), then `score` and `count`: the histogram format of `analysis`.
    """
    by = (by,) if isinstance(by, str) else tuple(by)
    for name in by:
        if name not in DIMENSIONS:
            raise ValueError(f"unknown segment dimension {name!r} (expected one of {', '.join(DIMENSIONS)})")
    if period is not None:
        _check_period(period)
    if counts.answers_counted(filters, period, by):  # whole months from the count tables (survey.storage.counts)
        return counts.score_histogram(engine, filters, question_key, period,
                                      lambda narrowed: _raw_histogram(engine, narrowed, question_key, period, by))
    return _raw_histogram(engine, filters, question_key, period, by).astype({"score": int, "count": int})


def _raw_histogram(engine: Engine, filters: Filters, question_key: str, period: str | None,
                   by: tuple[str, ...]) -> pd.DataFrame:
    """`histogram` counted from the answers themselves (scores as stored: not yet whole numbers)."""
    # Answers whose segment is unknown form their own group instead of vanishing from every
    # group and from "the rest" they are compared with.
    groups = [func.coalesce(DIMENSIONS[name].expression(), literal(NOT_SET)).label(name) for name in by]
    if period is not None:
        groups.append(period_label(engine, models.Answer.submitted_at, period).label("period"))
    score = models.Answer.numeric_value.label("score")
    # The answers' copies of their response's survey, time and customer make this a scan of
    # ix_answers_survey_question_submitted (migration 0006), without a join per answer.
    query = select(*groups, score, func.count().label("count")).select_from(models.Answer)
    query = answers_in_scope(query, filters, models.Answer, by).where(
        models.Answer.question_key == question_key, models.Answer.numeric_value.is_not(None))
    query = query.group_by(*groups, score).order_by(*groups, score)
    columns = [*by, *(["period"] if period else []), "score", "count"]
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=columns)


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


# --- Rows for analysts: comments and the responses table. Always paginated or streamed. ---------

COMMENT_COLUMNS = ["response_id", "submitted_at", "question", "comment", "score", "region", "tier", "channel"]
RESPONSE_COLUMNS = ["id", "submitted_at", "version", "channel", "language", "customer_ref", "region", "tier"]
STREAM_CHUNK = 5_000  # rows fetched at a time when a whole filtered set is exported




@dataclass(frozen=True)
class SurveyColumns:
    """What the row views need to know about a survey's questions (over the selected versions).

    `answer_keys` are every stored answer key in question order, `text_keys` those of free-text
    questions; `score_key` is the first NPS question, else the first CSAT question, with its
    metric and scale (None when the survey has neither).
    """

    answer_keys: tuple[str, ...]
    text_keys: tuple[str, ...]
    score_key: str | None = None
    score_metric: str | None = None
    score_scale: tuple[int, int] | None = None


def survey_columns(engine: Engine, survey_slug: str, versions: tuple[int, ...] = ()) -> SurveyColumns:
    """The answer keys, text keys and score question of `survey_slug`'s versions (all when empty).

    The newest selected version decides the order and the score question; keys only older
    versions had are kept after it.
    """
    from survey.definitions.definition import from_dict

    query = (select(models.SurveyVersion.number, models.SurveyVersion.definition)
             .join(models.Survey, models.SurveyVersion.survey_id == models.Survey.id)
             .where(models.Survey.slug == survey_slug).order_by(models.SurveyVersion.number.desc()))
    if versions:
        query = query.where(models.SurveyVersion.number.in_(versions))
    with engine.connect() as connection:
        definitions = [from_dict(definition, source=f"version {number}")
                       for number, definition in connection.execute(query).all()]
    answer_keys: dict[str, None] = {}
    text_keys: dict[str, None] = {}
    for definition in definitions:
        for question in definition.questions:
            answer_keys.update(dict.fromkeys(question.answer_keys))
            if question.kind == "text":
                text_keys[question.key] = None
    score = None
    if definitions:
        newest = definitions[0]
        score = next(iter(newest.metric_questions("nps") or newest.metric_questions("csat")), None)
    if score is None:
        return SurveyColumns(tuple(answer_keys), tuple(text_keys))
    return SurveyColumns(tuple(answer_keys), tuple(text_keys), score.key, score.metric,
                         (score.scale.min, score.scale.max))


def score_bands(metric: str | None, scale: tuple[int, int] | None) -> dict[str, tuple[float, float]]:
    """Score bands (inclusive bounds) to filter comments by.

    NPS: detractors 0-6, passives 7-8, promoters 9-10. Other scales: low is the bottom two boxes,
    high the top two (the top-box CSAT convention), mid what lies between; scales of fewer than
    five points use one box each.
    """
    if metric is None or scale is None:
        return {}
    if metric == "nps":
        return {"detractors": (0, 6), "passives": (7, 8), "promoters": (9, 10)}
    low, high = scale
    width = 2 if high - low + 1 >= 5 else 1
    return {"low": (low, low + width - 1), "mid": (low + width, high - width), "high": (high - width + 1, high)}


def like_pattern(word: str) -> str:
    """A LIKE pattern matching `word` anywhere, with LIKE's wildcards escaped (escape character `\\`)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _comments_query(actor: Actor, filters: Filters, columns: SurveyColumns, band: tuple[float, float] | None = None,
                    words: tuple[str, ...] = ()) -> Select:
    require(actor, READ_RESPONSES)
    score = aliased(models.Answer, name="score_answer")
    text = models.Answer
    score_value = score.numeric_value if columns.score_key else literal(None)
    query = (select(models.Response.id, models.Response.submitted_at, text.question_key, text.text_value,
                    score_value, models.Customer.region, models.Customer.tier, models.Response.channel)
             .select_from(text).join(models.Response, text.response_id == models.Response.id))
    if columns.score_key:
        query = query.outerjoin(score, and_(score.response_id == models.Response.id,
                                            score.question_key == columns.score_key))
    query = responses_in_scope(query, filters, ("region", "tier"), actor=actor).where(
        text.question_key.in_(columns.text_keys), text.text_value.is_not(None), text.text_value != "")
    if band is not None:
        if not columns.score_key:
            raise ValueError(f"survey {filters.survey!r} has no NPS or CSAT question to band scores by")
        query = query.where(score.numeric_value.between(*band))
    for word in words:
        query = query.where(text.text_value.ilike(like_pattern(word), escape="\\"))
    return query


def count_comments(engine: Engine, actor: Actor, filters: Filters, columns: SurveyColumns,
                   band: tuple[float, float] | None = None, words: tuple[str, ...] = ()) -> int:
    """How many free-text answers of the filtered responses match `band` and every one of `words`."""
    inner = _comments_query(actor, filters, columns, band, words).subquery()
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(inner)).scalar_one()


def count_comment_responses(engine: Engine, actor: Actor, filters: Filters, columns: SurveyColumns,
                            band: tuple[float, float] | None = None, words: tuple[str, ...] = ()) -> int:
    """How many responses the matching free-text answers come from (a response may give several)."""
    inner = _comments_query(actor, filters, columns, band, words).subquery()
    with engine.connect() as connection:
        return connection.execute(select(func.count(func.distinct(inner.c.id)))).scalar_one()


def comments(engine: Engine, actor: Actor, filters: Filters, columns: SurveyColumns, band: tuple[float, float] | None = None,
             words: tuple[str, ...] = (), limit: int = 50, offset: int = 0) -> pd.DataFrame:
    """One page of free-text answers, newest first, with the response's score, region, tier, channel.

    `band` keeps scores within inclusive bounds (see `score_bands`); `words` must all appear in
    the text, case-insensitively (matched in the database with escaped LIKE patterns).
    Columns: `COMMENT_COLUMNS`.
    """
    query = (_comments_query(actor, filters, columns, band, words)
             .order_by(models.Response.submitted_at.desc(), models.Answer.id.desc()).limit(limit).offset(offset))
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=COMMENT_COLUMNS)
    frame["score"] = frame["score"].astype("Int64")
    return frame


def iter_comments(engine: Engine, actor: Actor, filters: Filters, columns: SurveyColumns, band: tuple[float, float] | None = None,
                  words: tuple[str, ...] = (), chunk_size: int = STREAM_CHUNK):
    """Every matching free-text answer (rows in `COMMENT_COLUMNS` order), newest first, fetched in chunks."""
    query = (_comments_query(actor, filters, columns, band, words)
             .order_by(models.Response.submitted_at.desc(), models.Answer.id.desc()))
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=chunk_size).execute(query)
        for partition in result.partitions():
            for row in partition:
                yield tuple(row[:4]) + (None if row[4] is None else int(row[4]),) + tuple(row[5:])


def _responses_query(actor: Actor, filters: Filters) -> Select:
    require(actor, READ_RESPONSES)
    version = aliased(models.SurveyVersion, name="answered_version")
    query = (select(models.Response.id, models.Response.submitted_at, version.number, models.Response.channel,
                    models.Response.language, models.Customer.external_ref, models.Customer.region,
                    models.Customer.tier)
             .select_from(models.Response)
             .join(version, models.Response.survey_version_id == version.id))
    return responses_in_scope(query, filters, ("region", "tier"), actor=actor)


def count_responses(engine: Engine, actor: Actor, filters: Filters) -> int:
    """How many responses `filters` selects that `actor` may read (counted in the database)."""
    require(actor, READ_RESPONSES)
    query = responses_in_scope(select(func.count()).select_from(models.Response), filters, actor=actor)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def _answer_value(numeric: float | None, text: str | None):
    if numeric is not None:
        return int(numeric) if float(numeric).is_integer() else numeric
    return text


def _with_answers(connection, rows: list, answer_keys: tuple[str, ...]) -> list[tuple]:
    """Response rows followed by one cell per answer key (a multi-choice answer joined with '; ')."""
    if not rows:
        return []
    ids = [row[0] for row in rows]
    values: dict[int, dict[str, list]] = {identifier: {} for identifier in ids}
    answers = (select(models.Answer.response_id, models.Answer.question_key, models.Answer.numeric_value,
                      models.Answer.text_value)
               .where(models.Answer.response_id.in_(ids)).order_by(models.Answer.id))
    for response_id, key, numeric, text in connection.execute(answers):
        values[response_id].setdefault(key, []).append(_answer_value(numeric, text))
    cells = []
    for row in rows:
        found = values[row[0]]
        cells.append(tuple(row) + tuple(
            None if key not in found else found[key][0] if len(found[key]) == 1
            else "; ".join(str(item) for item in found[key]) for key in answer_keys))
    return cells


def responses_page(engine: Engine, actor: Actor, filters: Filters, answer_keys: tuple[str, ...], limit: int = 100,
                   offset: int = 0) -> pd.DataFrame:
    """One page of the filtered responses, newest first: `RESPONSE_COLUMNS` then one column per
    answer key. Answers are read for the page's responses only and pivoted here.

    No contact details: the customer appears by reference only (none for anonymous surveys).
    """
    query = _responses_query(actor, filters).order_by(models.Response.submitted_at.desc(), models.Response.id.desc())
    with engine.connect() as connection:
        rows = _with_answers(connection, connection.execute(query.limit(limit).offset(offset)).all(), answer_keys)
    frame = pd.DataFrame(rows, columns=[*RESPONSE_COLUMNS, *answer_keys])
    for key in answer_keys:  # a column of numbers stays numeric; mixed answers become text
        cells = frame[key].dropna()
        if not cells.map(lambda v: isinstance(v, (int, float))).all():
            frame[key] = frame[key].map(lambda v: None if v is None or v != v else str(v)).astype("string")
    return frame


def iter_responses(engine: Engine, actor: Actor, filters: Filters, answer_keys: tuple[str, ...], chunk_size: int = STREAM_CHUNK):
    """Every filtered response as a row (`RESPONSE_COLUMNS` then one cell per answer key), newest
    first, read and pivoted `chunk_size` responses at a time."""
    query = _responses_query(actor, filters).order_by(models.Response.submitted_at.desc(), models.Response.id.desc())
    with engine.connect() as reading, engine.connect() as answers:
        result = reading.execution_options(yield_per=chunk_size).execute(query)
        for partition in result.partitions():
            yield from _with_answers(answers, partition, answer_keys)


# --- Drivers and loyalty pages -----------------------------------------------------------------



def driver_moments(engine: Engine, filters: Filters, outcome: str, drivers: tuple[str, ...] | list[str]) -> dict:
    """Sufficient statistics of a key-driver analysis, computed in ONE query in the database.

    Per response in `filters`, the answers to `outcome` and each of `drivers` (answer keys such as
    ``drivers.support``) are pivoted into one row (MAX(CASE ...) grouped by response); over the
    rows where all are answered the database returns the count, the sum of each variable and the
    sum of each product of two variables. No answer row is loaded into Python.

    Returns a dict: ``n`` (complete responses), ``dropped_rows`` (responses answering some but not
    all of them), ``sums`` (Series by answer key) and ``cross_products`` (symmetric DataFrame),
    the input of `analysis.key_drivers_from_moments`.
    """
    keys = [outcome, *drivers]
    if len(set(keys)) != len(keys):
        raise ValueError(f"the outcome and drivers name an answer key more than once: {keys}")
    value = models.Answer.numeric_value
    pivot = [func.max(case((models.Answer.question_key == key, value))).label(f"v{i}") for i, key in enumerate(keys)]
    per_response = (select(*pivot).select_from(models.Answer)
                    .join(models.Response, models.Answer.response_id == models.Response.id))
    per_response = responses_in_scope(per_response, filters).where(
        models.Answer.question_key.in_(keys), value.is_not(None)).group_by(models.Answer.response_id).subquery()
    columns = [per_response.c[f"v{i}"] for i in range(len(keys))]
    complete = and_(*(column.is_not(None) for column in columns))
    pairs = [(i, j) for i in range(len(keys)) for j in range(i, len(keys))]
    query = select(func.count().label("rows"), func.count(case((complete, 1))).label("n"),
                   *(func.sum(case((complete, column))).label(f"s{i}") for i, column in enumerate(columns)),
                   *(func.sum(case((complete, columns[i] * columns[j]))).label(f"c{i}_{j}") for i, j in pairs))
    with engine.connect() as connection:
        row = connection.execute(query).one()._mapping
    n = int(row["n"] or 0)
    sums = pd.Series([float(row[f"s{i}"] or 0.0) for i in range(len(keys))], index=keys, dtype=float)
    cross = np.zeros((len(keys), len(keys)))
    for i, j in pairs:
        cross[i, j] = cross[j, i] = float(row[f"c{i}_{j}"] or 0.0)
    return {"n": n, "dropped_rows": int(row["rows"] or 0) - n, "sums": sums,
            "cross_products": pd.DataFrame(cross, index=keys, columns=keys)}




def _latest_scores(engine: Engine, filters: Filters, question_key: str):
    """Subquery: each customer's latest answer to `question_key` among the responses in `filters`."""
    rank = func.row_number().over(partition_by=models.Response.customer_id,
                                  order_by=(models.Response.submitted_at.desc(), models.Response.id.desc()))
    query = (select(models.Response.customer_id.label("customer_id"), models.Answer.numeric_value.label("score"),
                    models.Response.submitted_at.label("submitted_at"), rank.label("rank"))
             .select_from(models.Answer).join(models.Response, models.Answer.response_id == models.Response.id))
    query = responses_in_scope(query, filters).where(
        models.Answer.question_key == question_key, models.Answer.numeric_value.is_not(None),
        models.Response.customer_id.is_not(None))
    return query.subquery()


def _nps_category(score: ColumnElement) -> ColumnElement:
    return case((score <= 6, literal("detractor")), (score <= 8, literal("passive")), else_=literal("promoter"))


def value_nps_grid(engine: Engine, filters: Filters, question_key: str, actor: Actor | None = None) -> pd.DataFrame:
    """Customers by value band and NPS category of their latest 0-10 answer in `filters`.

    Each customer counts once, with their latest answer to `question_key` in the filtered
    responses. Columns: `value_band` (see `survey.storage.filters.VALUE_BANDS`; missing when the customer
    has no annual value), `category` (detractor 0-6, passive 7-8, promoter 9-10), `customers`,
    `value` (SUM of annual_value), `value_squared` (SUM of annual_value^2, for Kish's
    effective sample size) and `outside`: the customers not in `actor`'s scope (0 for a viewer
    who sees every customer, or without an actor), for the publishing layer. Counted in the database.
    """
    latest = _latest_scores(engine, filters, question_key)
    band = DIMENSIONS["value_band"].expression().label("value_band")
    category = _nps_category(latest.c.score).label("category")
    amount = models.Customer.annual_value
    if actor is None or actor.sees_every_customer:
        outside = literal(0)
    else:  # a customer without a field manager is outside every field manager's scope
        outside = func.sum(case((models.Customer.field_manager_id == actor.user_id, 0), else_=1))
    query = (select(band, category, func.count().label("customers"), func.sum(amount).label("value"),
                    func.sum(amount * amount).label("value_squared"), outside.label("outside"))
             .select_from(latest).join(models.Customer, models.Customer.id == latest.c.customer_id)
             .where(latest.c.rank == 1).group_by(band, category).order_by(band, category))
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(),
                             columns=["value_band", "category", "customers", "value", "value_squared", "outside"])
    return frame.astype({"customers": int, "value": float, "value_squared": float, "outside": int})


def low_scoring_customers(engine: Engine, actor: Actor, filters: Filters, question_key: str, max_score: float,
                          comment_keys: tuple[str, ...] = (), min_value: float | None = None,
                          tenure_before: date | None = None,
                          silent: bool = False, limit: int = 500) -> pd.DataFrame:
    """Customers whose latest answer to `question_key` in `filters` is at most `max_score`.

    `min_value` keeps customers with annual_value >= it; `tenure_before` keeps customers who
    became customers on or before that day (long tenure); `silent` keeps customers who wrote no
    text in any of `comment_keys` in the filtered responses. Highest value first, at most `limit`.
    Columns (no contact details): `name`, `external_ref`, `region`, `tier`, `industry`,
    `annual_value`, `tenure_start`, `score`, `submitted_at`, `comments`.
    """
    require(actor, READ_RESPONSES)
    latest = _latest_scores(engine, filters, question_key)
    texts = (select(models.Response.customer_id.label("customer_id"), func.count().label("comments"))
             .select_from(models.Answer).join(models.Response, models.Answer.response_id == models.Response.id))
    texts = responses_in_scope(texts, filters).where(
        models.Answer.question_key.in_(comment_keys or ("",)), models.Answer.text_value.is_not(None),
        func.trim(models.Answer.text_value) != "", models.Response.customer_id.is_not(None)
    ).group_by(models.Response.customer_id).subquery()
    customer = models.Customer
    comments = func.coalesce(texts.c.comments, 0).label("comments")
    query = (select(customer.name, customer.external_ref, customer.region, customer.tier, customer.industry,
                    customer.annual_value, customer.tenure_start, latest.c.score, latest.c.submitted_at, comments)
             .select_from(latest).join(customer, customer.id == latest.c.customer_id)
             .outerjoin(texts, texts.c.customer_id == latest.c.customer_id)
             .where(latest.c.rank == 1, latest.c.score <= max_score, customer_scope(actor)))
    if min_value is not None:
        query = query.where(customer.annual_value >= min_value)
    if tenure_before is not None:
        query = query.where(customer.tenure_start <= tenure_before)
    if silent:
        query = query.where(texts.c.comments.is_(None))
    query = query.order_by(customer.annual_value.desc().nulls_last(), customer.external_ref).limit(limit)
    columns = ["name", "external_ref", "region", "tier", "industry", "annual_value", "tenure_start", "score",
               "submitted_at", "comments"]
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=columns)
    return frame.astype({"score": float, "comments": int})


# Overview and Trends: the satisfaction index, response counts and follow-up cases, counted in the database.


def index_moments(engine: Engine, filters: Filters, items: tuple[tuple[str, float, float], ...],
                  period: str | None = None, by: tuple[str, ...] | str = ()) -> pd.DataFrame:
    """Count, sum and sum of squares of the per-response 0-100 satisfaction index, in the database.

    `items` lists the index items as (question key, scale min, scale max), equally weighted: a
    response's index is sum_i (x_i - min_i) / (max_i - min_i) * 100 / k over the k items, kept only
    when the response answered every item (as `analysis.satisfaction_index` drops incomplete
    respondents). Columns: each dimension of `by`, `period` when given, then `n`, `total` and
    `total_squares`, the input of `analysis.mean_from_moments`.
    """
    by = (by,) if isinstance(by, str) else tuple(by)
    if not items:
        raise ValueError("the satisfaction index needs at least one item")
    for name in by:
        if name not in DIMENSIONS:
            raise ValueError(f"unknown segment dimension {name!r} (expected one of {', '.join(DIMENSIONS)})")
    for key, low, high in items:
        if not high > low:
            raise ValueError(f"index item {key!r} has scale ({low}, {high}): the maximum must exceed the minimum")
    if period is not None:
        _check_period(period)
    raw = lambda narrowed: _raw_index_moments(engine, narrowed, items, period, by)  # noqa: E731
    if counts.answers_counted(filters, period, by):  # whole months from the count tables, when they hold the items
        found = counts.index_moments(engine, filters, items, period, raw)
        if found is not None:
            return found
    return raw(filters).astype({"n": int, "total": float, "total_squares": float})


def _raw_index_moments(engine: Engine, filters: Filters, items: tuple[tuple[str, float, float], ...],
                       period: str | None, by: tuple[str, ...]) -> pd.DataFrame:
    """`index_moments` computed from the answers themselves."""
    weight = 100.0 / len(items)
    # One answer alias per item: a response answering every item gives one row, so no per-response GROUP BY (and no temporary B-tree of
    # every answer) is needed; incomplete responses drop out of the inner joins.
    answers = [aliased(models.Answer, name=f"item_{i}") for i in range(len(items))]
    score = sum((answer.numeric_value - low) * (weight / (high - low))
                for answer, (_, low, high) in zip(answers, items)).label("score")
    # Answers whose segment is unknown form their own group instead of vanishing from every
    # group and from "the rest" they are compared with.
    groups = [func.coalesce(DIMENSIONS[name].expression(), literal(NOT_SET)).label(name) for name in by]
    first = answers[0]
    if period is not None:
        groups.append(period_label(engine, first.submitted_at, period).label("period"))
    # The first item's answers are found by their copies of the response's survey, time and customer
    # (a range of ix_answers_survey_question_submitted, in time order, so that the other items'
    # answers, probed by response through ix_answers_question_response_value, lie close together).
    per_response = select(*groups, score).select_from(first).where(
        first.question_key == items[0][0], first.numeric_value.is_not(None))
    for answer, (key, _, _) in zip(answers[1:], items[1:]):
        per_response = per_response.join(answer, and_(answer.response_id == first.response_id,
                                                      answer.question_key == key, answer.numeric_value.is_not(None)))
    per_response = answers_in_scope(per_response, filters, first, by).subquery()
    outer_groups = [per_response.c[name] for name in [*by, *(["period"] if period else [])]]
    score = per_response.c.score
    query = (select(*outer_groups, func.count(score), func.coalesce(func.sum(score), 0.0),
                    func.coalesce(func.sum(score * score), 0.0))
             .group_by(*outer_groups).order_by(*outer_groups))
    columns = [*by, *(["period"] if period else []), "n", "total", "total_squares"]
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=columns)


def response_counts(engine: Engine, filters: Filters, period: str = "month") -> pd.DataFrame:
    """Responses in `filters` per period and channel: columns `period`, `channel`, `responses`."""
    _check_period(period)
    if counts.responses_counted(filters, period):  # whole months from the count tables
        return counts.response_histogram(engine, filters, period,
                                         lambda narrowed: _raw_response_counts(engine, narrowed, period))
    return _raw_response_counts(engine, filters, period).astype({"period": str, "channel": str, "responses": int})


def _raw_response_counts(engine: Engine, filters: Filters, period: str) -> pd.DataFrame:
    """`response_counts` counted from the responses themselves."""
    label = period_label(engine, models.Response.submitted_at, period).label("period")
    query = responses_in_scope(select(label, models.Response.channel, func.count().label("responses"))
                               .select_from(models.Response), filters, customers_first=True)
    query = query.group_by(label, models.Response.channel).order_by(label, models.Response.channel)
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=["period", "channel", "responses"])


CLOSED_CASE_STATUSES = ("resolved", "unreachable", "declined")


def follow_up_counts(engine: Engine, survey_slug: str, now=None, actor: Actor | None = None) -> dict[str, int]:
    """Open follow-up cases of a survey (status not resolved, unreachable or declined) and, of those,
    the overdue ones (due before `now`, default the current UTC time): {"open": n, "overdue": m}.
    Given the acting user, only the cases they may see (a field manager: their own)."""
    from survey.followup.queries import counts

    return counts(engine, survey_slug, now, actor)
