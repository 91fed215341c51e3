"""scope_counts.outside_scope counts the distinct people outside a field manager's scope per group,
on SQLite and PostgreSQL (the rule a field manager's aggregates are held to, issue 13 finding 1)."""

from __future__ import annotations

from datetime import datetime, timezone

from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from survey.people.access import Actor
from survey.storage import db, models
from survey.storage.filters import Filters
from survey.storage.scope_counts import outside_scope

PULSE = """
slug: pulse
title: Pulse
questions:
  - key: recommend
    kind: nps
    required: true
    text: How likely are you to recommend us?
"""


def test_outside_scope_counts_distinct_customers_and_every_anonymous_answer(engine):
    with db.session_scope(engine) as session:
        version = publish(session, loads_yaml(PULSE))
        own, other = (models.User(email=f"{name}@example.com", name=name, role="field_manager")
                      for name in ("own", "other"))
        session.add_all([own, other])
        session.flush()
        customers = [models.Customer(external_ref=f"C{i}", name=f"C{i}", region=region,
                                     field_manager_id=(own if i < 2 else other).id)
                     for i, region in enumerate(["North", "North", "North", "South", "South"])]
        session.add_all(customers)
        session.flush()
        # (customer or None, month, how many answers): customer 2 answers three times in January
        plan = [(0, 1, 2), (1, 1, 1), (2, 1, 3), (3, 1, 1), (4, 2, 1), (None, 2, 2)]
        number = 0
        for index, month, times in plan:
            for _ in range(times):
                number += 1
                response = models.Response(idempotency_key=f"k{number}", content_hash="x",
                                           survey_id=version.survey_id, survey_version_id=version.id, channel="web",
                                           customer_id=None if index is None else customers[index].id,
                                           submitted_at=datetime(2026, month, 10, 9, tzinfo=timezone.utc))
                response.answers.append(models.Answer(question_key="recommend", numeric_value=9))
                if index in (2, 3):  # customers 2 and 3 also answer a second item
                    response.answers.append(models.Answer(question_key="ease", numeric_value=4))
                session.add(response)
        actor = Actor(own.id, own.email, "field_manager")
    by_region = outside_scope(engine, Filters("pulse"), "recommend", actor, by=("region",))
    # North: customer 2 (three answers, one person); South: customers 3 and 4; (not set): 2 anonymous answers
    assert dict(zip(by_region["region"], by_region["outside"])) == {"North": 1, "South": 2, "(not set)": 2}
    by_month = outside_scope(engine, Filters("pulse"), "recommend", actor, period="month")
    assert dict(zip(by_month["period"].astype(str), by_month["outside"])) == {"2026-01": 2, "2026-02": 3}
    # both items (the satisfaction index): only responses answering both count
    both = outside_scope(engine, Filters("pulse"), ("recommend", "ease"), actor, by=("region",))
    assert dict(zip(both["region"], both["outside"])) == {"North": 1, "South": 1}
    everyone = Actor(None, "cli@example.com", "admin")
    assert outside_scope(engine, Filters("pulse"), "recommend", everyone, by=("region",)).empty
