"""The dashboard's global filters and segment dimensions, turned into SQL.

A `Filters` value says which responses a page looks at (survey, versions, dates, channels and
segment values). It is frozen and hashable, so cached loaders can take it as a key. `DIMENSIONS`
names every segment a page can split by, each as a SQL expression over responses joined to
their customer, so that grouping happens in the database.

Example:
    >>> Filters("relationship-nps", segments=(("region", ("North",)),)).segment("region")
    ('North',)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from sqlalchemy import Select, case, literal, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from survey.storage import models
from survey.people.access import Actor, customer_scope

# Bands keep small, meaningful groups: value in annual revenue, tenure in years as a customer.
VALUE_BANDS = ((10_000, "under 10k"), (50_000, "10k-50k"), (200_000, "50k-200k"))
VALUE_TOP_BAND = "200k and more"
TENURE_BANDS = ((1, "under 1 year"), (3, "1-3 years"), (5, "3-5 years"))
TENURE_TOP_BAND = "5 years and more"

FieldManager = aliased(models.User, name="field_manager")
NOT_SET = "(not set)"  # the group of responses whose segment value is unknown


def _value_band() -> ColumnElement:
    value = models.Customer.annual_value
    return case(*[(value < limit, literal(label)) for limit, label in VALUE_BANDS],
                (value.is_not(None), literal(VALUE_TOP_BAND)), else_=literal(None))


def _tenure_band(today: date | None = None) -> ColumnElement:
    # Bound dates instead of date arithmetic: the same SQL on SQLite and PostgreSQL.
    today = today or date.today()
    start = models.Customer.tenure_start
    return case(*[(start > today - timedelta(days=round(365.25 * years)), literal(label))
                  for years, label in TENURE_BANDS],
                (start.is_not(None), literal(TENURE_TOP_BAND)), else_=literal(None))


@dataclass(frozen=True)
class Dimension:
    """A segment dimension: its label, its SQL expression, and whether it needs the customer join."""

    label: str
    expression: Callable[[], ColumnElement]
    needs_customer: bool = True
    needs_field_manager: bool = False


DIMENSIONS: dict[str, Dimension] = {
    "region": Dimension("Region", lambda: models.Customer.region),
    "tier": Dimension("Tier", lambda: models.Customer.tier),
    "industry": Dimension("Industry", lambda: models.Customer.industry),
    "channel": Dimension("Channel", lambda: models.Response.channel, needs_customer=False),
    "language": Dimension("Language", lambda: models.Response.language, needs_customer=False),
    "touchpoint": Dimension("Touchpoint", lambda: models.Survey.touchpoint, needs_customer=False),
    "field_manager": Dimension("Field manager", lambda: FieldManager.name, needs_field_manager=True),
    "tenure_band": Dimension("Tenure", _tenure_band),
    "value_band": Dimension("Customer value", _value_band),
}


@dataclass(frozen=True)
class Filters:
    """Which responses a page looks at. Empty tuples and None mean "no restriction".

    `end` is inclusive (the whole day). `segments` pairs a dimension name with allowed values.
    """

    survey: str
    versions: tuple[int, ...] = ()
    start: date | None = None
    end: date | None = None
    channels: tuple[str, ...] = ()
    segments: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self):
        for name, _ in self.segments:
            if name not in DIMENSIONS:
                raise ValueError(f"unknown segment dimension {name!r} (expected one of {', '.join(DIMENSIONS)})")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"the start date {self.start} is after the end date {self.end}")

    def segment(self, name: str) -> tuple[str, ...]:
        """The values allowed for dimension `name` (empty: all)."""
        return dict(self.segments).get(name, ())


def responses_in_scope(query: Select, filters: Filters, dimensions: tuple[str, ...] = (),
                       customers_first: bool = False, actor: Actor | None = None) -> Select:
    """Join responses (already in `query`'s FROM) to what `filters` and `dimensions` need, and
    restrict them to the filters, and, given the acting user, to the customers they may see
    (a field manager: their own; never an anonymous response).

    `customers_first` states the customer segment filters as `customer_id IN (the customers in
    the segments)`: the database collects those customers once and tests each row's customer_id
    against them (read from the index being scanned), instead of looking up every row's customer.
    """
    if actor is not None and not actor.sees_every_customer:
        query = query.where(models.Response.customer_id.in_(
            select(models.Customer.id).where(customer_scope(actor)).correlate(None)))
    return _in_scope(query, filters, dimensions, models.Response, customers_first)


# Dimensions and filters that need the response row itself (everything else an answer carries a copy of).
RESPONSE_ONLY = ("channel", "language")


def answers_in_scope(query: Select, filters: Filters, answer, dimensions: tuple[str, ...] = ()) -> Select:
    """Restrict answers (`answer`, `models.Answer` or an alias of it, already in `query`'s FROM) to
    `filters`, through the copies of their response's survey, time and customer they carry; the
    response itself is joined only when the versions, channels or a response dimension need it."""
    used = set(dimensions) | {name for name, values in filters.segments if values}
    if filters.versions or filters.channels or used & set(RESPONSE_ONLY):
        query = query.join(models.Response, answer.response_id == models.Response.id)
    return _in_scope(query, filters, dimensions, answer, customers_first=True)


def _in_scope(query: Select, filters: Filters, dimensions: tuple[str, ...], rows, customers_first: bool) -> Select:
    # `rows` holds survey_id, submitted_at and customer_id: responses, or answers' copies of them.
    query = query.join(models.Survey, rows.survey_id == models.Survey.id).where(
        models.Survey.slug == filters.survey)
    segments = [(name, values) for name, values in filters.segments if values]
    if customers_first:
        # The same rows as the joined filters below: a customer's value must be among `values`
        # (NULL never is), so rows without a customer drop out either way.
        by_customer = [(name, values) for name, values in segments
                       if name in DIMENSIONS and DIMENSIONS[name].needs_customer]
        if by_customer:
            chosen = select(models.Customer.id).correlate(None)  # one set, even when the query joins customers
            if any(DIMENSIONS[name].needs_field_manager for name, _ in by_customer):
                chosen = chosen.outerjoin(FieldManager, models.Customer.field_manager_id == FieldManager.id)
            for name, values in by_customer:
                chosen = chosen.where(DIMENSIONS[name].expression().in_(values))
            query = query.where(rows.customer_id.in_(chosen))
            segments = [segment for segment in segments if segment not in by_customer]
    used = set(dimensions) | {name for name, _ in segments}
    if filters.versions:
        query = query.join(models.SurveyVersion, models.Response.survey_version_id == models.SurveyVersion.id
                           ).where(models.SurveyVersion.number.in_(filters.versions))
    if any(DIMENSIONS[name].needs_customer for name in used):
        query = query.outerjoin(models.Customer, rows.customer_id == models.Customer.id)
    if any(DIMENSIONS[name].needs_field_manager for name in used):
        query = query.outerjoin(FieldManager, models.Customer.field_manager_id == FieldManager.id)
    if filters.start:
        query = query.where(rows.submitted_at >= datetime.combine(filters.start, time(), timezone.utc))
    if filters.end:
        query = query.where(rows.submitted_at < datetime.combine(filters.end + timedelta(days=1), time(), timezone.utc))
    if filters.channels:
        query = query.where(models.Response.channel.in_(filters.channels))
    for name, values in segments:
        query = query.where(DIMENSIONS[name].expression().in_(values))
    return query
