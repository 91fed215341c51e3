"""How many people outside a viewer's scope each aggregate rests on, counted in the database.

A field manager may read the rows of their own customers. A figure over a group that holds their
customers and one or two others is then no aggregate at all for them: subtracting what they can
read leaves the others' answers. The publishing layer hides such a group unless the people
outside the viewer's scope reach the disclosure floor; this module counts them, with the same
groups and filters as `survey.storage.queries.histogram`.

Example:
    >>> from survey.storage.db import make_engine, upgrade
    >>> from survey.people.access import Actor
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> outside_scope(engine, Filters("none"), "nps", Actor(7, "fm@example.com", "field_manager"))["outside"].tolist()
    [0]
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, and_, case, func, literal, select
from sqlalchemy.orm import aliased

from survey.people.access import Actor
from survey.storage import models
from survey.storage.filters import DIMENSIONS, NOT_SET, Filters, answers_in_scope
from survey.storage.queries import period_label


def outside_scope(engine: Engine, filters: Filters, question_key: str | tuple[str, ...], actor: Actor,
                  period: str | None = None, by: tuple[str, ...] = (), people_below: int | None = None) -> pd.DataFrame:
    """Per group of the histogram of `question_key`: the people outside `actor`'s scope who answered.

    Columns: each dimension of `by`, `period` when given, then `outside`: distinct customers not
    owned by the actor, plus every answer without a customer (an anonymous answer could be anyone).
    With several keys (the items of the satisfaction index), only responses that answered every
    one count, as in `queries.index_moments`. For an actor who sees every customer the count is 0
    and no query is made (empty frame).

    With `people_below` (the disclosure floor), a column `people` too: for each group with fewer
    outside people than that, the frozenset of who they are (customer ids; an anonymous answer as
    the negative of its id), None for the others. Hidden groups together are then counted as the
    people they hold, not the sum of their counts, which counts twice someone who answered in two.
    """
    keys = (question_key,) if isinstance(question_key, str) else tuple(question_key)
    columns = [*by, *(["period"] if period else []), "outside", *(["people"] if people_below else [])]
    if actor.sees_every_customer:
        return pd.DataFrame(columns=columns)
    for name in by:
        if name not in DIMENSIONS:
            raise ValueError(f"unknown segment dimension {name!r} (expected one of {', '.join(DIMENSIONS)})")
    groups = [func.coalesce(DIMENSIONS[name].expression(), literal(NOT_SET)).label(name) for name in by]
    if period is not None:
        groups.append(period_label(engine, models.Answer.submitted_at, period).label("period"))
    own = select(models.Customer.id).where(models.Customer.field_manager_id == actor.user_id).correlate(None)

    def answers(*selected):
        query = select(*selected).select_from(models.Answer)
        for number, key in enumerate(keys[1:]):
            item = aliased(models.Answer, name=f"item_{number}")
            query = query.join(item, and_(item.response_id == models.Answer.response_id, item.question_key == key,
                                          item.numeric_value.is_not(None)))
        return answers_in_scope(query, filters, models.Answer, by).where(
            models.Answer.question_key == keys[0], models.Answer.numeric_value.is_not(None))

    others = func.count(func.distinct(case((models.Answer.customer_id.not_in(own), models.Answer.customer_id))))
    anonymous = func.sum(case((models.Answer.customer_id.is_(None), 1), else_=0))
    query = answers(*groups, (others + func.coalesce(anonymous, 0)).label("outside")).group_by(*groups)
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=columns[:len(groups) + 1])
        frame = frame.astype({"outside": int})
        if people_below:
            frame["people"] = _people(connection, answers, groups, own, people_below, frame)
    return frame


def _people(connection, answers, groups, own, people_below: int, frame: pd.DataFrame) -> list:
    """Who the outside people of each small group are (see `outside_scope`), None for the others."""
    answer = models.Answer
    person = case((answer.customer_id.is_(None), -answer.id), (answer.customer_id.not_in(own), answer.customer_id))
    listed = answers(*groups, person.label("person")).where(person.is_not(None)).distinct().subquery()
    names = [group.name for group in groups]
    size = func.count().over(partition_by=[listed.c[name] for name in names] or None).label("size")
    sized = select(*(listed.c[name] for name in names), listed.c.person, size).subquery()
    rows = connection.execute(select(sized).where(sized.c.size < people_below)).all()
    members: dict[tuple, set] = {}
    for row in rows:
        members.setdefault(tuple(row[:len(names)]), set()).add(row[len(names)])
    keys = frame[names].itertuples(index=False, name=None) if names else [()] * len(frame)
    return [frozenset(members.get(tuple(key), ())) if count < people_below else None
            for key, count in zip(keys, frame["outside"])]
