"""The dashboard's counts read from the count tables, exact, with the raw answers for the rest.

`score_counts`, `response_counts` and `index_counts` (kept by the triggers of `count_upkeep`)
hold whole UTC months. A view whose dates cut a month short reads the whole months in between from the count
tables and the cut months' days from the raw answers ("month keys with raw edges"), so the sum is
exactly what counting every answer gives. What the count tables do not key on falls back to the
raw answers altogether: a version, channel (for answers) or segment filter, a breakdown by a
segment, and days as the period.

What a segment means when a customer's region or tier changes: the count tables have no
segments, so the question does not arise here; segment views read the customer's values of today
(as the raw queries always have).

Bulk loads use `upkept_afterwards`: the triggers are dropped while the rows go in and the counts
rebuilt once at the end (about 2 us per answer saved on 8 million answers). `restore_upkeep`,
run at every start, repairs a load that died in between.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from typing import Callable, Iterator

import pandas as pd
from sqlalchemy import Engine, func, select

from survey.storage import count_upkeep, models
from survey.storage.filters import Filters

COUNTED_PERIODS = (None, "month", "year")


@contextmanager
def upkept_afterwards(engine: Engine) -> Iterator[None]:
    """Write in bulk without the count triggers, then recount once and put the triggers back."""
    with engine.begin() as connection:
        count_upkeep.drop(connection)
    try:
        yield
    finally:
        with engine.begin() as connection:
            # triggers first: on PostgreSQL their creation waits for writers in flight and holds
            # later ones until the recount commits, so no write is counted twice or not at all
            count_upkeep.install(connection)
            count_upkeep.recount(connection)


@contextmanager
def counted_in_bulk(connection, reason: str) -> Iterator[Callable[[list[int]], None]]:
    """Within the caller's transaction, leave the count triggers out and yield a function to
    report the responses written; at the end they are counted set-wise (`count_upkeep.add_written`).

    Only this transaction goes without the triggers, and should it roll back, their absence goes
    with its writes:

    - SQLite: the triggers are dropped and created again inside the transaction. SQLite lets one
      transaction write at a time, so no other writer runs meanwhile, and readers see the schema
      as it was committed, with its triggers. Dropping matters there: a trigger that finds itself
      paused still costs its call, about 30 us per answer, twice what storing the answer costs.
    - PostgreSQL: dropping a trigger would lock the table against every reader, so the triggers
      stay and a row in `count_pauses`, which no other transaction sees, pauses them.
    """
    written: list[int] = []
    if connection.dialect.name == "sqlite":
        had_triggers = count_upkeep.installed(connection)
        count_upkeep.drop(connection)
        yield written.extend
        if had_triggers:
            count_upkeep.install(connection)
    else:
        pause = connection.execute(models.CountPause.__table__.insert().values(reason=reason[:100])
                                   .returning(models.CountPause.id)).scalar_one()
        # On failure the row stays: the transaction is rolled back (it could run nothing more),
        # and a start clears a pause that a caller committed all the same (`restore_upkeep`).
        yield written.extend
        connection.execute(models.CountPause.__table__.delete().where(models.CountPause.id == pause))
    count_upkeep.add_written(connection, written)


def restore_upkeep(engine: Engine) -> bool:
    """Put back the count triggers and recount when a bulk load left them out, or a pause behind;
    whether it did."""
    with engine.begin() as connection:
        paused = connection.execute(models.CountPause.__table__.delete()).rowcount
        if count_upkeep.installed(connection) and not paused:
            return False
        count_upkeep.drop(connection)
        count_upkeep.install(connection)
        count_upkeep.recount(connection)
        return True


def answers_counted(filters: Filters, period: str | None, by: tuple[str, ...]) -> bool:
    """Whether a histogram with these filters can be read from `score_counts`."""
    return not by and period in COUNTED_PERIODS and not filters.versions and not filters.channels and \
        not any(values for _, values in filters.segments)


def responses_counted(filters: Filters, period: str) -> bool:
    """Whether responses per period and channel can be read from `response_counts`."""
    return period in COUNTED_PERIODS[1:] and not filters.versions and not any(values for _, values in filters.segments)


def split_months(start: date | None, end: date | None) -> tuple[tuple[str | None, str | None] | None,
                                                                 list[tuple[date, date]]]:
    """The whole months between `start` and `end` (both inclusive, None: unbounded) as a range of
    'YYYY-MM' keys (None when there is no whole month), and the days outside them as date ranges.

    >>> split_months(date(2026, 1, 15), date(2026, 3, 31))
    (('2026-02', '2026-03'), [(datetime.date(2026, 1, 15), datetime.date(2026, 1, 31))])
    >>> split_months(date(2026, 3, 3), date(2026, 3, 20))
    (None, [(datetime.date(2026, 3, 3), datetime.date(2026, 3, 20))])
    """
    edges = []
    first = start
    if start is not None and start.day != 1:
        cut = _month_end(start) if end is None else min(end, _month_end(start))
        edges.append((start, cut))
        first = cut + timedelta(days=1)
    last = end
    if end is not None and end != _month_end(end):
        begin = end.replace(day=1) if first is None else max(first, end.replace(day=1))
        if begin <= end:
            edges.append((begin, end))
        last = end.replace(day=1) - timedelta(days=1)
    if first is not None and last is not None and first > last:
        return None, edges
    return (None if first is None else f"{first:%Y-%m}", None if last is None else f"{last:%Y-%m}"), edges


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _period(month, period: str | None):
    return None if period is None else month if period == "month" else func.substr(month, 1, 4)


def score_histogram(engine: Engine, filters: Filters, question_key: str, period: str | None,
                    raw: Callable[[Filters], pd.DataFrame]) -> pd.DataFrame:
    """`queries.histogram` for filters `answers_counted` accepts: whole months from `score_counts`,
    the days of cut months from `raw` (the raw query, given narrowed filters)."""
    months, edges = split_months(filters.start, filters.end)
    counts = models.ScoreCount
    label = _period(counts.month, period)
    columns = [*(["period"] if period else []), "score", "count"]
    frames = [raw(replace(filters, start=low, end=high)) for low, high in edges]
    if months is not None:
        groups = [*([label.label("period")] if period else []), counts.value]
        query = (select(*groups, func.sum(counts.n)).join(models.Survey, models.Survey.id == counts.survey_id)
                 .where(models.Survey.slug == filters.survey, counts.question_key == question_key))
        query = _within(query, counts.month, months).group_by(*groups)
        with engine.connect() as connection:
            frames.append(pd.DataFrame(connection.execute(query).all(), columns=columns))
    return _summed(frames, columns, "count").astype({"score": int, "count": int})


def response_histogram(engine: Engine, filters: Filters, period: str,
                       raw: Callable[[Filters], pd.DataFrame]) -> pd.DataFrame:
    """`queries.response_counts` for filters `responses_counted` accepts (see `score_histogram`)."""
    months, edges = split_months(filters.start, filters.end)
    counts = models.ResponseCount
    frames = [raw(replace(filters, start=low, end=high)) for low, high in edges]
    columns = ["period", "channel", "responses"]
    if months is not None:
        label = _period(counts.month, period).label("period")
        query = (select(label, counts.channel, func.sum(counts.n)).join(models.Survey, models.Survey.id == counts.survey_id)
                 .where(models.Survey.slug == filters.survey))
        if filters.channels:
            query = query.where(counts.channel.in_(filters.channels))
        query = _within(query, counts.month, months).group_by(label, counts.channel)
        with engine.connect() as connection:
            frames.append(pd.DataFrame(connection.execute(query).all(), columns=columns))
    return _summed(frames, columns, "responses").astype({"period": str, "channel": str, "responses": int})


def _within(query, month, months: tuple[str | None, str | None]):
    first, last = months
    if first is not None:
        query = query.where(month >= first)
    if last is not None:
        query = query.where(month <= last)
    return query


def _summed(frames: list[pd.DataFrame], columns: list[str], totals: str | list[str]) -> pd.DataFrame:
    """The frames' counts added up per key, in key order (the raw queries' order)."""
    totals = [totals] if isinstance(totals, str) else totals
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns}).astype({total: int for total in totals})
    keys = [column for column in columns if column not in totals]
    whole = pd.concat(frames, ignore_index=True)
    return whole.groupby(keys, sort=True, as_index=False)[totals].sum()[columns].reset_index(drop=True)


def index_moments(engine: Engine, filters: Filters, items: tuple[tuple[str, float, float], ...], period: str | None,
                  raw: Callable[[Filters], pd.DataFrame]) -> pd.DataFrame | None:
    """`queries.index_moments` from `index_counts` for filters `answers_counted` accepts, when the
    survey's stored index items are `items`' questions in order; None when they are not, or when a
    response in the view has scores that do not pack (the caller then counts the raw answers)."""
    months, edges = split_months(filters.start, filters.end)
    with engine.connect() as connection:
        survey_id = connection.scalar(select(models.Survey.id).where(models.Survey.slug == filters.survey))
        if survey_id is None:
            return None
        stored = connection.execute(select(models.IndexItem.question_key, models.IndexItem.low)
                                    .where(models.IndexItem.survey_id == survey_id)
                                    .order_by(models.IndexItem.position)).all()
        if [key for key, _ in stored] != [key for key, _, _ in items]:
            return None
        rows = []
        if months is not None:
            query = select(models.IndexCount.month, models.IndexCount.packed, models.IndexCount.n).where(
                models.IndexCount.survey_id == survey_id)
            rows = connection.execute(_within(query, models.IndexCount.month, months)).all()
    if any(packed == count_upkeep.UNPACKABLE for _, packed, _ in rows):
        return None
    columns = [*(["period"] if period else []), "n", "total", "total_squares"]
    weight = 100.0 / len(items)
    per_period: dict[str | None, list[float]] = {}
    for month, packed, n in rows:
        score = 0.0
        for position, ((_, stored_low), (_, low, high)) in enumerate(zip(stored, items)):
            value = (packed // count_upkeep.PLACE ** position) % count_upkeep.PLACE + stored_low
            score += (value - low) * (weight / (high - low))
        key = None if period is None else month if period == "month" else month[:4]
        sums = per_period.setdefault(key, [0, 0.0, 0.0])
        sums[0] += n
        sums[1] += n * score
        sums[2] += n * score * score
    frames = [raw(replace(filters, start=low, end=high)) for low, high in edges]
    frames.append(pd.DataFrame([[*([key] if period else []), *sums] for key, sums in per_period.items()],
                               columns=columns))
    if period is None:  # one row, as an aggregate without groups gives, even over nothing
        whole = pd.concat(frames, ignore_index=True)
        return pd.DataFrame([[int(whole["n"].sum()), float(whole["total"].sum()), float(whole["total_squares"].sum())]],
                            columns=columns).astype({"n": int, "total": float, "total_squares": float})
    moments = _summed(frames, columns, ["n", "total", "total_squares"])
    return moments[moments["n"] > 0].reset_index(drop=True).astype({"n": int, "total": float, "total_squares": float})
