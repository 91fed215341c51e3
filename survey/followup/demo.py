"""Follow-up cases for the demo data: the rules applied to the last weeks of demo responses as if
live, and the cases worked the way a field team would, so that every page has something to show.

Deterministic like the rest of the demo: times come from the responses and the seed, never the clock.
The follow-up programme "starts" `PROGRAMME_DAYS` before the demo's last day; older responses are
history (they still count for score drops and repeats).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import numpy as np
from sqlalchemy import Engine, select

from survey.storage import db, models
from survey.people.access import FIELD_MANAGER, Actor
from survey.followup.cases import flag_responses
from survey.followup.settings import DEFAULT_FILE, load_settings
from survey.followup.workflow import apply_status

PROGRAMME_DAYS = 56
CAUSES = ("product", "delivery", "billing", "staff attitude", "customer did not understand how to use the product",
          "price", "other")
CAUSE_WEIGHTS = (0.22, 0.24, 0.14, 0.10, 0.12, 0.12, 0.06)
RECENT_CAUSE_WEIGHTS = (0.14, 0.14, 0.10, 0.36, 0.10, 0.10, 0.06)  # the last month: staff attitude jumps
NOTES = {"contacted": "Called; customer explained the problem.", "unreachable": "Three calls, no answer.",
         "declined": "Customer did not want to talk about it."}


def add_demo_cases(engine: Engine, end, seed: int) -> int:
    """Flag the demo responses of the programme's weeks and work the cases; returns the cases made."""
    settings = load_settings(DEFAULT_FILE)
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(99,)))
    last = datetime.combine(end, time(18), tzinfo=timezone.utc)
    start = datetime.combine(end - timedelta(days=PROGRAMME_DAYS), time(0), tzinfo=timezone.utc)
    worked: set[int] = set()
    week = start
    with db.session_scope(engine) as session:
        owners = {u.id: Actor(u.id, u.email, u.role) for u in session.scalars(
            select(models.User).where(models.User.role == FIELD_MANAGER))}
        while week < last:
            following = min(week + timedelta(days=7), last)
            ids = session.scalars(select(models.Response.id).where(
                models.Response.submitted_at >= week, models.Response.submitted_at < following)).all()
            # replayed history: announced to no webhook (see survey.integrations.outbox)
            flag_responses(session, ids, settings, opened_at_submission=True, announce=False)
            cases = session.scalars(select(models.FollowUpCase).where(
                models.FollowUpCase.status == "open", models.FollowUpCase.id.not_in(worked or {0}),
                models.FollowUpCase.created_at < following - timedelta(days=2)).order_by(models.FollowUpCase.id)).all()
            for case in cases:
                worked.add(case.id)
                _work(session, case, owners.get(case.owner_id) or Actor.command_line(), rng, last, settings)
            week = following
        return session.query(models.FollowUpCase).count()


def _work(session, case: models.FollowUpCase, actor: Actor, rng, last: datetime, settings) -> None:
    opened = case.created_at if case.created_at.tzinfo else case.created_at.replace(tzinfo=timezone.utc)
    draw = rng.random()
    contact = opened + timedelta(hours=float(rng.gamma(2.0, 14.0)) + 1)  # median about a day
    if draw < 0.12 or contact >= last:
        return  # left open: overdue by the demo's last day
    if draw < 0.20:
        apply_status(session, actor, case, "unreachable", NOTES["unreachable"], now=contact, settings=settings)
        return
    if draw < 0.25:
        apply_status(session, actor, case, "declined", NOTES["declined"], now=contact, settings=settings)
        return
    apply_status(session, actor, case, "contacted", NOTES["contacted"], now=contact, settings=settings)
    resolved = contact + timedelta(hours=float(rng.uniform(2, 96)))
    if draw < 0.35 or resolved >= last:
        return  # contacted, still being worked
    weights = RECENT_CAUSE_WEIGHTS if resolved >= last - timedelta(days=30) else CAUSE_WEIGHTS
    cause = CAUSES[int(rng.choice(len(CAUSES), p=weights))]
    compensation = float(rng.choice([50, 100, 250])) if rng.random() < 0.2 else None
    apply_status(session, actor, case, "resolved", f"Root cause: {cause}. Agreed next steps with the customer.",
                  root_cause=cause, compensation=compensation, now=resolved, settings=settings, announce=False)
