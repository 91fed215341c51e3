"""A small hand-built follow-up world shared by the tests/followup/test_followup_*.py modules.

Users: an admin, a manager, field managers A (North) and B (South), both reporting to the manager.
Customers: ANNA (A's, Gold, 250,000 a year, customer since 2015), BERT (B's, Bronze, 5,000, since
2025), CARL (A's, no consent), DORA (no field manager, region East), EMIL (A's, Silver, 30,000, 2024).
Surveys: relationship-nps (en, fr) and post-support (en) from sample_data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select

from survey.storage import db, models
from survey.people.access import Actor
from survey.collection.collect import submit
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish, version_definition
from tests.conftest import SAMPLE_SURVEYS

RELATIONSHIP, SUPPORT = "relationship-nps", "post-support"
GOOD = {"recommend": 9, "satisfaction": 8, "expectations": 8, "ideal": 8}


@dataclass(frozen=True)
class World:
    admin: Actor
    manager: Actor
    fm_a: Actor
    fm_b: Actor
    customers: dict[str, int]


def build(engine) -> World:
    with db.session_scope(engine) as session:
        for name in ("relationship_nps.yaml", "post_support.yaml"):
            publish(session, load_yaml(SAMPLE_SURVEYS / name))
        admin = models.User(email="admin@x.example", name="Admin", role="admin")
        manager = models.User(email="manager@x.example", name="Mona Manager", role="manager")
        session.add_all([admin, manager])
        session.flush()
        fm_a = models.User(email="a@x.example", name="Alice Field", role="field_manager", region="North",
                           manager_id=manager.id)
        fm_b = models.User(email="b@x.example", name="Bob Field", role="field_manager", region="South",
                           manager_id=manager.id)
        session.add_all([fm_a, fm_b])
        session.flush()
        specs = {
            "ANNA": dict(name="Anna GmbH", consent_to_contact=True, region="North", tier="Gold", annual_value=250_000,
                         tenure_start=date(2015, 1, 1), field_manager_id=fm_a.id, phone="+49 1", email="anna@c.example"),
            "BERT": dict(name="=HYPERLINK(\"http://x\")", consent_to_contact=True, region="South", tier="Bronze",
                         annual_value=5_000, tenure_start=date(2025, 6, 1), field_manager_id=fm_b.id,
                         phone="+1 555", email="bert@c.example"),
            "CARL": dict(name="Carl Ltd", consent_to_contact=False, region="North", tier="Bronze",
                         annual_value=8_000, field_manager_id=fm_a.id),
            "DORA": dict(name="Dora SA", consent_to_contact=True, region="East", tier="Silver", annual_value=20_000,
                         attributes={"language": "fr"}),
            "EMIL": dict(name="Emil AG", consent_to_contact=True, region="North", tier="Silver", annual_value=30_000,
                         tenure_start=date(2024, 1, 1), field_manager_id=fm_a.id),
        }
        ids = {}
        for ref, spec in specs.items():
            customer = models.Customer(external_ref=ref, **spec)
            session.add(customer)
            session.flush()
            ids[ref] = customer.id
        return World(Actor.of(admin), Actor.of(manager), Actor.of(fm_a), Actor.of(fm_b), ids)


def answer(engine, slug: str, answers: dict, at: datetime, customer_id: int | None = None, language: str = "en",
           key: str | None = None) -> int:
    """Submit through `survey.collection.collect.submit` (the path every channel uses); the response id."""
    with db.session_scope(engine) as session:
        version = session.scalar(select(models.SurveyVersion).join(models.Survey).where(models.Survey.slug == slug)
                                 .order_by(models.SurveyVersion.number.desc()).limit(1))
        outcome = submit(session, version, version_definition(version), answers,
                         idempotency_key=key or f"{slug}-{customer_id}-{at.isoformat()}", channel="web",
                         language=language, customer_id=customer_id, submitted_at=at)
        return outcome.response_id


def cases(engine) -> list[models.FollowUpCase]:
    with db.session_scope(engine) as session:
        return list(session.scalars(select(models.FollowUpCase).order_by(models.FollowUpCase.id)))


def flags(engine, case_id: int | None = None) -> list[tuple]:
    with engine.connect() as connection:
        query = select(models.CaseFlag.response_id, models.CaseFlag.rule, models.CaseFlag.question_key,
                       models.CaseFlag.score).order_by(models.CaseFlag.id)
        if case_id is not None:
            query = query.where(models.CaseFlag.case_id == case_id)
        return [tuple(row) for row in connection.execute(query)]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
